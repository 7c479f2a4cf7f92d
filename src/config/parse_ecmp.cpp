// ECMP groups and tunnel keepalives: the YAML side.
#include "config/parser.hpp"

namespace tgw::config::parsing {

Keepalive Parser::keepalive(const YAML::Node& n, const std::string& path) {
    Keepalive k;
    // `keepalive: true` takes the defaults (10 s, 3 retries), as `keepalive` does on IOS.
    if (n.IsScalar()) {
        k.enabled = boolean(n, path).value_or(false);
        return k;
    }
    static constexpr std::string_view keys[] = {"interval", "retries", "hold_down"};
    auto f = open_map(n, path, keys, "true/false or a keepalive map");
    if (!f.is_map) return k;
    k.enabled = true;
    if (auto* v = f.find("interval"))
        k.interval_s = uint32_t(integer(*v, at_key(path, "interval"), 1, 32767,
                                        "seconds between keepalives, from 1 to 32767")
                                    .value_or(k.interval_s));
    if (auto* v = f.find("retries"))
        k.retries = uint32_t(integer(*v, at_key(path, "retries"), 1, 255,
                                     "missed keepalives before the tunnel is down, from 1 to 255")
                                 .value_or(k.retries));
    if (auto* v = f.find("hold_down"))
        k.hold_down_s = uint32_t(integer(*v, at_key(path, "hold_down"), 0, 3600,
                                         "seconds of replies before the tunnel is up again, 0 to 3600")
                                     .value_or(k.hold_down_s));
    return k;
}

Group Parser::group(const YAML::Node& n, const std::string& path) {
    static constexpr std::string_view keys[] = {"name", "members"};
    static constexpr std::string_view member_keys[] = {"tunnel", "weight"};
    Group g;
    g.loc = r_.loc(path);
    auto f = open_map(n, path, keys, "a group");
    if (!f.is_map) return g;
    if (auto* v = require(f, path, "name", name_expected)) g.name = name(*v, at_key(path, "name"));
    const YAML::Node* mv = require(f, path, "members", "a list of 1 to 64 members");
    if (!mv) return g;
    std::string mp = at_key(path, "members");
    auto l = list(*mv, mp, "a list of 1 to 64 members ({tunnel: NAME, weight: N} or a tunnel name)");
    if (!l) return g;
    if (l->empty() || l->size() > max_group_members) {
        fail(mp, "expected 1 to 64 members, got " + std::to_string(l->size()));
        return g;
    }
    for (size_t i = 0; i < l->size(); i++) {
        const YAML::Node& e = (*l)[i];
        std::string ep = at_index(mp, i);
        place(e, ep, mv->Mark());
        GroupMember m;
        m.loc = r_.loc(ep);
        if (e.IsScalar()) {  // a bare tunnel name means weight 1
            m.tunnel = text(e, ep, "the name of a tunnel").value_or("");
        } else {
            auto mf = open_map(e, ep, member_keys, "a member ({tunnel: NAME, weight: N})");
            if (!mf.is_map) continue;
            if (auto* v = require(mf, ep, "tunnel", "the name of a tunnel"))
                m.tunnel = text(*v, at_key(ep, "tunnel"), "the name of a tunnel").value_or("");
            if (auto* v = mf.find("weight"))
                m.weight = uint32_t(integer(*v, at_key(ep, "weight"), 1, 1000).value_or(1));
        }
        g.members.push_back(std::move(m));
    }
    return g;
}

}  // namespace tgw::config::parsing
