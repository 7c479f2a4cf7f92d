// ARP parsing and building as pure functions.
#include <gtest/gtest.h>

#include <functional>

#include "pkt.hpp"
#include "slowpath/proto.hpp"

namespace tgw::sptest {
namespace {

using proto::ArpParse;

struct ParseCase {
    const char* name;
    std::function<void(Bytes&)> mutate;
    ArpParse want;
};

TEST(ArpParser, Table) {
    const Bytes good = arp(1, mac_h1, "192.0.2.10", mac_zero, "192.0.2.1");
    const ParseCase cases[] = {
        {"request", [](Bytes&) {}, ArpParse::ok},
        {"reply", [](Bytes& b) { b[14 + 7] = 2; }, ArpParse::ok},
        {"padded to 60", [](Bytes& b) { b.resize(60); }, ArpParse::ok},
        {"truncated by one", [](Bytes& b) { b.pop_back(); }, ArpParse::truncated},
        {"ethernet only", [](Bytes& b) { b.resize(14); }, ArpParse::truncated},
        {"empty", [](Bytes& b) { b.clear(); }, ArpParse::truncated},
        {"ethertype ipv4", [](Bytes& b) { b[12] = 0x08, b[13] = 0x00; }, ArpParse::not_arp},
        {"htype 6", [](Bytes& b) { b[14 + 1] = 6; }, ArpParse::bad_format},
        {"ptype ipv6", [](Bytes& b) { b[16] = 0x86, b[17] = 0xdd; }, ArpParse::bad_format},
        {"hlen 8", [](Bytes& b) { b[18] = 8; }, ArpParse::bad_format},
        {"plen 16", [](Bytes& b) { b[19] = 16; }, ArpParse::bad_format},
        {"op 3 (rarp)", [](Bytes& b) { b[21] = 3; }, ArpParse::bad_op},
        {"op 0", [](Bytes& b) { b[21] = 0; }, ArpParse::bad_op},
        {"sha broadcast", [](Bytes& b) { std::memset(&b[22], 0xff, 6); }, ArpParse::bad_sender},
        {"sha multicast", [](Bytes& b) { b[22] = 0x01; }, ArpParse::bad_sender},
        {"sha zero", [](Bytes& b) { std::memset(&b[22], 0, 6); }, ArpParse::bad_sender},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        Bytes b = good;
        c.mutate(b);
        proto::ArpMsg m{};
        EXPECT_EQ(proto::parse_arp(b.data(), b.size(), m), c.want);
    }
}

TEST(ArpParser, Fields) {
    Bytes b = arp(2, mac_h1, "192.0.2.10", mac_p0, "192.0.2.1", mac_p0);
    proto::ArpMsg m{};
    ASSERT_EQ(proto::parse_arp(b.data(), b.size(), m), ArpParse::ok);
    EXPECT_EQ(m.op, 2);
    EXPECT_EQ(0, std::memcmp(m.sha, mac_h1.b, 6));
    EXPECT_EQ(0, std::memcmp(m.tha, mac_p0.b, 6));
    EXPECT_EQ(IpAddr::v4(m.spa), ip("192.0.2.10"));
    EXPECT_EQ(IpAddr::v4(m.tpa), ip("192.0.2.1"));
}

TEST(ArpBuilder, ReplyBytes) {
    uint8_t out[64];
    std::memset(out, 0xee, sizeof(out));
    const IpAddr spa = ip("192.0.2.1"), tpa = ip("192.0.2.10");
    size_t n = proto::build_arp(out, sizeof(out), 2, mac_h1.b, mac_p0.b, spa.v4_bytes(), mac_h1.b,
                                tpa.v4_bytes());
    ASSERT_EQ(n, 60u);
    // Independent expectation, byte by byte (RFC 826 layout).
    Bytes want = arp(2, mac_p0, "192.0.2.1", mac_h1, "192.0.2.10", mac_h1);
    want.resize(60, 0);
    EXPECT_EQ(Bytes(out, out + n), want);
    EXPECT_EQ(out[60], 0xee) << "wrote past the frame";
}

TEST(ArpBuilder, RefusesSmallBuffer) {
    uint8_t out[59];
    const IpAddr a = ip("192.0.2.1");
    EXPECT_EQ(proto::build_arp(out, sizeof(out), 1, mac_bcast.b, mac_p0.b, a.v4_bytes(), mac_zero.b,
                               a.v4_bytes()),
              0u);
}

TEST(ArpBuilder, RoundTrip) {
    uint8_t out[60];
    const IpAddr spa = ip("198.51.100.1"), tpa = ip("198.51.100.77");
    ASSERT_EQ(proto::build_arp(out, sizeof(out), 1, mac_bcast.b, mac_p1.b, spa.v4_bytes(),
                               mac_zero.b, tpa.v4_bytes()),
              60u);
    proto::ArpMsg m{};
    ASSERT_EQ(proto::parse_arp(out, sizeof(out), m), ArpParse::ok);
    EXPECT_EQ(m.op, 1);
    EXPECT_EQ(IpAddr::v4(m.tpa), tpa);
    EXPECT_EQ(0, std::memcmp(out, mac_bcast.b, 6));
}

}  // namespace
}  // namespace tgw::sptest
