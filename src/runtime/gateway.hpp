// The running gateway: EAL, ports, rings, workers, the slow path, and config publication.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "config/model.hpp"

namespace tgw::runtime {

struct RunOptions {
    std::string config_path;
    std::vector<std::string> eal_extra;  // after `--` on the command line
    std::string log_level;               // overrides config log_level when set
    uint32_t exit_idle_ms = 0;           // exit after this long without packets (tests)
    double run_for_s = 0;                // exit after this long (tests, benchmarks)
    std::string stats_json;              // final counters as JSON, at exit
    int stats_interval_s = -1;           // overrides config stats_interval when >= 0
    int idle_backoff_us = -1;            // overrides config idle_backoff_us when >= 0
};

// Runs until SIGINT/SIGTERM (or an exit option). SIGHUP reloads the config file.
// Returns the process exit status; startup failures print one clear line and return 1.
int run(const RunOptions& opt, config::Config cfg);

// --which-tunnel: compile the config in a private EAL without devices and answer the query.
int which_offline(const config::Config& cfg, const std::string& flow);

// The EAL argv the gateway would use (exposed for tests).
std::vector<std::string> eal_args(const RunOptions& opt, const config::Config& cfg);

}  // namespace tgw::runtime
