// Fragmentation around the tunnel through the real stages (dp/frag.hpp): inner IPv4 without
// DF fragmented before encapsulation, fragmentation: off and outer, outer fragments from the
// peer reassembled (IPv4 and IPv6) or timed out, and MSS clamping in both directions.
#include <rte_cycles.h>

#include "dp/frag.hpp"
#include "control/crypto.hpp"
#include "fixture.hpp"

namespace tgw::test {
namespace {

using namespace wire;
using dp::Drop;

constexpr size_t E = sizeof(Eth);

bool ipv4_header_valid(const uint8_t* ip) {
    return csum_fold(csum_partial(ip, reinterpret_cast<const Ipv4*>(ip)->header_len())) == 0;
}

// Splits an IPv4 packet into fragments carrying `first` and then the rest of its payload.
std::vector<Bytes> split4(const Bytes& pkt, size_t first) {
    const size_t hl = 20, payload = pkt.size() - hl;
    std::vector<Bytes> out;
    for (size_t off = 0; off < payload; off += first) {
        size_t n = std::min(first, payload - off);
        Bytes f(pkt.begin(), pkt.begin() + long(hl));
        f.insert(f.end(), pkt.begin() + long(hl + off), pkt.begin() + long(hl + off + n));
        auto* ip = reinterpret_cast<Ipv4*>(f.data());
        ip->total_len.set(uint16_t(f.size()));
        ip->frag.set(uint16_t((off + n < payload ? Ipv4::flag_mf : 0) | off / 8));
        ip->csum.raw = 0;
        ip->csum.set(csum_fold(csum_partial(f.data(), hl)));
        out.push_back(f);
    }
    return out;
}

// The same for IPv6, with a fragment header right after the fixed header (RFC 8200 §4.5).
std::vector<Bytes> split6(const Bytes& pkt, size_t first, uint32_t id) {
    const size_t payload = pkt.size() - sizeof(Ipv6);
    const uint8_t next = pkt[6];
    std::vector<Bytes> out;
    for (size_t off = 0; off < payload; off += first) {
        size_t n = std::min(first, payload - off);
        Bytes f(pkt.begin(), pkt.begin() + 40);
        uint16_t fo = uint16_t(off | (off + n < payload ? 1 : 0));
        Bytes fh = {next, 0, uint8_t(fo >> 8), uint8_t(fo), uint8_t(id >> 24), uint8_t(id >> 16),
                    uint8_t(id >> 8), uint8_t(id)};
        f.insert(f.end(), fh.begin(), fh.end());
        f.insert(f.end(), pkt.begin() + long(40 + off), pkt.begin() + long(40 + off + n));
        f[6] = 44;
        reinterpret_cast<Ipv6*>(f.data())->payload_len.set(uint16_t(f.size() - 40));
        out.push_back(f);
    }
    return out;
}

Bytes udp_payload(size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; i++) b[i] = uint8_t(i * 7 + 3);
    return b;
}

class FragTest : public DpTest {
protected:
    void SetUp() override {
        DpTest::SetUp();
        neigh_->set(0, ip("10.10.1.2"), host_mac, true);
        neigh_->set(1, ip("192.168.60.2"), peer_mac, true);
        neigh_->set(1, ip("2001:db8:60::2"), peer_mac, true);
    }
    void tunnel(auto f) {
        auto c = base_config();
        f(c.tunnels[0]);
        build(c);
    }
    Bytes from_host(const Bytes& ip4) { return Pkt::eth(lan_mac, host_mac, ethertype::ipv4, ip4); }
};

// RFC 4459 §3.2: the inner datagram is fragmented, each fragment is a whole GRE packet.
TEST_F(FragTest, InnerIpv4WithoutDfIsFragmentedBeforeEncapsulation) {
    const Bytes data = udp_payload(3000 - 20);
    const Bytes inner = Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::udp, data, 64, 0x0a, false);
    auto o = run_frames({from_host(inner)}, 0);
    ASSERT_EQ(o.tx[1].size(), 3u);  // 1456 + 1456 + 68 payload bytes (multiples of 8)
    Bytes joined;
    uint16_t last_outer_id = 0;
    for (size_t i = 0; i < 3; i++) {
        const Bytes& f = o.tx[1][i];
        auto* outer = reinterpret_cast<const Ipv4*>(f.data() + E);
        EXPECT_LE(f.size() - E, 1500u);
        EXPECT_EQ(outer->proto, ipproto::gre);
        EXPECT_FALSE(outer->is_fragment()) << "outer packets are never fragments";
        EXPECT_TRUE(ipv4_header_valid(f.data() + E));
        if (i) EXPECT_NE(outer->id.get(), last_outer_id);
        last_outer_id = outer->id.get();
        auto* in = reinterpret_cast<const Ipv4*>(f.data() + E + 24);
        EXPECT_TRUE(ipv4_header_valid(f.data() + E + 24)) << "fragment " << i;
        EXPECT_EQ(in->id.get(), 0x1234) << "fragments keep the datagram's id";
        EXPECT_EQ(in->ttl, 63);
        EXPECT_EQ(in->tos, 0x0a);
        EXPECT_EQ(outer->tos, 0x0a);
        EXPECT_EQ(size_t(in->frag.get() & Ipv4::offset_mask) * 8, joined.size());
        EXPECT_EQ(bool(in->frag.get() & Ipv4::flag_mf), i < 2);
        EXPECT_EQ(in->total_len.get(), f.size() - E - 24);
        joined.insert(joined.end(), f.begin() + E + 44, f.end());
    }
    EXPECT_EQ(o.tx[1][0].size() - E, 1500u) << "the first fragment fills the tunnel exactly";
    EXPECT_EQ(joined, data);
    EXPECT_EQ(ctr_->fragmented, 1u);
    EXPECT_EQ(ctr_->fragments, 3u);
    EXPECT_EQ(ctr_->tunnel[0].tx_pkts, 3u);
    EXPECT_EQ(dropped(Drop::mtu_exceeded), 0u);
}

TEST_F(FragTest, BoundaryPlainAndKeyed) {
    for (std::optional<uint32_t> key : {std::optional<uint32_t>{}, std::optional<uint32_t>{42}}) {
        tunnel([&](config::Tunnel& t) { t.key = key; });
        const unsigned mtu = key ? 1472 : 1476;
        ASSERT_EQ(snap_->tunnels[0].mtu, mtu);
        for (unsigned size : {mtu, mtu + 1}) {
            for (bool df : {false, true}) {
                auto o = run_frames({from_host(Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::udp,
                                                         udp_payload(size - 20), 64, 0, df))}, 0);
                const bool fits = size <= mtu;
                EXPECT_EQ(o.tx[1].size(), fits ? 1u : df ? 0u : 2u) << size << " df " << df;
                EXPECT_EQ(o.punted.size(), !fits && df ? 1u : 0u) << size << " df " << df;
                if (!fits && df) {
                    EXPECT_EQ(o.punted[0].first, dp::Punt::frag_needed);
                }
            }
        }
    }
}

TEST_F(FragTest, FragmentationOffDropsAsBefore) {
    tunnel([](config::Tunnel& t) { t.fragmentation = config::FragMode::Off; });
    auto o = run_frames({from_host(Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::udp,
                                             udp_payload(1477 - 20), 64, 0, false))}, 0);
    EXPECT_TRUE(o.tx[1].empty());
    EXPECT_TRUE(o.punted.empty());
    EXPECT_EQ(dropped(Drop::mtu_exceeded), 1u);
    EXPECT_EQ(ctr_->fragmented, 0u);
}

// fragmentation: outer with mtu 1500: the inner packet travels whole, the outer one is split.
TEST_F(FragTest, OuterFragmentationSplitsTheOuterPacket) {
    tunnel([](config::Tunnel& t) {
        t.fragmentation = config::FragMode::Outer;
        t.mtu = 1500;
    });
    const Bytes inner = Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::udp, udp_payload(1480), 64, 0, true);
    auto o = run_frames({from_host(inner)}, 0);
    ASSERT_EQ(o.tx[1].size(), 2u);
    Bytes joined;
    for (size_t i = 0; i < 2; i++) {
        const Bytes& f = o.tx[1][i];
        auto* outer = reinterpret_cast<const Ipv4*>(f.data() + E);
        EXPECT_LE(f.size() - E, 1500u);
        EXPECT_TRUE(ipv4_header_valid(f.data() + E));
        EXPECT_FALSE(outer->frag.get() & Ipv4::flag_df) << "a fragmented outer packet has no DF";
        EXPECT_EQ(size_t(outer->frag.get() & Ipv4::offset_mask) * 8, joined.size());
        EXPECT_EQ(bool(outer->frag.get() & Ipv4::flag_mf), i == 0);
        joined.insert(joined.end(), f.begin() + E + 20, f.end());
    }
    ASSERT_EQ(joined.size(), 4 + inner.size());
    Bytes got_inner(joined.begin() + 4, joined.end());
    EXPECT_EQ(got_inner[8], 63) << "inner TTL decremented, packet otherwise whole";
    got_inner[8] = inner[8];
    got_inner[10] = inner[10], got_inner[11] = inner[11];
    EXPECT_EQ(got_inner, inner);
    // A packet that fits is not touched, DF copied as usual.
    auto o2 = run_frames({from_host(Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::udp,
                                              udp_payload(1456), 64, 0, true))}, 0);
    ASSERT_EQ(o2.tx[1].size(), 1u);
    EXPECT_TRUE(reinterpret_cast<const Ipv4*>(o2.tx[1][0].data() + E)->frag.get() & Ipv4::flag_df);
}

Bytes gre_datagram4(size_t inner_payload) {
    Bytes inner = Pkt::ipv4("10.20.0.5", "10.10.1.2", ipproto::udp, udp_payload(inner_payload));
    return Pkt::ipv4("192.168.60.2", "192.168.60.1", ipproto::gre, Pkt::gre(ethertype::ipv4, inner));
}

TEST_F(FragTest, OuterFragmentsFromThePeerAreReassembled) {
    // The peer's path MTU was smaller than ours: 1000-byte pieces of a 1472-byte GRE packet.
    const Bytes outer = gre_datagram4(1420);
    auto frags = split4(outer, 1000);
    ASSERT_EQ(frags.size(), 2u);
    // in one burst, out of order
    auto o = run_frames({Pkt::eth(wan_mac, peer_mac, ethertype::ipv4, frags[1]),
                         Pkt::eth(wan_mac, peer_mac, ethertype::ipv4, frags[0])}, 1);
    ASSERT_EQ(o.tx[0].size(), 1u);
    const Bytes& f = o.tx[0][0];
    EXPECT_EQ(f.size() - E, 1440u);
    EXPECT_TRUE(ipv4_header_valid(f.data() + E));
    EXPECT_EQ(Bytes(f.begin() + E + 20, f.end()), udp_payload(1420));
    EXPECT_EQ(ctr_->reassembled, 1u);
    EXPECT_EQ(ctr_->tunnel[0].rx_pkts, 1u);
    // across bursts
    auto first = run_frames({Pkt::eth(wan_mac, peer_mac, ethertype::ipv4, frags[0])}, 1);
    EXPECT_TRUE(first.tx[0].empty());
    auto second = run_frames({Pkt::eth(wan_mac, peer_mac, ethertype::ipv4, frags[1])}, 1);
    EXPECT_EQ(second.tx[0].size(), 1u);
    EXPECT_EQ(ctr_->reassembled, 2u);
    EXPECT_EQ(dropped(Drop::outer_fragment), 0u);
}

TEST_F(FragTest, Ipv6OuterFragmentsAreReassembled) {
    tunnel([](config::Tunnel& t) {
        t.local = ip("2001:db8:60::1");
        t.remote = ip("2001:db8:60::2");
    });
    Bytes inner = Pkt::ipv4("10.20.0.5", "10.10.1.2", ipproto::udp, udp_payload(1400));
    Bytes outer = Pkt::ipv6("2001:db8:60::2", "2001:db8:60::1", ipproto::gre,
                            Pkt::gre(ethertype::ipv4, inner));
    auto frags = split6(outer, 1232 - 48, 77);
    ASSERT_EQ(frags.size(), 2u);
    auto o = run_frames({Pkt::eth(wan_mac, peer_mac, ethertype::ipv6, frags[0]),
                         Pkt::eth(wan_mac, peer_mac, ethertype::ipv6, frags[1])}, 1);
    ASSERT_EQ(o.tx[0].size(), 1u);
    EXPECT_EQ(Bytes(o.tx[0][0].begin() + E + 20, o.tx[0][0].end()), udp_payload(1400));
    EXPECT_EQ(ctr_->reassembled, 1u);
}

TEST_F(FragTest, IncompleteDatagramTimesOut) {
    auto frags = split4(gre_datagram4(2000), 1480);
    auto o = run_frames({Pkt::eth(wan_mac, peer_mac, ethertype::ipv4, frags[0])}, 1);
    EXPECT_TRUE(o.tx[0].empty());
    dp::reassembly_collect(ctx_, rte_rdtsc());
    EXPECT_EQ(dropped(Drop::reassembly_timeout), 0u) << "not yet";
    // The fixture's table keeps a datagram for one second of TSC.
    dp::reassembly_collect(ctx_, rte_rdtsc() + 2 * rte_get_tsc_hz());
    EXPECT_EQ(dropped(Drop::reassembly_timeout), 1u);
    EXPECT_EQ(ctr_->reassembled, 0u);
}

TEST_F(FragTest, OverlappingFragmentIsRefused) {
    auto frags = split4(gre_datagram4(2000), 1480);
    auto dup = split4(gre_datagram4(2000), 1000);  // same id, different cut: overlaps
    run_frames({Pkt::eth(wan_mac, peer_mac, ethertype::ipv4, frags[0]),
                Pkt::eth(wan_mac, peer_mac, ethertype::ipv4, dup[0]),
                Pkt::eth(wan_mac, peer_mac, ethertype::ipv4, frags[1])}, 1);
    dp::reassembly_collect(ctx_, rte_rdtsc());
    EXPECT_GT(dropped(Drop::reassembly_failed), 0u);
}

TEST_F(FragTest, FragmentFromInsideATunnelIsNotReassembled) {
    // A fragment of GRE addressed to the gateway's inner address, arriving through the tunnel:
    // never a second decapsulation.
    Bytes frag = split4(Pkt::ipv4("10.20.0.5", "10.88.0.1", ipproto::gre,
                                  Pkt::gre(ethertype::ipv4, Bytes(1600, 1))), 800)[0];
    Bytes outer = Pkt::ipv4("192.168.60.2", "192.168.60.1", ipproto::gre, Pkt::gre(ethertype::ipv4, frag));
    run_frames({Pkt::eth(wan_mac, peer_mac, ethertype::ipv4, outer)}, 1);
    EXPECT_EQ(dropped(Drop::outer_fragment), 1u);
}

// TCP SYN with MSS 1460 into the tunnel, SYN-ACK with MSS 1460 out of it: both clamped to
// 1476 - 40 = 1436, checksums still valid (test_mss.cpp checks the arithmetic itself).
TEST_F(FragTest, MssClampedInBothDirections) {
    auto syn = [](const char* src, const char* dst, uint8_t flags) {
        Bytes t(24, 0);
        t[12] = 6 << 4;
        t[13] = flags;
        t[20] = 2, t[21] = 4, t[22] = 0x05, t[23] = 0xb4;
        Bytes p = Pkt::ipv4(src, dst, ipproto::tcp, t, 64, 0, true);
        auto* ip = reinterpret_cast<Ipv4*>(p.data());
        uint32_t sum = csum_partial(ip->src, 8, 0) + ipproto::tcp + 24;
        reinterpret_cast<Tcp*>(p.data() + 20)->csum.set(csum_fold(csum_partial(p.data() + 20, 24, sum)));
        return p;
    };
    auto mss_at = [](const Bytes& f, size_t ip_off) { return uint16_t(f[ip_off + 42] << 8 | f[ip_off + 43]); };
    auto tcp_ok = [](const Bytes& f, size_t ip_off) {
        uint32_t sum = csum_partial(f.data() + ip_off + 12, 8, 0) + ipproto::tcp + 24;
        return csum_fold(csum_partial(f.data() + ip_off + 20, 24, sum)) == 0;
    };
    auto o = run_frames({from_host(syn("10.10.1.2", "10.20.0.5", 0x02))}, 0);
    ASSERT_EQ(o.tx[1].size(), 1u);
    EXPECT_EQ(mss_at(o.tx[1][0], E + 24), 1436);
    EXPECT_TRUE(tcp_ok(o.tx[1][0], E + 24));
    Bytes back = Pkt::eth(wan_mac, peer_mac, ethertype::ipv4,
                          Pkt::ipv4("192.168.60.2", "192.168.60.1", ipproto::gre,
                                    Pkt::gre(ethertype::ipv4, syn("10.20.0.5", "10.10.1.2", 0x12))));
    auto o2 = run_frames({back}, 1);
    ASSERT_EQ(o2.tx[0].size(), 1u);
    EXPECT_EQ(mss_at(o2.tx[0][0], E), 1436);
    EXPECT_TRUE(tcp_ok(o2.tx[0][0], E));
    EXPECT_EQ(ctr_->mss_clamped, 2u);

    tunnel([](config::Tunnel& t) { t.mss_mode = config::MssMode::Off; });
    auto o3 = run_frames({from_host(syn("10.10.1.2", "10.20.0.5", 0x02))}, 0);
    ASSERT_EQ(o3.tx[1].size(), 1u);
    EXPECT_EQ(mss_at(o3.tx[1][0], E + 24), 1460);
    EXPECT_EQ(ctr_->mss_clamped, 2u);
}

}  // namespace
}  // namespace tgw::test

namespace tgw::test {
namespace {

// A tunnel protected by an outbound ESP SA gets the exact ESP budget (control/mtu.hpp), and
// the fast path enforces it: AES-GCM transport mode over 1500 carries 1442, not 1476.
TEST_F(FragTest, ProtectedTunnelUsesTheEspBudget) {
    auto c = base_config();
    config::Sa sa;
    sa.name = "t0-out";
    sa.spi = 0x1001;
    sa.mode = config::SaMode::Transport;
    sa.cipher = config::Cipher::AesGcm128;
    sa.key = Bytes(16, 0x11);
    sa.salt = Bytes(4, 0x22);
    sa.local = c.tunnels[0].local;  // as the validator fills them in
    sa.remote = c.tunnels[0].remote;
    c.sas = {sa};
    c.tunnels[0].protection = config::Protection{"t0-out", {}, {}};
    ASSERT_EQ(control::CryptoDev::instance().open(SOCKET_ID_ANY, 256), "");
    build(c);
    ASSERT_EQ(snap_->tunnels[0].mtu, 1442);
    EXPECT_EQ(snap_->tunnels[0].mss4, 1402);
    EXPECT_EQ(snap_->tunnels[0].mss6, 1382);
    for (unsigned size : {1442u, 1443u}) {
        auto o = run_frames({from_host(Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::udp,
                                                 udp_payload(size - 20), 64, 0, true))}, 0);
        EXPECT_EQ(o.punted.size(), size > 1442 ? 1u : 0u) << size;
    }
    // a CBC SA: 16-byte padding blocks
    c.sas[0].cipher = config::Cipher::AesCbc128;
    c.sas[0].integrity = config::Integrity::HmacSha256_128;
    build(c);
    EXPECT_EQ(snap_->tunnels[0].mtu, 1434);  // 20 + 8 + IV 16 + ICV 16 fixed; 1440 = 4 + 1434 + 2
}

}  // namespace
}  // namespace tgw::test
