// GRE decap and encap through the real stages: every flag combination, every reason to drop.
#include "fixture.hpp"

namespace tgw::test {
namespace {

using namespace wire;
using dp::Drop;

// A GRE frame from the peer (192.168.60.2) to the gateway's wan address, carrying an
// ICMP echo from 10.20.0.5 to a host on the lan.
Bytes from_peer(const Bytes& gre_payload, const char* src = "192.168.60.2") {
    return Pkt::eth(wan_mac, peer_mac, ethertype::ipv4,
                    Pkt::ipv4(src, "192.168.60.1", ipproto::gre, gre_payload, 64, 0, true));
}
Bytes inner4(uint8_t ttl = 64, uint8_t tos = 0) {
    return Pkt::ipv4("10.20.0.5", "10.10.1.2", ipproto::icmp, Pkt::icmp_echo(), ttl, tos);
}

class GreTest : public DpTest {
protected:
    void SetUp() override {
        DpTest::SetUp();
        neigh_->set(0, ip("10.10.1.2"), host_mac, true);
        neigh_->set(1, ip("192.168.60.2"), peer_mac, true);
    }
    config::Config with(bool csum, std::optional<uint32_t> key, bool seq) {
        auto c = base_config();
        c.tunnels[0].checksum = csum;
        c.tunnels[0].key = key;
        c.tunnels[0].sequence = seq;
        return c;
    }
};

struct DecapCase {
    const char* name;
    bool t_csum;
    std::optional<uint32_t> t_key;
    bool t_seq;
    bool p_csum;
    std::optional<uint32_t> p_key;
    std::optional<uint32_t> p_seq;
    uint16_t extra_flags;
    Drop expect;  // Drop::count = delivered
};

const DecapCase decap_cases[] = {
    {"plain", false, {}, false, false, {}, {}, 0, Drop::count},
    {"key", false, 42, false, false, 42, {}, 0, Drop::count},
    {"csum", true, {}, false, true, {}, {}, 0, Drop::count},
    {"seq", false, {}, true, false, {}, 7, 0, Drop::count},
    {"csum_key_seq", true, 42, true, true, 42, 9, 0, Drop::count},
    {"csum_optional_sent_anyway", false, {}, false, true, {}, {}, 0, Drop::count},
    {"wrong_key", false, 42, false, false, 43, {}, 0, Drop::gre_no_tunnel},
    {"key_missing", false, 42, false, false, {}, {}, 0, Drop::gre_no_tunnel},
    {"unexpected_key", false, {}, false, false, 42, {}, 0, Drop::gre_no_tunnel},
    {"csum_required", true, {}, false, false, {}, {}, 0, Drop::gre_csum_missing},
    {"seq_required", false, {}, true, false, {}, {}, 0, Drop::gre_seq_missing},
    {"version1", false, {}, false, false, {}, {}, 1, Drop::gre_version},
    {"routing_bit", false, {}, false, false, {}, {}, Gre::flag_r, Drop::gre_reserved},
    {"bits_6_12_ignored", false, {}, false, false, {}, {}, 0x03f8, Drop::count},  // RFC 2784 §2.3
    {"recur_bit5", false, {}, false, false, {}, {}, 0x0400, Drop::gre_reserved},
    {"strict_route_bit", false, {}, false, false, {}, {}, 0x0800, Drop::gre_reserved},
};

class GreDecap : public GreTest, public ::testing::WithParamInterface<DecapCase> {};

TEST_P(GreDecap, Verdict) {
    const auto& tc = GetParam();
    build(with(tc.t_csum, tc.t_key, tc.t_seq));
    Bytes inner = inner4();
    auto o = run_frames({from_peer(Pkt::gre(ethertype::ipv4, inner, tc.p_csum, tc.p_key, tc.p_seq,
                                            tc.extra_flags))},
                        1);
    if (tc.expect == Drop::count) {
        ASSERT_EQ(o.tx[0].size(), 1u) << "not delivered to the lan";
        const Bytes& f = o.tx[0][0];
        auto* e = reinterpret_cast<const Eth*>(f.data());
        EXPECT_EQ(0, std::memcmp(e->dst, host_mac, 6));
        EXPECT_EQ(0, std::memcmp(e->src, lan_mac, 6));
        auto* ip4 = reinterpret_cast<const Ipv4*>(f.data() + sizeof(Eth));
        EXPECT_EQ(ip4->ttl, 63) << "inner TTL decremented once when routed";
        EXPECT_EQ(0xffff, uint32_t(0xffff & ~csum_fold(csum_partial(ip4, 20)))) << "header checksum";
        EXPECT_EQ(f.size(), sizeof(Eth) + inner.size());
        EXPECT_EQ(ctr_->tunnel[snap_->tunnels[0].slot].rx_pkts, 1u);
    } else {
        EXPECT_TRUE(o.tx[0].empty() && o.tx[1].empty());
        EXPECT_EQ(dropped(tc.expect), 1u) << dp::drop_name(tc.expect);
    }
}

INSTANTIATE_TEST_SUITE_P(Table, GreDecap, ::testing::ValuesIn(decap_cases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST_F(GreTest, BadChecksumDropped) {
    build(with(true, {}, false));
    Bytes g = Pkt::gre(ethertype::ipv4, inner4(), true);
    g[4] ^= 0x55;  // corrupt the checksum word
    auto o = run_frames({from_peer(g)}, 1);
    EXPECT_TRUE(o.tx[0].empty());
    EXPECT_EQ(dropped(Drop::gre_bad_checksum), 1u);
    EXPECT_EQ(ctr_->tunnel[snap_->tunnels[0].slot].rx_drops, 1u);
}

TEST_F(GreTest, WrongSourceDropped) {
    auto o = run_frames({from_peer(Pkt::gre(ethertype::ipv4, inner4()), "192.168.60.9")}, 1);
    EXPECT_TRUE(o.tx[0].empty());
    EXPECT_EQ(dropped(Drop::gre_no_tunnel), 1u);
}

TEST_F(GreTest, TruncatedHeaderDropped) {
    Bytes g = Pkt::gre(ethertype::ipv4, {}, false, 42);
    g.resize(6);  // K bit set, key cut off
    build(with(false, 42, false));
    auto o = run_frames({from_peer(g)}, 1);
    EXPECT_EQ(dropped(Drop::gre_truncated), 1u);
}

TEST_F(GreTest, InnerGarbageDropped) {
    Bytes junk(30, 0x11);
    auto o = run_frames({from_peer(Pkt::gre(ethertype::ipv4, junk))}, 1);
    EXPECT_EQ(dropped(Drop::gre_inner_bad), 1u);
}

TEST_F(GreTest, TebNotCarriedYet) {
    auto o = run_frames({from_peer(Pkt::gre(ethertype::teb, Bytes(60, 0)))}, 1);
    EXPECT_EQ(dropped(Drop::gre_proto), 1u);
}

TEST_F(GreTest, SequenceWindow) {
    build(with(false, {}, true));
    auto send = [&](uint32_t s) {
        return run_frames({from_peer(Pkt::gre(ethertype::ipv4, inner4(), false, {}, s))}, 1).tx[0].size();
    };
    EXPECT_EQ(send(100), 1u);
    EXPECT_EQ(send(101), 1u);
    EXPECT_EQ(send(101), 0u) << "duplicate";
    EXPECT_EQ(send(50), 0u) << "old";
    EXPECT_EQ(send(200), 1u) << "a gap is accepted";
    EXPECT_EQ(dropped(Drop::gre_seq_old), 2u);
    // Serial arithmetic across the wrap (RFC 1982): 0xfffffffe then 1 is newer.
    EXPECT_EQ(send(0xfffffffe), 0u) << "more than 2^31 behind 200 is old";
}

TEST_F(GreTest, SequenceWraps) {
    build(with(false, {}, true));
    auto send = [&](uint32_t s) {
        return run_frames({from_peer(Pkt::gre(ethertype::ipv4, inner4(), false, {}, s))}, 1).tx[0].size();
    };
    EXPECT_EQ(send(0xffffffff), 1u);
    EXPECT_EQ(send(0), 1u);
    EXPECT_EQ(send(0xffffffff), 0u);
}

TEST_F(GreTest, CorruptPacketDoesNotMoveWindow) {
    build(with(true, {}, true));
    Bytes bad = Pkt::gre(ethertype::ipv4, inner4(), true, {}, 1000);
    bad[4] ^= 1;
    EXPECT_EQ(run_frames({from_peer(bad)}, 1).tx[0].size(), 0u);
    EXPECT_EQ(run_frames({from_peer(Pkt::gre(ethertype::ipv4, inner4(), true, {}, 5))}, 1).tx[0].size(), 1u);
}

TEST_F(GreTest, Ipv6InnerOverIpv4) {
    neigh_->set(0, ip("2001:db8:1::2"), host_mac, true);
    Bytes in6 = Pkt::ipv6("2001:db8:20::5", "2001:db8:1::2", 59, Bytes(8, 0));
    auto o = run_frames({from_peer(Pkt::gre(ethertype::ipv6, in6))}, 1);
    ASSERT_EQ(o.tx[0].size(), 1u);
    EXPECT_EQ(reinterpret_cast<const Eth*>(o.tx[0][0].data())->type.get(), ethertype::ipv6);
    EXPECT_EQ(o.tx[0][0][sizeof(Eth) + 7], 63) << "hop limit decremented";
}

TEST_F(GreTest, EcnCePropagated) {
    Bytes g = Pkt::gre(ethertype::ipv4, inner4(64, 0x02 /*ECT(0)*/));
    Bytes f = Pkt::eth(wan_mac, peer_mac, ethertype::ipv4,
                       Pkt::ipv4("192.168.60.2", "192.168.60.1", ipproto::gre, g, 64, 0x03 /*CE*/));
    auto o = run_frames({f}, 1);
    ASSERT_EQ(o.tx[0].size(), 1u);
    auto* ip4 = reinterpret_cast<const Ipv4*>(o.tx[0][0].data() + sizeof(Eth));
    EXPECT_EQ(ip4->tos & 3, 3);
    EXPECT_EQ(csum_fold(csum_partial(ip4, 20)), 0) << "checksum updated";
    // Not-ECT inner with CE outer must be dropped (RFC 6040 §4.2).
    Bytes g2 = Pkt::gre(ethertype::ipv4, inner4(64, 0));
    run_frames({Pkt::eth(wan_mac, peer_mac, ethertype::ipv4,
                         Pkt::ipv4("192.168.60.2", "192.168.60.1", ipproto::gre, g2, 64, 3))},
               1);
    EXPECT_EQ(dropped(Drop::ecn_not_ect), 1u);
}

// ---- encap ----

struct EncapCase {
    const char* name;
    bool csum;
    std::optional<uint32_t> key;
    bool seq;
    size_t gre_len;
};
const EncapCase encap_cases[] = {
    {"plain", false, {}, false, 4},          {"key", false, 42, false, 8},
    {"csum", true, {}, false, 8},            {"seq", false, {}, true, 8},
    {"key_seq", false, 7, true, 12},         {"csum_key_seq", true, 0xfffffffe, true, 16},
};

class GreEncap : public GreTest, public ::testing::WithParamInterface<EncapCase> {};

TEST_P(GreEncap, Header) {
    const auto& tc = GetParam();
    build(with(tc.csum, tc.key, tc.seq));
    Bytes inner = Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::icmp, Pkt::icmp_echo(), 64, 0xb9, true);
    Bytes f = Pkt::eth(lan_mac, host_mac, ethertype::ipv4, inner);
    for (uint32_t n = 0; n < 3; n++) {
        auto o = run_frames({f}, 0);
        ASSERT_EQ(o.tx[1].size(), 1u);
        const Bytes& out = o.tx[1][0];
        ASSERT_EQ(out.size(), sizeof(Eth) + 20 + tc.gre_len + inner.size());
        auto* e = reinterpret_cast<const Eth*>(out.data());
        EXPECT_EQ(0, std::memcmp(e->dst, peer_mac, 6));
        auto* o4 = reinterpret_cast<const Ipv4*>(out.data() + sizeof(Eth));
        EXPECT_EQ(o4->proto, ipproto::gre);
        EXPECT_EQ(o4->ttl, 64);
        EXPECT_EQ(o4->tos, 0xb9) << "DSCP inherited, ECN copied (RFC 6040)";
        EXPECT_TRUE(o4->frag.get() & Ipv4::flag_df) << "DF copied from inner";
        EXPECT_EQ(o4->total_len.get(), out.size() - sizeof(Eth));
        EXPECT_EQ(csum_fold(csum_partial(o4, 20)), 0);
        EXPECT_EQ(IpAddr::v4(o4->src), ip("192.168.60.1"));
        EXPECT_EQ(IpAddr::v4(o4->dst), ip("192.168.60.2"));
        const uint8_t* g = out.data() + sizeof(Eth) + 20;
        uint16_t flags = reinterpret_cast<const Gre*>(g)->flags_ver.get();
        EXPECT_EQ(bool(flags & Gre::flag_c), tc.csum);
        EXPECT_EQ(bool(flags & Gre::flag_k), tc.key.has_value());
        EXPECT_EQ(bool(flags & Gre::flag_s), tc.seq);
        EXPECT_EQ(flags & (Gre::reserved0_mask | Gre::ignored_mask | Gre::version_mask), 0);
        EXPECT_EQ(reinterpret_cast<const Gre*>(g)->proto.get(), ethertype::ipv4);
        size_t w = 4;
        if (tc.csum) {
            EXPECT_EQ(csum_fold(csum_partial(g, out.size() - sizeof(Eth) - 20)), 0) << "GRE checksum";
            w += 4;
        }
        if (tc.key) {
            EXPECT_EQ(reinterpret_cast<const be32*>(g + w)->get(), *tc.key);
            w += 4;
        }
        if (tc.seq) EXPECT_EQ(reinterpret_cast<const be32*>(g + w)->get(), n) << "RFC 2890: from 0";
        auto* i4 = reinterpret_cast<const Ipv4*>(g + tc.gre_len);
        EXPECT_EQ(i4->ttl, 63);
        EXPECT_EQ(csum_fold(csum_partial(i4, 20)), 0);
    }
    EXPECT_EQ(ctr_->tunnel[snap_->tunnels[0].slot].tx_pkts, 3u);
}

INSTANTIATE_TEST_SUITE_P(Table, GreEncap, ::testing::ValuesIn(encap_cases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST_F(GreTest, EncapFixedDscpAndTtl) {
    auto c = base_config();
    c.tunnels[0].tos_mode = config::TosMode::Fixed;
    c.tunnels[0].tos = 46;
    c.tunnels[0].ttl = 0;  // inherit
    c.tunnels[0].df = config::DfMode::Clear;
    build(c);
    Bytes inner = Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::icmp, Pkt::icmp_echo(), 33, 0x01, true);
    auto o = run_frames({Pkt::eth(lan_mac, host_mac, ethertype::ipv4, inner)}, 0);
    ASSERT_EQ(o.tx[1].size(), 1u);
    auto* o4 = reinterpret_cast<const Ipv4*>(o.tx[1][0].data() + sizeof(Eth));
    EXPECT_EQ(o4->tos, 46 << 2 | 1);
    EXPECT_EQ(o4->ttl, 32) << "inner TTL after decrement";
    EXPECT_FALSE(o4->frag.get() & Ipv4::flag_df);
}

TEST_F(GreTest, Ipv6OuterTemplate) {
    auto c = base_config();
    c.tunnels[0].local = ip("2001:db8:60::1");
    c.tunnels[0].remote = ip("2001:db8:60::2");
    c.tunnels[0].key = 5;
    build(c);
    neigh_->set(1, ip("2001:db8:60::2"), peer_mac, true);
    Bytes inner = Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::icmp, Pkt::icmp_echo());
    auto o = run_frames({Pkt::eth(lan_mac, host_mac, ethertype::ipv4, inner)}, 0);
    ASSERT_EQ(o.tx[1].size(), 1u);
    const Bytes& out = o.tx[1][0];
    EXPECT_EQ(reinterpret_cast<const Eth*>(out.data())->type.get(), ethertype::ipv6);
    auto* o6 = reinterpret_cast<const Ipv6*>(out.data() + sizeof(Eth));
    EXPECT_EQ(o6->next, ipproto::gre);
    EXPECT_EQ(o6->payload_len.get(), 8 + inner.size());
    uint32_t label = o6->vtc_flow.get() & 0xfffff;
    EXPECT_NE(label, 0u) << "flow label from the inner flow hash (RFC 6438)";
    Bytes other = Pkt::ipv4("10.10.1.3", "10.20.0.5", ipproto::icmp, Pkt::icmp_echo());
    auto o3 = run_frames({Pkt::eth(lan_mac, host_mac, ethertype::ipv4, other)}, 0);
    ASSERT_EQ(o3.tx[1].size(), 1u);
    EXPECT_NE(reinterpret_cast<const Ipv6*>(o3.tx[1][0].data() + sizeof(Eth))->vtc_flow.get() & 0xfffff, label)
        << "another flow, another label";
    // and back: decap over IPv6 outer
    neigh_->set(0, ip("10.10.1.2"), host_mac, true);
    Bytes back = Pkt::eth(wan_mac, peer_mac, ethertype::ipv6,
                          Pkt::ipv6("2001:db8:60::2", "2001:db8:60::1", ipproto::gre,
                                    Pkt::gre(ethertype::ipv4, inner4(), false, 5)));
    auto o2 = run_frames({back}, 1);
    EXPECT_EQ(o2.tx[0].size(), 1u);
}

TEST_F(GreTest, TooBigWithDfAnswersFragNeeded) {
    Bytes inner = Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::udp, Bytes(1477 - 20, 0), 64, 0, true);
    auto o = run_frames({Pkt::eth(lan_mac, host_mac, ethertype::ipv4, inner)}, 0);
    EXPECT_TRUE(o.tx[1].empty());
    ASSERT_EQ(o.punted.size(), 1u);
    EXPECT_EQ(o.punted[0].first, dp::Punt::frag_needed);
    EXPECT_EQ(snap_->tunnels[0].mtu, 1476);
    EXPECT_EQ(dropped(Drop::mtu_exceeded), 0u) << "counted by the slow path, not twice";
    // Without DF: fragmented before encapsulation (test_frag.cpp has the details).
    Bytes nodf = Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::udp, Bytes(1477 - 20, 0), 64, 0, false);
    auto o2 = run_frames({Pkt::eth(lan_mac, host_mac, ethertype::ipv4, nodf)}, 0);
    EXPECT_TRUE(o2.punted.empty());
    EXPECT_EQ(o2.tx[1].size(), 2u);
    EXPECT_EQ(dropped(Drop::mtu_exceeded), 0u);
    Bytes fits = Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::udp, Bytes(1476 - 20, 0), 64, 0, true);
    EXPECT_EQ(run_frames({Pkt::eth(lan_mac, host_mac, ethertype::ipv4, fits)}, 0).tx[1].size(), 1u);
}

TEST_F(GreTest, SequencedTunnelHandsOffToOwner) {
    auto c = with(false, {}, true);
    build(c, 2);
    ctx_.index = 1 - snap_->tunnels[0].owner;  // not the owner
    Bytes inner = Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::icmp, Pkt::icmp_echo());
    auto o = run_frames({Pkt::eth(lan_mac, host_mac, ethertype::ipv4, inner)}, 0);
    EXPECT_TRUE(o.tx[1].empty());
    ASSERT_EQ(o.handoff.size(), 1u) << "encap handed to the owner";
    EXPECT_EQ(o.handoff[0], snap_->tunnels[0].owner);
    auto o2 = run_frames({from_peer(Pkt::gre(ethertype::ipv4, inner4(), false, {}, 1))}, 1);
    EXPECT_TRUE(o2.tx[0].empty());
    ASSERT_EQ(o2.handoff.size(), 1u) << "decap handed to the owner";
    // The owner itself processes both.
    ctx_.index = snap_->tunnels[0].owner;
    neigh_->set(0, ip("10.10.1.2"), host_mac, true);
    EXPECT_EQ(run_frames({Pkt::eth(lan_mac, host_mac, ethertype::ipv4, inner)}, 0).tx[1].size(), 1u);
}

TEST_F(GreTest, NeighbourMissPunts) {
    neigh_->invalidate(1, ip("192.168.60.2"));
    Bytes inner = Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::icmp, Pkt::icmp_echo());
    auto o = run_frames({Pkt::eth(lan_mac, host_mac, ethertype::ipv4, inner)}, 0);
    ASSERT_EQ(o.punted.size(), 1u);
    EXPECT_EQ(o.punted[0].first, dp::Punt::neigh_miss);
}

}  // namespace
}  // namespace tgw::test
