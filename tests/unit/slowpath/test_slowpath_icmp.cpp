// SlowPath: echo replies, ICMP errors and their rules, rate limit, ring and pool plumbing.
#include "eal_env.hpp"
#include "fixture.hpp"

namespace tgw::sptest {
namespace {

class IcmpPath : public SlowPathFixture {};

// ================================================================= local: echo

struct EchoCase {
    const char* name;
    uint8_t family;
    const char* from;
    const char* to;
    uint32_t tunnel;
};

TEST_F(IcmpPath, EchoRequestGetsReply) {
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

TEST_F(IcmpPath, EchoRequestInTwoSegments) {
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

TEST_F(IcmpPath, LocalNonEchoIsUnhandledAndMalformedCounted) {
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

TEST_F(IcmpPath, ErrorsOfEachKind) {
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

TEST_F(IcmpPath, ErrorQuoteIsCapped) {
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
        EXPECT_EQ(Bytes(r.begin() + hdr, r.end()),
                  Bytes(orig.begin(), orig.begin() + (c.total - hdr)));
        EXPECT_TRUE(c.family == 4 ? icmp4_valid(r.data()) : icmp6_valid(r.data()));
    }
}

TEST_F(IcmpPath, ErrorSourceForTunnelledPackets) {
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

TEST_F(IcmpPath, ErrorsNeverAnswered) {
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
        {"to a directed broadcast",
         cat({e4, ipv4("192.0.2.10", "198.51.100.255", 17, payload(20))}), 4, 0},
        {"from 0.0.0.0", cat({e4, ipv4("0.0.0.0", "100.64.1.1", 17, payload(20))}), 4, 0},
        {"link-layer broadcast",
         cat({eth(mac_bcast, mac_h1, 0x0800), ipv4("192.0.2.10", "100.64.1.1", 17, payload(20))}),
         4, 0},
        {"originated by us",
         cat({e4, ipv4("192.0.2.1", "100.64.1.1", 1, icmp4(0, 0, 0, payload(8)))}), 4,
         dp::port_local},
        {"icmpv6 error",
         cat({e6, ipv6("2001:db8:1::10", "2001:db8:99::1", 58, icmp4(1, 0, 0, payload(8)))}), 6, 0},
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

TEST_F(IcmpPath, ErrorRateLimit) {
    const Bytes f =
        cat({eth(mac_p0, mac_h1, 0x0800), ipv4("192.0.2.10", "100.64.1.1", 17, payload(20))});
    const MetaIn mi{Punt::ttl_exceeded, 0, 14, 4};
    // hz 1000, 100/s: one token per 10 ticks, bucket of 50 (starts full).
    struct Step {
        uint64_t now;
        unsigned send;
        unsigned want_tx;
    };
    const Step steps[] = {
        {5000, 60, 50}, {5005, 5, 0}, {5010, 5, 1}, {5035, 5, 2}, {9000, 100, 50}};
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

TEST_F(IcmpPath, ErrorMalformedCounted) {
    const Bytes e4 = eth(mac_p0, mac_h1, 0x0800);
    feed(cat({e4, Bytes(12, 0x45)}), {Punt::ttl_exceeded, 0, 14, 4});  // short IP
    feed(cat({e4, ipv4("192.0.2.10", "100.64.1.1", 17, payload(8))}),
         {Punt::ttl_exceeded, 0, 200, 4});
    feed(cat({e4, ipv4("192.0.2.10", "100.64.1.1", 17, payload(8))}),
         {Punt::ttl_exceeded, 0, 14, 6});
    feed(cat({e4, ipv4("192.0.2.10", "100.64.1.1", 17, payload(8))}),
         {Punt::ttl_exceeded, 0, 14, 0});
    EXPECT_EQ(drops(Drop::slowpath_bad), 4u);
    EXPECT_TRUE(take().empty());
}

// ================================================================= plumbing

TEST_F(IcmpPath, PollDrainsPuntRing) {
    for (int i = 0; i < 40; i++) {
        rte_mbuf* m = mk(arp(1, mac_h1, "192.0.2.10", mac_zero, "192.0.2.1"), {Punt::arp, 0});
        ASSERT_EQ(rte_ring_enqueue(punt, m), 0);
    }
    EXPECT_EQ(sp->poll(snap, 0), slowpath::SlowPath::punt_burst);
    EXPECT_EQ(sp->poll(snap, 0), 40 - slowpath::SlowPath::punt_burst);
    EXPECT_EQ(sp->poll(snap, 0), 0u);
    EXPECT_EQ(take().size(), 40u);
}

TEST_F(IcmpPath, UnknownPuntReason) {
    feed(Bytes(64, 0), {Punt::none, 0});
    EXPECT_EQ(drops(Drop::slowpath_bad), 1u);
}

TEST_F(IcmpPath, FullInjectRingDropsAndCounts) {
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

TEST_F(IcmpPath, EmptyPoolDropsReplies) {
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
