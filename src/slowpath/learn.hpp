// The MAC learner: the one writer of the bridge domains' MAC table (see dp/mac_table.hpp for
// why). Runs on the slow path thread: drains the workers' learn rings, writes the table, ages
// entries once a second and gives deleted key slots back after their RCU grace period.
#pragma once
#include <rte_ring.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dp/bridge.hpp"
#include "dp/counters.hpp"
#include "dp/mac_table.hpp"
#include "dp/snapshot.hpp"

namespace tgw::slowpath {

struct LearnCounters {
    uint64_t added, moved, refreshed, aged, stale, table_full;
};

class Learner {
public:
    static constexpr unsigned burst = 64;  // events per ring per poll

    Learner(dp::MacTable& table, std::vector<rte_ring*> rings, dp::LcoreCounters* ctr, uint64_t hz)
        : t_(table), rings_(std::move(rings)), ctr_(ctr), hz_(hz) {}

    // Before a snapshot is published: gives it the L2 epoch. A changed set of domains or
    // members gets a new epoch, which makes every older entry stale at once.
    void prepare(dp::BridgeTables& next) noexcept;
    // Drains the rings, then ages and reclaims when due. Returns events handled.
    unsigned poll(const dp::Snapshot& s, uint64_t now_tsc) noexcept;
    // One event (poll calls it; tests too).
    void learn(const dp::Snapshot& s, const dp::LearnEvent& ev, uint32_t now_s) noexcept;
    void age(const dp::Snapshot& s, uint32_t now_s) noexcept;

    const LearnCounters& counters() const noexcept { return lc_; }

private:
    dp::MacTable& t_;
    std::vector<rte_ring*> rings_;
    dp::LcoreCounters* ctr_;
    uint64_t hz_;
    uint16_t epoch_ = 1;
    std::string signature_;
    uint64_t next_age_tsc_ = 0;
    LearnCounters lc_{};
};

}  // namespace tgw::slowpath
