// A worker lcore: polls its RX queues, the slow path's inject ring and its handoff ring,
// runs each burst through the stages, and reports an RCU quiescent state every loop.
#pragma once
#include <atomic>

#include "dp/context.hpp"
#include "dp/snapshot.hpp"

struct rte_rcu_qsbr;

namespace tgw::dp {

struct RxQueue {
    uint16_t port_index;
    uint16_t port_id;
    uint16_t queue;
};

struct Worker {
    WorkerCtx ctx;
    RxQueue rxq[config::max_ports];
    uint16_t n_rxq = 0;
    const std::atomic<const Snapshot*>* snapshot = nullptr;
    rte_rcu_qsbr* qsbr = nullptr;
    const std::atomic<bool>* stop = nullptr;
    uint32_t idle_backoff_us = 0;  // 0 = busy poll
};

// rte_eal_remote_launch entry point; arg is a Worker*.
int worker_main(void* arg);

// One pipeline run over at most max_burst packets, then flush. Used by the loop and by tests.
void run_eth(WorkerCtx& c, const Snapshot& s, Vec& frames) noexcept;
void run_l3(WorkerCtx& c, const Snapshot& s, Vec& packets) noexcept;
// The L3 pipeline without the final flush: packets end in c.tx / c.punted / c.handoff.
// Tests and benchmarks drive it directly.
void pass_l3(WorkerCtx& c, const Snapshot& s, Vec& l3) noexcept;
// Packets from the inject or handoff rings, each entering where its meta says.
void run_entries(WorkerCtx& c, const Snapshot& s, rte_mbuf** pkts, uint16_t n) noexcept;

}  // namespace tgw::dp
