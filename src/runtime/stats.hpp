// Summing the per-lcore counters (read side) and presenting them: a text report in the
// spirit of `ip -s link` for the NOC, and JSON for scripts and tests.
#pragma once
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "dp/counters.hpp"
#include "dp/snapshot.hpp"

namespace tgw::runtime {

// A named group of counters (a bridge domain, a bridge member), for the report and JSON.
struct Named {
    std::string name;
    std::vector<std::pair<std::string, uint64_t>> values;
};

struct Totals {
    std::vector<dp::PortCounters> ports;      // by port index
    std::vector<dp::TunnelCounters> tunnels;  // by snapshot tunnel index
    uint64_t drops[dp::drop_count] = {};
    uint64_t punted = 0, handed_off = 0;
    uint64_t polls = 0, busy_polls = 0, busy_cycles = 0, pkts = 0;
    uint64_t fragmented = 0, fragments = 0, reassembled = 0, mss_clamped = 0;
    dp::StageCycles stages[dp::stage_count] = {};  // sampled, see dp/profile.hpp
    std::vector<std::pair<std::string, uint64_t>> slowpath;  // named slow-path events
    std::vector<std::string> tunnel_state;                   // by tunnel index, may be empty
    std::vector<Named> bridges, bridge_members;              // runtime/bridge_views.cpp
};

Totals sum(const std::vector<const dp::LcoreCounters*>& lcores, const dp::Snapshot& s);

void print_report(FILE* f, const Totals& t, const dp::Snapshot& s, double uptime_s);
std::string to_json(const Totals& t, const dp::Snapshot& s, double uptime_s);

}  // namespace tgw::runtime
