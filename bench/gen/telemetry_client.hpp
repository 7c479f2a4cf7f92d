// Reads the gateway's worker counters over DPDK telemetry (/tunnelgw/stats on the socket
// /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2) between trials, so cycles per packet belong
// to one trial (the flood) instead of the average over a whole run. Optional: a gateway
// without the endpoint (or run with --no-telemetry) just yields no figure.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace tgw::bench {

struct WorkerCounters {
    uint64_t packets = 0;
    uint64_t busy_cycles = 0;
};

// One request on a fresh connection (the telemetry thread serves a few clients; we ask
// rarely). Never throws; nullopt when the socket or the endpoint is missing.
std::optional<WorkerCounters> read_gateway_stats(const std::string& socket_path);

}  // namespace tgw::bench
