// A worker's private context and the burst vectors that carry packets between stages.
// Everything here is written by exactly one lcore (its owner), except the rings.
#pragma once
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>

#include "config/model.hpp"
#include "dp/counters.hpp"
#include "dp/meta.hpp"

namespace tgw::dp {

class NeighTable;
struct Snapshot;
struct FragState;
struct BridgeCtx;

inline constexpr uint16_t max_burst = 32;

// A sub-burst with one aux word per packet (a next-hop or tunnel index). A pipeline run
// starts from at most max_burst packets and each packet is in one vector at a time, so a
// vector can never overflow; push() still refuses rather than corrupt memory.
struct Vec {
    rte_mbuf* m[max_burst];
    uint32_t aux[max_burst];
    uint16_t n = 0;
    bool push(rte_mbuf* p, uint32_t a = 0) noexcept {
        if (n == max_burst) return false;
        m[n] = p;
        aux[n++] = a;
        return true;
    }
};

// Per-tunnel mutable state (GRE sequence numbers), indexed by the tunnel's slot. Written only
// by the tunnel's owner worker. `epoch` tells the owner that the slot was given to a new tunnel
// by a reload, so it resets the state itself (control never writes here: one writer).
struct alignas(64) TunnelState {
    uint32_t epoch;
    uint32_t tx_seq;   // next sequence number to send; RFC 2890 §2.2: the first is 0
    uint32_t rx_next;  // lowest acceptable received sequence number
    uint8_t rx_seen;
};

struct WorkerCtx {
    unsigned index = 0;     // 0..n_workers-1; also this worker's TX queue on every port
    unsigned n_workers = 1;
    LcoreCounters* ctr = nullptr;
    NeighTable* neigh = nullptr;
    TunnelState* tstate = nullptr;
    rte_ring* punt = nullptr;             // to the slow path (SP/SC)
    rte_ring* inject = nullptr;           // from the slow path (SP/SC)
    rte_ring* handoff_in = nullptr;       // from other workers (MP/SC)
    rte_ring* const* handoff_out = nullptr;  // indexed by worker
    FragState* frag = nullptr;               // dp/frag.hpp; null = no (re)fragmentation
    uint16_t port_ids[config::max_ports] = {};  // port index -> DPDK port id
    uint16_t n_ports = 0;
    uint16_t ip_id = 0;
    StageSampler sampler;  // per-stage cycle sampling (dp/profile.hpp)

    // Per-run output buffers, flushed at the end of each pipeline run.
    Vec tx[config::max_ports];
    Vec punted;
    Vec l2;                    // frames for the bridge stage (from ingress and gre_decap)
    BridgeCtx* br = nullptr;   // bridge counters, flood buckets, learn ring (dp/bridge.hpp)
    Vec handoff[config::max_workers];
};

inline void drop(WorkerCtx& c, rte_mbuf* m, Drop why) noexcept {
    bump(c.ctr->drops[unsigned(why)]);
    rte_pktmbuf_free(m);
}

inline void punt(WorkerCtx& c, rte_mbuf* m, Punt why) noexcept {
    meta(m).punt = why;
    if (!c.punted.push(m)) drop(c, m, Drop::punt_ring_full);
}

}  // namespace tgw::dp
