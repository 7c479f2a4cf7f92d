// "Which tunnel would this flow take?" answered from a snapshot with the fast path's own FIB
// and flow hash, so the answer is what the workers do, not a re-implementation.
#pragma once
#include <optional>
#include <string>

#include "dp/snapshot.hpp"

namespace tgw::control {

struct FlowQuery {
    IpAddr src, dst;
    uint8_t proto = 17;
    uint16_t sport = 0, dport = 0;
};

// "SRC DST [PROTO [SPORT DPORT]]", PROTO = tcp|udp|icmp|icmpv6|sctp|number. Error text on failure.
std::optional<FlowQuery> parse_flow(const std::string& text, std::string& error);

struct FlowAnswer {
    std::string verdict;  // tunnel | group | port | local | blackhole | no-route | down
    std::string tunnel;   // the chosen tunnel, for tunnel and group
    std::string group;
    std::string text;     // one line for people
};

FlowAnswer which_tunnel(const dp::Snapshot& s, const FlowQuery& q);

}  // namespace tgw::control
