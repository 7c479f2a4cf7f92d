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

// A bridge domain ("domain") or one of its members ("port", "vlan", "tunnel"), with the
// counters that apply (the others are 0): one table for `tunnelgw-ctl bridges`.
struct BridgeRow {
    std::string name, kind;
    uint64_t rx_pkts = 0, rx_bytes = 0, tx_pkts = 0, tx_bytes = 0;
    uint64_t forwarded = 0, flooded = 0, unknown_unicast = 0, learn_events = 0, macs = 0;
};
Page<BridgeRow> bridges(Api& api, size_t start, size_t max);

}  // namespace view
}  // namespace tgw::runtime
