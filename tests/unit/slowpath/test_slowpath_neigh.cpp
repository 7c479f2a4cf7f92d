// SlowPath: ARP, neighbour discovery and next-hop resolution (hold queue, retries).
#include "fixture.hpp"

namespace tgw::sptest {
namespace {

class NeighPath : public SlowPathFixture {};

// ================================================================= ARP

TEST_F(NeighPath, ArpRequestForOurAddressIsAnswered) {
    struct Case {
        uint16_t port;
        const char* target;
        const MacA& port_mac;
    };
    const Case cases[] = {
        {0, "192.0.2.1", mac_p0}, {0, "203.0.113.1", mac_p0}, {1, "198.51.100.1", mac_p1}};
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

TEST_F(NeighPath, ArpRequestForOtherAddressIsNotAnswered) {
    arp_in(arp(1, mac_h1, "192.0.2.10", mac_zero, "192.0.2.99"), 0);
    arp_in(arp(1, mac_h1, "192.0.2.10", mac_zero, "198.51.100.1"), 0);  // p1's, asked on p0
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(sc().arp_reply_tx, 0u);
    EXPECT_EQ(sc().arp_ignored, 2u);
    EXPECT_FALSE(has_neigh(0, "192.0.2.10")) << "unknown sender, not for us: not learned";
}

TEST_F(NeighPath, ArpLearning) {
    struct Case {
        const char* name;
        Bytes frame;
        const char* addr;
        bool learned;
    };
    const Case cases[] = {
        {"reply to us", arp(2, mac_h1, "192.0.2.20", mac_p0, "192.0.2.1", mac_p0), "192.0.2.20",
         true},
        {"gratuitous request", arp(1, mac_h1, "192.0.2.21", mac_zero, "192.0.2.21"), "192.0.2.21",
         true},
        {"gratuitous reply", arp(2, mac_h1, "192.0.2.22", mac_bcast, "192.0.2.22"), "192.0.2.22",
         true},
        {"request for someone else", arp(1, mac_h1, "192.0.2.23", mac_zero, "192.0.2.99"),
         "192.0.2.23", false},
        {"off-link sender", arp(1, mac_h1, "100.64.0.1", mac_zero, "192.0.2.1"), "100.64.0.1",
         false},
        {"probe from 0.0.0.0", arp(1, mac_h1, "0.0.0.0", mac_zero, "192.0.2.1"), "0.0.0.0", false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        arp_in(c.frame, 0);
        EXPECT_EQ(has_neigh(0, c.addr, mac_h1), c.learned);
        EXPECT_FALSE(has_neigh(1, c.addr)) << "learned on the receiving port only";
        for (rte_mbuf* m : drain()) rte_pktmbuf_free(m);
    }
}

TEST_F(NeighPath, ArpUpdatesKnownSenderOnAnyArp) {
    arp_in(arp(1, mac_h1, "192.0.2.30", mac_zero, "192.0.2.1"));
    ASSERT_TRUE(has_neigh(0, "192.0.2.30", mac_h1));
    // RFC 826 merge: a known sender moves to a new MAC even in a request for someone else.
    arp_in(arp(1, mac_h2, "192.0.2.30", mac_zero, "192.0.2.99"));
    EXPECT_TRUE(has_neigh(0, "192.0.2.30", mac_h2));
}

TEST_F(NeighPath, ArpClaimingOurAddressIsAConflictNotLearned) {
    arp_in(arp(1, mac_h1, "192.0.2.1", mac_zero, "192.0.2.1"));  // gratuitous for our address
    EXPECT_TRUE(take().empty());
    EXPECT_FALSE(has_neigh(0, "192.0.2.1"));
    EXPECT_EQ(sc().addr_conflict, 1u);
}

TEST_F(NeighPath, StaticNeighborIsNotOverwritten) {
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
    arp_in(arp(1, mac_h1, "192.0.2.50", mac_zero, "192.0.2.50"));       // gratuitous
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

TEST_F(NeighPath, ArpMalformedIsCounted) {
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

TEST_F(NeighPath, NsForOurAddressGetsSolicitedNa) {
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

TEST_F(NeighPath, UnicastNsWithoutLlaAnsweredToEthernetSource) {
    nd_in(ns6("2001:db8:1::10", "2001:db8:1::1", "2001:db8:1::1", {}), mac_h2);
    auto out = take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(0, std::memcmp(&out[0].data[0], mac_h2.b, 6));
    EXPECT_TRUE(icmp6_valid(&out[0].data[14]));
    EXPECT_FALSE(has_neigh(0, "2001:db8:1::10")) << "nothing to learn without an LLA option";
}

TEST_F(NeighPath, DadProbeAnsweredToAllNodes) {
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

TEST_F(NeighPath, NsForOtherTargetIgnored) {
    nd_in(ns6("2001:db8:1::10", "ff02::1:ff00:99", "2001:db8:1::99", lla_opt(1, mac_h1)));
    nd_in(ns6("2001:db8:1::10", "ff02::1:ff00:1", "2001:db8:2::1", lla_opt(1, mac_h1)));  // p1's
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(sc().nd_ignored, 2u);
    EXPECT_FALSE(has_neigh(0, "2001:db8:1::10"));
}

TEST_F(NeighPath, NaLearningFollowsRfc4861) {
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

TEST_F(NeighPath, NdMalformedIsCounted) {
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

TEST_F(NeighPath, NeighMissHoldsSolicitsAndReleasesOnArpReply) {
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

TEST_F(NeighPath, ArpSenderAddressChoice) {
    struct Case {
        const char* target;
        const char* want_spa;
    };
    // p0 has 192.0.2.1/24 and 203.0.113.1/24: same subnet first, else the first IPv4.
    const Case cases[] = {
        {"203.0.113.9", "203.0.113.1"}, {"192.0.2.9", "192.0.2.1"}, {"100.64.0.1", "192.0.2.1"}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.target);
        feed(frame4(mac_p0, "198.51.100.9", c.target),
             {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, ip(c.target)});
        auto out = take();
        ASSERT_EQ(out.size(), 1u);
        EXPECT_EQ(IpAddr::v4(&out[0].data[28]), ip(c.want_spa));
    }
}

TEST_F(NeighPath, NeighMissV6SendsNsAndReleasesOnNa) {
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

TEST_F(NeighPath, HoldLimitPerNeighbour) {
    const MetaIn mi{Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, ip("192.0.2.8")};
    for (int i = 0; i < 7; i++) feed(frame4(mac_p0, "198.51.100.9", "192.0.2.8"), mi);
    EXPECT_EQ(sc().held, slowpath::SlowPath::hold_per_neigh);
    EXPECT_EQ(drops(Drop::neigh_hold_full), 7 - slowpath::SlowPath::hold_per_neigh);
    EXPECT_EQ(take().size(), 1u);
}

TEST_F(NeighPath, RetriesThenExpires) {
    const MetaIn mi{Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, ip("192.0.2.9")};
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.9"), mi, 100);
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.9"), mi, 150);
    feed(frame6(mac_p0, "2001:db8:2::9", "2001:db8:1::9"),
         {Punt::neigh_miss, 1, 14, 6, dp::no_tunnel, 0, ip("2001:db8:1::9")}, 600);
    EXPECT_EQ(take().size(), 2u);  // one ARP request, one NS

    struct Step {
        uint64_t now;
        unsigned arp, ns;     // solicitations expected at this step
        uint64_t unresolved;  // cumulative drops
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

TEST_F(NeighPath, PortWithoutAddressOfFamilyDropsAtOnce) {
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.9"),
         {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 2, ip("192.0.2.9")});
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(drops(Drop::neigh_unresolved), 1u);
    EXPECT_EQ(sc().no_source_addr, 1u);
    EXPECT_EQ(sp->pending(), 0u);
}

TEST_F(NeighPath, StaticNeighbourReleasesHeldPackets) {
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

TEST_F(NeighPath, PendingSlotsExhausted) {
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

TEST_F(NeighPath, NeighMissMalformed) {
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.9"),
         {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 9, ip("192.0.2.9")});  // bad port
    feed(frame4(mac_p0, "198.51.100.9", "192.0.2.9"),
         {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, IpAddr{}});  // no next hop
    feed(Bytes(10, 0), {Punt::neigh_miss, 1, 14, 4, dp::no_tunnel, 0, ip("192.0.2.9")});
    EXPECT_EQ(drops(Drop::slowpath_bad), 3u);
    EXPECT_EQ(sp->pending(), 0u);
}

}  // namespace
}  // namespace tgw::sptest
