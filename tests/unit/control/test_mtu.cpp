// Tunnel MTU arithmetic (control/mtu.hpp): every header of the budget, ESP padding as a step
// function, and the boundary itself (the largest inner packet fits, one byte more does not).
#include <gtest/gtest.h>

#include "control/mtu.hpp"

namespace tgw::control {
namespace {

using namespace config;

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

Tunnel gre(const char* local = "192.0.2.1", const char* remote = "192.0.2.2") {
    Tunnel t;
    t.name = "t";
    t.local = ip(local);
    t.remote = ip(remote);
    return t;
}

Sa sa(Cipher c, Integrity i = Integrity::None, SaMode mode = SaMode::Transport) {
    Sa s;
    s.name = "sa";
    s.cipher = c;
    s.integrity = i;
    s.mode = mode;
    return s;
}

struct Case {
    const char* name;
    Tunnel t;
    std::optional<Sa> esp;
    unsigned port_mtu;
    unsigned want;  // largest inner packet, worked out by hand from the RFCs' header sizes
};

Tunnel with(Tunnel t, auto f) {
    f(t);
    return t;
}

std::vector<Case> cases() {
    auto key = [](Tunnel& t) { t.key = 42; };
    auto all = [](Tunnel& t) { t.key = 1, t.checksum = true, t.sequence = true; };
    auto tap = [](Tunnel& t) { t.type = TunnelType::Gretap; };
    auto v6 = gre("2001:db8::1", "2001:db8::2");
    auto ipsec = with(gre(), [](Tunnel& t) { t.type = TunnelType::Ipsec; });
    Sa natt = sa(Cipher::AesGcm128, Integrity::None, SaMode::Tunnel);
    natt.nat_t = true;
    Sa v6sa = sa(Cipher::Chacha20Poly1305, Integrity::None, SaMode::Tunnel);
    v6sa.local = ip("2001:db8::1");
    v6sa.remote = ip("2001:db8::2");
    return {
        {"plain", gre(), {}, 1500, 1476},                        // 20 + 4
        {"key", with(gre(), key), {}, 1500, 1472},               // + 4
        {"csum_key_seq", with(gre(), all), {}, 1500, 1464},      // + 12
        {"ipv6_outer", v6, {}, 1500, 1456},                      // 40 + 4
        {"ipv6_outer_key", with(v6, key), {}, 1500, 1452},
        {"gretap", with(gre(), tap), {}, 1500, 1462},            // + Ethernet 14
        {"gretap_key", with(with(gre(), tap), key), {}, 1500, 1458},
        {"jumbo", gre(), {}, 9000, 8976},
        // GRE over ESP transport, AES-GCM: IPv4 20 + ESP 8 + IV 8 + ICV 16 fixed, GRE 4 and
        // the 2-byte trailer padded to 4: (1500 - 52) = 1448 = 4 + 1442 + 2.
        {"gcm_transport", gre(), sa(Cipher::AesGcm128), 1500, 1442},
        {"gcm_transport_b1499", gre(), sa(Cipher::AesGcm128), 1499, 1438},  // 1447 -> 1444
        {"gcm256_transport_key", with(gre(), key), sa(Cipher::AesGcm256), 1500, 1438},
        // ESP tunnel mode around GRE: another IPv4 20 outside, the GRE delivery header inside.
        {"gcm_tunnel", gre(), sa(Cipher::AesGcm128, Integrity::None, SaMode::Tunnel), 1500, 1422},
        // AES-CBC + HMAC-SHA-256-128, plain ESP tunnel: 20 + 8 + IV 16 + ICV 16 = 60; 1440 = 90 blocks.
        {"cbc_sha256_ipsec", ipsec, sa(Cipher::AesCbc128, Integrity::HmacSha256_128, SaMode::Tunnel), 1500, 1438},
        {"cbc_sha256_ipsec_1501", ipsec, sa(Cipher::AesCbc128, Integrity::HmacSha256_128, SaMode::Tunnel), 1501, 1438},
        {"cbc_sha256_ipsec_1516", ipsec, sa(Cipher::AesCbc256, Integrity::HmacSha256_128, SaMode::Tunnel), 1516, 1454},
        // CBC + HMAC-SHA-1-96 (ICV 12), transport, keyed GRE: 56 fixed, 1444 -> 1440 = 8 + x + 2.
        {"cbc_sha1_transport_key", with(gre(), key), sa(Cipher::AesCbc128, Integrity::HmacSha1_96), 1500, 1430},
        // NAT-T adds UDP 8 (RFC 3948).
        {"gcm_natt_ipsec", ipsec, natt, 1500, 1438},
        // ChaCha20-Poly1305 with IPv6 SA endpoints around GRE over IPv6: 40+8+8+16 = 72 fixed,
        // 1428 = 40 + 4 + x + 2.
        {"chacha_v6_tunnel", v6, v6sa, 1500, 1382},
        {"too_small", gre(), {}, 24, 0},
    };
}

class MtuTable : public ::testing::TestWithParam<Case> {};

TEST_P(MtuTable, LargestInnerPacketFitsAndOneMoreDoesNot) {
    const Case& c = GetParam();
    const Encap e = encap_of(c.t, c.esp ? &*c.esp : nullptr);
    const unsigned fits = e.max_inner(c.port_mtu);
    EXPECT_EQ(fits, c.want) << e.parts;
    if (fits) EXPECT_LE(e.outer_size(fits), c.port_mtu) << e.parts;
    EXPECT_GT(e.outer_size(fits + 1), c.port_mtu) << e.parts;
}

INSTANTIATE_TEST_SUITE_P(Budgets, MtuTable, ::testing::ValuesIn(cases()),
                         [](const auto& i) { return std::string(i.param.name); });

// Exhaustive over port MTUs: max_inner agrees with a search over outer_size, which is written
// the other way round (size of a packet, padding rounded up).
TEST(Mtu, MaxInnerIsTheLargestThatFitsForEveryPortMtu) {
    for (const Case& c : cases()) {
        const Encap e = encap_of(c.t, c.esp ? &*c.esp : nullptr);
        for (unsigned mtu = 68; mtu <= 1600; mtu++) {
            unsigned best = 0;
            for (unsigned x = 1; x <= mtu; x++)
                if (e.outer_size(x) <= mtu) best = x;
            ASSERT_EQ(e.max_inner(mtu), best) << c.name << " port mtu " << mtu;
        }
    }
}

TEST(Mtu, EspPaddingIsAStepFunction) {
    const Sa s = sa(Cipher::AesCbc128, Integrity::HmacSha256_128, SaMode::Tunnel);
    Tunnel t = gre();
    t.type = TunnelType::Ipsec;
    const Encap e = encap_of(t, &s);
    EXPECT_EQ(e.block, 16u);
    // 1423..1438 all pad to the same 1440-byte payload: one 1500-byte packet.
    for (unsigned x = 1423; x <= 1438; x++) EXPECT_EQ(e.outer_size(x), 1500u) << x;
    EXPECT_EQ(e.outer_size(1439), 1516u);
    EXPECT_EQ(e.outer_size(1422), 1484u);
}

TEST(Mtu, PartsNameEveryHeader) {
    Tunnel t = gre();
    t.key = 1;
    EXPECT_EQ(encap_of(t, nullptr).parts, "IPv4 20 + GRE 4 + key 4");
    EXPECT_EQ(encap_of(t, nullptr).fixed, 28u);
    const Sa s = sa(Cipher::AesGcm128, Integrity::None, SaMode::Tunnel);
    EXPECT_EQ(encap_of(t, &s).parts,
              "ESP tunnel IPv4 20 + ESP header 8 + IV 8 + IPv4 20 + GRE 4 + key 4 + ESP trailer 2 "
              "+ ICV 16 + padding to 4");
}

TEST(Mtu, OutboundSaIsTheOneNamed) {
    Config cfg;
    cfg.sas = {sa(Cipher::AesGcm128), sa(Cipher::AesCbc128, Integrity::HmacSha1_96)};
    cfg.sas[0].name = "old";
    cfg.sas[1].name = "new";
    Tunnel t = gre();
    EXPECT_EQ(outbound_sa(cfg, t), nullptr) << "unprotected";
    t.protection = Protection{};
    EXPECT_EQ(outbound_sa(cfg, t), nullptr) << "protected, no SA installed yet";
    t.protection->out = "new";
    EXPECT_EQ(outbound_sa(cfg, t), &cfg.sas[1]);
}

TEST(Mtu, EffectiveMtuAndMssClamp) {
    Tunnel t = gre();
    EXPECT_EQ(effective_mtu(t, 1476), 1476);
    t.mtu = 1400;
    EXPECT_EQ(effective_mtu(t, 1476), 1400);
    t.mss_mode = MssMode::Auto;
    EXPECT_EQ(clamp_mss(t, 1476, 4), 1436);  // RFC 879: MTU - 20 IP - 20 TCP
    EXPECT_EQ(clamp_mss(t, 1476, 6), 1416);  // MTU - 40 IPv6 - 20 TCP
    t.mss_mode = MssMode::Fixed;
    t.mss = 1300;
    EXPECT_EQ(clamp_mss(t, 1476, 4), 1300);
    EXPECT_EQ(clamp_mss(t, 1476, 6), 1300);
    t.mss_mode = MssMode::Off;
    EXPECT_EQ(clamp_mss(t, 1476, 4), 0);
}

}  // namespace
}  // namespace tgw::control
