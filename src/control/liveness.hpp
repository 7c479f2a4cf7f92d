// Tunnel liveness from Cisco-compatible GRE keepalives (the IOS `keepalive PERIOD RETRIES`
// model): every interval a keepalive is sent and counted as outstanding; a reflected one clears
// the count; more than `retries` outstanding means down. A down tunnel keeps being probed and
// is up again once replies have kept coming for `hold_down` seconds.
// Pure logic with time passed in, so it is tested without packets; the gateway sends the
// keepalives it asks for and republishes the snapshot when the down set changes.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/model.hpp"

namespace tgw::control {

struct LivenessEvent {
    std::string tunnel;
    bool up;          // the new state
    uint32_t misses;  // keepalives unanswered when it went down
};

class Liveness {
public:
    // Adopt a (new) configuration: tunnels that keep the same name keep their state.
    void configure(const config::Config& cfg, uint64_t now_ms);
    // Names of the tunnels whose keepalive is due; marks each as sent (outstanding).
    std::vector<std::string> due(uint64_t now_ms);
    void on_reply(const std::string& tunnel, uint64_t now_ms);
    // Applies timeouts and hold-downs; returns what changed since the last call.
    std::vector<LivenessEvent> update(uint64_t now_ms);
    const std::set<std::string>& down() const { return down_; }
    bool is_up(const std::string& tunnel) const { return !down_.count(tunnel); }

    struct State {
        config::Keepalive ka;
        uint64_t next_send_ms = 0;
        uint32_t outstanding = 0;
        bool up = true;                  // optimistic at start, as IOS
        uint64_t replies_since_ms = 0;   // down: first reply of the current run, 0 = none
        uint64_t sent = 0, received = 0, transitions = 0;
    };
    const std::map<std::string, State>& states() const { return st_; }

private:
    std::map<std::string, State> st_;
    std::set<std::string> down_;
};

}  // namespace tgw::control
