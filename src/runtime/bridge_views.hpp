// Bridge domains for operators: counters summed over the workers, and the MAC table.
#pragma once
#include <string>
#include <vector>

#include "dp/mac_table.hpp"
#include "dp/snapshot.hpp"
#include "dp/worker.hpp"
#include "runtime/stats.hpp"
#include "runtime/views.hpp"
#include "slowpath/learn.hpp"

namespace tgw::runtime {

// Main thread: adds per-domain and per-member counters and the learner's events to t.
void bridge_totals(Totals& t, const std::vector<dp::Worker*>& workers, const dp::Snapshot& s,
                   const slowpath::LearnCounters& lc, const dp::MacTable* macs);

namespace view {

struct Mac {
    std::string domain, mac, member;
    uint64_t age_s = 0;
};

// Main thread (the learner writes the table there too, so pages are consistent).
Page<Mac> macs(Api& api, size_t start, size_t max);

}  // namespace view
}  // namespace tgw::runtime
