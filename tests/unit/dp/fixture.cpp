#include "fixture.hpp"

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "dp/worker.hpp"
#include "eal_env.hpp"

namespace tgw::test {

using namespace wire;

config::Config base_config() {
    config::Config c;
    c.source = "test";
    config::Port lan;
    lan.name = "lan";
    lan.device = "net_null0";
    lan.addresses = {pfx("10.10.1.1/24"), pfx("2001:db8:1::1/64")};
    config::Port wan;
    wan.name = "wan";
    wan.device = "net_null1";
    wan.addresses = {pfx("192.168.60.1/24"), pfx("2001:db8:60::1/64")};
    c.ports = {lan, wan};
    config::Tunnel t;
    t.name = "t0";
    t.local = ip("192.168.60.1");
    t.remote = ip("192.168.60.2");
    t.addresses = {pfx("10.88.0.1/30")};
    c.tunnels = {t};
    config::Route r;
    r.prefix = pfx("10.20.0.0/24");
    r.kind = config::RouteKind::Tunnel;
    r.tunnel = "t0";
    config::Route r6;
    r6.prefix = pfx("2001:db8:20::/48");
    r6.kind = config::RouteKind::Tunnel;
    r6.tunnel = "t0";
    config::Route bh;
    bh.prefix = pfx("10.66.0.0/16");
    bh.kind = config::RouteKind::Blackhole;
    c.routes = {r, r6, bh};
    c.workers = {1};
    return c;
}

Bytes Pkt::ipv4(const char* src, const char* dst, uint8_t proto, const Bytes& payload, uint8_t ttl,
                uint8_t tos, bool df) {
    Bytes b(sizeof(Ipv4) + payload.size());
    auto* h = reinterpret_cast<Ipv4*>(b.data());
    h->ver_ihl = 0x45;
    h->tos = tos;
    h->total_len.set(uint16_t(b.size()));
    h->id.set(0x1234);
    h->frag.set(df ? Ipv4::flag_df : 0);
    h->ttl = ttl;
    h->proto = proto;
    std::memcpy(h->src, ip(src).v4_bytes(), 4);
    std::memcpy(h->dst, ip(dst).v4_bytes(), 4);
    h->csum.set(csum_fold(csum_partial(h, sizeof(Ipv4))));
    std::memcpy(b.data() + sizeof(Ipv4), payload.data(), payload.size());
    return b;
}

Bytes Pkt::ipv6(const char* src, const char* dst, uint8_t next, const Bytes& payload, uint8_t hlim,
                uint8_t tclass) {
    Bytes b(sizeof(Ipv6) + payload.size());
    auto* h = reinterpret_cast<Ipv6*>(b.data());
    h->vtc_flow.set(6u << 28 | uint32_t(tclass) << 20);
    h->payload_len.set(uint16_t(payload.size()));
    h->next = next;
    h->hop_limit = hlim;
    std::memcpy(h->src, ip(src).b.data(), 16);
    std::memcpy(h->dst, ip(dst).b.data(), 16);
    std::memcpy(b.data() + sizeof(Ipv6), payload.data(), payload.size());
    return b;
}

Bytes Pkt::icmp_echo(uint16_t id, uint16_t seq, size_t data) {
    Bytes b(sizeof(Icmp) + data, 0xab);
    auto* h = reinterpret_cast<Icmp*>(b.data());
    h->type = icmp4::echo_request;
    h->code = 0;
    h->csum.raw = 0;
    h->id.set(id);
    h->seq.set(seq);
    h->csum.set(csum_fold(csum_partial(b.data(), b.size())));
    return b;
}

Bytes Pkt::gre(uint16_t proto, const Bytes& inner, bool csum, std::optional<uint32_t> key,
               std::optional<uint32_t> seq, uint16_t extra_flags) {
    uint16_t flags = (csum ? Gre::flag_c : 0) | (key ? Gre::flag_k : 0) | (seq ? Gre::flag_s : 0);
    Bytes b(gre_header_len(flags));
    auto* g = reinterpret_cast<Gre*>(b.data());
    g->flags_ver.set(uint16_t(flags | extra_flags));
    g->proto.set(proto);
    size_t off = 4;
    size_t csum_off = 0;
    if (csum) {
        csum_off = off;
        off += 4;
    }
    if (key) {
        reinterpret_cast<be32*>(b.data() + off)->set(*key);
        off += 4;
    }
    if (seq) reinterpret_cast<be32*>(b.data() + off)->set(*seq);
    b.insert(b.end(), inner.begin(), inner.end());
    if (csum) reinterpret_cast<be16*>(b.data() + csum_off)->set(csum_fold(csum_partial(b.data(), b.size())));
    return b;
}

Bytes Pkt::eth(const uint8_t dst[6], const uint8_t src[6], uint16_t type, const Bytes& payload) {
    Bytes b(sizeof(Eth));
    auto* e = reinterpret_cast<Eth*>(b.data());
    std::memcpy(e->dst, dst, 6);
    std::memcpy(e->src, src, 6);
    e->type.set(type);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

rte_mempool* DpTest::pool() {
    static rte_mempool* p = rte_pktmbuf_pool_create("ut_pool", 2047, 0, sizeof(dp::PktMeta),
                                                    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    return p;
}

void DpTest::SetUp() {
    ASSERT_NE(pool(), nullptr);
    static unsigned n = 0;
    neigh_ = std::make_unique<dp::NeighTable>(("ut_neigh" + std::to_string(n++)).c_str(), 1024);
    ASSERT_TRUE(neigh_->ok());
    ctr_ = static_cast<dp::LcoreCounters*>(rte_zmalloc("ut_ctr", sizeof(dp::LcoreCounters), 64));
    static rte_mempool* indirect = rte_pktmbuf_pool_create("ut_indirect", 1023, 0, 0, 0, SOCKET_ID_ANY);
    frag_ = static_cast<dp::FragState*>(rte_zmalloc("ut_frag", sizeof(dp::FragState), 64));
    frag_->direct = pool();
    frag_->indirect = indirect;
    frag_->table = rte_ip_frag_table_create(16, 4, 64, rte_get_tsc_hz(), SOCKET_ID_ANY);
    ASSERT_NE(frag_->table, nullptr);
    tstate_ = static_cast<dp::TunnelState*>(
        rte_zmalloc("ut_ts", sizeof(dp::TunnelState) * config::max_tunnels, 64));
    build(base_config());
}

void DpTest::build(const config::Config& cfg, unsigned n_workers, const std::set<std::string>* down) {
    cfg_ = cfg;
    std::vector<control::PortInfo> pi(cfg.ports.size());
    for (size_t i = 0; i < pi.size(); i++) {
        pi[i].port_id = uint16_t(i);
        std::memcpy(pi[i].mac, i == 0 ? lan_mac : wan_mac, 6);
    }
    auto r = control::compile(cfg, pi, n_workers, slots_, 1, neigh_.get(), down);
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].str();
    snap_ = std::move(r.snap);
    slots_ = r.slots;
    for (rte_ring* h : handoff_) rte_ring_free(h);
    handoff_.clear();
    static unsigned rn = 0;
    for (unsigned w = 0; w < n_workers; w++)
        handoff_.push_back(rte_ring_create(("ut_h" + std::to_string(rn++)).c_str(), 64, SOCKET_ID_ANY, 0));
    ctx_ = dp::WorkerCtx{};
    ctx_.index = 0;
    ctx_.n_workers = n_workers;
    ctx_.ctr = ctr_;
    ctx_.neigh = neigh_.get();
    ctx_.tstate = tstate_;
    ctx_.handoff_out = handoff_.data();
    ctx_.n_ports = uint16_t(cfg.ports.size());
    ctx_.frag = frag_;
}

void DpTest::TearDown() {
    snap_.reset();
    for (rte_ring* h : handoff_) {
        void* m;
        while (rte_ring_dequeue(h, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        rte_ring_free(h);
    }
    handoff_.clear();
    neigh_.reset();
    rte_free(ctr_);
    rte_free(tstate_);
    if (frag_) {
        rte_ip_frag_free_death_row(&frag_->death_row, 0);
        rte_ip_frag_table_destroy(frag_->table);
        rte_free(frag_);
    }
}

rte_mbuf* DpTest::mbuf(const Bytes& b) {
    // Frames larger than one mbuf become a chain, as a port with scattered RX hands them over.
    rte_mbuf* m = nullptr;
    for (size_t off = 0; off < b.size() || !m;) {
        rte_mbuf* seg = rte_pktmbuf_alloc(pool());
        EXPECT_NE(seg, nullptr);
        size_t n = std::min<size_t>(b.size() - off, 2000);
        char* d = rte_pktmbuf_append(seg, uint16_t(n));
        std::memcpy(d, b.data() + off, n);
        off += n;
        if (!m) m = seg;
        else EXPECT_EQ(rte_pktmbuf_chain(m, seg), 0);
    }
    dp::PktMeta& md = dp::meta(m);
    md = dp::PktMeta{};
    md.tunnel_in = dp::no_tunnel;
    md.sa = dp::no_sa;
    return m;
}

Bytes DpTest::bytes(rte_mbuf* m) const {
    Bytes b(rte_pktmbuf_pkt_len(m));
    const void* p = rte_pktmbuf_read(m, 0, uint32_t(b.size()), b.data());
    if (p && p != b.data()) std::memcpy(b.data(), p, b.size());
    return b;
}

DpTest::Out DpTest::run_frames(const std::vector<Bytes>& frames, uint16_t in_port) {
    Out o;
    o.tx.resize(cfg_.ports.size());
    dp::Vec in, l3;
    for (auto& f : frames) {
        rte_mbuf* m = mbuf(f);
        dp::meta(m).in_port = in_port;
        in.push(m);
    }
    dp::ingress(ctx_, *snap_, in, l3);
    dp::pass_l3(ctx_, *snap_, l3);
    for (uint16_t p = 0; p < ctx_.n_ports; p++) {
        for (uint16_t i = 0; i < ctx_.tx[p].n; i++) {
            o.tx[p].push_back(bytes(ctx_.tx[p].m[i]));
            rte_pktmbuf_free(ctx_.tx[p].m[i]);
        }
        ctx_.tx[p].n = 0;
    }
    for (uint16_t i = 0; i < ctx_.punted.n; i++) {
        rte_mbuf* m = ctx_.punted.m[i];
        o.punted.emplace_back(dp::meta(m).punt, bytes(m));
        rte_pktmbuf_free(m);
    }
    ctx_.punted.n = 0;
    for (unsigned w = 0; w < ctx_.n_workers; w++) {
        for (uint16_t i = 0; i < ctx_.handoff[w].n; i++) {
            o.handoff.push_back(w);
            rte_pktmbuf_free(ctx_.handoff[w].m[i]);
        }
        ctx_.handoff[w].n = 0;
    }
    return o;
}

}  // namespace tgw::test

TGW_EAL_TEST_MAIN
