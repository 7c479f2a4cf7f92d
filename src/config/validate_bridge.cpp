// Bridge domains: members name existing ports and gretap tunnels; each port (or port VLAN) and
// each gretap tunnel is in at most one domain; a whole bridged port has no L3 use.
#include <map>
#include <string>
#include <unordered_map>

#include "config/detail.hpp"

namespace tgw::config::detail {

void validate_bridges(const Config& c, Report& r) {
    std::unordered_map<std::string, size_t> ports, tunnels, domains;
    for (size_t i = 0; i < c.ports.size(); i++) ports.emplace(c.ports[i].name, i);
    for (size_t i = 0; i < c.tunnels.size(); i++) tunnels.emplace(c.tunnels[i].name, i);
    // (port, vlan or 0 for the whole port) -> where it is a member; tunnel -> where.
    std::map<std::pair<std::string, uint16_t>, std::string> port_use;
    std::unordered_map<std::string, std::string> tunnel_use;
    size_t total = 0;
    uint64_t macs = 0;
    for (size_t i = 0; i < c.bridge_domains.size(); i++) {
        const BridgeDomain& d = c.bridge_domains[i];
        std::string base = at_index("bridge_domains", i);
        if (!r.ok(base)) continue;
        std::string np = at_key(base, "name");
        if (r.ok(np)) {
            if (auto [it, fresh] = domains.emplace(d.name, i); !fresh)
                r.error(np, "duplicate bridge domain name " + quoted(d.name) + "; " +
                                at_index("bridge_domains", it->second) + " already uses it");
        }
        macs += d.mac_limit;
        total += d.members.size();
        std::string mp = at_key(base, "members");
        if (r.ok(mp) && d.members.size() < 2)
            r.error(mp, "a bridge domain needs at least 2 members, got " + std::to_string(d.members.size()));
        if (d.mode == BridgeMode::PointToPoint && r.ok(mp) && d.members.size() != 2)
            r.error(r.present(at_key(base, "mode")) ? at_key(base, "mode") : mp,
                    "mode point-to-point joins exactly 2 members (a pseudowire), got " +
                        std::to_string(d.members.size()));
        for (size_t j = 0; j < d.members.size(); j++) {
            const BridgeMember& m = d.members[j];
            std::string ep = at_index(mp, j);
            if (!r.ok(ep)) continue;
            std::string where = base + " (" + d.name + ")";
            if (!m.port.empty()) {
                std::string pp = at_key(ep, "port");
                if (!r.ok(pp)) continue;
                auto it = ports.find(m.port);
                if (it == ports.end()) {
                    r.error(pp, "unknown port " + quoted(m.port));
                    continue;
                }
                const Port& p = c.ports[it->second];
                uint16_t vid = m.vlan.value_or(0);
                if (!m.vlan && !p.addresses.empty())
                    r.error(pp, "port " + quoted(m.port) +
                                    " has addresses, so it carries L3 traffic; bridge one of its "
                                    "VLANs (add vlan: ID) or remove its addresses");
                auto [u, fresh] = port_use.emplace(std::pair(m.port, vid), where);
                if (!fresh)
                    r.error(ep, std::string(vid ? "VLAN " + std::to_string(vid) + " of port "
                                                : "port ") +
                                    quoted(m.port) + " is already a member of " + u->second);
            } else if (!m.tunnel.empty()) {
                std::string tp = at_key(ep, "tunnel");
                if (!r.ok(tp)) continue;
                auto it = tunnels.find(m.tunnel);
                if (it == tunnels.end()) {
                    r.error(tp, "unknown tunnel " + quoted(m.tunnel));
                    continue;
                }
                const Tunnel& t = c.tunnels[it->second];
                if (t.type != TunnelType::Gretap)
                    r.error(tp, "tunnel " + quoted(m.tunnel) +
                                    " is not a gretap tunnel; give it type: gretap to bridge it");
                auto [u, fresh] = tunnel_use.emplace(m.tunnel, where);
                if (!fresh)
                    r.error(tp, "tunnel " + quoted(m.tunnel) + " is already a member of " + u->second);
            }
        }
    }
    if (total > max_bridge_members)
        r.error("bridge_domains", "at most " + std::to_string(max_bridge_members) +
                                      " members over all bridge domains, got " + std::to_string(total));
    if (macs > max_bridge_macs)
        r.error("bridge_domains", "the mac_limit values add up to " + std::to_string(macs) +
                                      "; at most " + std::to_string(max_bridge_macs) + " in all");
    // A gretap tunnel carries frames of its domain only: addresses and routes would be L3 use.
    for (size_t i = 0; i < c.tunnels.size(); i++) {
        const Tunnel& t = c.tunnels[i];
        if (t.type != TunnelType::Gretap) continue;
        std::string base = at_index("tunnels", i);
        if (!t.addresses.empty())
            r.error(at_key(base, "addresses"),
                    "a gretap tunnel carries Ethernet frames of its bridge domain; it has no "
                    "addresses of its own");
        if (t.keepalive.enabled)
            r.error(at_key(base, "keepalive"), "keepalives apply only to type: gre tunnels");
        if (!tunnel_use.count(t.name) && r.ok(at_key(base, "name")))
            r.error(at_key(base, "type"), "gretap tunnel " + quoted(t.name) +
                                              " is in no bridge domain; add it to bridge_domains");
    }
    for (size_t i = 0; i < c.routes.size(); i++) {
        const Route& rt = c.routes[i];
        if (rt.kind != RouteKind::Tunnel) continue;
        auto it = tunnels.find(rt.tunnel);
        if (it != tunnels.end() && c.tunnels[it->second].type == TunnelType::Gretap)
            r.error(at_key(at_index("routes", i), "tunnel"),
                    "tunnel " + quoted(rt.tunnel) + " is a gretap tunnel; it bridges frames and "
                    "cannot be a route's target");
    }
    for (size_t i = 0; i < c.groups.size(); i++)
        for (size_t j = 0; j < c.groups[i].members.size(); j++) {
            auto it = tunnels.find(c.groups[i].members[j].tunnel);
            if (it != tunnels.end() && c.tunnels[it->second].type == TunnelType::Gretap)
                r.error(at_index(at_key(at_index("groups", i), "members"), j),
                        "tunnel " + quoted(c.groups[i].members[j].tunnel) +
                            " is a gretap tunnel and cannot be an ECMP group member");
        }
}

}  // namespace tgw::config::detail
