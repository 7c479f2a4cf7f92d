// ECMP groups: every member a known tunnel, once; every group and backup a route names exists.
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "config/detail.hpp"

namespace tgw::config::detail {

void validate_groups(const Config& c, Report& r) {
    std::unordered_map<std::string, size_t> tunnels, groups;
    std::vector<std::string_view> tunnel_names, group_names;
    // A name that failed to parse makes "unknown" a guess: then say nothing about names.
    bool tunnels_known = r.ok("tunnels"), groups_known = r.ok("groups");
    for (size_t i = 0; i < c.tunnels.size(); i++) {
        if (!r.ok(at_key(at_index("tunnels", i), "name"))) tunnels_known = false;
        tunnels.emplace(c.tunnels[i].name, i);
        tunnel_names.push_back(c.tunnels[i].name);
    }
    for (size_t i = 0; i < c.groups.size(); i++) {
        std::string base = at_index("groups", i), np = at_key(base, "name");
        const Group& g = c.groups[i];
        if (!r.ok(np) || !r.ok(base)) {
            groups_known = false;
            continue;
        }
        if (auto [it, fresh] = groups.emplace(g.name, i); !fresh)
            r.error(np, "duplicate group name " + quoted(g.name) + "; " +
                            at_index("groups", it->second) + " already uses it");
        else if (tunnels.count(g.name))
            r.error(np, "group name " + quoted(g.name) +
                            " is also a tunnel's name; routes name either, so they must differ");
        group_names.push_back(g.name);
    }
    for (size_t i = 0; i < c.groups.size(); i++) {
        const Group& g = c.groups[i];
        std::string mp = at_key(at_index("groups", i), "members");
        std::unordered_set<std::string> seen;
        for (size_t j = 0; j < g.members.size(); j++) {
            std::string ep = at_index(mp, j);
            std::string tp = r.present(at_key(ep, "tunnel")) ? at_key(ep, "tunnel") : ep;
            if (!r.ok(tp) || !r.ok(ep)) continue;
            const std::string& t = g.members[j].tunnel;
            if (!tunnels.count(t)) {
                if (tunnels_known)
                    r.error(tp, "unknown tunnel " + quoted(t) + did_you_mean(t, tunnel_names));
            } else if (!seen.insert(t).second) {
                r.error(tp, "tunnel " + quoted(t) + " is listed twice in this group; use weight instead");
            }
        }
    }
    for (size_t i = 0; i < c.routes.size(); i++) {
        const Route& rt = c.routes[i];
        std::string base = at_index("routes", i);
        std::string gp = at_key(base, "group"), bp = at_key(base, "backup");
        if (r.present(gp) && r.ok(gp) && !groups.count(rt.group) && groups_known)
            r.error(gp, "unknown group " + quoted(rt.group) + did_you_mean(rt.group, group_names));
        if (r.present(bp) && r.ok(bp) && !rt.backup.empty()) {
            bool is_group = groups.count(rt.backup), is_tunnel = tunnels.count(rt.backup);
            if (!is_group && !is_tunnel && groups_known && tunnels_known)
                r.error(bp, "unknown group or tunnel " + quoted(rt.backup));
            else if (rt.backup == rt.group || rt.backup == rt.tunnel)
                r.error(bp, "the backup is the primary itself; name another group or tunnel");
        }
    }
}

}  // namespace tgw::config::detail
