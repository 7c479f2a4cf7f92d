// ESP through the real stages: a loop where the gateway decrypts what it encrypted (the WAN
// port also owns the peer's address), so each direction checks the other, plus the drop
// reasons. Interop with independent implementations is in tests/scenario/esp_scenario.py.
#include "control/crypto.hpp"
#include "fixture.hpp"

namespace tgw::test {
namespace {

using namespace wire;
using dp::Drop;

Bytes hexbytes(const char* h) {
    Bytes b;
    for (size_t i = 0; h[i] && h[i + 1]; i += 2)
        b.push_back(uint8_t(std::stoi(std::string(h + i, 2), nullptr, 16)));
    return b;
}

config::Sa sa(const char* name, uint32_t spi, config::SaDirection dir, const char* local,
              const char* remote, config::Cipher cipher = config::Cipher::AesGcm128) {
    config::Sa s;
    s.name = name;
    s.spi = spi;
    s.direction = dir;
    s.local = ip(local);
    s.remote = ip(remote);
    s.cipher = cipher;
    if (cipher == config::Cipher::AesCbc128) {
        s.integrity = config::Integrity::HmacSha256_128;
        s.key = hexbytes("101112131415161718191a1b1c1d1e1f");
        s.auth_key = hexbytes("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
    } else {
        s.key = hexbytes("000102030405060708090a0b0c0d0e0f");
        s.salt = hexbytes("a0a1a2a3");
    }
    return s;
}

class EspTest : public DpTest {
protected:
    void SetUp() override {
        DpTest::SetUp();
        ASSERT_EQ(control::CryptoDev::instance().open(SOCKET_ID_ANY, 256), "");
        neigh_->set(0, ip("10.10.1.2"), host_mac, true);
        neigh_->set(1, ip("192.168.60.2"), peer_mac, true);
    }
    // ipsec tunnel ip0 192.168.60.1 -> .2 for 10.30.0.0/24; the WAN port also holds .2 and
    // the inbound SA mirrors the outbound one, so our own ESP comes back in.
    config::Config loop_config(config::Cipher cipher = config::Cipher::AesGcm128,
                               bool with_out = true) {
        auto c = base_config();
        c.ports[1].addresses.push_back(pfx("192.168.60.2/24"));
        config::Tunnel t;
        t.name = "ip0";
        t.type = config::TunnelType::Ipsec;
        t.local = ip("192.168.60.1");
        t.remote = ip("192.168.60.2");
        t.protection = config::Protection{with_out ? "o" : "", {"i"}, {}};
        c.tunnels.push_back(t);
        config::Route r;
        r.prefix = pfx("10.30.0.0/24");
        r.kind = config::RouteKind::Tunnel;
        r.tunnel = "ip0";
        c.routes.push_back(r);
        c.sas = {sa("o", 0x1001, config::SaDirection::Out, "192.168.60.1", "192.168.60.2", cipher),
                 sa("i", 0x1001, config::SaDirection::In, "192.168.60.2", "192.168.60.1", cipher)};
        c.sas[1].replay_window = 64;
        return c;
    }
    Bytes lan(const char* src, const char* dst, size_t data = 56) {
        return Pkt::eth(lan_mac, host_mac, ethertype::ipv4,
                        Pkt::ipv4(src, dst, ipproto::icmp, Pkt::icmp_echo(7, 1, data)));
    }
    static Bytes to_wan_input(Bytes frame) {  // what the peer would send back to us
        std::memcpy(frame.data(), wan_mac, 6);
        std::memcpy(frame.data() + 6, peer_mac, 6);
        return frame;
    }
    static const Esp* esp_of(const Bytes& f) {
        return reinterpret_cast<const Esp*>(f.data() + sizeof(Eth) + sizeof(Ipv4));
    }
};

struct Variant {
    const char* name;
    config::Cipher cipher;
    config::Integrity integ;
    bool esn, nat_t, v6;
    size_t esp_len;  // ESP packet after the outer IP header (and UDP): inner is 84 bytes
};

TEST_F(EspTest, RoundTrips) {
    const Variant vs[] = {
        {"gcm128", config::Cipher::AesGcm128, config::Integrity::None, false, false, false,
         8 + 8 + 88 + 16},
        {"gcm256 esn", config::Cipher::AesGcm256, config::Integrity::None, true, false, false,
         8 + 8 + 88 + 16},
        {"cbc128 sha256", config::Cipher::AesCbc128, config::Integrity::HmacSha256_128, false,
         false, false, 8 + 16 + 96 + 16},
        {"cbc256 sha1 esn", config::Cipher::AesCbc256, config::Integrity::HmacSha1_96, true, false,
         false, 8 + 16 + 96 + 12},
        {"chacha20", config::Cipher::Chacha20Poly1305, config::Integrity::None, false, false, false,
         8 + 8 + 88 + 16},
        {"gcm128 nat-t", config::Cipher::AesGcm128, config::Integrity::None, false, true, false,
         8 + 8 + 88 + 16},
        {"gcm128 ipv6 outer", config::Cipher::AesGcm128, config::Integrity::None, false, false,
         true, 8 + 8 + 88 + 16},
    };
    for (const Variant& v : vs) {
        SCOPED_TRACE(v.name);
        auto c = loop_config();
        for (auto& x : c.sas) {
            x.cipher = v.cipher;
            x.integrity = v.integ;
            x.esn = v.esn;
            x.nat_t = v.nat_t;
            const bool aead = v.integ == config::Integrity::None;
            x.key = Bytes(
                v.cipher == config::Cipher::AesGcm128 || v.cipher == config::Cipher::AesCbc128 ? 16
                                                                                               : 32,
                0x11);
            x.salt = aead ? Bytes(4, 0x22) : Bytes{};
            x.auth_key =
                aead ? Bytes{} : Bytes(v.integ == config::Integrity::HmacSha1_96 ? 20 : 32, 0x33);
        }
        if (v.cipher == config::Cipher::Chacha20Poly1305 &&
            !control::CryptoDev::instance().supports(v.cipher, v.integ)) {
            ADD_FAILURE() << "this IPsec-MB build has no ChaCha20-Poly1305";
            continue;
        }
        if (v.v6) {
            c.ports[1].addresses.push_back(pfx("2001:db8:60::2/64"));
            c.tunnels.back().local = c.sas[0].local = c.sas[1].remote = ip("2001:db8:60::1");
            c.tunnels.back().remote = c.sas[0].remote = c.sas[1].local = ip("2001:db8:60::2");
            neigh_->set(1, ip("2001:db8:60::2"), peer_mac, true);
        }
        build(c);
        auto o = run_frames({lan("10.30.0.5", "10.30.0.6")}, 0);
        ASSERT_EQ(o.tx[1].size(), 1u);
        const Bytes& f = o.tx[1][0];
        size_t outer = v.v6 ? sizeof(Ipv6) : sizeof(Ipv4);
        if (!v.v6) {
            auto* ip4 = reinterpret_cast<const Ipv4*>(f.data() + sizeof(Eth));
            EXPECT_EQ(ip4->proto, v.nat_t ? ipproto::udp : ipproto::esp);
            EXPECT_EQ(csum_fold(csum_partial(ip4, sizeof(Ipv4))), 0) << "outer checksum";
        }
        if (v.nat_t) {
            auto* u = reinterpret_cast<const Udp*>(f.data() + sizeof(Eth) + outer);
            EXPECT_EQ(u->dport.get(), 4500);
            EXPECT_EQ(u->len.get(), f.size() - sizeof(Eth) - outer);
            outer += sizeof(Udp);
        }
        auto* e = reinterpret_cast<const Esp*>(f.data() + sizeof(Eth) + outer);
        EXPECT_EQ(e->spi.get(), 0x1001u);
        EXPECT_EQ(e->seq.get(), 1u);
        EXPECT_EQ(f.size() - sizeof(Eth) - outer, v.esp_len);
        // Back in: decrypted, allowed (10.30.0.5 routes into ip0), routed into ip0 again.
        auto o2 = run_frames({to_wan_input(f)}, 1);
        ASSERT_EQ(o2.tx[1].size(), 1u);
        EXPECT_EQ(snap_->sas[1].live->ctr.pkts, 1u);
        EXPECT_EQ(snap_->sas[0].live->ctr.pkts, 2u);
    }
}

TEST_F(EspTest, DropsAreNamedAndCounted) {
    build(loop_config());
    auto o = run_frames({lan("10.30.0.5", "10.30.0.6"), lan("10.30.0.5", "10.30.0.6"),
                         lan("10.10.1.2", "10.30.0.6")},
                        0);
    ASSERT_EQ(o.tx[1].size(), 3u);
    Bytes good = to_wan_input(o.tx[1][0]);
    Bytes tampered = good;
    tampered[sizeof(Eth) + 20 + 8 + 8 + 4] ^= 1;  // ciphertext
    Bytes bad_icv = good;
    bad_icv.back() ^= 0x80;
    Bytes wrong_spi = good;
    reinterpret_cast<Esp*>(wrong_spi.data() + sizeof(Eth) + 20)->spi.set(0x2002);
    Bytes truncated(good.begin(), good.begin() + sizeof(Eth) + 20 + 8 + 8 + 10);
    reinterpret_cast<Ipv4*>(truncated.data() + sizeof(Eth))
        ->total_len.set(uint16_t(truncated.size() - sizeof(Eth)));
    auto* t4 = reinterpret_cast<Ipv4*>(truncated.data() + sizeof(Eth));
    t4->csum.set(0);
    t4->csum.set(csum_fold(csum_partial(t4, sizeof(Ipv4))));

    struct Case {
        const char* name;
        Bytes frame;
        Drop why;
    } cases[] = {
        {"tampered ciphertext", tampered, Drop::esp_auth_failed},
        {"tampered ICV", bad_icv, Drop::esp_auth_failed},
        {"unknown SPI", wrong_spi, Drop::esp_no_sa},
        {"truncated", truncated, Drop::esp_truncated},
        {"first copy accepted", good, Drop::count},
        {"replayed", good, Drop::esp_replay},
        {"source not routed into the tunnel", to_wan_input(o.tx[1][2]), Drop::esp_policy},
    };
    for (auto& c : cases) {
        SCOPED_TRACE(c.name);
        uint64_t before = c.why == Drop::count ? 0 : dropped(c.why);
        auto r = run_frames({c.frame}, 1);
        if (c.why == Drop::count) {
            EXPECT_EQ(r.tx[1].size(), 1u);
        } else {
            EXPECT_EQ(r.tx[1].size() + r.tx[0].size(), 0u);
            EXPECT_EQ(dropped(c.why), before + 1);
        }
    }
    const auto& k = snap_->sas[1].live->ctr;
    EXPECT_EQ(k.auth_failed, 2u);
    EXPECT_EQ(k.replay, 1u);
    EXPECT_EQ(k.truncated, 1u);
    EXPECT_EQ(k.policy, 1u);
}

TEST_F(EspTest, ProtectedTunnelWithoutOutboundSaFailsClosed) {
    build(loop_config(config::Cipher::AesGcm128, false));
    uint64_t before = dropped(Drop::sa_missing);
    auto o = run_frames({lan("10.30.0.5", "10.30.0.6")}, 0);
    EXPECT_EQ(o.tx[1].size(), 0u) << "nothing may leave in clear";
    EXPECT_EQ(dropped(Drop::sa_missing), before + 1);
}

TEST_F(EspTest, HardPacketLimitAndSequenceExhaustion) {
    auto c = loop_config();
    c.sas[0].hard.packets = 2;
    build(c);
    auto o = run_frames({lan("10.30.0.5", "10.30.0.6"), lan("10.30.0.5", "10.30.0.6"),
                         lan("10.30.0.5", "10.30.0.6")},
                        0);
    EXPECT_EQ(o.tx[1].size(), 2u);
    EXPECT_EQ(dropped(Drop::sa_expired), 1u);
    EXPECT_EQ(snap_->sas[0].live->state(), dp::sa_hard);

    c = loop_config();
    // rte_ipsec sends at most 2^32 - 2 without ESN (it refuses the number whose successor
    // would wrap), so after 0xfffffffd exactly one more packet goes out.
    c.sas[0].initial_sequence = 0xfffffffdu;
    c.sas[0].name = "o2";  // a fresh SA, not the expired one
    c.tunnels.back().protection->out = "o2";
    build(c);
    o = run_frames({lan("10.30.0.5", "10.30.0.6"), lan("10.30.0.5", "10.30.0.6")}, 0);
    ASSERT_EQ(o.tx[1].size(), 1u);
    EXPECT_EQ(esp_of(o.tx[1][0])->seq.get(), 0xfffffffeu);
    EXPECT_EQ(dropped(Drop::sa_seq_exhausted), 1u);
}

// GRE over ESP (tunnel mode): t0 is protected by `o`; the mirror tunnel `back` (.2 -> .1) by
// `i`, so the gateway's own GRE-in-ESP comes back in, is decrypted, decapsulated and routed
// into t0 again. Cleartext GRE for the protected mirror is refused.
TEST_F(EspTest, GreOverEspRoundTripAndCleartextRefused) {
    for (auto mode : {config::SaMode::Tunnel, config::SaMode::Transport}) {
        SCOPED_TRACE(mode == config::SaMode::Tunnel ? "tunnel mode" : "transport mode");
        auto c = loop_config();
        for (auto& x : c.sas) x.mode = mode;
        c.tunnels.pop_back();  // no ipsec tunnel here
        c.routes.pop_back();
        c.tunnels[0].protection = config::Protection{"o", {}, {}};
        config::Tunnel back = c.tunnels[0];
        back.name = "back";
        back.local = ip("192.168.60.2");
        back.remote = ip("192.168.60.1");
        back.addresses.clear();
        back.protection = config::Protection{"", {"i"}, {}};
        c.tunnels.push_back(back);
        build(c);
        auto o = run_frames({lan("10.10.1.2", "10.20.0.5")}, 0);
        ASSERT_EQ(o.tx[1].size(), 1u);
        const Bytes& f = o.tx[1][0];
        EXPECT_EQ(reinterpret_cast<const Ipv4*>(f.data() + sizeof(Eth))->proto, ipproto::esp);
        // Tunnel: 84 inner + 24 GRE/IP = 108 (+2, padded to 112), ESP header 8, IV 8, ICV 16,
        // outer 20. Transport: the GRE packet's own IP header stays, 88 (+2 -> 92) encrypted.
        if (mode == config::SaMode::Tunnel)
            EXPECT_EQ(f.size() - sizeof(Eth), 20u + 8 + 8 + 112 + 16);
        else
            EXPECT_EQ(f.size() - sizeof(Eth), 20u + 8 + 8 + 92 + 16);

        auto o2 = run_frames({to_wan_input(f)}, 1);
        ASSERT_EQ(o2.tx[1].size(), 1u) << "decrypted, decapsulated by `back`, encrypted into t0";
        EXPECT_EQ(esp_of(o2.tx[1][0])->seq.get(), 2u);

        Bytes gre = Pkt::eth(
            wan_mac, peer_mac, ethertype::ipv4,
            Pkt::ipv4("192.168.60.1", "192.168.60.2", ipproto::gre,
                      Pkt::gre(ethertype::ipv4, Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::icmp,
                                                          Pkt::icmp_echo()))));
        uint64_t before = dropped(Drop::gre_cleartext);
        auto o3 = run_frames({gre}, 1);
        EXPECT_EQ(o3.tx[1].size() + o3.tx[0].size(), 0u);
        EXPECT_EQ(dropped(Drop::gre_cleartext), before + 1);
    }
}

// Multi-worker: a packet for an SA owned by another worker is handed over before any SA state
// is touched, in both directions.
TEST_F(EspTest, NonOwnerHandsOff) {
    build(loop_config(), 2);
    // Tunnel slot 1 (ip0) -> owner 1; this context is worker 0.
    ASSERT_EQ(snap_->sas[0].owner, 1u);
    auto o = run_frames({lan("10.30.0.5", "10.30.0.6")}, 0);
    EXPECT_EQ(o.tx[1].size(), 0u);
    ASSERT_EQ(o.handoff.size(), 1u);
    EXPECT_EQ(o.handoff[0], 1u);
    EXPECT_EQ(snap_->sas[0].live->ctr.pkts, 0u) << "the non-owner must not touch the SA";
}

}  // namespace
}  // namespace tgw::test
