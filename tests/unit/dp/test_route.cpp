// Ingress classification and routing decisions: what is punted, dropped or forwarded.
#include <rte_fib.h>

#include "fixture.hpp"

namespace tgw::test {
namespace {

using namespace wire;
using dp::Drop;
using dp::Punt;

class RouteTest : public DpTest {
protected:
    void SetUp() override {
        DpTest::SetUp();
        neigh_->set(0, ip("10.10.1.2"), host_mac, true);
        neigh_->set(1, ip("192.168.60.2"), peer_mac, true);
        neigh_->set(1, ip("192.168.60.254"), peer_mac, true);
    }
    Bytes lan_frame(const Bytes& l3, uint16_t type = ethertype::ipv4) {
        return Pkt::eth(lan_mac, host_mac, type, l3);
    }
};

struct Verdict {
    const char* name;
    Bytes frame;
    uint16_t port;
    int tx_port;   // -1 none
    Punt punt;     // Punt::none: not punted
    Drop drop;     // Drop::count: not dropped
};

std::vector<Verdict> cases() {
    const uint8_t other[6] = {0x02, 9, 9, 9, 9, 9};
    const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    auto echo = Pkt::icmp_echo();
    auto v4 = [&](const char* s, const char* d, uint8_t ttl = 64, uint8_t proto = ipproto::icmp) {
        return Pkt::ipv4(s, d, proto, echo, ttl);
    };
    Bytes badck = v4("10.10.1.2", "10.20.0.1");
    badck[10] ^= 0xff;
    Bytes arp(28, 0);
    Bytes trunc = v4("10.10.1.2", "10.20.0.1");
    trunc.resize(30);
    Bytes ihl = v4("10.10.1.2", "10.20.0.1");
    ihl[0] = 0x44;
    return {
        {"to_tunnel", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("10.10.1.2", "10.20.0.1")), 0, 1, Punt::none, Drop::count},
        {"ping_port_address", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("10.10.1.2", "10.10.1.1")), 0, -1, Punt::local, Drop::count},
        {"ping_tunnel_address", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("10.10.1.2", "10.88.0.1")), 0, -1, Punt::local, Drop::count},
        {"ping_wan_from_lan", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("10.10.1.2", "192.168.60.1")), 0, -1, Punt::local, Drop::count},
        {"to_peer_inner_subnet", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("10.10.1.2", "10.88.0.2")), 0, 1, Punt::none, Drop::count},
        {"transit_lan_to_wan", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("10.10.1.2", "192.168.60.2")), 0, 1, Punt::none, Drop::count},
        {"no_route", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("10.10.1.2", "8.8.8.8")), 0, -1, Punt::no_route, Drop::count},
        {"blackhole", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("10.10.1.2", "10.66.1.1")), 0, -1, Punt::none, Drop::blackhole},
        {"ttl_1", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("10.10.1.2", "10.20.0.1", 1)), 0, -1, Punt::ttl_exceeded, Drop::count},
        {"ttl_1_to_us_ok", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("10.10.1.2", "10.10.1.1", 1)), 0, -1, Punt::local, Drop::count},
        {"arp", Pkt::eth(bcast, host_mac, ethertype::arp, arp), 0, -1, Punt::arp, Drop::count},
        {"other_mac", Pkt::eth(other, host_mac, ethertype::ipv4, v4("10.10.1.2", "10.20.0.1")), 0, -1, Punt::none, Drop::l2_not_for_us},
        {"vlan", Pkt::eth(lan_mac, host_mac, ethertype::vlan, Bytes(60, 0)), 0, -1, Punt::none, Drop::l2_vlan},
        {"lldp", Pkt::eth(lan_mac, host_mac, 0x88cc, Bytes(60, 0)), 0, -1, Punt::none, Drop::l2_ethertype},
        {"runt", Bytes(10, 0), 0, -1, Punt::none, Drop::l2_short},
        {"bad_ip_checksum", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, badck), 0, -1, Punt::none, Drop::ip_bad_checksum},
        {"truncated_ip", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, trunc), 0, -1, Punt::none, Drop::ip_truncated},
        {"bad_ihl", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, ihl), 0, -1, Punt::none, Drop::ip_bad_header},
        {"multicast", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("10.10.1.2", "224.0.0.5")), 0, -1, Punt::none, Drop::ip_multicast},
        {"martian_src", Pkt::eth(lan_mac, host_mac, ethertype::ipv4, v4("127.0.0.1", "10.20.0.1")), 0, -1, Punt::none, Drop::ip_martian},
        {"esp_to_us", Pkt::eth(wan_mac, peer_mac, ethertype::ipv4, v4("192.168.60.2", "192.168.60.1", 64, ipproto::esp)), 1, -1, Punt::none, Drop::esp_no_sa},
        {"udp_to_us", Pkt::eth(wan_mac, peer_mac, ethertype::ipv4, v4("192.168.60.2", "192.168.60.1", 64, ipproto::udp)), 1, -1, Punt::local, Drop::count},
        {"v6_to_tunnel", Pkt::eth(lan_mac, host_mac, ethertype::ipv6, Pkt::ipv6("2001:db8:1::2", "2001:db8:20::1", 59, Bytes(8, 0))), 0, 1, Punt::none, Drop::count},
        {"v6_hlim_1", Pkt::eth(lan_mac, host_mac, ethertype::ipv6, Pkt::ipv6("2001:db8:1::2", "2001:db8:20::1", 59, Bytes(8, 0), 1)), 0, -1, Punt::ttl_exceeded, Drop::count},
        {"v6_ns_multicast", Pkt::eth(lan_mac, host_mac, ethertype::ipv6, Pkt::ipv6("2001:db8:1::2", "ff02::1:ff00:1", ipproto::icmpv6, Bytes{135, 0, 0, 0}, 255)), 0, -1, Punt::nd, Drop::count},
        {"v6_other_multicast", Pkt::eth(lan_mac, host_mac, ethertype::ipv6, Pkt::ipv6("2001:db8:1::2", "ff02::5", 89, Bytes(8, 0))), 0, -1, Punt::none, Drop::ip_multicast},
        {"v6_no_route", Pkt::eth(lan_mac, host_mac, ethertype::ipv6, Pkt::ipv6("2001:db8:1::2", "2001:db8:99::1", 59, Bytes(8, 0))), 0, -1, Punt::no_route, Drop::count},
        {"v6_ping_us", Pkt::eth(lan_mac, host_mac, ethertype::ipv6, Pkt::ipv6("2001:db8:1::2", "2001:db8:1::1", ipproto::icmpv6, Bytes{128, 0, 0, 0, 0, 1, 0, 1})), 0, -1, Punt::local, Drop::count},
    };
}

TEST_F(RouteTest, VerdictTable) {
    for (auto& c : cases()) {
        SCOPED_TRACE(c.name);
        uint64_t before = c.drop == Drop::count ? 0 : dropped(c.drop);
        auto o = run_frames({c.frame}, c.port);
        for (size_t p = 0; p < o.tx.size(); p++)
            EXPECT_EQ(o.tx[p].size(), int(p) == c.tx_port ? 1u : 0u) << "port " << p;
        if (c.punt == Punt::none) {
            EXPECT_TRUE(o.punted.empty());
        } else {
            ASSERT_EQ(o.punted.size(), 1u);
            EXPECT_EQ(int(o.punted[0].first), int(c.punt));
        }
        if (c.drop != Drop::count) EXPECT_EQ(dropped(c.drop), before + 1) << dp::drop_name(c.drop);
    }
}

TEST_F(RouteTest, PortCountersAndPadding) {
    Bytes l3 = Pkt::ipv4("10.10.1.2", "192.168.60.2", ipproto::icmp, Pkt::icmp_echo(1, 1, 4));
    Bytes f = lan_frame(l3);
    f.resize(60, 0);  // Ethernet minimum-size padding must not be forwarded
    auto o = run_frames({f}, 0);
    ASSERT_EQ(o.tx[1].size(), 1u);
    EXPECT_EQ(o.tx[1][0].size(), sizeof(Eth) + l3.size());
    EXPECT_EQ(ctr_->port[0].rx_pkts, 1u);
    EXPECT_EQ(ctr_->port[0].rx_bytes, 60u);
}

TEST_F(RouteTest, StaticRouteViaGateway) {
    auto c = base_config();
    config::Route r;
    r.prefix = pfx("0.0.0.0/0");
    r.kind = config::RouteKind::NextHop;
    r.next_hop = ip("192.168.60.254");
    c.routes.push_back(r);
    build(c);
    auto o = run_frames({lan_frame(Pkt::ipv4("10.10.1.2", "8.8.8.8", ipproto::icmp, Pkt::icmp_echo()))}, 0);
    ASSERT_EQ(o.tx[1].size(), 1u);
    EXPECT_EQ(0, std::memcmp(o.tx[1][0].data(), peer_mac, 6));
}

TEST_F(RouteTest, LongestPrefixWins) {
    auto c = base_config();
    config::Route wide;
    wide.prefix = pfx("10.0.0.0/8");
    wide.kind = config::RouteKind::Blackhole;
    c.routes.push_back(wide);
    build(c);
    EXPECT_EQ(run_frames({lan_frame(Pkt::ipv4("10.10.1.2", "10.20.0.9", ipproto::icmp, Pkt::icmp_echo()))}, 0).tx[1].size(), 1u);
    run_frames({lan_frame(Pkt::ipv4("10.10.1.2", "10.21.0.9", ipproto::icmp, Pkt::icmp_echo()))}, 0);
    EXPECT_EQ(dropped(Drop::blackhole), 1u);
}

TEST_F(RouteTest, ForwardMtuExceeded) {
    Bytes big = Pkt::ipv4("10.10.1.2", "192.168.60.2", ipproto::udp, Bytes(1481, 0), 64, 0, true);
    auto o = run_frames({lan_frame(big)}, 0);
    ASSERT_EQ(o.punted.size(), 1u);
    EXPECT_EQ(o.punted[0].first, Punt::frag_needed);
}

// ---- compile ----

TEST(Compile, SlotsSurviveReload) {
    auto c = base_config();
    config::Tunnel t2 = c.tunnels[0];
    t2.name = "t1";
    t2.key = 9;
    t2.addresses = {};
    c.tunnels.push_back(t2);
    std::vector<control::PortInfo> pi(2);
    auto r1 = control::compile(c, pi, 2, {}, 1);
    ASSERT_TRUE(r1.errors.empty());
    uint32_t slot_t1 = r1.snap->tunnels[1].slot;
    c.tunnels.erase(c.tunnels.begin());  // remove t0
    c.routes.erase(c.routes.begin(), c.routes.begin() + 2);
    auto r2 = control::compile(c, pi, 2, r1.slots, 2);
    ASSERT_TRUE(r2.errors.empty()) << r2.errors[0].str();
    EXPECT_EQ(r2.snap->tunnels[0].slot, slot_t1) << "a surviving tunnel keeps its counters";
    EXPECT_EQ(r2.snap->tunnels[0].epoch, r1.snap->tunnels[1].epoch);
    // a new tunnel reusing the freed slot gets a new epoch so its sequence state resets
    config::Tunnel t3 = c.tunnels[0];
    t3.name = "t2";
    t3.key = 10;
    c.tunnels.push_back(t3);
    auto r3 = control::compile(c, pi, 2, r2.slots, 3);
    ASSERT_TRUE(r3.errors.empty());
    EXPECT_EQ(r3.snap->tunnels[1].slot, r1.snap->tunnels[0].slot);
    EXPECT_NE(r3.snap->tunnels[1].epoch, r1.snap->tunnels[0].epoch);
    EXPECT_EQ(r3.snap->tunnels[0].owner, r3.snap->tunnels[0].slot % 2);
}

TEST(Compile, TunnelMtuFromOverhead) {
    struct {
        bool csum, key, seq, v6;
        unsigned mtu;
    } rows[] = {{false, false, false, false, 1476}, {false, true, false, false, 1472},
                {true, true, true, false, 1464},   {false, false, false, true, 1456},
                {true, true, true, true, 1444}};
    for (auto& r : rows) {
        auto c = base_config();
        auto& t = c.tunnels[0];
        t.checksum = r.csum;
        if (r.key) t.key = 1;
        t.sequence = r.seq;
        if (r.v6) {
            t.local = ip("2001:db8:60::1");
            t.remote = ip("2001:db8:60::2");
        }
        std::vector<control::PortInfo> pi(2);
        auto res = control::compile(c, pi, 1, {}, 1);
        ASSERT_TRUE(res.errors.empty());
        EXPECT_EQ(res.snap->tunnels[0].mtu, r.mtu);
    }
}

TEST(Compile, UnreachableRemoteIsAnError) {
    auto c = base_config();
    c.tunnels[0].remote = ip("203.0.113.9");
    std::vector<control::PortInfo> pi(2);
    auto res = control::compile(c, pi, 1, {}, 1);
    ASSERT_FALSE(res.errors.empty());
    EXPECT_NE(res.errors[0].message.find("not reachable"), std::string::npos);
}

TEST(Neigh, SetLookupInvalidate) {
    dp::NeighTable t("ut_neigh_basic", 64);
    ASSERT_TRUE(t.ok());
    uint8_t mac[6];
    EXPECT_FALSE(t.lookup(0, ip("10.0.0.1"), mac));
    EXPECT_TRUE(t.set(0, ip("10.0.0.1"), host_mac, false));
    ASSERT_TRUE(t.lookup(0, ip("10.0.0.1"), mac));
    EXPECT_EQ(0, std::memcmp(mac, host_mac, 6));
    EXPECT_FALSE(t.lookup(1, ip("10.0.0.1"), mac)) << "per port";
    EXPECT_FALSE(t.is_static_entry(0, ip("10.0.0.1")));
    t.set(0, ip("10.0.0.1"), peer_mac, true);
    EXPECT_TRUE(t.is_static_entry(0, ip("10.0.0.1")));
    t.invalidate(0, ip("10.0.0.1"));
    EXPECT_FALSE(t.lookup(0, ip("10.0.0.1"), mac));
    int n = 0;
    t.for_each([&](uint16_t, const IpAddr&, uint64_t) { n++; });
    EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace tgw::test
