// What operator interfaces (telemetry endpoints, the metrics server, tunnelgw-ctl behind them)
// may ask of the running gateway. Every method must be called on the main thread, i.e. from
// inside ControlQueue::call(); the references returned are valid until that call returns.
#pragma once
#include <string>
#include <vector>

#include "config/model.hpp"
#include "dp/mac_table.hpp"
#include "dp/neigh.hpp"
#include "dp/snapshot.hpp"
#include "runtime/control_queue.hpp"
#include "runtime/stats.hpp"

namespace tgw::runtime {

struct PortSetup;

class Api {
public:
    virtual ~Api() = default;
    virtual const dp::Snapshot& snapshot() const = 0;
    virtual Totals totals() = 0;                       // per-lcore counters summed now
    virtual const dp::NeighTable& neighbours() const = 0;
    virtual const std::vector<PortSetup>& ports() const = 0;
    virtual const dp::MacTable* macs() const { return nullptr; }  // bridge domains' MAC table
    virtual double uptime() const = 0;                 // seconds
    virtual const std::string& config_path() const = 0;
    // Reload the config file: empty result = applied; else every error, old config kept.
    virtual std::vector<config::Diag> reload() = 0;
};

}  // namespace tgw::runtime
