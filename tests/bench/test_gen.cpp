// The generator's pure parts: frames it builds pass its own checks, every kind of wrong frame
// is caught under its own verdict, percentiles are within the histogram's stated precision,
// and the RFC 2544 bisection finds a known threshold. No EAL needed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "../../bench/gen/engine.hpp"
#include "../../bench/gen/packet.hpp"
#include "../../bench/gen/search.hpp"

using namespace tgw::bench;

namespace {

struct Frame {
    std::vector<uint8_t> b = std::vector<uint8_t>(max_frame_len, 0);
    size_t len = 0;
};

Frame make(const Profile& p, Format f, unsigned size, uint32_t seq = 7) {
    Builder b(p, f, 16);
    Frame fr;
    fr.len = b.build(fr.b.data(), 3, size, Stamp{stamp_magic, 1, seq, 1234}, 99);
    return fr;
}

// What the gateway would emit for an encap: our GRE frame with the addresses reversed.
Frame gateway_encap(const Profile& p, unsigned size) {
    Profile q = p;  // the builder sends peer -> gw; the gateway sends gw -> peer
    std::swap(q.peer_ip, q.gw_wan_ip);
    std::memcpy(q.gw_b_mac, p.b_mac, 6);
    std::memcpy(q.b_mac, p.gw_b_mac, 6);
    return make(q, Format::gre, size);
}

Expect expect_gre(const Profile& p) { return {Format::gre, true, p.b_mac, p.gw_b_mac}; }

}  // namespace

TEST(Packet, SizesFollowTheFcsConvention) {
    Profile p;
    EXPECT_EQ(make(p, Format::plain, 64).len, 60u);
    EXPECT_EQ(make(p, Format::gre, 64).len, 60u + 20 + 8);  // outer IPv4 + GRE with key
    p.gre_csum = p.gre_seq = true;
    EXPECT_EQ(make(p, Format::gre, 1420).len, 1416u + 20 + 16);
    EXPECT_EQ(parse_size("63").cycle.size(), 0u);
    EXPECT_EQ(parse_size("1519").cycle.size(), 0u);
    SizeMix imix = parse_size("imix");
    ASSERT_EQ(imix.cycle.size(), 12u);
    EXPECT_EQ(std::count(imix.cycle.begin(), imix.cycle.end(), 64), 7);
    EXPECT_EQ(std::count(imix.cycle.begin(), imix.cycle.end(), 570), 4);
    EXPECT_EQ(std::count(imix.cycle.begin(), imix.cycle.end(), 1420), 1);
}

TEST(Packet, GatewayOutputPassesChecks) {
    for (bool csum : {false, true})
        for (bool seq : {false, true}) {
            Profile p;
            p.gre_csum = csum;
            p.gre_seq = seq;
            for (unsigned size : {64u, 570u, 1420u}) {
                Frame f = gateway_encap(p, size);
                Checked c = check(p, expect_gre(p), f.b.data(), f.len);
                EXPECT_EQ(c.v, Verdict::ok) << size << " csum " << csum << " seq " << seq;
                ASSERT_NE(c.stamp, nullptr);
                EXPECT_EQ(c.stamp->seq, 7u);
                EXPECT_EQ(c.has_gre_seq, seq);
            }
        }
    Profile p;
    Frame plain = make(p, Format::plain, 64);  // as if decapsulated: checks without MACs
    Checked c = check(p, Expect{Format::plain, false}, plain.b.data(), plain.len);
    EXPECT_EQ(c.v, Verdict::ok);
}

TEST(Packet, WrongFramesGetTheirVerdict) {
    Profile p;
    Frame f = gateway_encap(p, 128);
    Expect e = expect_gre(p);

    Frame bad_ip = f;
    bad_ip.b[14 + 8] ^= 1;  // outer TTL changed, checksum not updated
    EXPECT_EQ(check(p, e, bad_ip.b.data(), bad_ip.len).v, Verdict::bad_ip);

    Profile other_key = p;
    other_key.key = 43;
    EXPECT_EQ(check(other_key, e, f.b.data(), f.len).v, Verdict::bad_encap);

    Profile no_key = p;
    no_key.gre_key = false;
    EXPECT_EQ(check(no_key, e, f.b.data(), f.len).v, Verdict::bad_encap);

    Frame plain = make(p, Format::plain, 128);  // plain where GRE was expected
    EXPECT_EQ(check(p, Expect{Format::gre, false}, plain.b.data(), plain.len).v, Verdict::bad_encap);

    Frame mac = f;
    mac.b[0] ^= 0x10;
    EXPECT_EQ(check(p, e, mac.b.data(), mac.len).v, Verdict::bad_l2);

    Profile cs = p;
    cs.gre_csum = true;
    Frame g = gateway_encap(cs, 256);
    g.b[g.len - 1] ^= 0xff;  // payload changed after the GRE checksum
    EXPECT_EQ(check(cs, expect_gre(cs), g.b.data(), g.len).v, Verdict::bad_gre_csum);

    Frame foreign = f;
    foreign.b[14 + 20 + 8 + 20 + 8] ^= 0xff;  // first stamp byte: not ours
    EXPECT_EQ(check(p, e, foreign.b.data(), foreign.len).v, Verdict::foreign);
    EXPECT_EQ(check(p, e, f.b.data(), 30).v, Verdict::foreign);  // truncated: never read past len
}

TEST(Histogram, PercentilesWithinPrecision) {
    Histogram h;
    for (uint64_t v = 1; v <= 100000; v++) h.add(v);
    for (double p : {50.0, 99.0, 99.9}) {
        double want = p / 100 * 100000, got = double(h.percentile(p));
        EXPECT_NEAR(got, want, want / 64 + 1) << p;
    }
    EXPECT_EQ(h.min(), 1u);
    EXPECT_EQ(h.max(), 100000u);
    EXPECT_EQ(h.percentile(100), 100000u);
    h.clear();
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.percentile(50), 0u);
}

TEST(Bisection, FindsTheThreshold) {
    const double capacity = 3.3e6;  // a DUT that loses above this rate
    Bisection b(10e6, 8e6, 0.01, 20);
    int trials = 0;
    while (!b.done()) {
        b.report(b.next() <= capacity);
        trials++;
    }
    EXPECT_LE(b.best(), capacity);
    EXPECT_GE(b.best(), capacity - 0.01 * 10e6);
    EXPECT_LE(trials, 9);
}

TEST(Bisection, StopsAtTheGeneratorCeiling) {
    Bisection b(5e6, 5e6, 0.01, 20);
    b.report(true);  // passes at the fastest rate the generator can offer
    EXPECT_TRUE(b.done());
    EXPECT_EQ(b.best(), 5e6);
    Bisection never(5e6, 4e6, 0.01, 6);
    while (!never.done()) never.report(false);
    EXPECT_EQ(never.best(), 0);
}

// gretap: the frame is the plain one whole inside GRE 0x6558; an encap check wants exactly
// that protocol, and L3 GRE where gretap is expected (or the reverse) is bad_encap.
TEST(Packet, GretapFramesAndChecks) {
    Profile p;
    Frame teb = make(p, Format::teb, 64);
    EXPECT_EQ(teb.len, 60u + 20 + 8 + 14);
    Profile q = p;  // as the gateway sends it: gw -> peer
    std::swap(q.peer_ip, q.gw_wan_ip);
    std::memcpy(q.gw_b_mac, p.b_mac, 6);
    std::memcpy(q.b_mac, p.gw_b_mac, 6);
    Frame out = make(q, Format::teb, 1420);
    Checked ok = check(p, Expect{Format::teb, true, p.b_mac, p.gw_b_mac}, out.b.data(), out.len);
    EXPECT_EQ(ok.v, Verdict::ok);
    ASSERT_NE(ok.stamp, nullptr);
    EXPECT_EQ(ok.stamp->seq, 7u);
    EXPECT_EQ(check(p, expect_gre(p), out.b.data(), out.len).v, Verdict::bad_encap);
    Frame l3 = gateway_encap(p, 64);
    EXPECT_EQ(check(p, Expect{Format::teb, true, p.b_mac, p.gw_b_mac}, l3.b.data(), l3.len).v,
              Verdict::bad_encap);
}
