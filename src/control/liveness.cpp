#include "control/liveness.hpp"

namespace tgw::control {

void Liveness::configure(const config::Config& cfg, uint64_t now_ms) {
    std::map<std::string, State> next;
    for (auto& t : cfg.tunnels) {
        if (!t.keepalive.enabled) continue;
        State s;
        if (auto it = st_.find(t.name); it != st_.end()) s = it->second;
        else s.next_send_ms = now_ms;  // probe a new tunnel at once
        s.ka = t.keepalive;
        next.emplace(t.name, s);
    }
    st_ = std::move(next);
    std::set<std::string> d;
    for (auto& [name, s] : st_)
        if (!s.up) d.insert(name);
    down_ = std::move(d);  // a tunnel that lost its keepalive (or left the config) is up
}

std::vector<std::string> Liveness::due(uint64_t now_ms) {
    std::vector<std::string> out;
    for (auto& [name, s] : st_) {
        if (now_ms < s.next_send_ms) continue;
        s.next_send_ms = now_ms + uint64_t(s.ka.interval_s) * 1000;
        s.outstanding++;
        s.sent++;
        out.push_back(name);
    }
    return out;
}

void Liveness::on_reply(const std::string& tunnel, uint64_t now_ms) {
    auto it = st_.find(tunnel);
    if (it == st_.end()) return;
    State& s = it->second;
    s.outstanding = 0;
    s.received++;
    if (!s.up && !s.replies_since_ms) s.replies_since_ms = now_ms ? now_ms : 1;
}

std::vector<LivenessEvent> Liveness::update(uint64_t now_ms) {
    std::vector<LivenessEvent> ev;
    for (auto& [name, s] : st_) {
        if (s.up && s.outstanding > s.ka.retries) {
            s.up = false;
            s.replies_since_ms = 0;
            s.transitions++;
            down_.insert(name);
            ev.push_back({name, false, s.outstanding});
        } else if (!s.up) {
            // A miss while holding down restarts the hold-down.
            if (s.outstanding > 1) s.replies_since_ms = 0;
            if (s.replies_since_ms && now_ms >= s.replies_since_ms + uint64_t(s.ka.hold_down_s) * 1000) {
                s.up = true;
                s.outstanding = 0;
                s.transitions++;
                down_.erase(name);
                ev.push_back({name, true, 0});
            }
        }
    }
    return ev;
}

}  // namespace tgw::control
