// SlowPath on a real (no-huge) EAL: mempool, rings and NeighTable are DPDK's. Time is driven
// by hand with tsc_hz = 1000, so 1 s = 1000 ticks. Every test ends with a leak check: all
// mbufs are back in the pool once the slow path is destroyed and the inject ring drained.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <memory>
#include <string>
#include <vector>

#include "dp/meta.hpp"
#include "eal_env.hpp"
#include "pkt.hpp"
#include "slowpath/slowpath.hpp"

namespace tgw::sptest {
namespace {

using dp::Drop;
using dp::Punt;

constexpr unsigned pool_size = 1023;
constexpr uint64_t hz = 1000;

struct MetaIn {
    Punt punt;
    uint16_t in_port = 0;
    uint16_t l3_off = 0;
    uint8_t family = 4;
    uint32_t tunnel_in = dp::no_tunnel;
    uint16_t out_port = 0;
    IpAddr nh{};
    uint16_t mtu = 0;
};

class SlowPathTest : public ::testing::Test {
protected:
    static inline rte_mempool* pool = nullptr;
    static inline int seq = 0;

    static void SetUpTestSuite() {
        pool = rte_pktmbuf_pool_create("sp_test", pool_size, 0, sizeof(dp::PktMeta),
                                       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
        ASSERT_NE(pool, nullptr);
    }
    static void TearDownTestSuite() {
        rte_mempool_free(pool);
        pool = nullptr;
    }

    void SetUp() override {
        ASSERT_NE(pool, nullptr);
        std::string id = std::to_string(seq++);
        neigh = std::make_unique<dp::NeighTable>(("sp_neigh" + id).c_str(), 1024);
        ASSERT_TRUE(neigh->ok());
        inject = rte_ring_create(("sp_inj" + id).c_str(), 1024, SOCKET_ID_ANY,
                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
        punt = rte_ring_create(("sp_punt" + id).c_str(), 1024, SOCKET_ID_ANY,
                               RING_F_SP_ENQ | RING_F_SC_DEQ);
        ASSERT_NE(inject, nullptr);
        ASSERT_NE(punt, nullptr);
        ctr = std::make_unique<dp::LcoreCounters>();

        add_port("p0", mac_p0, {"192.0.2.1/24", "203.0.113.1/24", "2001:db8:1::1/64"});
        add_port("p1", mac_p1, {"198.51.100.1/24", "2001:db8:2::1/64"});
        add_port("p2-v6only", MacA{{0x02, 0, 0, 0, 0, 3}}, {"2001:db8:3::1/64"});
        add_tunnel("t0", {"10.255.0.1/30", "fd00::1/64"});
        add_tunnel("t1-v4only", {"10.255.1.1/30"});
        make_sp();
    }

    void make_sp(rte_ring* inj = nullptr, rte_mempool* p = nullptr) {
        sp.reset();
        slowpath::Env env;
        env.pool = p ? p : pool;
        env.neigh = neigh.get();
        env.inject = inj ? inj : inject;
        env.punt = {punt};
        env.ctr = ctr.get();
        env.tsc_hz = hz;
        env.icmp_rate = 100;  // 10 ticks per token
        env.icmp_burst = 50;
        sp = std::make_unique<slowpath::SlowPath>(env);
    }

    void TearDown() override {
        for (unsigned i = 0; i < dp::drop_count; i++) if (ctr->drops[i]) fprintf(stderr, "DROP %s %lu\n", dp::drop_name(Drop(i)), ctr->drops[i]);
        sp.reset();
        for (rte_mbuf* m : drain()) rte_pktmbuf_free(m);
        rte_mbuf* m;
        while (rte_ring_dequeue(punt, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
        rte_ring_free(inject);
        rte_ring_free(punt);
        neigh.reset();
        if (pool) {
            EXPECT_EQ(rte_mempool_avail_count(pool), pool_size) << "mbuf leak";
        }
    }

    void add_port(const char* name, const MacA& mac, std::vector<const char*> addrs) {
        dp::Port p{};
        p.port_id = uint16_t(snap.ports.size());
        std::memcpy(p.mac, mac.b, 6);
        p.mtu = 1500;
        p.name = name;
        for (const char* a : addrs) p.addresses.push_back(pfx(a));
        snap.ports.push_back(p);
        config::Port cp;
        cp.name = name;
        cp.addresses = p.addresses;
        snap.config.ports.push_back(cp);
    }
    void add_tunnel(const char* name, std::vector<const char*> addrs) {
        snap.tunnels.emplace_back();
        snap.tunnels.back().name = name;
        config::Tunnel t;
        t.name = name;
        for (const char* a : addrs) t.addresses.push_back(pfx(a));
        snap.config.tunnels.push_back(t);
    }

    rte_mbuf* mk(const Bytes& b, const MetaIn& mi) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        EXPECT_NE(m, nullptr);
        auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, uint16_t(b.size())));
        EXPECT_NE(d, nullptr);
        std::memcpy(d, b.data(), b.size());
        dp::PktMeta& mt = dp::meta(m);
        std::memset(static_cast<void*>(&mt), 0xa5, sizeof(mt));  // garbage the slow path must overwrite
        mt.punt = mi.punt;
        mt.in_port = mi.in_port;
        mt.l3_off = mi.l3_off;
        mt.family = mi.family;
        mt.tunnel_in = mi.tunnel_in;
        mt.out_port = mi.out_port;
        mt.nh_addr = mi.nh;
        mt.mtu = mi.mtu;
        return m;
    }
    void feed(const Bytes& b, const MetaIn& mi, uint64_t now = 0) { sp->handle(snap, mk(b, mi), now); }

    // Frames for the ARP / ND / local punts.
    void arp_in(const Bytes& frame, uint16_t port = 0) { feed(frame, {Punt::arp, port}); }
    void nd_in(const Bytes& ip6, const MacA& src = mac_h1, uint16_t port = 0,
               const MacA& dst = mac_p0) {
        feed(cat({eth(dst, src, wire::ethertype::ipv6), ip6}), {Punt::nd, port, 14, 6});
    }

    std::vector<rte_mbuf*> drain(rte_ring* r = nullptr) {
        std::vector<rte_mbuf*> out;
        rte_mbuf* m;
        while (rte_ring_dequeue(r ? r : inject, reinterpret_cast<void**>(&m)) == 0)
            out.push_back(m);
        return out;
    }
    // Drains the inject ring, checks the common metadata contract, returns the bytes.
    struct Out {
        Bytes data;
        dp::PktMeta meta;
    };
    std::vector<Out> take() {
        std::vector<Out> out;
        for (rte_mbuf* m : drain()) {
            Bytes b(rte_pktmbuf_pkt_len(m));
            const void* p = rte_pktmbuf_read(m, 0, uint32_t(b.size()), b.data());
            std::memcpy(b.data(), p, b.size());
            const dp::PktMeta& mt = dp::meta(m);
            EXPECT_EQ(mt.in_port, dp::port_local);
            EXPECT_EQ(mt.tunnel_in, dp::no_tunnel);
            EXPECT_EQ(mt.handed, 0);
            EXPECT_EQ(mt.l3_off, 0);
            EXPECT_EQ(mt.punt, Punt::none);
            EXPECT_TRUE(mt.family == 4 || mt.family == 6);
            EXPECT_TRUE(mt.entry == dp::Entry::tx || mt.entry == dp::Entry::l3);
            out.push_back({b, mt});
            rte_pktmbuf_free(m);
        }
        return out;
    }

    uint64_t drops(Drop d) const { return ctr->drops[unsigned(d)]; }
    bool has_neigh(uint16_t port, const char* a, const MacA& want) {
        uint8_t mac[6];
        return neigh->lookup(port, ip(a), mac) && std::memcmp(mac, want.b, 6) == 0;
    }
    bool has_neigh(uint16_t port, const char* a) {
        uint8_t mac[6];
        return neigh->lookup(port, ip(a), mac);
    }
    const slowpath::SlowCounters& sc() { return sp->counters(); }

    dp::Snapshot snap;
    std::unique_ptr<dp::NeighTable> neigh;
    rte_ring* inject = nullptr;
    rte_ring* punt = nullptr;
    std::unique_ptr<dp::LcoreCounters> ctr;
    std::unique_ptr<slowpath::SlowPath> sp;
};

// ================================================================= ARP

TEST_F(SlowPathTest, ArpRequestForOurAddressIsAnswered) {
    struct Case {
        uint16_t port;
        const char* target;
        const MacA& port_mac;
    };
    const Case cases[] = {{0, "192.0.2.1", mac_p0}, {0, "203.0.113.1", mac_p0},
                          {1, "198.51.100.1", mac_p1}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.target);
        const char* sender = c.port == 0 ? "192.0.2.10" : "198.51.100.10";
        arp_in(arp(1, mac_h1, sender, mac_zero, c.target), c.port);
        auto out = take();
        ASSERT_EQ(out.size(), 1u);
        const Bytes& f = out[0].data;
        EXPECT_EQ(out[0].meta.entry, dp::Entry::tx);
        EXPECT_EQ(out[0].meta.out_port, c.port);
        EXPECT_EQ(out[0].meta.family, 4);
        ASSERT_EQ(f.size(), 60u);
        EXPECT_EQ(Bytes(f.begin(), f.begin() + 6), Bytes(mac_h1.b, mac_h1.b + 6));  // eth dst
        EXPECT_EQ(Bytes(f.begin() + 6, f.begin() + 12), Bytes(c.port_mac.b, c.port_mac.b + 6));
        EXPECT_EQ(get16(&f[12]), 0x0806);
        EXPECT_EQ(get16(&f[14]), 1);       // htype
        EXPECT_EQ(get16(&f[16]), 0x0800);  // ptype
        EXPECT_EQ(f[18], 6);
        EXPECT_EQ(f[19], 4);
        EXPECT_EQ(get16(&f[20]), 2);  // reply
        EXPECT_EQ(0, std::memcmp(&f[22], c.port_mac.b, 6));
        EXPECT_EQ(IpAddr::v4(&f[28]), ip(c.target));
        EXPECT_EQ(0, std::memcmp(&f[32], mac_h1.b, 6));
        EXPECT_EQ(IpAddr::v4(&f[38]), ip(sender));
        EXPECT_TRUE(has_neigh(c.port, sender, mac_h1)) << "requester learned (RFC 826)";
    }
    EXPECT_EQ(sc().arp_req_rx, 3u);
    EXPECT_EQ(sc().arp_reply_tx, 3u);
}

TEST_F(SlowPathTest, ArpRequestForOtherAddressIsNotAnswered) {
    arp_in(arp(1, mac_h1, "192.0.2.10", mac_zero, "192.0.2.99"), 0);
    arp_in(arp(1, mac_h1, "192.0.2.10", mac_zero, "198.51.100.1"), 0);  // p1's, asked on p0
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(sc().arp_reply_tx, 0u);
    EXPECT_EQ(sc().arp_ignored, 2u);
    EXPECT_FALSE(has_neigh(0, "192.0.2.10")) << "unknown sender, not for us: not learned";
}

TEST_F(SlowPathTest, ArpLearning) {
    struct Case {
        const char* name;
        Bytes frame;
        const char* addr;
        bool learned;
    };
    const Case cases[] = {
        {"reply to us", arp(2, mac_h1, "192.0.2.20", mac_p0, "192.0.2.1", mac_p0), "192.0.2.20",
         true},
        {"gratuitous request", arp(1, mac_h1, "192.0.2.21", mac_zero, "192.0.2.21"),
         "192.0.2.21", true},
        {"gratuitous reply", arp(2, mac_h1, "192.0.2.22", mac_bcast, "192.0.2.22"),
         "192.0.2.22", true},
        {"request for someone else", arp(1, mac_h1, "192.0.2.23", mac_zero, "192.0.2.99"),
         "192.0.2.23", false},
        {"off-link sender", arp(1, mac_h1, "100.64.0.1", mac_zero, "192.0.2.1"), "100.64.0.1",
         false},
        {"probe from 0.0.0.0", arp(1, mac_h1, "0.0.0.0", mac_zero, "192.0.2.1"), "0.0.0.0",
         false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        arp_in(c.frame, 0);
        EXPECT_EQ(has_neigh(0, c.addr, mac_h1), c.learned);
        EXPECT_FALSE(has_neigh(1, c.addr)) << "learned on the receiving port only";
        for (rte_mbuf* m : drain()) rte_pktmbuf_free(m);
    }
}

TEST_F(SlowPathTest, ArpUpdatesKnownSenderOnAnyArp) {
    arp_in(arp(1, mac_h1, "192.0.2.30", mac_zero, "192.0.2.1"));
    ASSERT_TRUE(has_neigh(0, "192.0.2.30", mac_h1));
    // RFC 826 merge: a known sender moves to a new MAC even in a request for someone else.
    arp_in(arp(1, mac_h2, "192.0.2.30", mac_zero, "192.0.2.99"));
    EXPECT_TRUE(has_neigh(0, "192.0.2.30", mac_h2));
}

TEST_F(SlowPathTest, ArpClaimingOurAddressIsAConflictNotLearned) {
    arp_in(arp(1, mac_h1, "192.0.2.1", mac_zero, "192.0.2.1"));  // gratuitous for our address
    EXPECT_TRUE(take().empty());
    EXPECT_FALSE(has_neigh(0, "192.0.2.1"));
    EXPECT_EQ(sc().addr_conflict, 1u);
}

TEST_F(SlowPathTest, StaticNeighborIsNotOverwritten) {
    config::Neighbor n;
    n.port = "p0";
    n.address = ip("192.0.2.50");
    n.mac.b = {0x02, 0x5a, 0, 0, 0, 0x50};
    snap.config.neighbors.push_back(n);
    sp->apply_static_neighbors(snap);
    const MacA st{{0x02, 0x5a, 0, 0, 0, 0x50}};
    ASSERT_TRUE(has_neigh(0, "192.0.2.50", st));
    ASSERT_TRUE(neigh->is_static_entry(0, ip("192.0.2.50")));

    arp_in(arp(2, mac_h1, "192.0.2.50", mac_p0, "192.0.2.1", mac_p0));  // reply to us
    arp_in(arp(1, mac_h1, "192.0.2.50", mac_zero, "192.0.2.50"));      // gratuitous
    take();
    EXPECT_TRUE(has_neigh(0, "192.0.2.50", st));
    EXPECT_EQ(sc().neigh_static_kept, 2u);
    EXPECT_EQ(sc().neigh_learned, 0u);

    // Leaving the config removes the static entry; then it is learnable again.
    snap.config.neighbors.clear();
    sp->apply_static_neighbors(snap);
    EXPECT_FALSE(has_neigh(0, "192.0.2.50"));
    arp_in(arp(2, mac_h1, "192.0.2.50", mac_p0, "192.0.2.1", mac_p0));
    EXPECT_TRUE(has_neigh(0, "192.0.2.50", mac_h1));
}

TEST_F(SlowPathTest, ArpMalformedIsCounted) {
    struct Case {
        const char* name;
        Bytes frame;
        uint16_t port;
    };
    Bytes good = arp(1, mac_h1, "192.0.2.10", mac_zero, "192.0.2.1");
    Bytes bad_htype = good;
    bad_htype[15] = 6;
    Bytes bad_op = good;
    bad_op[21] = 9;
    const Case cases[] = {
        {"truncated", Bytes(good.begin(), good.begin() + 30), 0},
        {"ethernet only", Bytes(good.begin(), good.begin() + 14), 0},
        {"bad htype", bad_htype, 0},
        {"bad op", bad_op, 0},
        {"port out of range", good, 7},
    };
    uint64_t n = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        arp_in(c.frame, c.port);
        EXPECT_EQ(drops(Drop::slowpath_bad), ++n);
        EXPECT_TRUE(take().empty());
    }
}

// ================================================================= ND

TEST_F(SlowPathTest, NsForOurAddressGetsSolicitedNa) {
    nd_in(ns6("2001:db8:1::10", "ff02::1:ff00:1", "2001:db8:1::1", lla_opt(1, mac_h1)), mac_h2);
    auto out = take();
    ASSERT_EQ(out.size(), 1u);
    const Bytes& f = out[0].data;
    EXPECT_EQ(out[0].meta.entry, dp::Entry::tx);
    EXPECT_EQ(out[0].meta.out_port, 0);
    EXPECT_EQ(out[0].meta.family, 6);
    ASSERT_EQ(f.size(), 86u);
    EXPECT_EQ(0, std::memcmp(&f[0], mac_h1.b, 6)) << "to the source LLA, not the eth source";
    EXPECT_EQ(0, std::memcmp(&f[6], mac_p0.b, 6));
    const uint8_t* ip6 = &f[14];
    EXPECT_EQ(ip6[7], 255);
    EXPECT_EQ(IpAddr::v6(ip6 + 8), ip("2001:db8:1::1"));
    EXPECT_EQ(IpAddr::v6(ip6 + 24), ip("2001:db8:1::10"));
    EXPECT_EQ(ip6[40], 136);
    EXPECT_EQ(get32(ip6 + 44), 0xe0000000u) << "R|S|O";
    EXPECT_EQ(IpAddr::v6(ip6 + 48), ip("2001:db8:1::1"));
    EXPECT_EQ(ip6[64], 2);
    EXPECT_EQ(0, std::memcmp(ip6 + 66, mac_p0.b, 6));
    EXPECT_TRUE(icmp6_valid(ip6)) << "ICMPv6 checksum (DPDK recompute)";
    EXPECT_TRUE(has_neigh(0, "2001:db8:1::10", mac_h1)) << "RFC 4861 §7.2.3";
    EXPECT_EQ(sc().nd_ns_rx, 1u);
    EXPECT_EQ(sc().nd_na_tx, 1u);
}

TEST_F(SlowPathTest, UnicastNsWithoutLlaAnsweredToEthernetSource) {
    nd_in(ns6("2001:db8:1::10", "2001:db8:1::1", "2001:db8:1::1", {}), mac_h2);
    auto out = take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(0, std::memcmp(&out[0].data[0], mac_h2.b, 6));
    EXPECT_TRUE(icmp6_valid(&out[0].data[14]));
    EXPECT_FALSE(has_neigh(0, "2001:db8:1::10")) << "nothing to learn without an LLA option";
}

TEST_F(SlowPathTest, DadProbeAnsweredToAllNodes) {
    nd_in(ns6("::", "ff02::1:ff00:1", "2001:db8:1::1", {}), mac_h1, 0,
          MacA{{0x33, 0x33, 0xff, 0, 0, 1}});
    auto out = take();
    ASSERT_EQ(out.size(), 1u);
    const Bytes& f = out[0].data;
    const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    EXPECT_EQ(0, std::memcmp(&f[0], all_nodes_mac, 6));
    EXPECT_EQ(IpAddr::v6(&f[14 + 24]), ip("ff02::1"));
    EXPECT_EQ(get32(&f[14 + 44]), 0xa0000000u) << "R|O, S clear (RFC 4861 §7.2.4)";
    EXPECT_TRUE(icmp6_valid(&f[14]));
    EXPECT_EQ(sc().addr_conflict, 1u);
}

TEST_F(SlowPathTest, NsForOtherTargetIgnored) {
    nd_in(ns6("2001:db8:1::10", "ff02::1:ff00:99", "2001:db8:1::99", lla_opt(1, mac_h1)));
    nd_in(ns6("2001:db8:1::10", "ff02::1:ff00:1", "2001:db8:2::1", lla_opt(1, mac_h1)));  // p1's
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(sc().nd_ignored, 2u);
    EXPECT_FALSE(has_neigh(0, "2001:db8:1::10"));
}

TEST_F(SlowPathTest, NaLearningFollowsRfc4861) {
    const uint32_t S = wire::NdMsg::na_solicited, O = wire::NdMsg::na_override;
    // Unsolicited NA for an unknown target: no entry (§7.2.5).
    nd_in(na6("2001:db8:1::20", "ff02::1", "2001:db8:1::20", O, lla_opt(2, mac_h1)));
    EXPECT_FALSE(has_neigh(0, "2001:db8:1::20"));
    // Known entry, override set: replaced.
    ASSERT_TRUE(neigh->set(0, ip("2001:db8:1::21"), mac_h1.b, false));
    nd_in(na6("2001:db8:1::21", "2001:db8:1::1", "2001:db8:1::21", S | O, lla_opt(2, mac_h2)));
    EXPECT_TRUE(has_neigh(0, "2001:db8:1::21", mac_h2));
    // Known entry, override clear, different address: kept.
    nd_in(na6("2001:db8:1::21", "2001:db8:1::1", "2001:db8:1::21", S, lla_opt(2, mac_h1)));
    EXPECT_TRUE(has_neigh(0, "2001:db8:1::21", mac_h2));
    // NA claiming our own address: conflict, not learned.
    nd_in(na6("2001:db8:1::1", "ff02::1", "2001:db8:1::1", O, lla_opt(2, mac_h1)));
    EXPECT_FALSE(has_neigh(0, "2001:db8:1::1"));
    EXPECT_EQ(sc().addr_conflict, 1u);
    EXPECT_EQ(sc().nd_na_rx, 4u);
}

TEST_F(SlowPathTest, NdMalformedIsCounted) {
    Bytes good = ns6("2001:db8:1::10", "ff02::1:ff00:1", "2001:db8:1::1", lla_opt(1, mac_h1));
    Bytes hop = good;
    hop[7] = 64;
    fix_icmp6(hop);
    Bytes csum = good;
    csum[60] ^= 1;
    Bytes trunc(good.begin(), good.begin() + 50);
    nd_in(hop);
    nd_in(csum);
    nd_in(trunc);
    feed(cat({eth(mac_p0, mac_h1, wire::ethertype::ipv6), good}), {Punt::nd, 0, 0, 6});  // l3_off 0
    feed(cat({eth(mac_p0, mac_h1, wire::ethertype::ipv6), good}), {Punt::nd, 9, 14, 6});  // port
    EXPECT_EQ(drops(Drop::slowpath_bad), 5u);
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(sc().nd_na_tx, 0u);
}

// ================================================================= neighbour resolution

Bytes frame4(const MacA& src, const char* s, const char* d, size_t n = 100) {
    return cat({eth(mac_zero, src, wire::ethertype::ipv4), ipv4(s, d, 17, payload(n))});
}
Bytes frame6(const MacA& src, const char* s, const char* d, size_t n = 100) {
    return cat({eth(mac_zero, src, wire::ethertype::ipv6), ipv6(s, d, 17, payload(n))});
}

TEST_F(SlowPathTest, NeighMissHoldsSolicitsAndReleasesOnArpReply) {
    const MetaIn mi{Punt::neigh_miss, 0, 14, 4, dp::no_tunnel, 0, ip("192.0.2.7")};
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.7", 100), mi, 0);
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.7", 101), mi, 5);
    EXPECT_EQ(sc().held, 2u);
    EXPECT_EQ(sp->pending(), 1u);
    auto out = take();
    ASSERT_EQ(out.size(), 1u) << "one request for both packets";
    const Bytes& r = out[0].data;
    EXPECT_EQ(out[0].meta.entry, dp::Entry::tx);
    EXPECT_EQ(out[0].meta.out_port, 0);
    EXPECT_EQ(0, std::memcmp(&r[0], mac_bcast.b, 6));
    EXPECT_EQ(0, std::memcmp(&r[6], mac_p0.b, 6));
    EXPECT_EQ(get16(&r[20]), 1);
    EXPECT_EQ(0, std::memcmp(&r[22], mac_p0.b, 6));
    EXPECT_EQ(IpAddr::v4(&r[28]), ip("192.0.2.1")) << "our address in the target's subnet";
    EXPECT_EQ(0, std::memcmp(&r[32], mac_zero.b, 6));
    EXPECT_EQ(IpAddr::v4(&r[38]), ip("192.0.2.7"));

    arp_in(arp(2, mac_h1, "192.0.2.7", mac_p0, "192.0.2.1", mac_p0));
    out = take();
    ASSERT_EQ(out.size(), 2u);
    for (size_t i = 0; i < 2; i++) {
        EXPECT_EQ(out[i].meta.entry, dp::Entry::tx);
        EXPECT_EQ(out[i].meta.out_port, 0);
        EXPECT_EQ(out[i].meta.family, 4);
        EXPECT_EQ(0, std::memcmp(&out[i].data[0], mac_h1.b, 6)) << "dst MAC filled";
        EXPECT_EQ(0, std::memcmp(&out[i].data[6], mac_p0.b, 6)) << "src MAC untouched";
        EXPECT_EQ(out[i].data.size(), 14 + 20 + 100 + i) << "in order";
    }
    EXPECT_EQ(sp->pending(), 0u);
    EXPECT_EQ(sc().released, 2u);
    EXPECT_TRUE(has_neigh(0, "192.0.2.7", mac_h1));
    // The next miss (a worker racing the table write) goes straight out.
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.7"), mi, 10);
    out = take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(0, std::memcmp(&out[0].data[0], mac_h1.b, 6));
}

TEST_F(SlowPathTest, ArpSenderAddressChoice) {
    struct Case {
        const char* target;
        const char* want_spa;
    };
    // p0 has 192.0.2.1/24 and 203.0.113.1/24: same subnet first, else the first IPv4.
    const Case cases[] = {{"203.0.113.9", "203.0.113.1"}, {"192.0.2.9", "192.0.2.1"},
                          {"100.64.0.1", "192.0.2.1"}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.target);
        feed(frame4(mac_p0, "198.51.100.9", c.target),
             {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, ip(c.target)});
        auto out = take();
        ASSERT_EQ(out.size(), 1u);
        EXPECT_EQ(IpAddr::v4(&out[0].data[28]), ip(c.want_spa));
    }
}

TEST_F(SlowPathTest, NeighMissV6SendsNsAndReleasesOnNa) {
    const MetaIn mi{Punt::neigh_miss, 1, 14, 6, dp::no_tunnel, 0, ip("2001:db8:1::7")};
    feed(frame6(mac_p0, "2001:db8:2::9", "2001:db8:1::7"), mi);
    auto out = take();
    ASSERT_EQ(out.size(), 1u);
    const Bytes& f = out[0].data;
    EXPECT_EQ(out[0].meta.family, 6);
    const uint8_t want_mac[6] = {0x33, 0x33, 0xff, 0, 0, 7};
    EXPECT_EQ(0, std::memcmp(&f[0], want_mac, 6));
    EXPECT_EQ(IpAddr::v6(&f[14 + 8]), ip("2001:db8:1::1"));
    EXPECT_EQ(IpAddr::v6(&f[14 + 24]), ip("ff02::1:ff00:7"));
    EXPECT_EQ(f[14 + 40], 135);
    EXPECT_EQ(IpAddr::v6(&f[14 + 48]), ip("2001:db8:1::7"));
    EXPECT_EQ(f[14 + 64], 1);
    EXPECT_EQ(0, std::memcmp(&f[14 + 66], mac_p0.b, 6));
    EXPECT_TRUE(icmp6_valid(&f[14]));
    EXPECT_EQ(sc().nd_ns_tx, 1u);

    nd_in(na6("2001:db8:1::7", "2001:db8:1::1", "2001:db8:1::7", wire::NdMsg::na_solicited,
              lla_opt(2, mac_h2)));
    out = take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].meta.family, 6);
    EXPECT_EQ(0, std::memcmp(&out[0].data[0], mac_h2.b, 6));
    EXPECT_TRUE(has_neigh(0, "2001:db8:1::7", mac_h2));
}

TEST_F(SlowPathTest, HoldLimitPerNeighbour) {
    const MetaIn mi{Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, ip("192.0.2.8")};
    for (int i = 0; i < 7; i++) feed(frame4(mac_p0, "198.51.100.9", "192.0.2.8"), mi);
    EXPECT_EQ(sc().held, slowpath::SlowPath::hold_per_neigh);
    EXPECT_EQ(drops(Drop::neigh_hold_full), 7 - slowpath::SlowPath::hold_per_neigh);
    EXPECT_EQ(take().size(), 1u);
}

TEST_F(SlowPathTest, RetriesThenExpires) {
    const MetaIn mi{Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, ip("192.0.2.9")};
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.9"), mi, 100);
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.9"), mi, 150);
    feed(frame6(mac_p0, "2001:db8:2::9", "2001:db8:1::9"),
         {Punt::neigh_miss, 1, 14, 6, dp::no_tunnel, 0, ip("2001:db8:1::9")}, 600);
    EXPECT_EQ(take().size(), 2u);  // one ARP request, one NS

    struct Step {
        uint64_t now;
        unsigned arp, ns;       // solicitations expected at this step
        uint64_t unresolved;    // cumulative drops
        unsigned pending;
    };
    const Step steps[] = {
        {1099, 0, 0, 0, 2}, {1100, 1, 0, 0, 2}, {1600, 0, 1, 0, 2}, {2099, 0, 0, 0, 2},
        {2100, 1, 0, 0, 2}, {2600, 0, 1, 0, 2}, {3099, 0, 0, 0, 2}, {3100, 0, 0, 2, 1},
        {3600, 0, 0, 3, 0}, {9000, 0, 0, 3, 0},
    };
    for (const auto& s : steps) {
        SCOPED_TRACE(s.now);
        EXPECT_EQ(sp->poll(snap, s.now), 0u);
        unsigned arp_n = 0, ns_n = 0;
        for (const auto& o : take()) (o.meta.family == 4 ? arp_n : ns_n)++;
        EXPECT_EQ(arp_n, s.arp);
        EXPECT_EQ(ns_n, s.ns);
        EXPECT_EQ(drops(Drop::neigh_unresolved), s.unresolved);
        EXPECT_EQ(sp->pending(), s.pending);
    }
    EXPECT_EQ(sc().arp_req_tx, slowpath::SlowPath::max_solicit);
    EXPECT_EQ(sc().nd_ns_tx, slowpath::SlowPath::max_solicit);
    // A late reply creates the entry but has nothing left to release.
    arp_in(arp(2, mac_h1, "192.0.2.9", mac_p0, "192.0.2.1", mac_p0));
    EXPECT_TRUE(take().empty());
}

TEST_F(SlowPathTest, PortWithoutAddressOfFamilyDropsAtOnce) {
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.9"),
         {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 2, ip("192.0.2.9")});
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(drops(Drop::neigh_unresolved), 1u);
    EXPECT_EQ(sc().no_source_addr, 1u);
    EXPECT_EQ(sp->pending(), 0u);
}

TEST_F(SlowPathTest, StaticNeighbourReleasesHeldPackets) {
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.60"),
         {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, ip("192.0.2.60")});
    take();
    config::Neighbor n;
    n.port = "p0";
    n.address = ip("192.0.2.60");
    n.mac.b = {0x02, 0x5a, 0, 0, 0, 0x60};
    snap.config.neighbors.push_back(n);
    sp->apply_static_neighbors(snap);
    auto out = take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].data[5], 0x60);
    EXPECT_EQ(sp->pending(), 0u);
}

TEST_F(SlowPathTest, PendingSlotsExhausted) {
    const unsigned n = slowpath::SlowPath::max_pending;
    for (unsigned i = 0; i <= n; i++) {
        IpAddr a = IpAddr::v4(0x0a000000u + i);  // 10.0.0.x: distinct next hops
        feed(frame4(mac_p0, "198.51.100.9", "192.0.2.9", 10),
             {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, a});
        for (rte_mbuf* m : drain()) rte_pktmbuf_free(m);
    }
    EXPECT_EQ(sp->pending(), n);
    EXPECT_EQ(sc().pending_full, 1u);
    EXPECT_EQ(drops(Drop::neigh_hold_full), 1u);
    // Teardown destroys the slow path with 256 held packets: the leak check covers ~SlowPath.
}

TEST_F(SlowPathTest, NeighMissMalformed) {
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.9"),
         {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 9, ip("192.0.2.9")});  // bad port
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.9"),
         {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, IpAddr{}});  // no next hop
    feed(Bytes(10, 0), {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, ip("192.0.2.9")});
    EXPECT_EQ(drops(Drop::slowpath_bad), 3u);
    EXPECT_EQ(sp->pending(), 0u);
}

// ================================================================= local: echo

struct EchoCase {
    const char* name;
    uint8_t family;
    const char* from;
    const char* to;
    uint32_t tunnel;
};

TEST_F(SlowPathTest, EchoRequestGetsReply) {
    const EchoCase cases[] = {
        {"v4 port address", 4, "192.0.2.10", "192.0.2.1", dp::no_tunnel},
        {"v4 second port address", 4, "198.51.100.10", "203.0.113.1", dp::no_tunnel},
        {"v4 tunnel inner address", 4, "10.255.0.2", "10.255.0.1", 0},
        {"v6 port address", 6, "2001:db8:1::10", "2001:db8:1::1", dp::no_tunnel},
        {"v6 tunnel inner address", 6, "fd00::2", "fd00::1", 0},
    };
    uint64_t n = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const bool v4 = c.family == 4;
        Bytes pkt = v4 ? ipv4(c.from, c.to, 1, icmp4(8, 0, 0x00010002, payload(56)))
                       : icmp6(c.from, c.to, 128, 0, cat({Bytes{0, 1, 0, 2}, payload(56)}));
        // Through a tunnel the inner packet follows outer Ethernet, IPv4 and GRE headers.
        uint16_t l3 = c.tunnel == dp::no_tunnel ? 14 : 14 + 20 + 4;
        Bytes front(l3, 0xcc);
        feed(cat({front, pkt}), {Punt::local, 0, l3, c.family, c.tunnel});
        auto out = take();
        ASSERT_EQ(out.size(), 1u);
        const Bytes& r = out[0].data;
        EXPECT_EQ(out[0].meta.entry, dp::Entry::l3);
        EXPECT_EQ(out[0].meta.family, c.family);
        ASSERT_EQ(r.size(), pkt.size()) << "data starts at the IP header";
        if (v4) {
            EXPECT_EQ(IpAddr::v4(&r[12]), ip(c.to)) << "source = the address pinged";
            EXPECT_EQ(IpAddr::v4(&r[16]), ip(c.from));
            EXPECT_TRUE(ip4_hdr_valid(r.data()));
            EXPECT_TRUE(icmp4_valid(r.data()));
            EXPECT_EQ(r[20], 0);
            EXPECT_EQ(Bytes(r.begin() + 24, r.end()), Bytes(pkt.begin() + 24, pkt.end()));
        } else {
            EXPECT_EQ(IpAddr::v6(&r[8]), ip(c.to));
            EXPECT_EQ(IpAddr::v6(&r[24]), ip(c.from));
            EXPECT_TRUE(icmp6_valid(r.data()));
            EXPECT_EQ(r[40], 129);
            EXPECT_EQ(Bytes(r.begin() + 44, r.end()), Bytes(pkt.begin() + 44, pkt.end()));
        }
        EXPECT_EQ(sc().icmp_echo_replies, ++n);
    }
}

TEST_F(SlowPathTest, EchoRequestInTwoSegments) {
    Bytes pkt = cat({eth(mac_p0, mac_h1, wire::ethertype::ipv4),
                     ipv4("192.0.2.10", "192.0.2.1", 1, icmp4(8, 0, 5, payload(300)))});
    rte_mbuf* a = mk(Bytes(pkt.begin(), pkt.begin() + 100), {Punt::local, 0, 14, 4});
    rte_mbuf* b = rte_pktmbuf_alloc(pool);
    ASSERT_NE(b, nullptr);
    std::memcpy(rte_pktmbuf_append(b, uint16_t(pkt.size() - 100)), pkt.data() + 100,
                pkt.size() - 100);
    ASSERT_EQ(rte_pktmbuf_chain(a, b), 0);
    sp->handle(snap, a, 0);
    auto out = take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].data.size(), pkt.size() - 14);
    EXPECT_TRUE(icmp4_valid(out[0].data.data()));
}

TEST_F(SlowPathTest, LocalNonEchoIsUnhandledAndMalformedCounted) {
    struct Case {
        const char* name;
        Bytes pkt;
        uint8_t family;
        Drop want;
    };
    Bytes bad_csum = ipv4("192.0.2.10", "192.0.2.1", 1, icmp4(8, 0, 0, payload(8)));
    bad_csum[30] ^= 1;
    const Case cases[] = {
        {"udp", ipv4("192.0.2.10", "192.0.2.1", 17, payload(20)), 4, Drop::local_unhandled},
        {"tcp v6", ipv6("2001:db8:1::10", "2001:db8:1::1", 6, payload(20)), 6,
         Drop::local_unhandled},
        {"echo reply", ipv4("192.0.2.10", "192.0.2.1", 1, icmp4(0, 0, 0, payload(8))), 4,
         Drop::local_unhandled},
        {"icmp checksum", bad_csum, 4, Drop::slowpath_bad},
        {"truncated", Bytes(12, 0x45), 4, Drop::slowpath_bad},
        {"fragment", ipv4("192.0.2.10", "192.0.2.1", 1, icmp4(8, 0, 0, payload(8)), 0x2000), 4,
         Drop::outer_fragment},
        {"from loopback", ipv4("127.0.0.1", "192.0.2.1", 1, icmp4(8, 0, 0, payload(8))), 4,
         Drop::ip_martian},
        {"family 5", ipv4("192.0.2.10", "192.0.2.1", 17, payload(20)), 5, Drop::slowpath_bad},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        uint64_t before = drops(c.want);
        feed(cat({eth(mac_p0, mac_h1, 0x0800), c.pkt}), {Punt::local, 0, 14, c.family});
        EXPECT_EQ(drops(c.want), before + 1);
        EXPECT_TRUE(take().empty());
    }
    EXPECT_EQ(sc().local_unhandled, 3u);
}

// ================================================================= ICMP errors

struct ErrCase {
    const char* name;
    Punt punt;
    uint8_t family;
    uint16_t mtu;
    uint8_t type, code;
    uint32_t rest;
    Drop counted;
};

TEST_F(SlowPathTest, ErrorsOfEachKind) {
    const ErrCase cases[] = {
        {"v4 ttl", Punt::ttl_exceeded, 4, 0, 11, 0, 0, Drop::ttl_exceeded},
        {"v4 no route", Punt::no_route, 4, 0, 3, 0, 0, Drop::no_route},
        {"v4 frag needed", Punt::frag_needed, 4, 1400, 3, 4, 1400, Drop::mtu_exceeded},
        {"v6 hop limit", Punt::ttl_exceeded, 6, 0, 3, 0, 0, Drop::ttl_exceeded},
        {"v6 no route", Punt::no_route, 6, 0, 1, 0, 0, Drop::no_route},
        {"v6 too big", Punt::frag_needed, 6, 1280, 2, 0, 1280, Drop::mtu_exceeded},
    };
    for (const auto& c : cases) {
        for (uint16_t port : {0, 1}) {
            SCOPED_TRACE(std::string(c.name) + " port " + std::to_string(port));
            const bool v4 = c.family == 4;
            const char* from = v4 ? (port ? "198.51.100.10" : "192.0.2.10")
                                  : (port ? "2001:db8:2::10" : "2001:db8:1::10");
            const char* want_src = v4 ? (port ? "198.51.100.1" : "192.0.2.1")
                                      : (port ? "2001:db8:2::1" : "2001:db8:1::1");
            Bytes orig = v4 ? ipv4(from, "100.64.1.1", 17, payload(80), 0x4000, 1)
                            : ipv6(from, "2001:db8:99::1", 17, payload(80), 1);
            uint64_t before = drops(c.counted);
            feed(cat({eth(mac_p0, mac_h1, v4 ? 0x0800 : 0x86dd), orig}),
                 {c.punt, port, 14, c.family, dp::no_tunnel, 0, IpAddr{}, c.mtu}, 100000);
            EXPECT_EQ(drops(c.counted), before + 1) << "the original is counted as dropped";
            auto out = take();
            ASSERT_EQ(out.size(), 1u);
            const Bytes& r = out[0].data;
            EXPECT_EQ(out[0].meta.entry, dp::Entry::l3);
            EXPECT_EQ(out[0].meta.family, c.family);
            size_t hdr = v4 ? 28 : 48;
            ASSERT_EQ(r.size(), hdr + orig.size()) << "small original quoted whole";
            if (v4) {
                EXPECT_EQ(IpAddr::v4(&r[12]), ip(want_src)) << "address of the arrival port";
                EXPECT_EQ(IpAddr::v4(&r[16]), ip(from));
                EXPECT_TRUE(ip4_hdr_valid(r.data()));
                EXPECT_TRUE(icmp4_valid(r.data()));
                EXPECT_EQ(get32(&r[24]), c.rest);
            } else {
                EXPECT_EQ(IpAddr::v6(&r[8]), ip(want_src));
                EXPECT_EQ(IpAddr::v6(&r[24]), ip(from));
                EXPECT_TRUE(icmp6_valid(r.data()));
                EXPECT_EQ(get32(&r[44]), c.rest);
            }
            EXPECT_EQ(r[hdr - 8], c.type);
            EXPECT_EQ(r[hdr - 7], c.code);
            EXPECT_EQ(Bytes(r.begin() + hdr, r.end()), orig);
        }
    }
    EXPECT_EQ(sc().icmp_errors_tx, 12u);
}

TEST_F(SlowPathTest, ErrorQuoteIsCapped) {
    struct Case {
        uint8_t family;
        size_t total;
    };
    for (const Case c : {Case{4, 576}, Case{6, 1280}}) {
        SCOPED_TRACE(int(c.family));
        Bytes orig = c.family == 4 ? ipv4("192.0.2.10", "100.64.1.1", 17, payload(1400))
                                   : ipv6("2001:db8:1::10", "2001:db8:99::1", 17, payload(1400));
        feed(cat({eth(mac_p0, mac_h1, 0x0800), orig}), {Punt::no_route, 0, 14, c.family});
        auto out = take();
        ASSERT_EQ(out.size(), 1u);
        const Bytes& r = out[0].data;
        EXPECT_EQ(r.size(), c.total);
        size_t hdr = c.family == 4 ? 28 : 48;
        EXPECT_EQ(Bytes(r.begin() + hdr, r.end()), Bytes(orig.begin(), orig.begin() + (c.total - hdr)));
        EXPECT_TRUE(c.family == 4 ? icmp4_valid(r.data()) : icmp6_valid(r.data()));
    }
}

TEST_F(SlowPathTest, ErrorSourceForTunnelledPackets) {
    struct Case {
        const char* name;
        uint8_t family;
        uint32_t tunnel;
        const char* from;
        const char* want_src;
    };
    const Case cases[] = {
        {"v4 via t0", 4, 0, "10.9.9.9", "10.255.0.1"},
        {"v6 via t0", 6, 0, "fd00:9::9", "fd00::1"},
        {"v4 via t1", 4, 1, "10.9.9.9", "10.255.1.1"},
        // t1 has no IPv6 inner address: any gateway IPv6 address (p0's is first).
        {"v6 via t1 falls back", 6, 1, "fd00:9::9", "2001:db8:1::1"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const bool v4 = c.family == 4;
        Bytes orig = v4 ? ipv4(c.from, "100.64.1.1", 17, payload(20))
                        : ipv6(c.from, "2001:db8:99::1", 17, payload(20));
        Bytes outer(14 + 20 + 4, 0xcc);
        outer[0] = 0x01;  // a group outer MAC must not matter for a decapsulated packet
        feed(cat({outer, orig}), {Punt::ttl_exceeded, 1, 38, c.family, c.tunnel});
        auto out = take();
        ASSERT_EQ(out.size(), 1u);
        const Bytes& r = out[0].data;
        EXPECT_EQ(v4 ? IpAddr::v4(&r[12]) : IpAddr::v6(&r[8]), ip(c.want_src));
    }
}

TEST_F(SlowPathTest, ErrorsNeverAnswered) {
    struct Case {
        const char* name;
        Bytes frame;  // Ethernet + IP
        uint8_t family;
        uint16_t in_port;
    };
    const Bytes e4 = eth(mac_p0, mac_h1, 0x0800), e6 = eth(mac_p0, mac_h1, 0x86dd);
    const Case cases[] = {
        {"icmp error", cat({e4, ipv4("192.0.2.10", "100.64.1.1", 1, icmp4(3, 1, 0, payload(28)))}),
         4, 0},
        {"non-first fragment", cat({e4, ipv4("192.0.2.10", "100.64.1.1", 17, payload(20), 0x00b9)}),
         4, 0},
        {"to multicast", cat({e4, ipv4("192.0.2.10", "239.0.0.1", 17, payload(20))}), 4, 0},
        {"to broadcast", cat({e4, ipv4("192.0.2.10", "255.255.255.255", 17, payload(20))}), 4, 0},
        {"to a directed broadcast", cat({e4, ipv4("192.0.2.10", "198.51.100.255", 17, payload(20))}),
         4, 0},
        {"from 0.0.0.0", cat({e4, ipv4("0.0.0.0", "100.64.1.1", 17, payload(20))}), 4, 0},
        {"link-layer broadcast",
         cat({eth(mac_bcast, mac_h1, 0x0800), ipv4("192.0.2.10", "100.64.1.1", 17, payload(20))}),
         4, 0},
        {"originated by us", cat({e4, ipv4("192.0.2.1", "100.64.1.1", 1, icmp4(0, 0, 0, payload(8)))}),
         4, dp::port_local},
        {"icmpv6 error", cat({e6, ipv6("2001:db8:1::10", "2001:db8:99::1", 58, icmp4(1, 0, 0, payload(8)))}),
         6, 0},
        {"v6 to multicast", cat({e6, ipv6("2001:db8:1::10", "ff05::2", 17, payload(8))}), 6, 0},
        {"v6 from ::", cat({e6, ipv6("::", "2001:db8:99::1", 17, payload(8))}), 6, 0},
    };
    uint64_t n = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        feed(c.frame, {Punt::no_route, c.in_port, 14, c.family});
        EXPECT_TRUE(take().empty());
        EXPECT_EQ(sc().icmp_errors_suppressed, ++n);
        EXPECT_EQ(drops(Drop::no_route), n) << "the original is still counted";
    }
    EXPECT_EQ(sc().icmp_errors_tx, 0u);
    EXPECT_EQ(sc().rate_limited, 0u) << "rules apply before the rate limit";
}

TEST_F(SlowPathTest, ErrorRateLimit) {
    const Bytes f = cat({eth(mac_p0, mac_h1, 0x0800), ipv4("192.0.2.10", "100.64.1.1", 17, payload(20))});
    const MetaIn mi{Punt::ttl_exceeded, 0, 14, 4};
    // hz 1000, 100/s: one token per 10 ticks, bucket of 50 (starts full).
    struct Step {
        uint64_t now;
        unsigned send;
        unsigned want_tx;
    };
    const Step steps[] = {{5000, 60, 50}, {5005, 5, 0}, {5010, 5, 1}, {5035, 5, 2},
                          {9000, 100, 50}};
    uint64_t limited = 0;
    for (const auto& s : steps) {
        SCOPED_TRACE(s.now);
        for (unsigned i = 0; i < s.send; i++) feed(f, mi, s.now);
        EXPECT_EQ(take().size(), s.want_tx);
        limited += s.send - s.want_tx;
        EXPECT_EQ(drops(Drop::icmp_rate_limited), limited);
        EXPECT_EQ(sc().rate_limited, limited);
    }
}

TEST_F(SlowPathTest, ErrorMalformedCounted) {
    const Bytes e4 = eth(mac_p0, mac_h1, 0x0800);
    feed(cat({e4, Bytes(12, 0x45)}), {Punt::ttl_exceeded, 0, 14, 4});              // short IP
    feed(cat({e4, ipv4("192.0.2.10", "100.64.1.1", 17, payload(8))}), {Punt::ttl_exceeded, 0, 200, 4});
    feed(cat({e4, ipv4("192.0.2.10", "100.64.1.1", 17, payload(8))}), {Punt::ttl_exceeded, 0, 14, 6});
    feed(cat({e4, ipv4("192.0.2.10", "100.64.1.1", 17, payload(8))}), {Punt::ttl_exceeded, 0, 14, 0});
    EXPECT_EQ(drops(Drop::slowpath_bad), 4u);
    EXPECT_TRUE(take().empty());
}

// ================================================================= plumbing

TEST_F(SlowPathTest, PollDrainsPuntRing) {
    for (int i = 0; i < 40; i++) {
        rte_mbuf* m = mk(arp(1, mac_h1, "192.0.2.10", mac_zero, "192.0.2.1"), {Punt::arp, 0});
        ASSERT_EQ(rte_ring_enqueue(punt, m), 0);
    }
    EXPECT_EQ(sp->poll(snap, 0), slowpath::SlowPath::punt_burst);
    EXPECT_EQ(sp->poll(snap, 0), 40 - slowpath::SlowPath::punt_burst);
    EXPECT_EQ(sp->poll(snap, 0), 0u);
    EXPECT_EQ(take().size(), 40u);
}

TEST_F(SlowPathTest, UnknownPuntReason) {
    feed(Bytes(64, 0), {Punt::none, 0});
    EXPECT_EQ(drops(Drop::slowpath_bad), 1u);
}

TEST_F(SlowPathTest, FullInjectRingDropsAndCounts) {
    rte_ring* tiny = rte_ring_create("sp_tiny", 2, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(tiny, nullptr);  // holds one
    make_sp(tiny);
    for (int i = 0; i < 3; i++) arp_in(arp(1, mac_h1, "192.0.2.10", mac_zero, "192.0.2.1"));
    EXPECT_EQ(sc().inject_full, 2u);
    EXPECT_EQ(drops(Drop::tx_full), 2u);
    EXPECT_EQ(sc().arp_reply_tx, 3u);
    sp.reset();
    for (rte_mbuf* m : drain(tiny)) rte_pktmbuf_free(m);
    rte_ring_free(tiny);
}

TEST_F(SlowPathTest, EmptyPoolDropsReplies) {
    rte_mempool* small = rte_pktmbuf_pool_create("sp_small", 2, 0, sizeof(dp::PktMeta),
                                                 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ASSERT_NE(small, nullptr);
    rte_mbuf* hold[2] = {rte_pktmbuf_alloc(small), rte_pktmbuf_alloc(small)};
    ASSERT_NE(hold[0], nullptr);
    ASSERT_NE(hold[1], nullptr);
    make_sp(nullptr, small);
    arp_in(arp(1, mac_h1, "192.0.2.10", mac_zero, "192.0.2.1"));
    feed(cat({eth(mac_p0, mac_h1, 0x0800), ipv4("192.0.2.10", "100.64.1.1", 17, payload(20))}),
         {Punt::no_route, 0, 14, 4});
    EXPECT_EQ(drops(Drop::no_mbuf), 2u);
    EXPECT_EQ(drops(Drop::no_route), 1u);
    EXPECT_TRUE(take().empty());
    sp.reset();
    rte_pktmbuf_free(hold[0]);
    rte_pktmbuf_free(hold[1]);
    rte_mempool_free(small);
}

}  // namespace
}  // namespace tgw::sptest

TGW_EAL_TEST_MAIN
