// TCP MSS clamping (dp/mss.hpp): which packets are touched, and the incremental checksum
// (RFC 1624) checked against a full recomputation, at even and odd option offsets.
#include <gtest/gtest.h>

#include "dp/mss.hpp"
#include "fixture.hpp"

namespace tgw::test {
namespace {

using namespace wire;

constexpr uint8_t SYN = 0x02, ACK = 0x10;

// TCP header + options (padded to 4 bytes with end-of-options), checksum left zero.
Bytes tcp(uint8_t flags, const Bytes& opts, size_t data = 0) {
    Bytes o = opts;
    while (o.size() % 4) o.push_back(0);
    Bytes b(sizeof(Tcp) + o.size() + data, 0x5a);
    auto* h = reinterpret_cast<Tcp*>(b.data());
    h->sport.set(40000);
    h->dport.set(443);
    h->seq.set(0x01020304);
    h->ack.set(flags & ACK ? 0x0a0b0c0d : 0);
    h->data_off = uint8_t((sizeof(Tcp) + o.size()) / 4 << 4);
    h->flags = flags;
    h->window.set(64240);
    h->csum.raw = 0;
    h->urg.set(0);
    std::memcpy(b.data() + sizeof(Tcp), o.data(), o.size());
    return b;
}

Bytes mss_opt(uint16_t v) { return {2, 4, uint8_t(v >> 8), uint8_t(v)}; }

// The checksum over pseudo-header + segment, from scratch (RFC 9293 §3.1, RFC 8200 §8.1).
uint16_t full_tcp_csum(const Bytes& pkt, uint8_t family) {
    uint32_t sum;
    size_t off;
    if (family == 4) {
        auto* ip = reinterpret_cast<const Ipv4*>(pkt.data());
        off = ip->header_len();
        sum = csum_partial(ip->src, 8, 0) + ipproto::tcp + uint32_t(pkt.size() - off);
    } else {
        auto* ip = reinterpret_cast<const Ipv6*>(pkt.data());
        off = sizeof(Ipv6);
        sum = csum_partial(ip->src, 32, 0) + ipproto::tcp + uint32_t(pkt.size() - off);
    }
    Bytes seg(pkt.begin() + long(off), pkt.end());
    reinterpret_cast<Tcp*>(seg.data())->csum.raw = 0;
    return csum_fold(csum_partial(seg.data(), seg.size(), sum));
}

Bytes with_csum(Bytes pkt, uint8_t family) {
    size_t off = family == 4 ? reinterpret_cast<const Ipv4*>(pkt.data())->header_len() : sizeof(Ipv6);
    reinterpret_cast<Tcp*>(pkt.data() + off)->csum.set(full_tcp_csum(pkt, family));
    return pkt;
}

Bytes v4(const Bytes& seg, bool mf = false, uint16_t frag_off = 0) {
    Bytes p = Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::tcp, seg, 64, 0, true);
    auto* ip = reinterpret_cast<Ipv4*>(p.data());
    if (mf || frag_off) {
        ip->frag.set(uint16_t((mf ? Ipv4::flag_mf : 0) | frag_off));
        ip->csum.raw = 0;
        ip->csum.set(csum_fold(csum_partial(ip, sizeof(Ipv4))));
    }
    return with_csum(p, 4);
}

Bytes v6(const Bytes& seg) {
    return with_csum(Pkt::ipv6("2001:db8:1::2", "2001:db8:20::5", ipproto::tcp, seg), 6);
}

uint16_t mss_of(const Bytes& pkt, size_t at) { return uint16_t(pkt[at] << 8 | pkt[at + 1]); }

struct Case {
    const char* name;
    Bytes pkt;
    uint8_t family;
    uint16_t clamp;
    bool changed;
    size_t mss_at;  // offset of the MSS value in pkt (0 = none)
    uint16_t want;
};

std::vector<Case> cases() {
    // Typical Linux SYN: MSS, SACK permitted, timestamps, NOP, window scale.
    const Bytes linux_opts = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
    const Bytes odd = {1, 2, 4, 0x23, 0x28, 1, 1, 1};  // NOP, then MSS 9000 at an odd offset
    const Bytes after_ts = {8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 2, 4, 0x05, 0xb4};
    return {
        {"v4_syn", v4(tcp(SYN, linux_opts)), 4, 1436, true, 20 + 22, 1436},
        {"v4_synack", v4(tcp(SYN | ACK, mss_opt(1460))), 4, 1436, true, 20 + 22, 1436},
        {"v4_odd_offset", v4(tcp(SYN, odd)), 4, 1436, true, 20 + 23, 1436},
        {"v4_after_timestamps", v4(tcp(SYN, after_ts)), 4, 1400, true, 20 + 32, 1400},
        {"v4_already_smaller", v4(tcp(SYN, mss_opt(1200))), 4, 1436, false, 20 + 22, 1200},
        {"v4_equal", v4(tcp(SYN, mss_opt(1436))), 4, 1436, false, 20 + 22, 1436},
        {"v4_no_mss_option", v4(tcp(SYN, {1, 1, 4, 2})), 4, 1436, false, 0, 0},
        {"v4_not_syn", v4(tcp(ACK, mss_opt(1460))), 4, 1436, false, 20 + 22, 1460},
        {"v4_first_fragment", v4(tcp(SYN, mss_opt(1460)), true), 4, 1436, true, 20 + 22, 1436},
        {"v4_later_fragment", v4(tcp(SYN, mss_opt(1460)), false, 10), 4, 1436, false, 20 + 22, 1460},
        {"v4_with_payload", v4(tcp(SYN, mss_opt(8960), 100)), 4, 1436, true, 20 + 22, 1436},
        {"v6_syn", v6(tcp(SYN, linux_opts)), 6, 1416, true, 40 + 22, 1416},
        {"v6_odd_offset", v6(tcp(SYN, odd)), 6, 1416, true, 40 + 23, 1416},
        {"v6_synack", v6(tcp(SYN | ACK, mss_opt(1440))), 6, 1416, true, 40 + 22, 1416},
    };
}

class MssTable : public ::testing::TestWithParam<Case> {};

TEST_P(MssTable, ClampsAndKeepsTheChecksumValid) {
    const Case& c = GetParam();
    Bytes p = c.pkt;
    ASSERT_EQ(full_tcp_csum(p, c.family),
              reinterpret_cast<const Tcp*>(p.data() + (c.family == 4 ? 20 : 40))->csum.get());
    EXPECT_EQ(dp::mss_clamp_buf(p.data(), uint32_t(p.size()), c.family, c.clamp), c.changed);
    if (c.mss_at) EXPECT_EQ(mss_of(p, c.mss_at), c.want);
    const auto* t = reinterpret_cast<const Tcp*>(p.data() + (c.family == 4 ? 20 : 40));
    EXPECT_EQ(t->csum.get(), full_tcp_csum(p, c.family)) << "incremental update disagrees";
    Bytes rest_want = c.pkt, rest_got = p;
    if (c.mss_at) rest_want[c.mss_at] = rest_got[c.mss_at], rest_want[c.mss_at + 1] = rest_got[c.mss_at + 1];
    size_t csum_at = (c.family == 4 ? 20 : 40) + 16;
    rest_want[csum_at] = rest_got[csum_at], rest_want[csum_at + 1] = rest_got[csum_at + 1];
    EXPECT_EQ(rest_want, rest_got) << "only the MSS value and the checksum change";
}

INSTANTIATE_TEST_SUITE_P(Segments, MssTable, ::testing::ValuesIn(cases()),
                         [](const auto& i) { return std::string(i.param.name); });

// Every MSS value against every clamp around it: the incremental checksum always equals a
// full recomputation, including the 0x0000/0xffff corner of ones' complement arithmetic.
TEST(Mss, IncrementalChecksumMatchesFullRecomputeForManyValues) {
    for (uint32_t v = 1200; v < 1600; v += 7)
        for (int odd = 0; odd < 2; odd++) {
            Bytes opts = odd ? Bytes{1} : Bytes{};
            Bytes m = mss_opt(uint16_t(v));
            opts.insert(opts.end(), m.begin(), m.end());
            for (uint16_t seqlo = 0; seqlo < 64; seqlo += 9) {
                Bytes seg = tcp(SYN, opts);
                seg[7] = uint8_t(seqlo);  // vary the checksum itself
                Bytes p = v4(seg);
                dp::mss_clamp_buf(p.data(), uint32_t(p.size()), 4, 1400);
                ASSERT_EQ(reinterpret_cast<const Tcp*>(p.data() + 20)->csum.get(), full_tcp_csum(p, 4))
                    << "mss " << v << " odd " << odd;
            }
        }
}

TEST(Mss, TruncatedOptionsAreLeftAlone) {
    Bytes seg = tcp(SYN, {2, 4, 0x05, 0xb4});
    Bytes p = v4(seg);
    // claims 8 bytes of options, the packet ends after 2 of them
    EXPECT_FALSE(dp::mss_clamp_buf(p.data(), 20 + 22, 4, 1000));
    Bytes bad = v4(tcp(SYN, {2, 0, 0, 0}));  // option length 0 must not loop
    EXPECT_FALSE(dp::mss_clamp_buf(bad.data(), uint32_t(bad.size()), 4, 1000));
}

}  // namespace
}  // namespace tgw::test
