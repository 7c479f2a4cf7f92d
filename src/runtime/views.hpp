// Plain copies of what operators look at, taken on the main thread (inside Gate::call) and
// formatted elsewhere: telemetry replies and the metrics page are built on their own threads
// from these, so the main thread only sums counters and copies names.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/model.hpp"
#include "dp/counters.hpp"
#include "dp/esp.hpp"

namespace tgw::runtime {

class Api;
struct Totals;

namespace view {

struct Port {
    std::string name, device, driver, mac, addresses;
    uint16_t port_id = 0, mtu = 0, rx_queues = 0, tx_queues = 0;
    bool link_up = false;
    uint32_t speed_mbps = 0;
    dp::PortCounters c{};  // what the workers counted
    // The NIC's own view (rte_eth_stats): packets it could not deliver to us.
    uint64_t hw_rx_missed = 0, hw_rx_errors = 0, hw_tx_errors = 0, hw_rx_nombuf = 0;
};

struct Tunnel {
    std::string name, local, remote, port, tos, df, addresses;
    std::string state;  // "up", "DOWN" (keepalives), "up (no keepalive)"
    std::optional<uint32_t> key;
    bool checksum = false, sequence = false;
    uint16_t ttl = 0, mtu = 0;
    uint16_t mss = 0;           // IPv4 MSS clamp, 0 = off (IPv6 is 20 less with auto)
    std::string fragmentation;  // inner, outer, off
    dp::TunnelCounters c{};
    // ESP protection (names only): "" / empty when the tunnel is not protected.
    bool is_protected = false;
    std::string sa_out, sa_in;  // sa_in: names separated by spaces
};

// An SA as operators see it: parameters and counters, never key material.
struct Sa {
    std::string name, direction, tunnel, mode, encryption, integrity, local, remote;
    std::string state;      // "ok", "soft-expired", "expired"
    uint8_t state_code = 0; // dp::SaLimit
    uint32_t spi = 0, replay_window = 0;
    bool esn = false, nat_t = false;
    uint64_t age_s = 0;     // since this SA's live state was created (survives reloads)
    config::SaLifetime soft, hard;
    dp::SaCounters c{};
};

// One fast-path stage's sampled cycles, summed over the workers.
struct Stage {
    std::string name;
    uint64_t calls = 0, packets = 0, cycles = 0;
    uint64_t cycles_per_packet() const { return packets ? (cycles + packets / 2) / packets : 0; }
};

struct Route {
    std::string prefix, target;
};

struct Neighbour {
    std::string port, address, mac, state;
};

struct Workers {
    unsigned count = 0;
    uint64_t packets = 0, busy_cycles = 0, polls = 0, busy_polls = 0, punted = 0, handed_off = 0;
    uint64_t tsc_hz = 0;
    uint64_t fragmented = 0, fragments = 0, reassembled = 0, mss_clamped = 0;
};

struct Info {
    std::string config_path, runtime_dir;
    uint64_t generation = 0;
    double uptime_s = 0;
    size_t ports = 0, tunnels = 0, routes = 0;
    unsigned workers = 0;
};

// A page of a list: rows [start, start + rows.size()) of total.
template <class T>
struct Page {
    uint64_t generation = 0;
    size_t total = 0, start = 0;
    std::vector<T> rows;
};

// Everything the metrics page shows, in one visit to the main thread.
struct All {
    Info info;
    std::vector<Port> ports;
    std::vector<Tunnel> tunnels;
    uint64_t drops[dp::drop_count] = {};
    Workers workers;
    std::vector<std::pair<std::string, uint64_t>> slowpath;
    std::vector<Sa> sas;
    std::vector<Stage> stages;
    uint32_t stage_sample = 0;  // operations.stage_sample in force
};

// Main thread only. `max` bounds the rows copied per visit.
Info info(Api& api);
Page<Port> ports(Api& api);
Page<Tunnel> tunnels(Api& api, size_t start, size_t max);
Page<Route> routes(Api& api, size_t start, size_t max);
Page<Neighbour> neighbours(Api& api, size_t start, size_t max);
All all(Api& api);
// views_esp.cpp
Page<Sa> sas(Api& api, size_t start, size_t max);
std::vector<Stage> stages(const Totals& t);

}  // namespace view
}  // namespace tgw::runtime
