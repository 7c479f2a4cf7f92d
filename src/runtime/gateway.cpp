#include "runtime/gateway.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>

#include "control/compile.hpp"
#include "control/crypto.hpp"
#include "control/liveness.hpp"
#include "control/which.hpp"
#include "dp/frag.hpp"
#include "dp/bridge.hpp"
#include "dp/mac_table.hpp"
#include "dp/neigh.hpp"
#include "dp/worker.hpp"
#include "runtime/api.hpp"
#include "runtime/bridge_views.hpp"
#include "runtime/control_queue.hpp"
#include "runtime/log.hpp"
#include "runtime/operator.hpp"
#include "runtime/ports.hpp"
#include "runtime/stats.hpp"
#include "slowpath/learn.hpp"
#include "slowpath/slowpath.hpp"

namespace tgw {
int g_logtype = RTE_LOGTYPE_USER1;
}

namespace tgw::runtime {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

extern "C" void on_signal(int sig) {
    if (sig == SIGHUP) g_reload.store(true);
    else g_stop.store(true);
}

bool has_arg(const std::vector<std::string>& a, std::initializer_list<const char*> names) {
    for (auto& s : a)
        for (const char* n : names)
            if (s == n || s.rfind(std::string(n) + "=", 0) == 0) return true;
    return false;
}

uint32_t log_level_of(const std::string& s) {
    static const std::pair<const char*, uint32_t> m[] = {
        {"emerg", RTE_LOG_EMERG}, {"alert", RTE_LOG_ALERT}, {"crit", RTE_LOG_CRIT},
        {"error", RTE_LOG_ERR},   {"warning", RTE_LOG_WARNING}, {"notice", RTE_LOG_NOTICE},
        {"info", RTE_LOG_INFO},   {"debug", RTE_LOG_DEBUG}};
    for (auto& [n, l] : m)
        if (s == n) return l;
    return RTE_LOG_INFO;
}

template <typename T>
T* zalloc(const char* what, size_t n = 1) {
    void* p = rte_zmalloc(what, sizeof(T) * n, RTE_CACHE_LINE_SIZE);
    if (!p) throw std::runtime_error(std::string("out of memory allocating ") + what +
                                     " (give the EAL more memory, -m)");
    return static_cast<T*>(p);
}

rte_ring* make_ring(const std::string& name, unsigned flags) {
    rte_ring* r = rte_ring_create(name.c_str(), 1024, int(rte_socket_id()), flags);
    if (!r) throw std::runtime_error("cannot create ring " + name + ": " + rte_strerror(rte_errno));
    return r;
}

class Gateway final : public Api {
public:
    Gateway(const RunOptions& opt, config::Config cfg) : opt_(opt), cfg_(std::move(cfg)) {}
    ~Gateway() override;
    int run();

    // Api (main thread only)
    const dp::Snapshot& snapshot() const override { return *snap_.load(); }
    Totals totals() override;
    const dp::NeighTable& neighbours() const override { return *neigh_; }
    const dp::MacTable* macs() const override { return macs_.get(); }
    const std::vector<PortSetup>& ports() const override { return ports_; }
    double uptime() const override { return double(rte_rdtsc() - start_tsc_) / double(rte_get_tsc_hz()); }
    const std::string& config_path() const override { return opt_.config_path; }
    std::vector<config::Diag> reload() override;

private:
    static void on_keepalive(void* self, const dp::Snapshot& s, uint32_t index) {
        auto* g = static_cast<Gateway*>(self);
        g->liveness_.on_reply(s.tunnels[index].name, g->now_ms());
    }
    uint64_t now_ms() const { return (rte_rdtsc() - start_tsc_) * 1000 / rte_get_tsc_hz(); }
    void run_keepalives();
    void run_sa_lifetimes(uint64_t now_tsc);
    void setup();
    std::vector<config::Diag> publish(const config::Config& cfg);
    void report(FILE* f);

    RunOptions opt_;
    config::Config cfg_;
    unsigned n_workers_ = 0;
    rte_mempool* pool_ = nullptr;
    rte_mempool* indirect_pool_ = nullptr;  // fragments' references into the original (dp/frag.hpp)
    std::vector<PortSetup> ports_;
    std::unique_ptr<dp::NeighTable> neigh_;
    dp::TunnelState* tstate_ = nullptr;
    rte_rcu_qsbr* qsbr_ = nullptr;
    std::atomic<const dp::Snapshot*> snap_{nullptr};
    std::atomic<bool> stop_workers_{false};
    std::vector<dp::Worker*> workers_;
    std::vector<rte_ring*> punt_, inject_, handoff_;
    dp::LcoreCounters* slow_ctr_ = nullptr;
    std::unique_ptr<slowpath::SlowPath> slow_;
    std::unique_ptr<dp::MacTable> macs_;
    std::unique_ptr<slowpath::Learner> learner_;
    std::vector<rte_ring*> learn_;  // worker -> learner, LearnEvent elements
    control::SlotMap slots_;
    control::SaStore sas_;  // live SAs of the published snapshot, by name
    std::map<const dp::SaLive*, uint8_t> sa_logged_;  // last SA state written to the log
    uint64_t next_sa_check_ = 0;
    uint64_t generation_ = 0;
    uint64_t start_tsc_ = 0;
    bool launched_ = false;
    ControlQueue control_;
    Operator ops_;  // after control_: it serves the queue while it stops
    control::Liveness liveness_;
};

Gateway::~Gateway() {
    if (launched_) {
        stop_workers_.store(true);
        rte_eal_mp_wait_lcore();
    }
    slow_.reset();
    stop_ports(ports_);
    delete snap_.load();
    learner_.reset();
    macs_.reset();
    for (rte_ring* r : learn_) rte_ring_free(r);
    for (auto* w : workers_) {
        if (dp::FragState* f = w->ctx.frag) {
            rte_ip_frag_free_death_row(&f->death_row, 0);
            if (f->table) rte_ip_frag_table_destroy(f->table);
            rte_free(f);
        }
        rte_free(w->ctx.br);
        rte_free(w->ctx.ctr);
        rte_free(w);
    }
    for (auto* v : {&punt_, &inject_, &handoff_})
        for (rte_ring* r : *v) {
            // Packets still queued belong to nobody else now.
            void* m;
            while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
            rte_ring_free(r);
        }
    neigh_.reset();
    rte_free(slow_ctr_);
    rte_free(tstate_);
    rte_free(qsbr_);
    rte_mempool_free(indirect_pool_);
    rte_mempool_free(pool_);
}

// Per worker: fragment headers come from the main pool (they need the PktMeta private area),
// and a bounded reassembly table: reasm_max_flows datagrams, each for reasm_timeout_ms.
static dp::FragState* make_frag_state(rte_mempool* direct, rte_mempool* indirect, unsigned worker) {
    auto* f = zalloc<dp::FragState>("frag_state");
    f->direct = direct;
    f->indirect = indirect;
    const uint64_t cycles = rte_get_tsc_hz() / 1000 * dp::reasm_timeout_ms;
    constexpr uint32_t ways = 4;  // entries per hash bucket
    f->table = rte_ip_frag_table_create(dp::reasm_max_flows / ways, ways, dp::reasm_max_flows,
                                        cycles, int(rte_socket_id()));
    if (!f->table) {
        rte_free(f);
        throw std::runtime_error("cannot create the reassembly table of worker " +
                                 std::to_string(worker) + ": " + rte_strerror(rte_errno));
    }
    return f;
}

void Gateway::setup() {
    n_workers_ = unsigned(cfg_.workers.size());
    for (unsigned l : cfg_.workers)
        if (!rte_lcore_is_enabled(l) || l == rte_get_main_lcore())
            throw std::runtime_error("worker lcore " + std::to_string(l) +
                                     " is not an enabled worker lcore of the EAL (check -l/--lcores)");
    pool_ = rte_pktmbuf_pool_create("mbufs", cfg_.mbufs, 256, sizeof(dp::PktMeta),
                                    RTE_MBUF_DEFAULT_BUF_SIZE, int(rte_socket_id()));
    if (!pool_) throw std::runtime_error(std::string("cannot create the mbuf pool: ") + rte_strerror(rte_errno));
    // Indirect mbufs carry no data: a fragment's payload stays in the original packet.
    indirect_pool_ = rte_pktmbuf_pool_create("frag_indirect", cfg_.mbufs, 256, 0, 0,
                                             int(rte_socket_id()));
    if (!indirect_pool_)
        throw std::runtime_error(std::string("cannot create the fragment pool: ") + rte_strerror(rte_errno));
    ports_ = start_ports(cfg_, n_workers_, pool_);
    // ESP: the crypto device and its sessions exist from the start, so a reload can add SAs
    // and no packet ever waits for crypto set-up.
    if (std::string e = control::CryptoDev::instance().open(int(rte_socket_id()), 4096); !e.empty()) {
        if (!cfg_.sas.empty()) throw std::runtime_error(e);
        TGW_LOG(WARNING, "ESP unavailable: %s", e.c_str());
    }
    neigh_ = std::make_unique<dp::NeighTable>("neigh", 16384);
    if (!neigh_->ok()) throw std::runtime_error("cannot create the neighbour table");
    tstate_ = zalloc<dp::TunnelState>("tunnel_state", config::max_tunnels);
    size_t qsz = rte_rcu_qsbr_get_memsize(n_workers_);
    qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("qsbr", qsz, RTE_CACHE_LINE_SIZE));
    if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, n_workers_) != 0) throw std::runtime_error("cannot set up RCU");

    for (unsigned w = 0; w < n_workers_; w++) {
        punt_.push_back(make_ring("punt" + std::to_string(w), RING_F_SP_ENQ | RING_F_SC_DEQ));
        inject_.push_back(make_ring("inject" + std::to_string(w), RING_F_SP_ENQ | RING_F_SC_DEQ));
        handoff_.push_back(make_ring("handoff" + std::to_string(w), RING_F_SC_DEQ));
    }
    // Sized for the configured mac_limits; a reload that needs more learns up to this.
    uint64_t n_macs = 0;
    for (auto& d : cfg_.bridge_domains) n_macs += d.mac_limit;
    macs_ = std::make_unique<dp::MacTable>(
        "macs", uint32_t(std::clamp<uint64_t>(n_macs + n_macs / 4, 4096, config::max_bridge_macs * 2)), qsbr_);
    if (!macs_->ok()) throw std::runtime_error("cannot create the MAC table (give the EAL more memory, -m)");
    for (unsigned w = 0; w < n_workers_; w++) {
        std::string name = "learn" + std::to_string(w);
        rte_ring* r = rte_ring_create_elem(name.c_str(), sizeof(dp::LearnEvent), 1024,
                                           int(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!r) throw std::runtime_error("cannot create ring " + name + ": " + rte_strerror(rte_errno));
        learn_.push_back(r);
    }
    for (unsigned w = 0; w < n_workers_; w++) {
        auto* wk = zalloc<dp::Worker>("worker");
        new (wk) dp::Worker();
        dp::WorkerCtx& c = wk->ctx;
        c.index = w;
        c.n_workers = n_workers_;
        c.ctr = zalloc<dp::LcoreCounters>("lcore_counters");
        c.br = zalloc<dp::BridgeCtx>("bridge_ctx");
        c.br->learn = learn_[w];
        c.br->macs = macs_.get();
        c.br->hz = rte_get_tsc_hz();
        c.neigh = neigh_.get();
        c.tstate = tstate_;
        c.punt = punt_[w];
        c.inject = inject_[w];
        c.handoff_in = handoff_[w];
        c.handoff_out = handoff_.data();
        c.frag = make_frag_state(pool_, indirect_pool_, w);
        c.n_ports = uint16_t(ports_.size());
        for (size_t p = 0; p < ports_.size(); p++) {
            c.port_ids[p] = ports_[p].port_id;
            if (w < ports_[p].nb_rxq) wk->rxq[wk->n_rxq++] = {uint16_t(p), ports_[p].port_id, uint16_t(w)};
        }
        wk->snapshot = &snap_;
        wk->qsbr = qsbr_;
        wk->stop = &stop_workers_;
        wk->idle_backoff_us = opt_.idle_backoff_us >= 0 ? uint32_t(opt_.idle_backoff_us) : cfg_.idle_backoff_us;
        workers_.push_back(wk);
    }
    slow_ctr_ = zalloc<dp::LcoreCounters>("slow_counters");
    slowpath::Env env;
    env.pool = pool_;
    env.neigh = neigh_.get();
    env.inject = inject_[0];
    env.punt = punt_;
    env.ctr = slow_ctr_;
    env.on_keepalive = &Gateway::on_keepalive;
    env.on_keepalive_arg = this;
    slow_ = std::make_unique<slowpath::SlowPath>(env);
    learner_ = std::make_unique<slowpath::Learner>(*macs_, learn_, slow_ctr_, rte_get_tsc_hz());
}

// Compile aside, swap the pointer, wait for every worker to pass a quiescent state, free
// the old snapshot. A worker never sees a half-built table and never waits for us.
std::vector<config::Diag> Gateway::publish(const config::Config& cfg) {
    auto r = control::compile(cfg, port_infos(ports_), n_workers_, slots_, generation_ + 1,
                              neigh_.get(), &liveness_.down(), &sas_);
    if (!r.errors.empty()) return r.errors;
    if (r.snap->l2) learner_->prepare(*r.snap->l2);
    generation_++;
    slots_ = std::move(r.slots);
    control::SaStore retired = std::move(sas_);  // freed below, after the grace period
    sas_ = std::move(r.sas);
    const dp::Snapshot* old = snap_.exchange(r.snap.release(), std::memory_order_acq_rel);
    if (old) {
        rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
        delete old;
    }
    retired.by_name.clear();
    for (auto it = sa_logged_.begin(); it != sa_logged_.end();) {
        bool live = false;
        for (auto& [name, e] : sas_.by_name) live = live || e.live.get() == it->first;
        it = live ? std::next(it) : sa_logged_.erase(it);
    }
    slow_->apply_static_neighbors(*snap_.load());
    return {};
}

std::vector<config::Diag> Gateway::reload() {
    TGW_LOG(NOTICE, "reloading %s", opt_.config_path.c_str());
    auto res = config::load_file(opt_.config_path);
    std::vector<config::Diag> errors = std::move(res.errors);
    if (errors.empty()) {
        const config::Config& n = *res.config;
        // Ports and workers are bound at start: changing them needs a restart.
        bool same = n.ports.size() == cfg_.ports.size() && n.workers == cfg_.workers;
        for (size_t i = 0; same && i < n.ports.size(); i++)
            same = n.ports[i].name == cfg_.ports[i].name && n.ports[i].device == cfg_.ports[i].device;
        if (!same)
            errors.push_back({{opt_.config_path, 0, 0, "ports"},
                              "ports or workers changed; restart tunnelgw to apply that"});
        else {
            liveness_.configure(n, now_ms());  // surviving tunnels keep their state
            errors = publish(n);
            if (!errors.empty()) liveness_.configure(cfg_, now_ms());
        }
        if (errors.empty()) {
            TGW_LOG(NOTICE, "reload applied: generation %lu, %zu tunnels, %zu routes",
                    (unsigned long)generation_, n.tunnels.size(), n.routes.size());
            cfg_ = n;
            return errors;
        }
    }
    for (auto& d : errors) TGW_LOG(ERR, "%s", d.str().c_str());
    TGW_LOG(ERR, "reload rejected: %zu error(s); the previous configuration keeps running", errors.size());
    return errors;
}

// Keepalives due now go out; a tunnel that changed state is logged once and the snapshot is
// recompiled with the new set of dead tunnels, so groups and routes move off it (or back).
void Gateway::run_keepalives() {
    const uint64_t now = now_ms();
    const dp::Snapshot& s = *snap_.load();
    for (const std::string& name : liveness_.due(now))
        for (uint32_t i = 0; i < s.tunnels.size(); i++)
            if (s.tunnels[i].name == name) slow_->send_keepalive(s, i);
    auto events = liveness_.update(now);
    if (events.empty()) return;
    for (auto& e : events) {
        if (e.up)
            TGW_LOG(NOTICE, "tunnel %s is UP: keepalives answered again", e.tunnel.c_str());
        else
            TGW_LOG(WARNING, "tunnel %s is DOWN: %u keepalives unanswered; traffic moves off it",
                    e.tunnel.c_str(), e.misses);
    }
    if (auto errors = publish(cfg_); !errors.empty())
        for (auto& d : errors) TGW_LOG(ERR, "liveness update not applied: %s", d.str().c_str());
}

// SA lifetimes in seconds are the control thread's (RFC 4301 §4.4.2.1); packets and bytes are
// checked by the owner worker. Each state change is logged once; keys never are.
void Gateway::run_sa_lifetimes(uint64_t now) {
    const uint64_t hz = rte_get_tsc_hz();
    if (now < next_sa_check_) return;
    next_sa_check_ = now + hz / 10;
    const dp::Snapshot& s = *snap_.load();
    for (const dp::Sa& sa : s.sas) {
        dp::SaLive& l = *sa.live;
        if (!l.installed_tsc) l.installed_tsc = now;
        const uint64_t age = (now - l.installed_tsc) / hz;
        uint8_t t = dp::sa_ok;
        if (sa.hard.seconds && age >= sa.hard.seconds) t = dp::sa_hard;
        else if (sa.soft.seconds && age >= sa.soft.seconds) t = dp::sa_soft;
        if (t > l.time_state.load(std::memory_order_relaxed)) l.time_state.store(t, std::memory_order_relaxed);
        const uint8_t st = l.state();
        uint8_t& logged = sa_logged_[&l];
        if (st <= logged) continue;
        logged = st;
        const char* tunnel = sa.tunnel < s.tunnels.size() ? s.tunnels[sa.tunnel].name.c_str() : "-";
        const auto& k = l.ctr;
        const char* why = dp::peek(k.seq_exhausted) ? "sequence numbers used up (no ESN)"
                          : t == st                 ? "seconds"
                                                    : "packets/bytes";
        if (st == dp::sa_soft)
            TGW_LOG(WARNING, "SA %s (SPI 0x%08x, tunnel %s): soft lifetime reached (%s) after %lu packets, "
                    "%lu bytes, %lu s; install its successor", sa.name.c_str(), sa.spi, tunnel, why,
                    (unsigned long)dp::peek(k.pkts), (unsigned long)dp::peek(k.bytes), (unsigned long)age);
        else
            TGW_LOG(ERR, "SA %s (SPI 0x%08x, tunnel %s): EXPIRED, hard lifetime reached (%s) after %lu "
                    "packets, %lu bytes, %lu s; it carries nothing until replaced", sa.name.c_str(), sa.spi,
                    tunnel, why, (unsigned long)dp::peek(k.pkts), (unsigned long)dp::peek(k.bytes),
                    (unsigned long)age);
    }
}

Totals Gateway::totals() {
    std::vector<const dp::LcoreCounters*> all;
    for (auto* w : workers_) all.push_back(w->ctx.ctr);
    all.push_back(slow_ctr_);
    Totals t = sum(all, *snap_.load());
    for (auto& tn : snap_.load()->tunnels) {
        auto it = liveness_.states().find(tn.name);
        t.tunnel_state.push_back(it == liveness_.states().end() ? "up (no keepalive)"
                                 : it->second.up                  ? "up"
                                                                  : "DOWN");
    }
    const auto& sc = slow_->counters();
#define TGW_SC(f) t.slowpath.emplace_back(#f, dp::peek(sc.f))
    TGW_SC(arp_req_rx); TGW_SC(arp_reply_tx); TGW_SC(arp_req_tx); TGW_SC(arp_reply_rx);
    TGW_SC(nd_ns_rx); TGW_SC(nd_na_tx); TGW_SC(nd_ns_tx); TGW_SC(nd_na_rx);
    TGW_SC(neigh_learned); TGW_SC(held); TGW_SC(released);
    TGW_SC(icmp_echo_replies); TGW_SC(icmp_errors_tx); TGW_SC(rate_limited); TGW_SC(local_unhandled);
#undef TGW_SC
    bridge_totals(t, workers_, *snap_.load(), learner_->counters(), macs_.get());
    return t;
}

void Gateway::report(FILE* f) { print_report(f, totals(), *snap_.load(), uptime()); }

int Gateway::run() {
    setup();
    if (auto errors = publish(cfg_); !errors.empty()) {
        for (auto& d : errors) fprintf(stderr, "%s\n", d.str().c_str());
        throw std::runtime_error("the configuration could not be compiled");
    }
    start_tsc_ = rte_rdtsc();
    liveness_.configure(cfg_, now_ms());
    for (unsigned w = 0; w < n_workers_; w++)
        if (rte_eal_remote_launch(dp::worker_main, workers_[w], cfg_.workers[w]) != 0)
            throw std::runtime_error("cannot launch worker on lcore " + std::to_string(cfg_.workers[w]));
    launched_ = true;
    for (size_t p = 0; p < ports_.size(); p++)
        TGW_LOG(INFO, "port %s: %s, DPDK port %u (%s), %u RX / %u TX queues", cfg_.ports[p].name.c_str(),
                cfg_.ports[p].device.c_str(), ports_[p].port_id, ports_[p].driver.c_str(),
                ports_[p].nb_rxq, ports_[p].nb_txq);
    TGW_LOG(INFO, "running: %u worker(s), %zu tunnel(s), %zu route(s); Ctrl-C stops, SIGHUP reloads",
            n_workers_, cfg_.tunnels.size(), cfg_.routes.size());
    ops_.start(cfg_.ops, *this, control_);  // telemetry, metrics, pdump, log stream

    const uint64_t hz = rte_get_tsc_hz();
    const int interval = opt_.stats_interval_s >= 0 ? opt_.stats_interval_s : int(cfg_.stats_interval_s);
    uint64_t next_stats = interval > 0 ? start_tsc_ + uint64_t(interval) * hz : UINT64_MAX;
    const uint64_t deadline = opt_.run_for_s > 0 ? start_tsc_ + uint64_t(opt_.run_for_s * double(hz)) : UINT64_MAX;
    const uint64_t idle_tsc = uint64_t(opt_.exit_idle_ms) * hz / 1000;
    uint64_t last_activity = start_tsc_, last_count = 0;

    while (!g_stop.load()) {
        uint64_t now = rte_rdtsc();
        unsigned n = slow_->poll(*snap_.load(), now);
        n += learner_->poll(*snap_.load(), now);
        if (g_reload.exchange(false)) reload();
        run_keepalives();
        run_sa_lifetimes(now);
        control_.drain();
        if (now >= next_stats) {
            report(stdout);
            next_stats = now + uint64_t(interval) * hz;
        }
        if (now >= deadline) break;
        if (idle_tsc) {
            Totals t = totals();
            uint64_t c = t.pkts + t.punted;
            for (auto& p : t.ports) c += p.rx_pkts;
            if (c != last_count || slow_->pending()) {
                last_count = c;
                last_activity = now;
            } else if (now - last_activity > idle_tsc) {
                break;
            }
        }
        if (!n) rte_delay_us_sleep(200);  // the slow path is not latency critical
    }
    ops_.stop();
    control_.close();
    stop_workers_.store(true);
    rte_eal_mp_wait_lcore();
    launched_ = false;
    // Drain what the workers punted last.
    slow_->poll(*snap_.load(), rte_rdtsc());
    printf("tunnelgw stopping: final counters\n");
    report(stdout);
    if (!opt_.stats_json.empty()) {
        std::ofstream f(opt_.stats_json);
        f << to_json(totals(), *snap_.load(), uptime());
        if (!f) fprintf(stderr, "tunnelgw: cannot write %s\n", opt_.stats_json.c_str());
    }
    return 0;
}

}  // namespace

std::vector<std::string> eal_args(const RunOptions& opt, const config::Config& cfg) {
    std::vector<std::string> a = {"tunnelgw"};
    a.insert(a.end(), cfg.eal_args.begin(), cfg.eal_args.end());
    a.insert(a.end(), opt.eal_extra.begin(), opt.eal_extra.end());
    if (!has_arg(a, {"-l", "--lcores", "-c"})) {
        std::string l = "0";
        for (unsigned w : cfg.workers) {
            l += ',';  // two appends: GCC 12 warns falsely on "," + string (PR 105329)
            l += std::to_string(w);
        }
        a.push_back("-l");
        a.push_back(l);
    }
    // Not the EAL's "rte": tunnelgw-ctl and dpdk-dumpcap find the gateway by this name
    // (/var/run/dpdk/tunnelgw/) without being told; see docs/deployment.md.
    if (!has_arg(a, {"--file-prefix"})) {
        a.push_back("--file-prefix");
        a.push_back("tunnelgw");
    }
    auto dev = device_eal_args(cfg);
    a.insert(a.end(), dev.begin(), dev.end());
    return a;
}

int which_offline(const config::Config& cfg, const std::string& flow) {
    std::string err;
    auto q = control::parse_flow(flow, err);
    if (!q) {
        fprintf(stderr, "tunnelgw: --which-tunnel: %s\n", err.c_str());
        return 2;
    }
    std::string prefix = "--file-prefix=tgwq" + std::to_string(getpid());
    const char* argv[] = {"tunnelgw", "--no-huge", "-m", "256", "--no-pci", "--no-telemetry",
                          "--no-shconf", "-l", "0", "--log-level=lib.*:error", prefix.c_str(), nullptr};
    if (rte_eal_init(11, const_cast<char**>(argv)) < 0) {
        fprintf(stderr, "tunnelgw: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    int rc = 0;
    if (!cfg.sas.empty())
        if (std::string e = control::CryptoDev::instance().open(0, 1024); !e.empty())
            fprintf(stderr, "tunnelgw: %s\n", e.c_str());
    {
        std::vector<control::PortInfo> ports(cfg.ports.size());
        auto r = control::compile(cfg, ports, unsigned(cfg.workers.size()), {}, 1);
        if (!r.errors.empty()) {
            for (auto& d : r.errors) fprintf(stderr, "%s\n", d.str().c_str());
            rc = 1;
        } else {
            auto a = control::which_tunnel(*r.snap, *q);
            printf("%s\n", a.text.c_str());
        }
    }
    control::CryptoDev::instance().close();
    rte_eal_cleanup();
    std::error_code ec;  // this private EAL's runtime files
    std::filesystem::remove_all("/var/run/dpdk/tgwq" + std::to_string(getpid()), ec);
    return rc;
}

int run(const RunOptions& opt, config::Config cfg) {
    auto args = eal_args(opt, cfg);
    bool pci = false;
    for (auto& p : cfg.ports) pci |= is_pci_address(p.device);
    if (pci && has_arg(args, {"--no-pci"})) {
        fprintf(stderr, "tunnelgw: a port uses a PCI device but the EAL arguments contain --no-pci\n");
        return 1;
    }
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    if (rte_eal_init(int(args.size()), argv.data()) < 0) {
        fprintf(stderr, "tunnelgw: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    g_logtype = rte_log_register_type_and_pick_level("tunnelgw", RTE_LOG_INFO);
    if (g_logtype < 0) g_logtype = RTE_LOGTYPE_USER1;
    rte_log_set_level(g_logtype, log_level_of(opt.log_level.empty() ? cfg.log_level : opt.log_level));

    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);

    int rc;
    {
        Gateway gw(opt, std::move(cfg));
        try {
            rc = gw.run();
        } catch (const std::exception& e) {
            fprintf(stderr, "tunnelgw: %s\n", e.what());
            rc = 1;
        }
    }
    control::CryptoDev::instance().close();
    rte_eal_cleanup();
    return rc;
}

}  // namespace tgw::runtime
