#include "dp/worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>

#include "dp/bridge.hpp"
#include "dp/frag.hpp"
#include "dp/stages.hpp"

namespace tgw::dp {

namespace {
// flush() under the stage sampler (dp/profile.hpp): its packets are those queued for TX.
void flush_sampled(WorkerCtx& c) noexcept {
    uint16_t n = 0;
    if (c.sampler.on)
        for (uint16_t p = 0; p < c.n_ports; p++) n = uint16_t(n + c.tx[p].n);
    timed(c, Stage::tx, n, [&] { flush(c); });
}
}  // namespace

void pass_l3(WorkerCtx& c, const Snapshot& s, Vec& l3) noexcept {
    Vec local, encap, fwd, gre, esp, inner, out, seal;
    timed(c, Stage::route, l3.n, [&] { route(c, s, l3, local, encap, fwd); });
    timed(c, Stage::local_in, local.n, [&] { local_in(c, s, local, gre, esp); });
    timed(c, Stage::esp_in, esp.n, [&] { esp_in(c, s, esp, inner); });
    timed(c, Stage::gre_decap, gre.n, [&] { gre_decap(c, s, gre, inner); });
    // Decapsulated packets are routed once more; GRE inside ESP is for us again and is
    // decapsulated in the next round. local_in removes each layer at most once per packet (no
    // GRE after GRE, no ESP after ESP), so this ends after two rounds; the bound is a guard.
    for (int round = 0; inner.n; round++) {
        if (round == 3) {
            for (uint16_t i = 0; i < inner.n; i++) drop(c, inner.m[i], Drop::local_unhandled);
            break;
        }
        timed(c, Stage::route, inner.n, [&] { route(c, s, inner, local, encap, fwd); });
        timed(c, Stage::local_in, local.n, [&] { local_in(c, s, local, gre, esp); });
        timed(c, Stage::esp_in, esp.n, [&] { esp_in(c, s, esp, inner); });
        timed(c, Stage::gre_decap, gre.n, [&] { gre_decap(c, s, gre, inner); });
    }
    timed(c, Stage::bridge, c.l2.n, [&] { bridge(c, s, c.l2); });  // bridged ports, gretap tunnels
    // Encapsulation last: fragmenting may make it spill `out` early (gre_encap.cpp).
    timed(c, Stage::forward, fwd.n, [&] { forward(c, s, fwd, out); });
    timed(c, Stage::gre_encap, encap.n, [&] { gre_encap(c, s, encap, out, seal); });
    timed(c, Stage::esp_out, seal.n, [&] { esp_out_into(c, s, seal, out); });
    timed(c, Stage::egress, out.n, [&] { egress(c, s, out); });
}

namespace {

// End of a pipeline run: send, and free what the reassembly table let go of (each burst,
// so its death row never fills).
void finish(WorkerCtx& c) noexcept {
    flush_sampled(c);
    if (c.frag) reassembly_collect(c, rte_rdtsc());
}

}  // namespace

void run_l3(WorkerCtx& c, const Snapshot& s, Vec& packets) noexcept {
    c.sampler.next(s.config.ops.stage_sample);
    pass_l3(c, s, packets);
    finish(c);
}

void run_eth(WorkerCtx& c, const Snapshot& s, Vec& frames) noexcept {
    Vec l3;
    c.sampler.next(s.config.ops.stage_sample);
    timed(c, Stage::ingress, frames.n, [&] { ingress(c, s, frames, l3); });
    pass_l3(c, s, l3);
    finish(c);
}

void run_entries(WorkerCtx& c, const Snapshot& s, rte_mbuf** pkts, uint16_t n) noexcept {
    Vec eth, l3, enc;
    for (uint16_t i = 0; i < n; i++) {
        rte_mbuf* m = pkts[i];
        PktMeta& md = meta(m);
        switch (md.entry) {
        case Entry::eth:
            eth.push(m);
            break;
        case Entry::l3:
            l3.push(m);
            break;
        case Entry::tx:
            if (md.out_port >= c.n_ports || !c.tx[md.out_port].push(m)) drop(c, m, Drop::tx_full);
            break;
        case Entry::encap:
            // Built by the slow path against one snapshot; a reload may have renumbered.
            if (md.gen != uint32_t(s.generation) || md.tunnel_in >= s.tunnels.size()) {
                drop(c, m, Drop::stale_inject);
            } else if (const Tunnel& t = s.tunnels[md.tunnel_in];
                       t.single_writer && t.owner != c.index && md.handed < max_handoffs) {
                md.handed++;
                if (!c.handoff[t.owner].push(m)) drop(c, m, Drop::handoff_ring_full);
            } else {
                enc.push(m, md.tunnel_in);
            }
            break;
        }
    }
    c.sampler.next(s.config.ops.stage_sample);
    if (eth.n) timed(c, Stage::ingress, eth.n, [&] { ingress(c, s, eth, l3); });
    pass_l3(c, s, l3);
    if (enc.n) {
        Vec out, seal;
        timed(c, Stage::gre_encap, enc.n, [&] { gre_encap(c, s, enc, out, seal); });
        timed(c, Stage::esp_out, seal.n, [&] { esp_out_into(c, s, seal, out); });
        timed(c, Stage::egress, out.n, [&] { egress(c, s, out); });
    }
    finish(c);
}

int worker_main(void* arg) {
    auto& w = *static_cast<Worker*>(arg);
    WorkerCtx& c = w.ctx;
    const unsigned tid = c.index;
    rte_rcu_qsbr_thread_register(w.qsbr, tid);
    rte_rcu_qsbr_thread_online(w.qsbr, tid);
    const uint64_t hz = rte_get_tsc_hz();
    const uint64_t backoff_tsc = hz / 1000000 * w.idle_backoff_us;
    uint64_t last_busy = rte_rdtsc();
    rte_mbuf* pkts[max_burst];

    while (!w.stop->load(std::memory_order_relaxed)) {
        const Snapshot& s = *w.snapshot->load(std::memory_order_acquire);
        const uint64_t t0 = rte_rdtsc();
        unsigned work = 0;
        for (uint16_t q = 0; q < w.n_rxq; q++) {
            const RxQueue& rq = w.rxq[q];
            uint16_t n = rte_eth_rx_burst(rq.port_id, rq.queue, pkts, max_burst);
            if (!n) continue;
            Vec v;
            for (uint16_t i = 0; i < n; i++) {
                PktMeta& md = meta(pkts[i]);
                md.tunnel_in = no_tunnel;
                md.in_port = rq.port_index;
                md.punt = Punt::none;
                md.entry = Entry::eth;
                md.handed = 0;
                md.sa = no_sa;
                v.push(pkts[i]);
            }
            run_eth(c, s, v);
            work += n;
        }
        if (c.inject) {
            uint16_t n = uint16_t(rte_ring_sc_dequeue_burst(c.inject, reinterpret_cast<void**>(pkts),
                                                            max_burst, nullptr));
            if (n) run_entries(c, s, pkts, n);
            work += n;
        }
        if (c.handoff_in) {
            uint16_t n = uint16_t(rte_ring_sc_dequeue_burst(
                c.handoff_in, reinterpret_cast<void**>(pkts), max_burst, nullptr));
            if (n) run_entries(c, s, pkts, n);
            work += n;
        }
        // Nothing from the snapshot is held past this point.
        rte_rcu_qsbr_quiescent(w.qsbr, tid);

        const uint64_t t1 = rte_rdtsc();
        bump(c.ctr->polls);
        if (work) {
            bump(c.ctr->busy_polls);
            bump(c.ctr->busy_cycles, t1 - t0);
            bump(c.ctr->pkts_processed, work);
            last_busy = t1;
        } else {
            // Fragments of datagrams that will never complete are let go even without traffic.
            if (c.frag) reassembly_collect(c, t1);
        }
        if (!work && backoff_tsc && t1 - last_busy > backoff_tsc) {
            // Idle: sleep so a lab does not burn a core. Offline first so a config publish
            // never waits for a sleeping worker.
            rte_rcu_qsbr_thread_offline(w.qsbr, tid);
            rte_delay_us_sleep(w.idle_backoff_us < 1000 ? w.idle_backoff_us : 1000);
            rte_rcu_qsbr_thread_online(w.qsbr, tid);
        }
    }
    rte_rcu_qsbr_thread_offline(w.qsbr, tid);
    rte_rcu_qsbr_thread_unregister(w.qsbr, tid);
    return 0;
}

}  // namespace tgw::dp
