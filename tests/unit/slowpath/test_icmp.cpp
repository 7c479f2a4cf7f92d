// ICMP echo replies, the "never answer" rules and error building as pure functions.
#include <gtest/gtest.h>

#include <functional>

#include "pkt.hpp"
#include "slowpath/proto.hpp"

namespace tgw::sptest {
namespace {

using proto::EchoResult;
using proto::ErrVerdict;

Bytes echo4(const char* src = "192.0.2.10", const char* dst = "192.0.2.1", size_t n = 56) {
    return ipv4(src, dst, 1, icmp4(8, 0, 0xbeef0001, payload(n)));
}

TEST(Echo4, ReplyFields) {
    Bytes req = echo4();
    Bytes b = req;
    size_t off = 99, len = 0;
    ASSERT_EQ(proto::echo_reply4(b.data(), b.size(), 0x4242, off, len), EchoResult::ok);
    ASSERT_EQ(off, 0u);
    ASSERT_EQ(len, req.size());
    const uint8_t* r = b.data();
    EXPECT_EQ(r[0], 0x45);
    EXPECT_EQ(get16(r + 2), req.size());
    EXPECT_EQ(get16(r + 4), 0x4242);
    EXPECT_EQ(r[8], 64);
    EXPECT_EQ(r[9], 1);
    EXPECT_EQ(IpAddr::v4(r + 12), ip("192.0.2.1"));
    EXPECT_EQ(IpAddr::v4(r + 16), ip("192.0.2.10"));
    EXPECT_TRUE(ip4_hdr_valid(r));
    EXPECT_TRUE(icmp4_valid(r));
    EXPECT_EQ(r[20], 0);                             // echo reply
    EXPECT_EQ(get32(r + 24), 0xbeef0001u);           // id and sequence kept
    EXPECT_EQ(Bytes(r + 28, r + len), payload(56));  // data echoed
}

TEST(Echo4, OptionsDroppedAndPaddingCut) {
    Bytes req = ipv4("192.0.2.10", "192.0.2.1", 1, icmp4(8, 0, 7, payload(4)), 0, 64, 2);
    const size_t ilen = 12;
    req.resize(req.size() + 10, 0);  // Ethernet padding after the datagram
    size_t off = 0, len = 0;
    ASSERT_EQ(proto::echo_reply4(req.data(), req.size(), 1, off, len), EchoResult::ok);
    EXPECT_EQ(off, 8u);  // 28-byte header replaced by a 20-byte one in front of ICMP
    EXPECT_EQ(len, 20 + ilen);
    const uint8_t* r = req.data() + off;
    EXPECT_EQ(r[0], 0x45);
    EXPECT_EQ(get16(r + 2), len);
    EXPECT_TRUE(ip4_hdr_valid(r));
    EXPECT_TRUE(icmp4_valid(r));
    EXPECT_EQ(IpAddr::v4(r + 16), ip("192.0.2.10"));
}

struct EchoCase {
    const char* name;
    std::function<Bytes()> make;
    EchoResult want;
};

TEST(Echo4, Rejects) {
    auto mod = [](std::function<void(Bytes&)> f) {
        return [f] {
            Bytes b = echo4();
            f(b);
            return b;
        };
    };
    const EchoCase cases[] = {
        {"short header", [] { return Bytes(19, 0x45); }, EchoResult::truncated},
        {"total length past buffer", mod([](Bytes& b) { b.pop_back(); }), EchoResult::truncated},
        {"version 6", mod([](Bytes& b) { b[0] = 0x65; }), EchoResult::bad_header},
        {"ihl 4", mod([](Bytes& b) { b[0] = 0x44; }), EchoResult::bad_header},
        {"header checksum", mod([](Bytes& b) { b[10] ^= 1; }), EchoResult::bad_checksum},
        {"udp", [] { return ipv4("192.0.2.10", "192.0.2.1", 17, payload(16)); },
         EchoResult::not_icmp},
        {"echo reply",
         [] { return ipv4("192.0.2.10", "192.0.2.1", 1, icmp4(0, 0, 0, payload(8))); },
         EchoResult::not_echo},
        {"icmp checksum", mod([](Bytes& b) { b[30] ^= 1; }), EchoResult::bad_checksum},
        {"first fragment",
         [] { return ipv4("192.0.2.10", "192.0.2.1", 1, icmp4(8, 0, 0, payload(8)), 0x2000); },
         EchoResult::fragment},
        {"icmp shorter than 8",
         [] {
             return ipv4("192.0.2.10", "192.0.2.1", 1, Bytes{8, 0, 0xf7, 0xff});
         },
         EchoResult::truncated},
        {"from 127.0.0.1", [] { return echo4("127.0.0.1"); }, EchoResult::bad_source},
        {"from 0.0.0.0", [] { return echo4("0.0.0.0"); }, EchoResult::bad_source},
        {"from multicast", [] { return echo4("224.0.0.9"); }, EchoResult::bad_source},
        {"from broadcast", [] { return echo4("255.255.255.255"); }, EchoResult::bad_source},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        Bytes b = c.make();
        Bytes before = b;
        size_t off = 0, len = 0;
        EXPECT_EQ(proto::echo_reply4(b.data(), b.size(), 0, off, len), c.want);
        EXPECT_EQ(b, before) << "a rejected request is left untouched";
    }
}

TEST(Echo6, ReplyFields) {
    Bytes b = icmp6("2001:db8:1::10", "2001:db8:1::1", 128, 0, payload(60));
    b[1] = 0x5a;  // flow label bits: not copied into the reply
    size_t len = 0;
    ASSERT_EQ(proto::echo_reply6(b.data(), b.size(), len), EchoResult::ok);
    EXPECT_EQ(len, b.size());
    EXPECT_EQ(IpAddr::v6(&b[8]), ip("2001:db8:1::1"));
    EXPECT_EQ(IpAddr::v6(&b[24]), ip("2001:db8:1::10"));
    EXPECT_EQ(b[7], 64);
    EXPECT_EQ(b[40], 129);
    EXPECT_EQ(b[41], 0);
    EXPECT_EQ(b[1] & 0x0f, 0);
    EXPECT_TRUE(icmp6_valid(b.data()));
    EXPECT_EQ(Bytes(b.begin() + 44, b.end()), payload(60));
}

TEST(Echo6, Rejects) {
    const EchoCase cases[] = {
        {"short", [] { return Bytes(39, 0x60); }, EchoResult::truncated},
        {"version 4",
         [] {
             Bytes b = icmp6("2001:db8:1::10", "2001:db8:1::1", 128, 0, payload(8));
             b[0] = 0x40;
             return b;
         },
         EchoResult::bad_header},
        {"payload past buffer",
         [] {
             Bytes b = icmp6("2001:db8:1::10", "2001:db8:1::1", 128, 0, payload(8));
             b.pop_back();
             return b;
         },
         EchoResult::truncated},
        {"udp", [] { return ipv6("2001:db8:1::10", "2001:db8:1::1", 17, payload(8)); },
         EchoResult::not_icmp},
        {"NS is not echo",
         [] { return ns6("2001:db8:1::10", "2001:db8:1::1", "2001:db8:1::1", {}); },
         EchoResult::not_echo},
        {"checksum",
         [] {
             Bytes b = icmp6("2001:db8:1::10", "2001:db8:1::1", 128, 0, payload(8));
             b[50] ^= 4;
             return b;
         },
         EchoResult::bad_checksum},
        {"from ::", [] { return icmp6("::", "2001:db8:1::1", 128, 0, payload(8)); },
         EchoResult::bad_source},
        {"from ff02::1", [] { return icmp6("ff02::1", "2001:db8:1::1", 128, 0, payload(8)); },
         EchoResult::bad_source},
        {"from ::1", [] { return icmp6("::1", "2001:db8:1::1", 128, 0, payload(8)); },
         EchoResult::bad_source},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        Bytes b = c.make();
        size_t len = 0;
        EXPECT_EQ(proto::echo_reply6(b.data(), b.size(), len), c.want);
    }
}

struct VerdictCase {
    const char* name;
    std::function<Bytes()> make;
    bool l2_group;
    ErrVerdict want;
};

TEST(ErrorRules, V4Table) {
    const auto udp = [](const char* s, const char* d, uint16_t frag = 0) {
        return [=] { return ipv4(s, d, 17, payload(30), frag); };
    };
    const auto icmp = [](uint8_t type) {
        return [=] { return ipv4("192.0.2.10", "203.0.113.5", 1, icmp4(type, 0, 0, payload(28))); };
    };
    const VerdictCase cases[] = {
        {"udp", udp("192.0.2.10", "203.0.113.5"), false, ErrVerdict::send},
        {"echo request", icmp(8), false, ErrVerdict::send},
        {"echo reply", icmp(0), false, ErrVerdict::send},
        {"dest unreachable", icmp(3), false, ErrVerdict::is_icmp_error},
        {"source quench", icmp(4), false, ErrVerdict::is_icmp_error},
        {"redirect", icmp(5), false, ErrVerdict::is_icmp_error},
        {"time exceeded", icmp(11), false, ErrVerdict::is_icmp_error},
        {"parameter problem", icmp(12), false, ErrVerdict::is_icmp_error},
        {"first fragment", udp("192.0.2.10", "203.0.113.5", 0x2000), false, ErrVerdict::send},
        {"second fragment", udp("192.0.2.10", "203.0.113.5", 0x2001), false, ErrVerdict::fragment},
        {"last fragment", udp("192.0.2.10", "203.0.113.5", 0x0010), false, ErrVerdict::fragment},
        {"to multicast", udp("192.0.2.10", "239.1.2.3"), false, ErrVerdict::dst_group},
        {"to broadcast", udp("192.0.2.10", "255.255.255.255"), false, ErrVerdict::dst_group},
        {"link-layer broadcast", udp("192.0.2.10", "203.0.113.5"), true, ErrVerdict::dst_group},
        {"from 0.0.0.0", udp("0.0.0.0", "203.0.113.5"), false, ErrVerdict::bad_source},
        {"from loopback", udp("127.0.0.1", "203.0.113.5"), false, ErrVerdict::bad_source},
        {"from multicast", udp("224.0.0.1", "203.0.113.5"), false, ErrVerdict::bad_source},
        {"from class E", udp("240.0.0.1", "203.0.113.5"), false, ErrVerdict::bad_source},
        {"short", [] { return Bytes(19, 0x45); }, false, ErrVerdict::malformed},
        {"ihl 4",
         [] {
             Bytes b = ipv4("192.0.2.10", "203.0.113.5", 17, payload(8));
             b[0] = 0x44;
             return b;
         },
         false, ErrVerdict::malformed},
        {"version 6",
         [] {
             Bytes b = ipv4("192.0.2.10", "203.0.113.5", 17, payload(8));
             b[0] = 0x65;
             return b;
         },
         false, ErrVerdict::malformed},
        {"icmp without type byte",
         [] {
             Bytes b = ipv4("192.0.2.10", "203.0.113.5", 1, {});
             return b;
         },
         false, ErrVerdict::malformed},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        Bytes b = c.make();
        proto::Offender o{};
        EXPECT_EQ(proto::check_error4(b.data(), b.size(), c.l2_group, o), c.want);
    }
}

TEST(ErrorRules, V4OffenderLength) {
    Bytes b = ipv4("192.0.2.10", "203.0.113.5", 17, payload(100));
    proto::Offender o{};
    b.resize(b.size() + 6);  // link padding is not part of the datagram
    ASSERT_EQ(proto::check_error4(b.data(), b.size(), false, o), ErrVerdict::send);
    EXPECT_EQ(o.len, 120u);
    EXPECT_EQ(o.src, ip("192.0.2.10"));
    EXPECT_EQ(o.dst, ip("203.0.113.5"));
    ASSERT_EQ(proto::check_error4(b.data(), 60, false, o), ErrVerdict::send);
    EXPECT_EQ(o.len, 60u) << "capped at what is present";
}

Bytes frag6(uint16_t off_flags, uint8_t next, const Bytes& rest) {
    Bytes f = {next, 0, uint8_t(off_flags >> 8), uint8_t(off_flags), 0, 0, 0, 1};
    return cat({f, rest});
}

TEST(ErrorRules, V6Table) {
    const char* s = "2001:db8:1::10";
    const char* d = "2001:db8:9::5";
    const auto icmp = [](uint8_t type) { return Bytes{type, 0, 0, 0, 0, 0, 0, 0}; };
    const VerdictCase cases[] = {
        {"udp", [=] { return ipv6(s, d, 17, payload(20)); }, false, ErrVerdict::send},
        {"echo request", [=] { return ipv6(s, d, 58, icmp(128)); }, false, ErrVerdict::send},
        {"dest unreachable", [=] { return ipv6(s, d, 58, icmp(1)); }, false,
         ErrVerdict::is_icmp_error},
        {"packet too big", [=] { return ipv6(s, d, 58, icmp(2)); }, false,
         ErrVerdict::is_icmp_error},
        {"time exceeded", [=] { return ipv6(s, d, 58, icmp(3)); }, false,
         ErrVerdict::is_icmp_error},
        {"error behind hop-by-hop",
         [=] {
             Bytes h = {58, 0, 1, 4, 0, 0, 0, 0};  // PadN
             return ipv6(s, d, 0, cat({h, icmp(3)}));
         },
         false, ErrVerdict::is_icmp_error},
        {"error in a first fragment", [=] { return ipv6(s, d, 44, frag6(0x0001, 58, icmp(1))); },
         false, ErrVerdict::is_icmp_error},
        {"udp first fragment", [=] { return ipv6(s, d, 44, frag6(0x0001, 17, payload(16))); },
         false, ErrVerdict::send},
        {"non-first fragment", [=] { return ipv6(s, d, 44, frag6(0x0008, 17, payload(16))); },
         false, ErrVerdict::fragment},
        {"to multicast", [=] { return ipv6(s, "ff0e::1", 17, payload(8)); }, false,
         ErrVerdict::dst_group},
        {"link-layer multicast", [=] { return ipv6(s, d, 17, payload(8)); }, true,
         ErrVerdict::dst_group},
        {"from ::", [=] { return ipv6("::", d, 17, payload(8)); }, false, ErrVerdict::bad_source},
        {"from multicast", [=] { return ipv6("ff02::1", d, 17, payload(8)); }, false,
         ErrVerdict::bad_source},
        {"from ::1", [=] { return ipv6("::1", d, 17, payload(8)); }, false, ErrVerdict::bad_source},
        {"short", [] { return Bytes(39, 0x60); }, false, ErrVerdict::malformed},
        {"truncated extension header", [=] { return ipv6(s, d, 0, Bytes{58}); }, false,
         ErrVerdict::malformed},
        {"truncated fragment header",
         [=] {
             return ipv6(s, d, 44, Bytes{17, 0, 0, 8});
         },
         false, ErrVerdict::malformed},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        Bytes b = c.make();
        proto::Offender o{};
        EXPECT_EQ(proto::check_error6(b.data(), b.size(), c.l2_group, o), c.want);
    }
}

TEST(ErrorBuild, QuoteLimits) {
    EXPECT_EQ(proto::quote_len4(100), 100u);
    EXPECT_EQ(proto::quote_len4(548), 548u);
    EXPECT_EQ(proto::quote_len4(1500), 548u);  // 576 - 20 - 8
    EXPECT_EQ(proto::quote_len6(100), 100u);
    EXPECT_EQ(proto::quote_len6(1500), 1232u);  // 1280 - 40 - 8
}

TEST(ErrorBuild, V4FragNeeded) {
    Bytes orig = ipv4("192.0.2.10", "203.0.113.5", 17, payload(40), 0x4000);
    Bytes buf(28 + orig.size());
    std::memcpy(&buf[28], orig.data(), orig.size());
    const IpAddr src = ip("192.0.2.1"), dst = ip("192.0.2.10");
    size_t n = proto::build_error4(buf.data(), orig.size(), src.v4_bytes(), dst.v4_bytes(), 3, 4,
                                   1400, 77);
    ASSERT_EQ(n, buf.size());
    EXPECT_EQ(buf[0], 0x45);
    EXPECT_EQ(buf[1], 0xc0);  // RFC 1812 §4.3.2.5 precedence 6
    EXPECT_EQ(get16(&buf[2]), n);
    EXPECT_EQ(get16(&buf[4]), 77);
    EXPECT_EQ(buf[9], 1);
    EXPECT_EQ(IpAddr::v4(&buf[12]), src);
    EXPECT_EQ(IpAddr::v4(&buf[16]), dst);
    EXPECT_TRUE(ip4_hdr_valid(buf.data()));
    EXPECT_TRUE(icmp4_valid(buf.data()));
    EXPECT_EQ(buf[20], 3);
    EXPECT_EQ(buf[21], 4);
    EXPECT_EQ(get16(&buf[24]), 0);     // unused
    EXPECT_EQ(get16(&buf[26]), 1400);  // RFC 1191 next-hop MTU
    EXPECT_EQ(Bytes(buf.begin() + 28, buf.end()), orig);
}

TEST(ErrorBuild, V6PacketTooBig) {
    Bytes orig = ipv6("2001:db8:1::10", "2001:db8:9::5", 17, payload(40));
    Bytes buf(48 + orig.size());
    std::memcpy(&buf[48], orig.data(), orig.size());
    const IpAddr src = ip("2001:db8:1::1"), dst = ip("2001:db8:1::10");
    size_t n =
        proto::build_error6(buf.data(), orig.size(), src.b.data(), dst.b.data(), 2, 0, 0x12345678);
    ASSERT_EQ(n, buf.size());
    EXPECT_EQ(buf[0] >> 4, 6);
    EXPECT_EQ(get16(&buf[4]), n - 40);
    EXPECT_EQ(buf[6], 58);
    EXPECT_EQ(IpAddr::v6(&buf[8]), src);
    EXPECT_EQ(IpAddr::v6(&buf[24]), dst);
    EXPECT_TRUE(icmp6_valid(buf.data()));
    EXPECT_EQ(buf[40], 2);
    EXPECT_EQ(get32(&buf[44]), 0x12345678u);  // RFC 4443 §3.2: 32-bit MTU
    EXPECT_EQ(Bytes(buf.begin() + 48, buf.end()), orig);
}

}  // namespace
}  // namespace tgw::sptest
