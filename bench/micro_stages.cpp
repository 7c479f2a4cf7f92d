// Google Benchmark microbenchmarks: each fast-path stage on a burst of 32, reporting ns and
// cycles per packet. Packets are restored from a template before every iteration; the
// "restore" benchmark measures that cost alone so it can be subtracted.
#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_fib.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <memory>
#include <string>
#include <vector>

#include "control/compile.hpp"
#include "control/crypto.hpp"
#include "dp/mss.hpp"
#include "dp/bridge.hpp"
#include "dp/mac_table.hpp"
#include "dp/neigh.hpp"
#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace {

using namespace tgw;
using namespace tgw::wire;
constexpr unsigned B = dp::max_burst;
const uint8_t lan_mac[6] = {2, 0, 0, 0, 1, 1}, wan_mac[6] = {2, 0, 0, 0, 2, 1};
const uint8_t host_mac[6] = {2, 0, 0, 0, 0xa, 1}, peer_mac[6] = {2, 0, 0, 0x60, 0, 2};
// gretap: station A on the bridged port lan2, station B behind the gretap tunnel.
const uint8_t sta_a[6] = {2, 0, 0, 0xaa, 0, 1}, sta_b[6] = {2, 0, 0, 0xbb, 0, 1};

std::vector<uint8_t> ipv4(uint32_t src, uint32_t dst, uint8_t proto, size_t payload) {
    std::vector<uint8_t> b(20 + payload, 0);
    auto* h = reinterpret_cast<Ipv4*>(b.data());
    h->ver_ihl = 0x45;
    h->total_len.set(uint16_t(b.size()));
    h->ttl = 64;
    h->proto = proto;
    IpAddr s = IpAddr::v4(src), d = IpAddr::v4(dst);
    std::memcpy(h->src, s.v4_bytes(), 4);
    std::memcpy(h->dst, d.v4_bytes(), 4);
    h->csum.set(csum_fold(csum_partial(h, 20)));
    return b;
}

std::vector<uint8_t> eth(const uint8_t* dst, const uint8_t* src, uint16_t type, std::vector<uint8_t> p) {
    std::vector<uint8_t> b(14);
    std::memcpy(b.data(), dst, 6);
    std::memcpy(b.data() + 6, src, 6);
    b[12] = uint8_t(type >> 8);
    b[13] = uint8_t(type);
    b.insert(b.end(), p.begin(), p.end());
    return b;
}

struct Env {
    rte_mempool* pool = nullptr;
    std::unique_ptr<dp::Snapshot> snap;
    std::unique_ptr<dp::NeighTable> neigh;
    dp::LcoreCounters* ctr = nullptr;
    dp::TunnelState* ts = nullptr;
    rte_ring* handoff = nullptr;
    std::unique_ptr<dp::MacTable> macs;
    dp::BridgeCtx* br = nullptr;
    dp::WorkerCtx ctx;

    Env() {
        // --no-shconf: no runtime directory, so several runs (CI, a developer) never collide.
        const char* argv[] = {"bench", "--no-huge", "-m", "512", "--no-pci", "--no-telemetry",
                              "--log-level=lib.*:error", "-l", "0", "--no-shconf"};
        if (rte_eal_init(10, const_cast<char**>(argv)) < 0) abort();
        pool = rte_pktmbuf_pool_create("bench", 4095, 0, sizeof(dp::PktMeta), RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        config::Config c;
        config::Port lan{"lan", "net_null0"}, wan{"wan", "net_null1"};
        lan.addresses = {*Prefix::parse("10.10.1.1/24")};
        wan.addresses = {*Prefix::parse("192.168.60.1/24")};
        config::Port lan2{"lan2", "net_null2"};
        c.ports = {lan, wan, lan2};
        for (int i = 0; i < 4; i++) {
            config::Tunnel t;
            t.name = "t" + std::to_string(i);
            t.local = *IpAddr::parse("192.168.60.1");
            t.remote = *IpAddr::parse(("192.168.60." + std::to_string(2 + i)).c_str());
            t.key = 42;
            c.tunnels.push_back(t);
            config::Route r;
            r.prefix = *Prefix::parse(("10.2" + std::to_string(i) + ".0.0/16").c_str());
            r.kind = config::RouteKind::Tunnel;
            r.tunnel = t.name;
            c.routes.push_back(r);
        }
        config::Group g;
        g.name = "hubs";
        for (auto& t : c.tunnels) g.members.push_back({t.name, 1, {}});
        c.groups = {g};
        config::Route gr;
        gr.prefix = *Prefix::parse("10.30.0.0/16");
        gr.kind = config::RouteKind::Group;
        gr.group = "hubs";
        c.routes.push_back(gr);
        config::Tunnel tap;
        tap.name = "tap";
        tap.type = config::TunnelType::Gretap;
        tap.local = *IpAddr::parse("192.168.60.1");
        tap.remote = *IpAddr::parse("192.168.60.9");
        tap.key = 7;
        c.tunnels.push_back(tap);
        config::BridgeDomain bd;
        bd.name = "stretch";
        bd.members = {{"lan2", {}, "", {}}, {"", {}, "tap", {}}};
        c.bridge_domains = {bd};
        std::vector<control::PortInfo> pi(3);
        std::memcpy(pi[0].mac, lan_mac, 6);
        std::memcpy(pi[1].mac, wan_mac, 6);
        neigh = std::make_unique<dp::NeighTable>("bench_neigh", 1024);
        auto res = control::compile(c, pi, 1, {}, 1, neigh.get());
        if (!res.errors.empty()) abort();
        snap = std::move(res.snap);
        neigh->set(0, *IpAddr::parse("10.10.1.2"), host_mac, true);
        for (int i = 0; i < 4; i++)
            neigh->set(1, *IpAddr::parse(("192.168.60." + std::to_string(2 + i)).c_str()), peer_mac, true);
        neigh->set(1, *IpAddr::parse("192.168.60.9"), peer_mac, true);
        // Both stations learned (A on lan2 = member 0, B behind the tunnel = member 1) and
        // fresh, so the benchmark measures known-unicast forwarding without learn events.
        macs = std::make_unique<dp::MacTable>("bench_macs", 4096);
        const uint32_t now_s = uint32_t(rte_rdtsc() / rte_get_tsc_hz());
        macs->learn(dp::MacKey{{2, 0, 0, 0xaa, 0, 1}, 0}, 0, snap->l2->epoch, now_s, 100);
        macs->learn(dp::MacKey{{2, 0, 0, 0xbb, 0, 1}, 0}, 1, snap->l2->epoch, now_s, 100);
        br = static_cast<dp::BridgeCtx*>(rte_zmalloc("br", sizeof(dp::BridgeCtx), 64));
        br->macs = macs.get();
        br->hz = rte_get_tsc_hz();
        br->learn = rte_ring_create_elem("bl", sizeof(dp::LearnEvent), 1024, 0, 0);
        ctx.br = br;
        ctr = static_cast<dp::LcoreCounters*>(rte_zmalloc("c", sizeof(dp::LcoreCounters), 64));
        ts = static_cast<dp::TunnelState*>(rte_zmalloc("t", sizeof(dp::TunnelState) * config::max_tunnels, 64));
        handoff = rte_ring_create("bh", 64, 0, 0);
        ctx.ctr = ctr;
        ctx.neigh = neigh.get();
        ctx.tstate = ts;
        ctx.handoff_out = &handoff;
        ctx.n_ports = 3;
    }
};

Env& env() {
    static Env e;
    return e;
}

// A burst restored from frame templates before each iteration.
struct Burst {
    std::vector<std::vector<uint8_t>> frames;
    rte_mbuf* m[B];
    uint16_t port;
    Burst(std::vector<std::vector<uint8_t>> f, uint16_t in_port) : frames(std::move(f)), port(in_port) {
        for (unsigned i = 0; i < B; i++) m[i] = rte_pktmbuf_alloc(env().pool);
    }
    ~Burst() {
        for (auto* x : m) rte_pktmbuf_free(x);
    }
    void restore(dp::Vec& v, bool strip_eth) {
        v.n = 0;
        for (unsigned i = 0; i < B; i++) {
            rte_mbuf* x = m[i];
            const auto& f = frames[i % frames.size()];
            rte_pktmbuf_reset(x);
            std::memcpy(rte_pktmbuf_mtod(x, void*), f.data(), std::min<size_t>(f.size(), 128));
            x->data_len = x->pkt_len = uint32_t(f.size());
            dp::PktMeta& md = dp::meta(x);
            md.tunnel_in = dp::no_tunnel;
            md.sa = dp::no_sa;
            md.in_port = port;
            md.handed = 0;
            md.family = 4;
            if (strip_eth) rte_pktmbuf_adj(x, 14);
            v.push(x);
        }
    }
};

// Single-tunnel routes: all 32 to 10.20/16 (one tunnel); ECMP: to 10.30/16 (group of 4).
std::vector<std::vector<uint8_t>> lan_frames(size_t payload, uint32_t base = 0x0a140000u) {
    std::vector<std::vector<uint8_t>> v;
    for (unsigned i = 0; i < B; i++) {
        auto ip = ipv4(0x0a0a0102, base + i * 7, ipproto::udp, payload);
        ip[20] = uint8_t(i), ip[21] = uint8_t(i * 3);  // distinct source ports: distinct flows
        v.push_back(eth(lan_mac, host_mac, ethertype::ipv4, ip));
    }
    return v;
}
std::vector<std::vector<uint8_t>> gre_frames(size_t payload) {
    std::vector<std::vector<uint8_t>> v;
    for (unsigned i = 0; i < B; i++) {
        auto inner = ipv4(0x0a140005, 0x0a0a0102, ipproto::udp, payload);
        std::vector<uint8_t> g = {0x20, 0x00, 0x08, 0x00, 0, 0, 0, 42};
        g.insert(g.end(), inner.begin(), inner.end());
        v.push_back(eth(wan_mac, peer_mac, ethertype::ipv4, ipv4(0xc0a83c02, 0xc0a83c01, ipproto::gre, 0)));
        auto& f = v.back();
        f.resize(14 + 20);
        f.insert(f.end(), g.begin(), g.end());
        auto* h = reinterpret_cast<Ipv4*>(f.data() + 14);
        h->total_len.set(uint16_t(f.size() - 14));
        h->csum.raw = 0;
        h->csum.set(csum_fold(csum_partial(h, 20)));
    }
    return v;
}

// TCP SYNs with Linux's option layout (MSS 1460, SACK, timestamps, window scale), each flow
// its own source port, TCP checksum valid.
std::vector<std::vector<uint8_t>> syn_frames() {
    std::vector<std::vector<uint8_t>> v;
    for (unsigned i = 0; i < B; i++) {
        auto ip = ipv4(0x0a0a0102, 0x0a140000u + i * 7, ipproto::tcp, 40);
        uint8_t* t = ip.data() + 20;
        const uint8_t opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
        t[0] = 0x9c, t[1] = uint8_t(i);
        t[2] = 0x01, t[3] = 0xbb;
        t[12] = 10 << 4;
        t[13] = 0x02;  // SYN
        t[14] = 0xfa, t[15] = 0xf0;
        std::memcpy(t + 20, opts, sizeof opts);
        uint32_t sum = csum_partial(ip.data() + 12, 8, 0) + ipproto::tcp + 40;
        reinterpret_cast<Tcp*>(t)->csum.set(csum_fold(csum_partial(t, 40, sum)));
        v.push_back(eth(lan_mac, host_mac, ethertype::ipv4, ip));
    }
    return v;
}

// gretap: Ethernet frames of `size` bytes (without FCS) A -> B on lan2, and the same frames
// B -> A inside GRE(key 7, 0x6558) from the tunnel's peer.
std::vector<uint8_t> station_frame(const uint8_t* dst, const uint8_t* src, size_t size) {
    return eth(dst, src, ethertype::ipv4, ipv4(0x0a320001, 0x0a320002, ipproto::udp, size - 34));
}
std::vector<std::vector<uint8_t>> l2_frames(size_t size) {
    return std::vector<std::vector<uint8_t>>(B, station_frame(sta_b, sta_a, size));
}
std::vector<std::vector<uint8_t>> teb_frames(size_t size) {
    auto inner = station_frame(sta_a, sta_b, size);
    std::vector<uint8_t> g = {0x20, 0x00, 0x65, 0x58, 0, 0, 0, 7};
    g.insert(g.end(), inner.begin(), inner.end());
    auto f = eth(wan_mac, peer_mac, ethertype::ipv4, ipv4(0xc0a83c09, 0xc0a83c01, ipproto::gre, 0));
    f.insert(f.end(), g.begin(), g.end());
    auto* h = reinterpret_cast<Ipv4*>(f.data() + 14);
    h->total_len.set(uint16_t(f.size() - 14));
    h->csum.raw = 0;
    h->csum.set(csum_fold(csum_partial(h, 20)));
    return std::vector<std::vector<uint8_t>>(B, f);
}

void finish(benchmark::State& st, uint64_t cycles) {
    double pk = double(st.iterations()) * B;
    st.counters["ns/pkt"] = benchmark::Counter(pk, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    st.counters["cycles/pkt"] = double(cycles) / pk;
    st.SetItemsProcessed(int64_t(pk));
}

void free_vec(dp::Vec& v) {
    v.n = 0;  // mbufs are owned by the Burst and reused
}

void BM_restore(benchmark::State& st) {
    Burst b(lan_frames(18), 0);
    dp::Vec v;
    uint64_t c = 0;
    for (auto _ : st) {
        uint64_t t = rte_rdtsc();
        b.restore(v, false);
        c += rte_rdtsc() - t;
    }
    finish(st, c);
}

void BM_ingress(benchmark::State& st) {
    auto& e = env();
    Burst b(lan_frames(18), 0);
    dp::Vec in, l3;
    uint64_t c = 0;
    for (auto _ : st) {
        b.restore(in, false);
        uint64_t t = rte_rdtsc();
        dp::ingress(e.ctx, *e.snap, in, l3);
        c += rte_rdtsc() - t;
        free_vec(l3);
    }
    finish(st, c);
}

void BM_route(benchmark::State& st) {
    auto& e = env();
    Burst b(lan_frames(18), 0);
    dp::Vec in, local, enc, fwd;
    uint64_t c = 0;
    for (auto _ : st) {
        b.restore(in, true);
        uint64_t t = rte_rdtsc();
        dp::route(e.ctx, *e.snap, in, local, enc, fwd);
        c += rte_rdtsc() - t;
        free_vec(local), free_vec(enc), free_vec(fwd);
    }
    finish(st, c);
}

// gre_encap alone over bursts spread on the 4 tunnels.
void encap_only(benchmark::State& st, Burst& b) {
    auto& e = env();
    dp::Vec in, out, seal;
    uint64_t c = 0;
    for (auto _ : st) {
        b.restore(in, true);
        for (unsigned i = 0; i < B; i++) in.aux[i] = i % 4;
        uint64_t t = rte_rdtsc();
        dp::gre_encap(e.ctx, *e.snap, in, out, seal);
        c += rte_rdtsc() - t;
        free_vec(out);
    }
    finish(st, c);
}

void BM_gre_encap(benchmark::State& st) {
    Burst b(lan_frames(size_t(st.range(0))), 0);
    encap_only(st, b);
}

// The cost of MSS clamping inside encapsulation. Args: clamp (0 = mss_clamp off, 1 = auto),
// traffic (0 = UDP, where clamping costs only the protocol check; 1 = TCP SYNs, all clamped).
void BM_gre_encap_mss(benchmark::State& st) {
    auto& e = env();
    Burst b(st.range(1) ? syn_frames() : lan_frames(40), 0);
    std::vector<uint16_t> saved;
    for (auto& t : e.snap->tunnels) {
        saved.push_back(t.mss4);
        if (!st.range(0)) t.mss4 = 0;
    }
    encap_only(st, b);
    for (size_t i = 0; i < saved.size(); i++) e.snap->tunnels[i].mss4 = saved[i];
}

// mss_clamp() alone on a burst of SYNs: walk to the option, rewrite it, RFC 1624 update.
void BM_mss_clamp(benchmark::State& st) {
    Burst b(syn_frames(), 0);
    dp::Vec in;
    uint64_t c = 0;
    for (auto _ : st) {
        b.restore(in, true);
        uint64_t t = rte_rdtsc();
        for (unsigned i = 0; i < B; i++) benchmark::DoNotOptimize(dp::mss_clamp(in.m[i], 4, 1432));
        c += rte_rdtsc() - t;
    }
    finish(st, c);
}

void BM_gre_decap(benchmark::State& st) {
    auto& e = env();
    Burst b(gre_frames(size_t(st.range(0))), 1);
    dp::Vec in, out;
    uint64_t c = 0;
    for (auto _ : st) {
        b.restore(in, true);
        for (unsigned i = 0; i < B; i++) in.aux[i] = 20;
        uint64_t t = rte_rdtsc();
        dp::gre_decap(e.ctx, *e.snap, in, out);
        c += rte_rdtsc() - t;
        free_vec(out);
    }
    finish(st, c);
}

void BM_egress(benchmark::State& st) {
    auto& e = env();
    Burst b(lan_frames(18), 0);
    dp::Vec in;
    uint64_t c = 0;
    for (auto _ : st) {
        b.restore(in, true);
        for (unsigned i = 0; i < B; i++) {
            dp::meta(in.m[i]).out_port = 1;
            dp::meta(in.m[i]).nh_addr = e.snap->tunnels[i % 4].nh;
            dp::meta(in.m[i]).neigh_pos = e.snap->tunnels[i % 4].neigh_pos;
        }
        uint64_t t = rte_rdtsc();
        dp::egress(e.ctx, *e.snap, in);
        c += rte_rdtsc() - t;
        e.ctx.tx[1].n = 0;
    }
    finish(st, c);
}

// ingress -> route -> encap -> egress over one burst; `dst_base` picks the route: 10.20/16 is
// a single tunnel, 10.30/16 the 4-member ECMP group.
void encap_pipeline(benchmark::State& st, uint32_t dst_base) {
    auto& e = env();
    Burst b(lan_frames(size_t(st.range(0)), dst_base), 0);
    dp::Vec in, l3, local, enc, fwd, out, seal;
    uint64_t c = 0;
    for (auto _ : st) {
        b.restore(in, false);
        uint64_t t = rte_rdtsc();
        dp::ingress(e.ctx, *e.snap, in, l3);
        dp::route(e.ctx, *e.snap, l3, local, enc, fwd);
        dp::gre_encap(e.ctx, *e.snap, enc, out, seal);
        dp::egress(e.ctx, *e.snap, out);
        c += rte_rdtsc() - t;
        e.ctx.tx[1].n = 0;
    }
    finish(st, c);
}
void BM_pipeline_encap(benchmark::State& st) { encap_pipeline(st, 0x0a140000u); }
void BM_pipeline_encap_ecmp4(benchmark::State& st) { encap_pipeline(st, 0x0a1e0000u); }

void BM_pipeline_decap(benchmark::State& st) {
    auto& e = env();
    Burst b(gre_frames(size_t(st.range(0))), 1);
    dp::Vec in, l3, local, enc, fwd, gre, esp, inner, out;
    uint64_t c = 0;
    for (auto _ : st) {
        b.restore(in, false);
        uint64_t t = rte_rdtsc();
        dp::ingress(e.ctx, *e.snap, in, l3);
        dp::route(e.ctx, *e.snap, l3, local, enc, fwd);
        dp::local_in(e.ctx, *e.snap, local, gre, esp);
        dp::gre_decap(e.ctx, *e.snap, gre, inner);
        dp::route(e.ctx, *e.snap, inner, local, enc, fwd);
        dp::forward(e.ctx, *e.snap, fwd, out);
        dp::egress(e.ctx, *e.snap, out);
        c += rte_rdtsc() - t;
        e.ctx.tx[0].n = 0;
    }
    finish(st, c);
}

// ESP through the real crypto path (rte_ipsec over crypto_ipsec_mb, CPU crypto): a burst of 32
// inner IPv4 packets of `range(0)` bytes sealed by esp_out, and the same size opened by
// esp_in, AES-GCM-128, plain ipsec tunnel. The inbound SA has no replay window so the same
// ciphertext can be fed again; the peer's side of the SA pair makes that ciphertext once.
struct EspEnv {
    std::unique_ptr<dp::Snapshot> gw, peer;
    std::unique_ptr<dp::NeighTable> neigh;
    control::SaStore keep_gw, keep_peer;

    static config::Sa sa(const char* name, uint32_t spi, config::SaDirection d, uint8_t seed) {
        config::Sa a;
        a.name = name;
        a.spi = spi;
        a.direction = d;
        a.cipher = config::Cipher::AesGcm128;
        for (uint8_t i = 0; i < 16; i++) a.key.push_back(uint8_t(seed + i));
        a.salt = {seed, 1, 2, 3};
        a.replay_window = 0;
        return a;
    }
    static std::unique_ptr<dp::Snapshot> build(const char* me, const char* far, const char* out_name,
                                               uint32_t out_spi, uint8_t out_seed, uint32_t in_spi,
                                               uint8_t in_seed, dp::NeighTable* n, control::SaStore& keep) {
        config::Config c;
        config::Port lan{"lan", "net_null0"}, wan{"wan", "net_null1"};
        lan.addresses = {*Prefix::parse("10.10.1.1/24")};
        wan.addresses = {*Prefix::parse((std::string(me) + "/24").c_str())};
        c.ports = {lan, wan};
        config::Tunnel t;
        t.name = "ips";
        t.type = config::TunnelType::Ipsec;
        t.local = *IpAddr::parse(me);
        t.remote = *IpAddr::parse(far);
        t.protection = config::Protection{out_name, {"in"}, {}};
        c.tunnels = {t};
        c.sas = {sa(out_name, out_spi, config::SaDirection::Out, out_seed),
                 sa("in", in_spi, config::SaDirection::In, in_seed)};
        for (auto& a : c.sas) {
            a.local = t.local;
            a.remote = t.remote;
        }
        config::Route r;
        r.prefix = *Prefix::parse("10.20.0.0/16");
        r.kind = config::RouteKind::Tunnel;
        r.tunnel = "ips";
        c.routes = {r};
        std::vector<control::PortInfo> pi(2);
        std::memcpy(pi[0].mac, lan_mac, 6);
        std::memcpy(pi[1].mac, wan_mac, 6);
        auto res = control::compile(c, pi, 1, {}, 1, n);
        if (!res.errors.empty()) {
            for (auto& d : res.errors) fprintf(stderr, "%s\n", d.str().c_str());
            abort();
        }
        keep = std::move(res.sas);
        return std::move(res.snap);
    }
    EspEnv() {
        env();
        if (!control::CryptoDev::instance().open(0, 64).empty()) abort();
        neigh = std::make_unique<dp::NeighTable>("bench_esp_neigh", 64);
        gw = build("192.168.60.1", "192.168.60.2", "out", 0x1001, 0x10, 0x2001, 0x40, neigh.get(), keep_gw);
        peer = build("192.168.60.2", "192.168.60.1", "out", 0x2001, 0x40, 0x1001, 0x10, neigh.get(), keep_peer);
    }
};

EspEnv& esp_env() {
    static EspEnv e;
    return e;
}

// Inner packets 10.20.0.5 -> 10.10.1.2 (the source routes back into the tunnel: inbound policy).
std::vector<std::vector<uint8_t>> inner_packets(size_t len) {
    std::vector<std::vector<uint8_t>> v;
    for (unsigned i = 0; i < B; i++) {
        auto ip = ipv4(0x0a140005, 0x0a0a0102, ipproto::udp, len - 20);
        ip[20] = uint8_t(i);
        v.push_back(ip);
    }
    return v;
}

// Whole-packet restore (the stage reads the ciphertext), data at the IP header.
void restore_ip(rte_mbuf* const* m, const std::vector<std::vector<uint8_t>>& f, dp::Vec& v, uint32_t aux) {
    v.n = 0;
    for (unsigned i = 0; i < B; i++) {
        rte_mbuf* x = m[i];
        rte_pktmbuf_reset(x);
        std::memcpy(rte_pktmbuf_mtod(x, void*), f[i].data(), f[i].size());
        x->data_len = x->pkt_len = uint32_t(f[i].size());
        dp::PktMeta& md = dp::meta(x);
        md = dp::PktMeta{};
        md.tunnel_in = dp::no_tunnel;
        md.sa = dp::no_sa;
        md.in_port = 1;
        md.family = 4;
        v.push(x, aux);
    }
}

void BM_esp_encrypt(benchmark::State& st) {
    auto& e = env();
    auto& x = esp_env();
    auto frames = inner_packets(size_t(st.range(0)));
    Burst b(frames, 0);
    dp::Vec in, out;
    const uint32_t sa_out = x.gw->tunnels[0].sa_out;
    uint64_t c = 0;
    for (auto _ : st) {
        restore_ip(b.m, frames, in, sa_out);
        uint64_t t = rte_rdtsc();
        dp::esp_out(e.ctx, *x.gw, in, out);
        c += rte_rdtsc() - t;
        if (out.n != B) st.SkipWithError("esp_out dropped packets");
        free_vec(out);
    }
    finish(st, c);
}

// Times `stages` over a burst restored from `b` each iteration; TX vector `tx_port` is reset
// (the mbufs belong to the Burst).
template <class Stages>
void timed_pipeline(benchmark::State& st, Burst& b, uint16_t tx_port, Stages&& stages) {
    dp::Vec in;
    uint64_t c = 0;
    for (auto _ : st) {
        b.restore(in, false);
        uint64_t t = rte_rdtsc();
        stages(in);
        c += rte_rdtsc() - t;
        env().ctx.tx[tx_port].n = 0;
    }
    finish(st, c);
}

void BM_esp_decrypt(benchmark::State& st) {
    auto& e = env();
    auto& x = esp_env();
    auto plain = inner_packets(size_t(st.range(0)));
    Burst b(plain, 1);
    dp::Vec in, out;
    restore_ip(b.m, plain, in, x.peer->tunnels[0].sa_out);
    dp::esp_out(e.ctx, *x.peer, in, out);  // the peer seals once; we open these again and again
    std::vector<std::vector<uint8_t>> sealed;
    for (unsigned i = 0; i < out.n; i++) {
        auto* p = rte_pktmbuf_mtod(out.m[i], const uint8_t*);
        sealed.emplace_back(p, p + rte_pktmbuf_pkt_len(out.m[i]));
    }
    free_vec(out);
    if (sealed.size() != B) {
        st.SkipWithError("the peer could not seal the burst");
        return;
    }
    uint64_t c = 0;
    for (auto _ : st) {
        restore_ip(b.m, sealed, in, 20);
        uint64_t t = rte_rdtsc();
        dp::esp_in(e.ctx, *x.gw, in, out);
        c += rte_rdtsc() - t;
        if (out.n != B) st.SkipWithError("esp_in dropped packets");
        free_vec(out);
    }
    finish(st, c);
}

// gretap encap: lan2 frame -> ingress (bridged port) -> bridge (B known behind the tunnel,
// then gre_encap 0x6558 and egress inside the bridge stage). Arg: inner Ethernet frame size.
void BM_pipeline_gretap_encap(benchmark::State& st) {
    auto& e = env();
    Burst b(l2_frames(size_t(st.range(0))), 2);
    dp::Vec l3;
    timed_pipeline(st, b, 1, [&](dp::Vec& in) {
        dp::ingress(e.ctx, *e.snap, in, l3);
        dp::bridge(e.ctx, *e.snap, e.ctx.l2);
    });
}

// gretap decap: GRE(0x6558) from the peer -> ingress -> route -> local_in -> gre_decap ->
// bridge (A known on lan2) -> TX on lan2. Arg: inner Ethernet frame size.
void BM_pipeline_gretap_decap(benchmark::State& st) {
    auto& e = env();
    Burst b(teb_frames(size_t(st.range(0))), 1);
    dp::Vec l3, local, enc, fwd, gre, esp, inner;
    timed_pipeline(st, b, 2, [&](dp::Vec& in) {
        dp::ingress(e.ctx, *e.snap, in, l3);
        dp::route(e.ctx, *e.snap, l3, local, enc, fwd);
        dp::local_in(e.ctx, *e.snap, local, gre, esp);
        dp::gre_decap(e.ctx, *e.snap, gre, inner);
        dp::bridge(e.ctx, *e.snap, e.ctx.l2);
    });
}

}  // namespace

BENCHMARK(BM_restore);
BENCHMARK(BM_ingress);
BENCHMARK(BM_route);
BENCHMARK(BM_gre_encap)->Arg(18)->Arg(1378);
BENCHMARK(BM_gre_encap_mss)->Args({0, 0})->Args({1, 0})->Args({0, 1})->Args({1, 1});
BENCHMARK(BM_mss_clamp);
BENCHMARK(BM_gre_decap)->Arg(18)->Arg(1378);
BENCHMARK(BM_egress);
BENCHMARK(BM_pipeline_encap)->Arg(18)->Arg(1378);
BENCHMARK(BM_pipeline_encap_ecmp4)->Arg(18)->Arg(1378);
BENCHMARK(BM_pipeline_decap)->Arg(18)->Arg(1378);
BENCHMARK(BM_esp_encrypt)->Arg(64)->Arg(1420);
BENCHMARK(BM_esp_decrypt)->Arg(64)->Arg(1420);
BENCHMARK(BM_pipeline_gretap_encap)->Arg(64)->Arg(1420);
BENCHMARK(BM_pipeline_gretap_decap)->Arg(64)->Arg(1420);
BENCHMARK_MAIN();
