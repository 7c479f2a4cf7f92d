// ECMP through the real stages: flows stick to a member, spread over all, leave dead members,
// fall back to a backup, and are dropped (counted) when nothing is alive.
#include <map>
#include <set>

#include "fixture.hpp"

namespace tgw::test {
namespace {

using namespace wire;
using dp::Drop;

class EcmpTest : public DpTest {
protected:
    // Four tunnels to 192.168.60.2..5 in group "hubs"; route 10.20.0.0/16 -> hubs, with
    // tunnel "spare" (192.168.60.9) as the backup.
    config::Config cfg() {
        auto c = base_config();
        c.routes.clear();
        c.tunnels.clear();
        config::Group g;
        g.name = "hubs";
        for (int i = 0; i < 5; i++) {
            config::Tunnel t;
            t.name = i < 4 ? "hub" + std::to_string(i) : "spare";
            t.local = ip("192.168.60.1");
            t.remote = *IpAddr::parse(("192.168.60." + std::to_string(i < 4 ? 2 + i : 9)).c_str());
            c.tunnels.push_back(t);
            if (i < 4) g.members.push_back({t.name, 1, {}});
        }
        c.groups = {g};
        config::Route r;
        r.prefix = pfx("10.20.0.0/16");
        r.kind = config::RouteKind::Group;
        r.group = "hubs";
        r.backup = "spare";
        c.routes = {r};
        return c;
    }
    void SetUp() override {
        DpTest::SetUp();
        for (int i = 2; i <= 9; i++) {
            uint8_t mac[6] = {2, 0, 0, 0x60, 0, uint8_t(i)};
            neigh_->set(1, *IpAddr::parse(("192.168.60." + std::to_string(i)).c_str()), mac, true);
        }
    }
    Bytes flow(unsigned i) {
        Bytes udp(8 + 10, 0);
        udp[0] = uint8_t(i >> 8), udp[1] = uint8_t(i), udp[3] = 53;
        return Pkt::eth(lan_mac, host_mac, ethertype::ipv4,
                        Pkt::ipv4("10.10.1.2", ("10.20." + std::to_string(i % 200) + ".1").c_str(),
                                  ipproto::udp, udp));
    }
    // Which tunnel (outer destination's last byte) each flow left by.
    std::map<unsigned, int> send(unsigned n) {
        std::map<unsigned, int> via;
        for (unsigned i = 0; i < n; i++) {
            auto o = run_frames({flow(i)}, 0);
            if (o.tx[1].size() == 1) via[i] = o.tx[1][0][sizeof(Eth) + 19];
        }
        return via;
    }
};

TEST_F(EcmpTest, SpreadAndStick) {
    build(cfg());
    auto a = send(2000);
    ASSERT_EQ(a.size(), 2000u);
    std::map<int, unsigned> per;
    for (auto& [f, t] : a) per[t]++;
    EXPECT_EQ(per.size(), 4u) << "all four members used";
    for (auto& [t, n] : per) EXPECT_NEAR(n, 500, 100) << "tunnel .%d" << t;
    EXPECT_EQ(send(2000), a) << "the same flow takes the same member every time";
    uint64_t hashed = 0;
    for (auto& t : snap_->tunnels) hashed += ctr_->tunnel[t.slot].ecmp_pkts;
    EXPECT_EQ(hashed, 4000u);
}

TEST_F(EcmpTest, DeadMemberLosesOnlyItsFlows) {
    build(cfg());
    auto before = send(1000);
    std::set<std::string> down = {"hub1"};
    build(cfg(), 1, &down);
    auto after = send(1000);
    for (auto& [f, t] : before) {
        if (t == 3) EXPECT_NE(after[f], 3) << "flow " << f << " left the dead hub1 (.3)";
        else EXPECT_EQ(after[f], t) << "flow " << f << " on a live member did not move";
    }
}

TEST_F(EcmpTest, BackupThenDrop) {
    build(cfg());
    std::set<std::string> down = {"hub0", "hub1", "hub2", "hub3"};
    build(cfg(), 1, &down);
    auto via = send(50);
    ASSERT_EQ(via.size(), 50u);
    for (auto& [f, t] : via) EXPECT_EQ(t, 9) << "all on the backup tunnel";
    down.insert("spare");
    build(cfg(), 1, &down);
    EXPECT_TRUE(send(50).empty()) << "never into a dead tunnel";
    EXPECT_EQ(dropped(Drop::tunnel_down), 50u);
}

TEST_F(EcmpTest, KeepaliveReplyIsPunted) {
    build(cfg());
    // A reflected keepalive: GRE proto 0, no payload, from hub0's remote.
    Bytes g = Pkt::gre(0, {});
    auto o = run_frames({Pkt::eth(wan_mac, peer_mac, ethertype::ipv4,
                                  Pkt::ipv4("192.168.60.2", "192.168.60.1", ipproto::gre, g))},
                        1);
    ASSERT_EQ(o.punted.size(), 1u);
    EXPECT_EQ(o.punted[0].first, dp::Punt::keepalive);
    EXPECT_EQ(ctr_->tunnel[snap_->tunnels[0].slot].keepalives_rx, 1u);
}

TEST_F(EcmpTest, PeersKeepaliveIsReflected) {
    build(cfg());
    // The peer's probe: outer .2 -> gateway, inner gateway -> .2 carrying GRE protocol 0.
    Bytes probe = Pkt::ipv4("192.168.60.1", "192.168.60.2", ipproto::gre, Pkt::gre(0, {}));
    auto o = run_frames({Pkt::eth(wan_mac, peer_mac, ethertype::ipv4,
                                  Pkt::ipv4("192.168.60.2", "192.168.60.1", ipproto::gre,
                                            Pkt::gre(ethertype::ipv4, probe)))},
                        1);
    ASSERT_EQ(o.tx[1].size(), 1u) << "routed back to the peer over the underlay";
    const Bytes& f = o.tx[1][0];
    EXPECT_EQ(f[13], 0x00);  // IPv4 ethertype low byte
    auto* ip4 = reinterpret_cast<const Ipv4*>(f.data() + sizeof(Eth));
    EXPECT_EQ(IpAddr::v4(ip4->dst), ip("192.168.60.2"));
    EXPECT_EQ(ip4->proto, ipproto::gre);
    EXPECT_EQ(f.size(), sizeof(Eth) + probe.size()) << "plain, not encapsulated again";
}

}  // namespace
}  // namespace tgw::test
