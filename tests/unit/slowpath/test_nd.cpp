// Neighbour discovery parsing (RFC 4861 §7.1 validity) and building as pure functions.
#include <gtest/gtest.h>

#include <functional>

#include "pkt.hpp"
#include "slowpath/proto.hpp"

namespace tgw::sptest {
namespace {

using proto::NdParse;

Bytes good_ns() {
    return ns6("2001:db8:1::10", "ff02::1:ff00:1", "2001:db8:1::1", lla_opt(1, mac_h1));
}

struct NdCase {
    const char* name;
    std::function<Bytes()> make;
    NdParse want;
};

// Each case recomputes the checksum after its change (unless the checksum is the point),
// so exactly one rule is violated at a time.
Bytes with(Bytes b, const std::function<void(Bytes&)>& f, bool fix = true) {
    f(b);
    if (fix) fix_icmp6(b);
    return b;
}

TEST(NdParser, Table) {
    const NdCase cases[] = {
        {"NS with source LLA", good_ns, NdParse::ok},
        {"NS unicast without option (NUD)",
         [] { return ns6("2001:db8:1::10", "2001:db8:1::1", "2001:db8:1::1", {}); }, NdParse::ok},
        {"NS DAD", [] { return ns6("::", "ff02::1:ff00:1", "2001:db8:1::1", {}); }, NdParse::ok},
        {"NA solicited unicast",
         [] {
             return na6("2001:db8:1::10", "2001:db8:1::1", "2001:db8:1::10", 0x60000000,
                        lla_opt(2, mac_h1));
         },
         NdParse::ok},
        {"NA unsolicited to all-nodes",
         [] { return na6("2001:db8:1::10", "ff02::1", "2001:db8:1::10", 0x20000000, {}); },
         NdParse::ok},
        {"unknown option is skipped",
         [] {
             Bytes o = {99, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
             return ns6("2001:db8:1::10", "ff02::1:ff00:1", "2001:db8:1::1",
                        cat({o, lla_opt(1, mac_h1)}));
         },
         NdParse::ok},
        {"hop limit 64", [] { return with(good_ns(), [](Bytes& b) { b[7] = 64; }); },
         NdParse::bad_hop_limit},
        {"code 1", [] { return with(good_ns(), [](Bytes& b) { b[41] = 1; }); }, NdParse::bad_code},
        {"ICMP length 16",
         [] {
             return with(good_ns(), [](Bytes& b) {
                 b.resize(40 + 16);
                 put16(b, 4, 16);
             });
         },
         NdParse::bad_length},
        {"checksum wrong",
         [] {
             return with(
                 good_ns(), [](Bytes& b) { b[43] ^= 1; }, false);
         },
         NdParse::bad_checksum},
        {"multicast target",
         [] { return ns6("2001:db8:1::10", "ff02::1:ff00:1", "ff02::1", lla_opt(1, mac_h1)); },
         NdParse::bad_target},
        {"option length 0", [] { return with(good_ns(), [](Bytes& b) { b[40 + 24 + 1] = 0; }); },
         NdParse::bad_option},
        {"option runs past the end",
         [] { return with(good_ns(), [](Bytes& b) { b[40 + 24 + 1] = 2; }); }, NdParse::bad_option},
        {"DAD with source LLA",
         [] { return ns6("::", "ff02::1:ff00:1", "2001:db8:1::1", lla_opt(1, mac_h1)); },
         NdParse::bad_dad},
        {"DAD to another group", [] { return ns6("::", "ff02::1:ff00:2", "2001:db8:1::1", {}); },
         NdParse::bad_dad},
        {"NA solicited to multicast",
         [] { return na6("2001:db8:1::10", "ff02::1", "2001:db8:1::10", 0x40000000, {}); },
         NdParse::bad_solicited},
        {"payload length past the buffer",
         [] {
             return with(
                 good_ns(), [](Bytes& b) { b.resize(b.size() - 4); }, false);
         },
         NdParse::truncated},
        {"shorter than IPv6 header", [] { return Bytes(39, 0x60); }, NdParse::truncated},
        {"UDP",
         [] {
             return with(
                 good_ns(), [](Bytes& b) { b[6] = 17; }, false);
         },
         NdParse::not_nd},
        {"echo request",
         [] { return icmp6("2001:db8:1::10", "2001:db8:1::1", 128, 0, payload(8), 255); },
         NdParse::not_nd},
        {"IPv4 version",
         [] {
             return with(
                 good_ns(), [](Bytes& b) { b[0] = 0x40; }, false);
         },
         NdParse::not_nd},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        Bytes b = c.make();
        proto::NdMsg m{};
        EXPECT_EQ(proto::parse_nd(b.data(), b.size(), m), c.want);
    }
}

TEST(NdParser, Fields) {
    Bytes b = good_ns();
    proto::NdMsg m{};
    ASSERT_EQ(proto::parse_nd(b.data(), b.size(), m), NdParse::ok);
    EXPECT_EQ(m.type, wire::icmp6::neigh_solicit);
    EXPECT_EQ(m.src, ip("2001:db8:1::10"));
    EXPECT_EQ(m.dst, ip("ff02::1:ff00:1"));
    EXPECT_EQ(m.target, ip("2001:db8:1::1"));
    ASSERT_TRUE(m.has_lla);
    EXPECT_EQ(0, std::memcmp(m.lla, mac_h1.b, 6));

    // An NS's target-LLA option (type 2) is not its source LLA.
    b = ns6("2001:db8:1::10", "ff02::1:ff00:1", "2001:db8:1::1", lla_opt(2, mac_h1));
    ASSERT_EQ(proto::parse_nd(b.data(), b.size(), m), NdParse::ok);
    EXPECT_FALSE(m.has_lla);
}

TEST(NdBuild, SolicitedNodeKnownAnswer) {
    // RFC 4291 §2.7.1 example: 4037::01:800:200E:8C6C -> FF02::1:FF0E:8C6C.
    uint8_t g[16], mac[6];
    proto::solicited_node(ip("4037::1:800:200e:8c6c").b.data(), g);
    EXPECT_EQ(IpAddr::v6(g), ip("ff02::1:ff0e:8c6c"));
    proto::v6_multicast_mac(g, mac);
    const uint8_t want[6] = {0x33, 0x33, 0xff, 0x0e, 0x8c, 0x6c};
    EXPECT_EQ(0, std::memcmp(mac, want, 6));
}

TEST(NdBuild, Advertisement) {
    uint8_t f[100];
    const IpAddr src = ip("2001:db8:1::1"), dst = ip("2001:db8:1::10");
    const uint32_t flags =
        wire::NdMsg::na_router | wire::NdMsg::na_solicited | wire::NdMsg::na_override;
    size_t n = proto::build_na(f, sizeof(f), mac_p0.b, mac_h1.b, src.b.data(), dst.b.data(),
                               src.b.data(), flags);
    ASSERT_EQ(n, 86u);
    EXPECT_EQ(0, std::memcmp(f, mac_h1.b, 6));
    EXPECT_EQ(0, std::memcmp(f + 6, mac_p0.b, 6));
    EXPECT_EQ(get16(f + 12), 0x86dd);
    const uint8_t* ip6 = f + 14;
    EXPECT_EQ(ip6[0] >> 4, 6);
    EXPECT_EQ(get16(ip6 + 4), 32);
    EXPECT_EQ(ip6[6], 58);
    EXPECT_EQ(ip6[7], 255);
    EXPECT_EQ(IpAddr::v6(ip6 + 8), src);
    EXPECT_EQ(IpAddr::v6(ip6 + 24), dst);
    const uint8_t* icmp = ip6 + 40;
    EXPECT_EQ(icmp[0], 136);
    EXPECT_EQ(icmp[1], 0);
    EXPECT_EQ(get32(icmp + 4), 0xe0000000u);
    EXPECT_EQ(IpAddr::v6(icmp + 8), src);
    EXPECT_EQ(icmp[24], 2);  // target LLA
    EXPECT_EQ(icmp[25], 1);
    EXPECT_EQ(0, std::memcmp(icmp + 26, mac_p0.b, 6));
    EXPECT_TRUE(icmp6_valid(ip6)) << "ICMPv6 checksum (DPDK recompute)";
    EXPECT_EQ(proto::icmp6_checksum(ip6 + 8, ip6 + 24, icmp, 32), 0);

    proto::NdMsg m{};
    ASSERT_EQ(proto::parse_nd(ip6, n - 14, m), NdParse::ok);
    EXPECT_TRUE(m.has_lla);
    EXPECT_EQ(
        proto::build_na(f, 85, mac_p0.b, mac_h1.b, src.b.data(), dst.b.data(), src.b.data(), flags),
        0u)
        << "a buffer one byte short is refused";
}

TEST(NdBuild, Solicitation) {
    uint8_t f[86];
    const IpAddr src = ip("2001:db8:1::1"), target = ip("2001:db8:1::abcd:1234");
    ASSERT_EQ(proto::build_ns(f, sizeof(f), mac_p0.b, src.b.data(), target.b.data()), 86u);
    const uint8_t want_mac[6] = {0x33, 0x33, 0xff, 0xcd, 0x12, 0x34};
    EXPECT_EQ(0, std::memcmp(f, want_mac, 6));
    const uint8_t* ip6 = f + 14;
    EXPECT_EQ(ip6[7], 255);
    EXPECT_EQ(IpAddr::v6(ip6 + 8), src);
    EXPECT_EQ(IpAddr::v6(ip6 + 24), ip("ff02::1:ffcd:1234"));
    EXPECT_EQ(ip6[40], 135);
    EXPECT_EQ(IpAddr::v6(ip6 + 48), target);
    EXPECT_EQ(ip6[64], 1);  // source LLA
    EXPECT_EQ(0, std::memcmp(ip6 + 66, mac_p0.b, 6));
    EXPECT_TRUE(icmp6_valid(ip6));
    proto::NdMsg m{};
    EXPECT_EQ(proto::parse_nd(ip6, 72, m), NdParse::ok);
}

TEST(NdChecksum, MatchesDpdkOnOddLengths) {
    for (size_t n : {8u, 9u, 33u, 1231u}) {
        SCOPED_TRACE(n);
        Bytes p = icmp6("2001:db8::1", "2001:db8::2", 128, 0, payload(n - 4, uint8_t(n)));
        EXPECT_TRUE(icmp6_valid(p.data()));
        EXPECT_EQ(proto::icmp6_checksum(&p[8], &p[24], &p[40], p.size() - 40), 0);
        p[41 + n / 2] ^= 0x10;
        EXPECT_NE(proto::icmp6_checksum(&p[8], &p[24], &p[40], p.size() - 40), 0);
    }
}

}  // namespace
}  // namespace tgw::sptest
