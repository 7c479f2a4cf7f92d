#include "scenario.hpp"

#include "json.hpp"

namespace tgw::bench {

const Scenario* find_scenario(const std::string& name) noexcept {
    for (const Scenario& s : scenarios)
        if (name == s.name) return &s;
    return nullptr;
}

std::string scenarios_json() {
    Json j;
    j.begin_array();
    for (const Scenario& s : scenarios) {
        j.begin_object();
        j.kv("name", s.name).kv("summary", s.summary);
        j.kv("tx_port", s.tx_side == Side::a ? "a" : "b").kv("rx_port", s.tx_side == Side::a ? "b" : "a");
        j.kv("tx_format", format_name(s.tx_format)).kv("rx_format", format_name(s.rx_format));
        j.kv("gateway", s.gateway).kv("supported", s.supported);
        if (s.tx_format == Format::esp) j.kv("sealed", format_name(s.sealed));
        if (!s.supported) j.kv("reason", s.why_not);
        j.end_object();
    }
    j.end_array();
    return j.str();
}

}  // namespace tgw::bench
