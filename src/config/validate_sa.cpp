// Security associations across the file: unique names; which tunnel uses which SA, in which
// slot; ESP endpoints (taken from the tunnel when omitted); inbound SPI uniqueness; and the
// single inner family of an ipsec tunnel. Rules that need only the SA itself are in
// parse_sa.cpp. Key material is never part of a message.
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/detail.hpp"

namespace tgw::config::detail {

namespace {

std::string family(bool v4) { return v4 ? "IPv4" : "IPv6"; }
std::string family(const IpAddr& a) { return family(a.is_v4()); }
std::string direction(SaDirection d) { return d == SaDirection::In ? "in" : "out"; }

struct Use {
    size_t tunnel;
    std::string slot;  // path of the reference: tunnels[1].protection.in[0]
};

class SaRules {
public:
    SaRules(Config& c, Report& r) : c_(c), r_(r) {}
    void run() {
        index();
        gateway_addresses();
        uses();
        esp_endpoints();
        for (size_t k = 0; k < c_.sas.size(); k++) endpoints(k);
        spis();
        inner_families();
    }

private:
    Config& c_;
    Report& r_;
    std::unordered_map<std::string, size_t> by_name_;
    std::vector<std::string_view> names_;
    bool names_known_ = true;                    // every SA name parsed: "unknown" is not a guess
    std::vector<std::optional<Use>> use_;        // per SA
    std::vector<bool> local_known_;              // per SA: local is set (given, or from the tunnel)
    std::vector<std::optional<size_t>> out_sa_;  // per tunnel: its outbound SA
    // Per tunnel: the ESP endpoints its outbound tunnel-mode SA names, if it names them.
    std::vector<std::optional<IpAddr>> esp_local_, esp_remote_;
    std::map<IpAddr, std::string> port_addr_, gateway_addr_;  // -> "port \"wan\""
    bool port_addrs_known_ = true;

    static std::string sa_path(size_t k) { return at_index("security_associations", k); }
    std::string tunnel_desc(size_t i) const {
        return c_.tunnels[i].name.empty() ? at_index("tunnels", i)
                                          : "tunnel " + quoted(c_.tunnels[i].name);
    }

    void index();
    void gateway_addresses();
    void uses();
    void claim(size_t tunnel, const std::string& path, const std::string& name, SaDirection dir);
    void esp_endpoints();
    void endpoints(size_t k);
    void spis();
    void inner_families();
};

void SaRules::index() {
    if (!r_.ok("security_associations")) names_known_ = false;
    for (size_t k = 0; k < c_.sas.size(); k++) {
        std::string np = at_key(sa_path(k), "name");
        if (!r_.ok(np) || !r_.ok(sa_path(k))) {
            names_known_ = false;
            continue;
        }
        const std::string& n = c_.sas[k].name;
        if (auto [it, fresh] = by_name_.emplace(n, k); !fresh)
            r_.error(np, "duplicate security association name " + quoted(n) + "; " +
                             sa_path(it->second) + " already uses it");
        else
            names_.push_back(n);
    }
    use_.assign(c_.sas.size(), std::nullopt);
    local_known_.assign(c_.sas.size(), false);
    out_sa_.assign(c_.tunnels.size(), std::nullopt);
}

void SaRules::gateway_addresses() {
    if (!r_.ok("ports")) port_addrs_known_ = false;
    auto collect = [&](const std::vector<Prefix>& v, const std::string& item, std::string desc,
                       bool port) {
        std::string lp = at_key(item, "addresses");
        for (size_t j = 0; j < v.size(); j++) {
            if (!r_.ok(at_index(lp, j))) {
                if (port) port_addrs_known_ = false;
                continue;
            }
            gateway_addr_.emplace(v[j].addr, desc);
            if (port) port_addr_.emplace(v[j].addr, desc);
        }
    };
    for (size_t i = 0; i < c_.ports.size(); i++)
        collect(c_.ports[i].addresses, at_index("ports", i), "port " + quoted(c_.ports[i].name),
                true);
    for (size_t i = 0; i < c_.tunnels.size(); i++)
        collect(c_.tunnels[i].addresses, at_index("tunnels", i), tunnel_desc(i), false);
}

void SaRules::uses() {
    for (size_t i = 0; i < c_.tunnels.size(); i++) {
        const Tunnel& t = c_.tunnels[i];
        std::string pp = at_key(at_index("tunnels", i), "protection");
        if (!t.protection || !r_.ok(pp)) continue;
        if (r_.present(at_key(pp, "out")))
            claim(i, at_key(pp, "out"), t.protection->out, SaDirection::Out);
        for (size_t j = 0; j < t.protection->in.size(); j++)
            claim(i, at_index(at_key(pp, "in"), j), t.protection->in[j], SaDirection::In);
    }
}

// One SA, one tunnel, one slot: its sequence numbers and replay window are the state of one
// ESP flow between two endpoints (RFC 4303 §3.3.3, §3.4.3).
void SaRules::claim(size_t tunnel, const std::string& path, const std::string& name,
                    SaDirection dir) {
    if (!r_.ok(path)) return;
    auto it = by_name_.find(name);
    if (it == by_name_.end()) {
        if (!names_known_) return;
        std::string msg =
            "unknown security association " + quoted(name) + did_you_mean(name, names_);
        if (names_.size() <= 8)
            msg += "; security associations are: " +
                   (names_.empty() ? std::string("none") : join(names_));
        r_.error(path, msg);
        return;
    }
    const size_t k = it->second;
    const Sa& s = c_.sas[k];
    if (r_.ok(at_key(sa_path(k), "direction")) && s.direction != dir) {
        r_.error(path, "security association " + quoted(name) +
                           " has direction: " + direction(s.direction) + "; protection." +
                           direction(dir) + " needs one with direction: " + direction(dir));
        return;
    }
    if (use_[k]) {
        r_.error(path, "security association " + quoted(name) + " is already used by " +
                           use_[k]->slot + " (" + tunnel_desc(use_[k]->tunnel) +
                           "); an SA protects one tunnel, in one slot");
        return;
    }
    use_[k] = Use{tunnel, path};
    if (dir == SaDirection::Out) out_sa_[tunnel] = k;
}

// GRE over ESP in tunnel mode may put the ESP between addresses other than the GRE endpoints.
// Both directions of ESP then run between the same two addresses, so an SA that leaves its
// endpoints out takes those of the tunnel's outbound SA before the tunnel's own.
void SaRules::esp_endpoints() {
    esp_local_.assign(c_.tunnels.size(), std::nullopt);
    esp_remote_.assign(c_.tunnels.size(), std::nullopt);
    for (size_t i = 0; i < c_.tunnels.size(); i++) {
        if (!out_sa_[i]) continue;
        const Sa& o = c_.sas[*out_sa_[i]];
        const std::string base = sa_path(*out_sa_[i]);
        if (!r_.ok(at_key(base, "mode")) || o.mode != SaMode::Tunnel) continue;
        const std::string lp = at_key(base, "local"), rp = at_key(base, "remote");
        if (r_.present(lp) && r_.ok(lp)) esp_local_[i] = o.local;
        if (r_.present(rp) && r_.ok(rp)) esp_remote_[i] = o.remote;
    }
}

void SaRules::endpoints(size_t k) {
    Sa& s = c_.sas[k];
    const std::string base = sa_path(k);
    const std::string lp = at_key(base, "local"), rp = at_key(base, "remote");
    const bool l_given = r_.present(lp), r_given = r_.present(rp);
    bool l_ok = l_given && r_.ok(lp), r_ok = r_given && r_.ok(rp);
    // The address the ESP leaves from and arrives at, like a tunnel's local.
    if (l_ok && port_addrs_known_ && !port_addr_.count(s.local)) {
        auto g = gateway_addr_.find(s.local);
        std::string addrs;
        for (const auto& [a, who] : port_addr_) addrs += (addrs.empty() ? "" : ", ") + a.str();
        r_.error(lp,
                 s.local.str() +
                     (g != gateway_addr_.end() ? " is an inner address of " + g->second + ";"
                                               : " is not an address of any port;") +
                     " expected one of the ports' addresses: " + (addrs.empty() ? "none" : addrs));
        l_ok = false;
    }
    if (r_ok) {
        if (l_ok && s.local.is_v4() != s.remote.is_v4()) {
            r_.error(rp, "remote " + s.remote.str() + " is " + family(s.remote) + " but local " +
                             s.local.str() + " is " + family(s.local) +
                             "; both ends must be the same family");
            r_ok = false;
        } else if (auto g = gateway_addr_.find(s.remote); g != gateway_addr_.end()) {
            r_.error(rp, s.remote.str() + " is an address of this gateway, " + g->second +
                             "; expected the far end's address");
            r_ok = false;
        }
    }
    bool l_known = l_ok, r_known = r_ok;
    if (use_[k]) {
        const size_t ti = use_[k]->tunnel;
        const Tunnel& t = c_.tunnels[ti];
        const std::string tbase = at_index("tunnels", ti);
        const bool tl = r_.ok(at_key(tbase, "local")), tr = r_.ok(at_key(tbase, "remote"));
        const std::string mp = at_key(base, "mode");
        const bool transport = r_.ok(mp) && s.mode == SaMode::Transport;
        // Transport mode has no endpoints but the GRE packet's own.
        const auto& el = transport ? std::nullopt : esp_local_[ti];
        const auto& er = transport ? std::nullopt : esp_remote_[ti];
        if (!l_given && (el || tl)) s.local = el.value_or(t.local), l_known = true;
        if (!r_given && (er || tr)) s.remote = er.value_or(t.remote), r_known = true;
        const bool l_differs = l_ok && tl && s.local != t.local;
        const bool r_differs = r_ok && tr && s.remote != t.remote;
        if (t.type == TunnelType::Ipsec) {
            // The tunnel is nothing but the SA pair: its endpoints are the ESP endpoints.
            if (l_differs)
                r_.error(lp, "the SAs of ipsec " + tunnel_desc(ti) +
                                 " use its own endpoints: local must be " + t.local.str() +
                                 " or left out");
            if (r_differs)
                r_.error(rp, "the SAs of ipsec " + tunnel_desc(ti) +
                                 " use its own endpoints: remote must be " + t.remote.str() +
                                 " or left out");
            if (transport)
                r_.error(mp, "mode: transport is only for the SAs of GRE tunnels; ipsec " +
                                 tunnel_desc(ti) +
                                 " carries whole IP packets and needs mode: tunnel");
        } else if (transport && (l_differs || r_differs)) {
            r_.error(mp,
                     "mode: transport protects the GRE packet in place, so the SA's endpoints "
                     "must be " +
                         tunnel_desc(ti) + "'s own (local " + t.local.str() + ", remote " +
                         t.remote.str() + "); use mode: tunnel for other ESP endpoints");
        }
        // A given endpoint with the other one taken from the tunnel: the pair must still match.
        if (l_known && r_known && (l_given != r_given) && s.local.is_v4() != s.remote.is_v4()) {
            const std::string& at = l_given ? lp : rp;
            const IpAddr& given = l_given ? s.local : s.remote;
            r_.error(at, given.str() + " is " + family(given) + " but the SA's " +
                             (l_given ? "remote" : "local") + " (from " + tunnel_desc(ti) +
                             ") is " + family(!given.is_v4()) + "; give both local and remote");
            l_known = r_known = false;
        }
    }
    local_known_[k] = l_known;
    const std::string np = at_key(base, "nat_t");
    if (s.nat_t && r_.ok(np) && l_known && !s.local.is_v4())
        r_.error(np,
                 "nat_t (UDP encapsulation, RFC 3948) is defined for IPv4 only; this SA's "
                 "endpoints are IPv6" +
                     std::string(l_given ? "" : " (from " + tunnel_desc(use_[k]->tunnel) + ")"));
}

// RFC 4303 §2.1: an inbound packet is matched to its SA by SPI and destination address.
void SaRules::spis() {
    std::map<std::pair<uint32_t, IpAddr>, size_t> seen;
    for (size_t k = 0; k < c_.sas.size(); k++) {
        const Sa& s = c_.sas[k];
        const std::string sp = at_key(sa_path(k), "spi");
        if (!use_[k] || s.direction != SaDirection::In || !local_known_[k] || !r_.ok(sp) ||
            !r_.ok(at_key(sa_path(k), "direction")))
            continue;
        auto [it, fresh] = seen.emplace(std::pair(s.spi, s.local), k);
        if (!fresh)
            r_.error(sp, "SPI " + std::to_string(s.spi) + " on local " + s.local.str() +
                             " is already used by inbound " + sa_path(it->second) + " (" +
                             quoted(c_.sas[it->second].name) +
                             "); inbound ESP is matched by SPI and destination address (RFC 4303 "
                             "section 2.1), so give one of them another SPI");
    }
}

// rte_ipsec fixes the inner family of a tunnel-mode SA when it is created, so everything
// routed into one ipsec tunnel (directly, as a backup, through a group) and its own inner
// addresses must be of one family. GRE over IPsec has no such limit: the SA carries GRE.
void SaRules::inner_families() {
    std::unordered_map<std::string, size_t> ipsec_tunnel;
    for (size_t i = 0; i < c_.tunnels.size(); i++)
        if (c_.tunnels[i].type == TunnelType::Ipsec &&
            r_.ok(at_key(at_index("tunnels", i), "name")))
            ipsec_tunnel.emplace(c_.tunnels[i].name, i);
    if (ipsec_tunnel.empty()) return;
    std::unordered_map<std::string, std::vector<size_t>> group_ipsec;  // group -> ipsec members
    for (size_t g = 0; g < c_.groups.size(); g++) {
        if (!r_.ok(at_index("groups", g))) continue;
        auto& v = group_ipsec[c_.groups[g].name];
        for (const auto& m : c_.groups[g].members)
            if (auto it = ipsec_tunnel.find(m.tunnel); it != ipsec_tunnel.end())
                v.push_back(it->second);
    }
    struct Carried {
        bool v4;
        std::string by;
    };
    std::vector<std::optional<Carried>> carried(c_.tunnels.size());
    // False (and reported) when tunnel ti already carries the other family.
    auto carry = [&](size_t ti, bool v4, const std::string& path, const std::string& by,
                     const std::string& what) {
        if (!carried[ti]) carried[ti] = Carried{v4, by};
        if (carried[ti]->v4 == v4) return true;
        r_.error(path, what + " is " + family(v4) + ", but ipsec " + tunnel_desc(ti) +
                           " already carries " + family(!v4) + " (" + carried[ti]->by +
                           "); an ipsec tunnel carries one inner family, fixed in its SAs: use a "
                           "second ipsec tunnel for " +
                           family(v4));
        return false;
    };
    for (const auto& [name, ti] : ipsec_tunnel) {
        const std::string lp = at_key(at_index("tunnels", ti), "addresses");
        const auto& addrs = c_.tunnels[ti].addresses;
        for (size_t j = 0; j < addrs.size(); j++) {
            std::string ap = at_index(lp, j);
            if (r_.ok(ap) && !carry(ti, addrs[j].addr.is_v4(), ap, ap + ", " + addrs[j].str(),
                                    "address " + addrs[j].str()))
                break;
        }
    }
    for (size_t i = 0; i < c_.routes.size(); i++) {
        const Route& rt = c_.routes[i];
        const std::string base = at_index("routes", i), pp = at_key(base, "prefix");
        if (!r_.ok(base) || !r_.ok(pp) || !r_.ok(at_key(base, "kind"))) continue;
        std::vector<size_t> targets;
        auto add = [&](const std::string& name) {
            if (auto it = ipsec_tunnel.find(name); it != ipsec_tunnel.end())
                targets.push_back(it->second);
            else if (auto g = group_ipsec.find(name); g != group_ipsec.end())
                targets.insert(targets.end(), g->second.begin(), g->second.end());
        };
        if (rt.kind == RouteKind::Tunnel) add(rt.tunnel);
        if (rt.kind == RouteKind::Group) add(rt.group);
        if (!rt.backup.empty() && r_.ok(at_key(base, "backup"))) add(rt.backup);
        const bool v4 = rt.prefix.addr.is_v4();
        for (size_t ti : targets)
            if (!carry(ti, v4, pp, base + ", " + rt.prefix.str(), "prefix " + rt.prefix.str()))
                break;
    }
}

}  // namespace

void validate_sas(Config& cfg, Report& r) { SaRules(cfg, r).run(); }

}  // namespace tgw::config::detail
