// Address, prefix and MAC text parsing (include/tunnelgw/addr.hpp): the edge cases a config
// file can throw at them.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tunnelgw/addr.hpp"

namespace tgw {
namespace {

struct AddrCase {
    std::string_view text;
    bool ok;
    std::string_view canonical;  // str() of the result when ok
    bool v4 = false;
};

class IpAddrParse : public testing::TestWithParam<AddrCase> {};

TEST_P(IpAddrParse, ParsesOrRejects) {
    const auto& c = GetParam();
    auto a = IpAddr::parse(c.text);
    ASSERT_EQ(a.has_value(), c.ok) << "input: " << c.text;
    if (!c.ok) return;
    EXPECT_EQ(a->str(), c.canonical);
    EXPECT_EQ(a->is_v4(), c.v4);
}

INSTANTIATE_TEST_SUITE_P(
    Table, IpAddrParse,
    testing::Values(AddrCase{"192.0.2.1", true, "192.0.2.1", true},
                    AddrCase{"0.0.0.0", true, "0.0.0.0", true},
                    AddrCase{"255.255.255.255", true, "255.255.255.255", true},
                    AddrCase{"256.0.0.1", false, ""}, AddrCase{"10.0.0.300", false, ""},
                    AddrCase{"1.2.3", false, ""}, AddrCase{"1.2.3.4.5", false, ""},
                    AddrCase{"01.2.3.4", false, ""},  // leading zero: octal or decimal? refuse
                    AddrCase{"0x1.2.3.4", false, ""}, AddrCase{" 1.2.3.4", false, ""},
                    AddrCase{"1.2.3.4 ", false, ""}, AddrCase{"", false, ""},
                    AddrCase{"::", true, "::"}, AddrCase{"::1", true, "::1"},
                    AddrCase{"2001:DB8:0:0:0:0:0:1", true, "2001:db8::1"},  // RFC 5952 form
                    AddrCase{"2001:db8::1:0:0:1", true, "2001:db8::1:0:0:1"},
                    AddrCase{"fe80::1%eth0", false, ""}, AddrCase{"1::2::3", false, ""},
                    AddrCase{"gggg::1", false, ""}, AddrCase{":::", false, ""},
                    AddrCase{"2001:db8::1/64", false, ""},
                    // Mapped text is the same address as the dotted quad (one 16-byte key).
                    AddrCase{"::ffff:192.0.2.1", true, "192.0.2.1", true},
                    AddrCase{"0000:0000:0000:0000:0000:0000:0000:0000:1", false, ""}));

TEST(IpAddr, RejectsEmbeddedNul) {
    using namespace std::string_view_literals;
    EXPECT_FALSE(IpAddr::parse("1.2.3.4\0junk"sv).has_value());
    EXPECT_FALSE(IpAddr::parse("::1\0"sv).has_value());
}

TEST(IpAddr, V4IsHeldMapped) {
    auto a = IpAddr::v4(0xc0000201u);
    EXPECT_EQ(a.str(), "192.0.2.1");
    EXPECT_EQ(a.v4_host(), 0xc0000201u);
    EXPECT_FALSE(a.is_zero());  // 0.0.0.0 is not all-zero bytes either
    EXPECT_FALSE(IpAddr::v4(0u).is_zero());
    EXPECT_TRUE(IpAddr::parse("::")->is_zero());
    EXPECT_NE(*IpAddr::parse("0.0.0.0"), *IpAddr::parse("::"));
}

struct PrefixCase {
    std::string_view text;
    bool ok;
    std::string_view canonical;
};

class PrefixParse : public testing::TestWithParam<PrefixCase> {};

TEST_P(PrefixParse, ParsesOrRejects) {
    const auto& c = GetParam();
    auto p = Prefix::parse(c.text);
    ASSERT_EQ(p.has_value(), c.ok) << "input: " << c.text;
    if (c.ok) {
        EXPECT_EQ(p->str(), c.canonical);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, PrefixParse,
    testing::Values(
        PrefixCase{"10.0.0.0/8", true, "10.0.0.0/8"},
        PrefixCase{"10.1.2.3/8", true, "10.1.2.3/8"},  // host bits kept until masked()
        PrefixCase{"10.0.0.1", true, "10.0.0.1/32"}, PrefixCase{"0.0.0.0/0", true, "0.0.0.0/0"},
        PrefixCase{"10.0.0.0/32", true, "10.0.0.0/32"}, PrefixCase{"10.0.0.0/33", false, ""},
        PrefixCase{"10.0.0.0/", false, ""}, PrefixCase{"10.0.0.0/-1", false, ""},
        PrefixCase{"10.0.0.0/ 8", false, ""}, PrefixCase{"10.0.0.0/8 ", false, ""},
        PrefixCase{"10.0.0.0/0008", false, ""}, PrefixCase{"10.0.0.0/8/8", false, ""},
        PrefixCase{"/8", false, ""}, PrefixCase{"2001:db8::/32", true, "2001:db8::/32"},
        PrefixCase{"::/0", true, "::/0"}, PrefixCase{"::1", true, "::1/128"},
        PrefixCase{"2001:db8::/128", true, "2001:db8::/128"},
        PrefixCase{"2001:db8::/129", false, ""}, PrefixCase{"2001:db8::/64x", false, ""}));

TEST(Prefix, MaskedClearsHostBits) {
    EXPECT_EQ(Prefix::parse("10.1.2.3/8")->masked().str(), "10.0.0.0/8");
    EXPECT_EQ(Prefix::parse("10.1.2.3/0")->masked().str(), "0.0.0.0/0");
    EXPECT_EQ(Prefix::parse("10.1.2.255/31")->masked().str(), "10.1.2.254/31");
    EXPECT_EQ(Prefix::parse("10.1.2.3/32")->masked().str(), "10.1.2.3/32");
    EXPECT_EQ(Prefix::parse("2001:db8:ffff::1/33")->masked().str(), "2001:db8:8000::/33");
    EXPECT_EQ(Prefix::parse("2001:db8::1/0")->masked().str(), "::/0");
    // The IPv4-mapped marker survives masking, or a masked IPv4 /0 would become IPv6 ::/0.
    EXPECT_TRUE(Prefix::parse("10.1.2.3/0")->masked().addr.is_v4());
}

TEST(Prefix, ContainsIsFamilyAware) {
    auto any4 = *Prefix::parse("0.0.0.0/0");
    auto any6 = *Prefix::parse("::/0");
    auto v4 = *IpAddr::parse("198.51.100.7");
    auto v6 = *IpAddr::parse("2001:db8::7");
    EXPECT_TRUE(any4.contains(v4));
    EXPECT_FALSE(any4.contains(v6));
    EXPECT_TRUE(any6.contains(v6));
    EXPECT_FALSE(any6.contains(v4));  // ::/0 must not swallow mapped IPv4
    auto net = *Prefix::parse("198.51.100.0/29");
    EXPECT_TRUE(net.contains(*IpAddr::parse("198.51.100.0")));
    EXPECT_TRUE(net.contains(*IpAddr::parse("198.51.100.7")));
    EXPECT_FALSE(net.contains(*IpAddr::parse("198.51.100.8")));
    // A prefix written with host bits contains the same addresses as its masked form.
    EXPECT_TRUE(Prefix::parse("198.51.100.5/29")->contains(*IpAddr::parse("198.51.100.1")));
}

struct MacCase {
    std::string_view text;
    bool ok;
    std::string_view canonical;
};

class MacParse : public testing::TestWithParam<MacCase> {};

TEST_P(MacParse, ParsesOrRejects) {
    const auto& c = GetParam();
    auto m = Mac::parse(c.text);
    ASSERT_EQ(m.has_value(), c.ok) << "input: " << c.text;
    if (c.ok) {
        EXPECT_EQ(m->str(), c.canonical);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, MacParse,
    testing::Values(MacCase{"02:00:00:00:01:01", true, "02:00:00:00:01:01"},
                    MacCase{"02:AB:cd:EF:00:ff", true, "02:ab:cd:ef:00:ff"},
                    MacCase{"ff:ff:ff:ff:ff:ff", true, "ff:ff:ff:ff:ff:ff"},
                    MacCase{"02-00-00-00-01-01", false, ""}, MacCase{"0200.0000.0101", false, ""},
                    MacCase{"2:0:0:0:1:1", false, ""}, MacCase{"02:00:00:00:01", false, ""},
                    MacCase{"02:00:00:00:01:01:", false, ""},
                    MacCase{"02:00:00:00:01:0g", false, ""},
                    MacCase{"02:00:00:00:01:01 ", false, ""}, MacCase{"", false, ""}));

}  // namespace
}  // namespace tgw
