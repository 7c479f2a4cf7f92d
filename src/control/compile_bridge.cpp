#include "control/compile_bridge.hpp"

#include "dp/bridge.hpp"

namespace tgw::control {

void compile_bridges(const config::Config& cfg, dp::Snapshot& s, std::vector<config::Diag>& errors) {
    if (cfg.bridge_domains.empty()) return;
    auto t = std::make_unique<dp::BridgeTables>();
    t->tunnel_member.assign(s.tunnels.size(), dp::no_member);
    auto port_index = [&](const std::string& n) -> int {
        for (size_t i = 0; i < s.ports.size(); i++)
            if (s.ports[i].name == n) return int(i);
        return -1;
    };
    auto tunnel_index = [&](const std::string& n) -> int {
        for (size_t i = 0; i < s.tunnels.size(); i++)
            if (s.tunnels[i].name == n) return int(i);
        return -1;
    };
    for (size_t di = 0; di < cfg.bridge_domains.size(); di++) {
        const config::BridgeDomain& c = cfg.bridge_domains[di];
        dp::Bd d;
        d.first = uint16_t(t->members.size());
        d.n = uint16_t(c.members.size());
        d.p2p = c.mode == config::BridgeMode::PointToPoint;
        d.ageing_s = c.mac_ageing_s;
        d.mac_limit = c.mac_limit;
        d.flood_pps = c.flood_limit_pps;
        d.name = c.name;
        // Entries name members by index: anything that renumbers them must start a new epoch.
        t->signature += c.name + (d.p2p ? "/p2p" : "/learn") + "{";
        for (auto& m : c.members) {
            dp::BdMember bm;
            bm.bd = uint16_t(di);
            const uint16_t idx = uint16_t(t->members.size());
            if (!m.tunnel.empty()) {
                int ti = tunnel_index(m.tunnel);
                if (ti < 0) {
                    errors.push_back({m.loc, "bridge member: unknown tunnel \"" + m.tunnel + "\""});
                    return;
                }
                bm.kind = dp::BdMember::Kind::tunnel;
                bm.tunnel = uint32_t(ti);
                bm.name = m.tunnel;
                t->tunnel_member[ti] = idx;
            } else {
                int pi = port_index(m.port);
                if (pi < 0) {
                    errors.push_back({m.loc, "bridge member: unknown port \"" + m.port + "\""});
                    return;
                }
                bm.port = uint16_t(pi);
                bm.vlan = m.vlan.value_or(0);
                bm.name = m.port + (m.vlan ? "." + std::to_string(*m.vlan) : "");
                if (bm.vlan) {
                    auto& vm = t->vlan_member[pi];
                    if (vm.empty()) vm.assign(4096, dp::no_member);
                    vm[bm.vlan] = idx;
                } else {
                    t->port_member[pi] = idx;
                }
            }
            t->signature += bm.name + ",";
            t->members.push_back(std::move(bm));
        }
        t->signature += "}";
        t->domains.push_back(std::move(d));
    }
    s.l2 = std::move(t);
}

}  // namespace tgw::control
