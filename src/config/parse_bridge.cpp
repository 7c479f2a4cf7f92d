// Bridge domains (Layer 2 over gretap): the YAML side. Cross-item rules (members exist, a
// port is bridged once, point-to-point has two members) are in validate_bridge.cpp.
#include "config/parser.hpp"

namespace tgw::config::parsing {

BridgeDomain Parser::bridge_domain(const YAML::Node& n, const std::string& path) {
    static constexpr std::string_view keys[] = {"name",      "members",         "mac_ageing",
                                                "mac_limit", "flood_limit_pps", "mode"};
    static constexpr std::string_view member_keys[] = {"port", "vlan", "tunnel"};
    static constexpr std::string_view modes[] = {"learning", "point-to-point"};
    BridgeDomain d;
    d.loc = r_.loc(path);
    auto f = open_map(n, path, keys, "a bridge domain");
    if (!f.is_map) return d;
    if (auto* v = require(f, path, "name", name_expected)) d.name = name(*v, at_key(path, "name"));
    if (auto* v = f.find("mac_ageing"))
        d.mac_ageing_s = uint32_t(integer(*v, at_key(path, "mac_ageing"), 1, 1000000,
                                          "seconds from 1 to 1000000")
                                      .value_or(d.mac_ageing_s));
    if (auto* v = f.find("mac_limit"))
        d.mac_limit = uint32_t(integer(*v, at_key(path, "mac_limit"), 1, max_bridge_macs)
                                   .value_or(d.mac_limit));
    if (auto* v = f.find("flood_limit_pps"))
        d.flood_limit_pps =
            uint32_t(integer(*v, at_key(path, "flood_limit_pps"), 0, 100000000,
                             "frames per second from 0 (no limit) to 100000000")
                         .value_or(d.flood_limit_pps));
    if (auto* v = f.find("mode")) {
        if (auto i = choice(*v, at_key(path, "mode"), modes)) d.mode = BridgeMode(*i);
    }
    const YAML::Node* mv = require(f, path, "members", "a list of ports and gretap tunnels");
    if (!mv) return d;
    std::string mp = at_key(path, "members");
    auto l = list(*mv, mp, "members ({port: NAME[, vlan: ID]} or {tunnel: NAME})");
    if (!l) return d;
    for (size_t i = 0; i < l->size(); i++) {
        std::string ep = at_index(mp, i);
        BridgeMember m;
        m.loc = r_.loc(ep);
        auto mf = open_map((*l)[i], ep, member_keys, "a member ({port: NAME[, vlan: ID]} or {tunnel: NAME})");
        if (!mf.is_map) {
            d.members.push_back(std::move(m));
            continue;
        }
        const YAML::Node* pv = mf.find("port");
        const YAML::Node* tv = mf.find("tunnel");
        if (!pv == !tv) {
            fail(ep, "expected exactly one of port or tunnel in a member");
        } else if (pv) {
            m.port = text(*pv, at_key(ep, "port"), "the name of a port").value_or("");
        } else {
            m.tunnel = text(*tv, at_key(ep, "tunnel"), "the name of a gretap tunnel").value_or("");
        }
        if (auto* v = mf.find("vlan")) {
            std::string vp = at_key(ep, "vlan");
            // 0 means "priority tag only" and 4095 is reserved (IEEE 802.1Q §9.6).
            if (auto id = integer(*v, vp, 1, 4094, "a VLAN id from 1 to 4094")) m.vlan = uint16_t(*id);
            if (tv) fail(vp, "vlan applies only to a port member; a tunnel carries whole frames");
        }
        d.members.push_back(std::move(m));
    }
    return d;
}

}  // namespace tgw::config::parsing
