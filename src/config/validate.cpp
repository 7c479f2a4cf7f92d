// The networking rules: what a single name, device or address may be, and then the rules that
// relate values to each other: names and references, who owns which address,
// overlapping subnets, reachability of tunnel endpoints over the underlay, MTU budgets.
// Each rule skips values the parser already rejected (Report::ok) and gives up on "is it
// missing?" questions when the set it searches is incomplete, so a finding here is never the
// echo of an earlier one.
#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <numeric>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "config/detail.hpp"

namespace tgw::config::detail {

// ---- rules for one value ----------------------------------------------------------------------

bool valid_name(std::string_view s) {
    return !s.empty() && s.size() <= 15 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
}

namespace {

bool all_hex(std::string_view s, size_t n) {
    return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c)) != 0;
           });
}

}  // namespace

// DDDD:BB:DD.F or BB:DD.F, as rte_pci_addr_parse accepts them.
bool valid_pci(std::string_view s) {
    if (s.size() == 12) {
        if (!all_hex(s.substr(0, 4), 4) || s[4] != ':') return false;
        s.remove_prefix(5);
    }
    if (s.size() != 7 || !all_hex(s.substr(0, 2), 2) || s[2] != ':' ||
        !all_hex(s.substr(3, 2), 2) || s[5] != '.' || s[6] < '0' || s[6] > '7')
        return false;
    return s[3] == '0' || s[3] == '1';  // device number is 5 bits: 00..1f
}

// net_<driver><n>[,key[=value]]... with no spaces; the driver checks its own arguments.
bool valid_vdev(std::string_view s) {
    if (s.size() <= 4 || s.substr(0, 4) != "net_") return false;
    if (s.find_first_of(" \t") != std::string_view::npos) return false;
    auto comma = s.find(',');
    auto name = s.substr(0, comma);
    if (!std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        }))
        return false;
    while (comma != std::string_view::npos) {
        s.remove_prefix(comma + 1);
        comma = s.find(',');
        auto arg = s.substr(0, comma);
        auto key = arg.substr(0, arg.find('='));
        if (key.empty() || !std::all_of(key.begin(), key.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
            }))
            return false;
    }
    return true;
}

// IpAddr keeps IPv4 mapped, so "is it 0.0.0.0" needs the family.
std::string special_address(const IpAddr& a) {
    if (a.is_v4()) {
        uint32_t h = a.v4_host();
        if (h == 0) return "the unspecified address";
        if (h == 0xffffffffu) return "the broadcast address";
        if ((h >> 28) == 0xe) return "a multicast address";
        if ((h >> 24) == 127) return "a loopback address";
        return {};
    }
    if (a.is_zero()) return "the unspecified address";
    if (a.b[0] == 0xff) return "a multicast address";
    IpAddr lo{};
    lo.b[15] = 1;
    if (a == lo) return "the loopback address";
    return {};
}

// A DSCP may be written as a number or by its PHB name (RFC 2474, 2597, 3246, 5865).
std::optional<uint8_t> dscp_by_name(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s == "ef") return 46;
    if (s == "va") return 44;
    if (s.size() == 3 && s.substr(0, 2) == "cs" && s[2] >= '0' && s[2] <= '7')
        return uint8_t((s[2] - '0') * 8);
    if (s.size() == 4 && s.substr(0, 2) == "af" && s[2] >= '1' && s[2] <= '4' && s[3] >= '1' &&
        s[3] <= '3')
        return uint8_t((s[2] - '0') * 8 + (s[3] - '0') * 2);
    return std::nullopt;
}

// ---- rules across values ----------------------------------------------------------------------

namespace {

struct AddrHash {
    size_t operator()(const IpAddr& a) const noexcept {
        uint64_t h = 1469598103934665603ull;  // FNV-1a
        for (auto x : a.b) h = (h ^ x) * 1099511628211ull;
        return size_t(h);
    }
};
struct PrefixHash {
    size_t operator()(const Prefix& p) const noexcept { return AddrHash{}(p.addr) * 131 + p.len; }
};

unsigned max_len(const IpAddr& a) { return a.is_v4() ? 32 : 128; }
std::string family(const IpAddr& a) { return a.is_v4() ? "IPv4" : "IPv6"; }

// Longest-prefix match by probing each prefix length in use: 4096 tunnel endpoints against
// 65536 routes costs at most 129 hash lookups each instead of a scan of every route.
template <class V>
class Lpm {
public:
    struct Hit {
        const V* v = nullptr;
        unsigned len = 0;
    };
    // The first entry for a prefix wins; the caller reports duplicates.
    void add(const Prefix& p, V v) {
        if (m_.emplace(p.masked(), v).second) (p.addr.is_v4() ? v4_ : v6_)[p.len] = true;
    }
    Hit longest(const IpAddr& a) const {
        const auto& lens = a.is_v4() ? v4_ : v6_;
        for (int l = int(max_len(a)); l >= 0; --l) {
            if (!lens[size_t(l)]) continue;
            auto it = m_.find(Prefix{a, uint8_t(l)}.masked());
            if (it != m_.end()) return {&it->second, unsigned(l)};
        }
        return {};
    }

private:
    std::unordered_map<Prefix, V, PrefixHash> m_;
    std::array<bool, 129> v4_{}, v6_{};
};

// An address the gateway owns, on a port or inside a tunnel.
struct Owned {
    Prefix p;
    std::string path;
    bool tunnel = false;
    size_t owner = 0;  // index into ports or tunnels
    Loc loc;
};

bool before(const Loc& a, const Loc& b) {
    return std::pair(a.line, a.col) < std::pair(b.line, b.col);
}

class Validator {
public:
    Validator(const Config& c, Report& r) : c_(c), r_(r) {}
    void run() {
        names();
        devices();
        addresses();
        port_mtus();
        neighbors();
        routes();
        tunnels();
    }

private:
    const Config& c_;
    Report& r_;

    std::unordered_map<std::string, size_t> port_by_name_, tunnel_by_name_;
    std::vector<std::string_view> port_names_, tunnel_names_;
    // False when some name or address could not be parsed: "no such X" would then be a guess.
    bool port_names_known_ = true, tunnel_names_known_ = true, port_addrs_known_ = true;
    bool underlay_known_ = true;  // every via route's prefix is known
    std::vector<bool> port_addrs_ok_;
    std::vector<Owned> owned_;                               // document order
    std::vector<const Owned*> port_owned_;                   // the port entries of owned_
    Lpm<size_t> tunnel_nets_;                                // tunnel subnets -> owned_ index
    std::unordered_map<IpAddr, size_t, AddrHash> owner_of_;  // -> first entry in owned_
    std::vector<std::optional<size_t>> route_port_;          // egress port of each via route
    // Route indexes by kind. A via route with an error already reported is kept apart: a
    // tunnel endpoint it covers is neither "unreachable" nor known to be reachable.
    Lpm<size_t> via_, broken_via_, not_via_;

    bool ok(const std::string& p) const { return r_.ok(p); }
    std::string port_desc(size_t i) const {
        return c_.ports[i].name.empty() ? at_index("ports", i) : "port " + quoted(c_.ports[i].name);
    }
    std::string tunnel_desc(size_t i) const {
        return c_.tunnels[i].name.empty() ? at_index("tunnels", i)
                                          : "tunnel " + quoted(c_.tunnels[i].name);
    }
    std::string owner_desc(const Owned& o) const {
        return (o.tunnel ? tunnel_desc(o.owner) : port_desc(o.owner)) + " (" + o.path + ")";
    }
    std::string port_subnets(std::optional<size_t> only) const;
    std::optional<size_t> find_port(const std::string& name, const std::string& path);
    std::optional<size_t> find_tunnel(const std::string& name, const std::string& path);
    std::string tunnel_suggestion(const std::string& name);
    std::unordered_map<std::string, std::string> suggested_;
    size_t suggest_budget_ = 1'000'000;  // name comparisons, about 0.1 s
    std::optional<size_t> port_subnet_of(const IpAddr& a, std::optional<size_t> only,
                                         unsigned* len) const;

    void names();
    void devices();
    void addresses();
    void overlaps(std::unordered_set<std::string>& flagged);
    void port_mtus();
    void neighbors();
    void routes();
    void tunnels();
    void tunnel_underlay(size_t i, const Tunnel& t, std::optional<size_t>& egress);
    void tunnel_mtu(size_t i, const Tunnel& t, size_t port);
};

std::string Validator::port_subnets(std::optional<size_t> only) const {
    std::string s;
    size_t n = 0;
    for (const Owned* op : port_owned_) {
        const Owned& o = *op;
        if (only && o.owner != *only) continue;
        if (++n > 8) {
            s += ", ...";
            break;
        }
        if (!s.empty()) s += ", ";
        s += o.p.masked().str();
        if (!only) s += " (" + c_.ports[o.owner].name + ")";
    }
    if (s.empty()) return only ? "it has no addresses" : "no port has an address";
    return "subnets: " + s;
}

std::optional<size_t> Validator::find_port(const std::string& name, const std::string& path) {
    if (auto it = port_by_name_.find(name); it != port_by_name_.end()) return it->second;
    if (port_names_known_) {
        std::string msg = "unknown port " + quoted(name) + did_you_mean(name, port_names_);
        if (tunnel_by_name_.count(name)) msg += " (" + quoted(name) + " is a tunnel)";
        r_.error(path, msg + "; ports are: " + (port_names_.empty() ? "none" : join(port_names_)));
    }
    return std::nullopt;
}

// Comparing every unknown name with 4096 tunnel names is quadratic: answers are cached per
// name, and once a budget of comparisons is spent the remaining errors come without a guess.
std::string Validator::tunnel_suggestion(const std::string& name) {
    if (auto it = suggested_.find(name); it != suggested_.end()) return it->second;
    if (suggest_budget_ < tunnel_names_.size()) return {};
    suggest_budget_ -= tunnel_names_.size();
    return suggested_[name] = did_you_mean(name, tunnel_names_);
}

std::optional<size_t> Validator::find_tunnel(const std::string& name, const std::string& path) {
    if (auto it = tunnel_by_name_.find(name); it != tunnel_by_name_.end()) return it->second;
    if (tunnel_names_known_) {
        std::string msg = "unknown tunnel " + quoted(name) + tunnel_suggestion(name);
        if (port_by_name_.count(name))
            msg += "; " + quoted(name) + " is a port: route to it with via and a next hop";
        else if (tunnel_names_.size() <= 8)
            msg += "; tunnels are: " +
                   (tunnel_names_.empty() ? std::string("none") : join(tunnel_names_));
        r_.error(path, msg);
    }
    return std::nullopt;
}

// The port whose subnet holds a (the longest such subnet), optionally only on one port.
std::optional<size_t> Validator::port_subnet_of(const IpAddr& a, std::optional<size_t> only,
                                                unsigned* len) const {
    std::optional<size_t> best;
    unsigned best_len = 0;
    for (const Owned* op : port_owned_) {
        const Owned& o = *op;
        if ((only && o.owner != *only) || !o.p.contains(a)) continue;
        if (!best || o.p.len > best_len) {
            best = o.owner;
            best_len = o.p.len;
        }
    }
    if (len) *len = best_len;
    return best;
}

// Names are one namespace for ports and tunnels: both appear in logs, counters and the CLI.
void Validator::names() {
    struct Use {
        std::string_view name;
        std::string path;
        bool tunnel;
        size_t idx;
        Loc loc;
    };
    std::vector<Use> uses;
    auto collect = [&](auto const& items, const char* list, bool tunnel, bool& known) {
        if (!ok(list)) known = false;
        for (size_t i = 0; i < items.size(); i++) {
            std::string p = at_key(at_index(list, i), "name");
            if (!ok(p)) {
                known = false;
                continue;
            }
            uses.push_back({items[i].name, p, tunnel, i, r_.loc(p)});
        }
    };
    collect(c_.ports, "ports", false, port_names_known_);
    collect(c_.tunnels, "tunnels", true, tunnel_names_known_);
    std::stable_sort(uses.begin(), uses.end(),
                     [](const Use& a, const Use& b) { return before(a.loc, b.loc); });

    std::unordered_map<std::string_view, const Use*> first;
    for (const auto& u : uses) {
        auto [it, fresh] = first.emplace(u.name, &u);
        if (!fresh) {
            const Use& f = *it->second;
            r_.error(u.path, quoted(u.name) + " is already the name of " +
                                 (f.tunnel ? tunnel_desc(f.idx) : port_desc(f.idx)) + " (" +
                                 f.path.substr(0, f.path.rfind('.')) +
                                 "); names must be unique among ports and tunnels");
        }
        auto& index = u.tunnel ? tunnel_by_name_ : port_by_name_;
        if (index.emplace(std::string(u.name), u.idx).second)
            (u.tunnel ? tunnel_names_ : port_names_).push_back(u.name);
    }
}

// DPDK refuses a second port on the same device, and a vdev name may be probed only once
// whatever its arguments, so compare PCI addresses in full form and vdevs by name.
void Validator::devices() {
    std::unordered_map<std::string, size_t> seen;
    for (size_t i = 0; i < c_.ports.size(); i++) {
        std::string p = at_key(at_index("ports", i), "device");
        if (!ok(p)) continue;
        const std::string& d = c_.ports[i].device;
        bool vdev = d.rfind("net_", 0) == 0;
        std::string key = vdev ? d.substr(0, d.find(',')) : d;
        if (!vdev) {
            std::transform(key.begin(), key.end(), key.begin(),
                           [](unsigned char ch) { return char(std::tolower(ch)); });
            if (key.size() == 7) key = "0000:" + key;
        }
        auto [it, fresh] = seen.emplace(key, i);
        if (!fresh)
            r_.error(p, "device " + quoted(d) + " is already used by " + port_desc(it->second) +
                            (vdev ? " (a vdev name can be used only once)" : ""));
    }
}

void Validator::addresses() {
    port_addrs_ok_.assign(c_.ports.size(), true);
    auto collect = [&](const std::vector<Prefix>& v, const std::string& item, bool tunnel,
                       size_t idx) {
        std::string lp = at_key(item, "addresses");
        bool all = ok(lp);
        if (all) {
            for (size_t j = 0; j < v.size(); j++) {
                std::string ap = at_index(lp, j);
                if (!ok(ap)) {
                    all = false;
                    continue;
                }
                owned_.push_back({v[j], ap, tunnel, idx, r_.loc(ap)});
            }
        }
        if (!tunnel) {
            port_addrs_ok_[idx] = all;
            if (!all) port_addrs_known_ = false;
        }
    };
    if (!ok("ports")) port_addrs_known_ = false;
    for (size_t i = 0; i < c_.ports.size(); i++)
        collect(c_.ports[i].addresses, at_index("ports", i), false, i);
    for (size_t i = 0; i < c_.tunnels.size(); i++)
        collect(c_.tunnels[i].addresses, at_index("tunnels", i), true, i);
    std::stable_sort(owned_.begin(), owned_.end(),
                     [](const Owned& a, const Owned& b) { return before(a.loc, b.loc); });
    for (size_t k = 0; k < owned_.size(); k++) {
        if (owned_[k].tunnel)
            tunnel_nets_.add(owned_[k].p, k);
        else
            port_owned_.push_back(&owned_[k]);
    }

    std::unordered_set<std::string> flagged;
    for (size_t k = 0; k < owned_.size(); k++) {
        auto [it, fresh] = owner_of_.emplace(owned_[k].p.addr, k);
        if (fresh) continue;
        r_.error(owned_[k].path, owned_[k].p.addr.str() + " is already assigned to " +
                                     owner_desc(owned_[it->second]));
        flagged.insert(owned_[k].path);
    }
    overlaps(flagged);
}

// Two owners with overlapping subnets would give the FIB two connected routes for the same
// destinations. Several subnets on one port (secondary addresses) are fine. Sorting by network
// then length makes every enclosing subnet sit on a stack while its contents go by, so this is
// n log n rather than every pair of 4096 tunnels.
void Validator::overlaps(std::unordered_set<std::string>& flagged) {
    std::vector<size_t> order(owned_.size());
    std::iota(order.begin(), order.end(), 0);
    auto net = [&](size_t k) { return owned_[k].p.masked(); };
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        auto na = net(a), nb = net(b);
        return std::tuple(!na.addr.is_v4(), na.addr, na.len) <
               std::tuple(!nb.addr.is_v4(), nb.addr, nb.len);
    });
    std::vector<size_t> open;
    for (size_t k : order) {
        const Owned& cur = owned_[k];
        const IpAddr cur_net = cur.p.masked().addr;
        while (!open.empty() &&
               !(owned_[open.back()].p.len <= cur.p.len && owned_[open.back()].p.contains(cur_net)))
            open.pop_back();
        for (auto it = open.rbegin(); it != open.rend(); ++it) {
            const Owned& o = owned_[*it];
            if (o.tunnel == cur.tunnel && o.owner == cur.owner) continue;
            const Owned& later = before(o.loc, cur.loc) ? cur : o;
            const Owned& earlier = &later == &cur ? o : cur;
            if (flagged.insert(later.path).second)
                r_.error(later.path, "subnet " + later.p.masked().str() + " overlaps " +
                                         earlier.p.masked().str() + " of " + owner_desc(earlier));
            break;
        }
        open.push_back(k);
    }
}

// RFC 8200 §5: every link that carries IPv6 must have an MTU of at least 1280.
void Validator::port_mtus() {
    for (size_t i = 0; i < c_.ports.size(); i++) {
        std::string mp = at_key(at_index("ports", i), "mtu");
        if (!r_.present(mp) || !ok(mp) || c_.ports[i].mtu >= 1280) continue;
        for (const Owned* o : port_owned_) {
            if (o->owner != i || o->p.addr.is_v4()) continue;
            r_.error(mp, "mtu " + std::to_string(c_.ports[i].mtu) +
                             " is below 1280, the IPv6 minimum (RFC 8200 section 5), and the port "
                             "has IPv6 address " +
                             o->p.str());
            break;
        }
    }
}

void Validator::neighbors() {
    std::map<std::pair<std::string, IpAddr>, size_t> seen;
    for (size_t i = 0; i < c_.neighbors.size(); i++) {
        const Neighbor& n = c_.neighbors[i];
        std::string base = at_index("neighbors", i);
        std::string pp = at_key(base, "port"), ap = at_key(base, "address");
        std::optional<size_t> port;
        if (ok(pp)) port = find_port(n.port, pp);
        if (!ok(ap)) continue;
        if (auto it = owner_of_.find(n.address); it != owner_of_.end()) {
            r_.error(ap, n.address.str() + " is an address of this gateway, " +
                             owner_desc(owned_[it->second]) +
                             "; expected the address of a neighbor");
            continue;
        }
        if (port && port_addrs_ok_[*port] && !port_subnet_of(n.address, port, nullptr))
            r_.error(ap, n.address.str() + " is not in a subnet of " + port_desc(*port) + " (" +
                             port_subnets(port) + ")");
        if (ok(pp)) {
            auto [it, fresh] = seen.emplace(std::pair(n.port, n.address), i);
            if (!fresh)
                r_.error(ap, "neighbor " + n.address.str() + " on port " + quoted(n.port) +
                                 " is already defined by " + at_index("neighbors", it->second));
        }
    }
}

void Validator::routes() {
    route_port_.assign(c_.routes.size(), std::nullopt);
    if (!ok("routes")) underlay_known_ = false;
    std::unordered_map<Prefix, size_t, PrefixHash> seen, connected;
    for (size_t k = 0; k < owned_.size(); k++) connected.emplace(owned_[k].p.masked(), k);

    for (size_t i = 0; i < c_.routes.size(); i++) {
        const Route& rt = c_.routes[i];
        std::string base = at_index("routes", i);
        std::string pp = at_key(base, "prefix"), tp = at_key(base, "tunnel"),
                    vp = at_key(base, "via"), portp = at_key(base, "port");
        if (!ok(base)) {
            underlay_known_ = false;
            continue;
        }
        const bool prefix_ok = ok(pp);
        const bool kind_ok = ok(at_key(base, "kind"));
        if (prefix_ok) {
            if (auto [it, fresh] = seen.emplace(rt.prefix, i); !fresh)
                r_.error(pp, "duplicate route for " + rt.prefix.str() + "; " +
                                 at_index("routes", it->second) + " already routes it");
            else if (auto c = connected.find(rt.prefix); c != connected.end())
                r_.error(pp, rt.prefix.str() + " is the connected subnet of " +
                                 owner_desc(owned_[c->second]) + "; a route for it would conflict");
        }
        if (r_.present(tp) && ok(tp)) find_tunnel(rt.tunnel, tp);

        if (!r_.present(vp)) {
            if (prefix_ok && kind_ok) not_via_.add(rt.prefix, i);
            continue;
        }
        bool usable = ok(vp) && prefix_ok && kind_ok;
        if (ok(vp)) {
            std::optional<size_t> port;
            const bool port_given = r_.present(portp);
            if (port_given) {
                if (ok(portp)) port = find_port(rt.port, portp);
                if (!port) usable = false;
            }
            if (prefix_ok && rt.prefix.addr.is_v4() != rt.next_hop.is_v4()) {
                r_.error(vp, "next hop " + rt.next_hop.str() + " is " + family(rt.next_hop) +
                                 " but prefix " + rt.prefix.str() + " is " +
                                 family(rt.prefix.addr));
                usable = false;
            } else if (auto it = owner_of_.find(rt.next_hop); it != owner_of_.end()) {
                r_.error(vp, "next hop " + rt.next_hop.str() + " is an address of this gateway, " +
                                 owner_desc(owned_[it->second]) +
                                 "; expected a neighbor's address");
                usable = false;
            } else if (!port_given || port) {
                route_port_[i] = port_subnet_of(rt.next_hop, port, nullptr);
                bool complete = port ? port_addrs_ok_[*port] : port_addrs_known_;
                if (!route_port_[i] && complete) {
                    std::string msg = "next hop " + rt.next_hop.str() + " is not in a subnet of " +
                                      (port ? port_desc(*port) : std::string("any port")) + " (" +
                                      port_subnets(port) + ")";
                    if (auto hit = tunnel_nets_.longest(rt.next_hop); hit.v) {
                        size_t t = owned_[*hit.v].owner;
                        msg += "; it is on the subnet of " + tunnel_desc(t) +
                               ", so write tunnel: " + c_.tunnels[t].name + " instead of via";
                    }
                    r_.error(vp, msg);
                }
                if (!route_port_[i]) usable = false;
            }
        }
        if (usable)
            via_.add(rt.prefix, i);
        else if (prefix_ok)
            broken_via_.add(rt.prefix, i);  // covers what it covers, but unusable
        else
            underlay_known_ = false;  // could cover anything
    }
}

void Validator::tunnels() {
    std::map<std::tuple<IpAddr, IpAddr, std::optional<uint32_t>>, size_t> seen;
    for (size_t i = 0; i < c_.tunnels.size(); i++) {
        const Tunnel& t = c_.tunnels[i];
        std::string base = at_index("tunnels", i);
        std::string lp = at_key(base, "local"), rp = at_key(base, "remote");
        bool local_ok = ok(lp), remote_ok = ok(rp);
        // GRE over ESP in tunnel mode with endpoints of its own (RFC 4301 tunnel between the
        // SA's addresses): the GRE packet only ever travels inside ESP, so its local address
        // is the gateway's by this tunnel alone and its remote needs no underlay route.
        bool inside_esp = false;
        if (t.protection && t.type != TunnelType::Ipsec)
            for (const Sa& sa : c_.sas)
                if (sa.name == t.protection->out && sa.mode == SaMode::Tunnel &&
                    ((!sa.local.is_zero() && sa.local != t.local) ||
                     (!sa.remote.is_zero() && sa.remote != t.remote)))
                    inside_esp = true;
        std::optional<size_t> local_port;
        if (local_ok && !inside_esp) {
            auto it = owner_of_.find(t.local);
            if (it != owner_of_.end() && !owned_[it->second].tunnel) {
                local_port = owned_[it->second].owner;
            } else if (port_addrs_known_) {
                std::string addrs;
                for (const Owned* o : port_owned_)
                    addrs += (addrs.empty() ? "" : ", ") + o->p.addr.str();
                r_.error(lp, t.local.str() +
                                 (it != owner_of_.end() ? " is an inner address of " +
                                                              owner_desc(owned_[it->second]) + ";"
                                                        : " is not an address of any port;") +
                                 " expected one of the ports' addresses: " +
                                 (addrs.empty() ? "none" : addrs));
            }
        }
        if (remote_ok) {
            if (local_ok && t.local.is_v4() != t.remote.is_v4()) {
                r_.error(rp, "remote " + t.remote.str() + " is " + family(t.remote) +
                                 " but local " + t.local.str() + " is " + family(t.local) +
                                 "; both ends must be the same family");
                remote_ok = false;
            } else if (local_ok && t.remote == t.local) {
                r_.error(rp, "remote " + t.remote.str() +
                                 " is the same as local; expected the far end's address");
                remote_ok = false;
            } else if (auto it = owner_of_.find(t.remote); it != owner_of_.end()) {
                r_.error(rp, t.remote.str() + " is an address of this gateway, " +
                                 owner_desc(owned_[it->second]) +
                                 "; expected the far end's address");
                remote_ok = false;
            }
        }
        // RFC 2890 §2.1: the receiver tells tunnels apart by outer addresses and key only.
        // ipsec tunnels have no GRE header: their packets are told apart by SPI (validate_sa.cpp).
        if (local_ok && remote_ok && ok(at_key(base, "key")) && t.type != TunnelType::Ipsec) {
            auto [it, fresh] = seen.emplace(std::tuple(t.local, t.remote, t.key), i);
            if (!fresh)
                r_.error(base,
                         "overlaps with " + at_index("tunnels", it->second) + " (" +
                             tunnel_desc(it->second) + "): same local " + t.local.str() +
                             ", remote " + t.remote.str() + " and " +
                             (t.key ? "key " + std::to_string(*t.key) : std::string("no key")) +
                             ", so received packets could not be told apart; give one of them a "
                             "different key");
        }
        std::optional<size_t> egress;
        if (remote_ok && !inside_esp) tunnel_underlay(i, t, egress);
        if (!egress) egress = local_port;
        if (egress && (local_ok || remote_ok)) tunnel_mtu(i, t, *egress);

        std::string dp = at_key(base, "df");
        if (r_.present(dp) && ok(dp) && t.df != DfMode::Copy && local_ok && !t.local.is_v4())
            r_.error(dp,
                     "df: set and df: clear apply only to an IPv4 outer header; this tunnel's "
                     "outer header is IPv6, which has no DF bit (use copy or leave it out)");
    }
}

// The outer packet must leave through the underlay: a port subnet or a via route. A route
// into a tunnel cannot carry it, and one more specific than the underlay route would pull the
// tunnel's own packets into a tunnel (or a blackhole).
void Validator::tunnel_underlay(size_t i, const Tunnel& t, std::optional<size_t>& egress) {
    std::string rp = at_key(at_index("tunnels", i), "remote");
    if (!port_addrs_known_ || !underlay_known_) return;
    unsigned best = 0;
    bool found = false;
    if (auto p = port_subnet_of(t.remote, std::nullopt, &best)) {
        egress = p;
        found = true;
    }
    if (auto hit = via_.longest(t.remote); hit.v && (!found || hit.len > best)) {
        egress = route_port_[*hit.v];
        best = hit.len;
        found = true;
    }
    // Whatever a broken route would have matched is unknown; its error is already reported.
    if (auto hit = broken_via_.longest(t.remote); hit.v && (!found || hit.len > best)) return;
    if (!found) {
        r_.error(rp, t.remote.str() +
                         " is not reachable over the underlay: it is in no port subnet and no "
                         "route with via covers it (routes through a tunnel do not count); add a "
                         "route such as {prefix: " +
                         std::string(t.remote.is_v4() ? "0.0.0.0/0" : "::/0") +
                         ", via: <gateway>}");
        return;
    }
    if (auto hit = not_via_.longest(t.remote); hit.v && hit.len > best) {
        const Route& rt = c_.routes[*hit.v];
        std::string by = at_index("routes", *hit.v) + " (" + rt.prefix.str() + ")";
        if (rt.kind == RouteKind::Tunnel)
            r_.error(rp, t.remote.str() + " is routed into tunnel " + quoted(rt.tunnel) + " by " +
                             by +
                             ", which is more specific than its underlay route; the tunnel would "
                             "carry its own packets");
        else
            r_.error(rp, t.remote.str() + " is dropped by the blackhole " + by +
                             ", which is more specific than its underlay route");
    }
}

// Outer header budget: IPv4 20 or IPv6 40, GRE 4, and 4 per optional word (RFC 2890 §2).
void Validator::tunnel_mtu(size_t i, const Tunnel& t, size_t port) {
    std::string base = at_index("tunnels", i);
    std::string mp = at_key(base, "mtu");
    if (!ok(at_key(at_index("ports", port), "mtu")) || !ok(mp)) return;
    const bool v6 = ok(at_key(base, "local")) ? !t.local.is_v4() : !t.remote.is_v4();
    unsigned overhead = (v6 ? 40 : 20) + 4;
    std::string parts = std::string(v6 ? "IPv6 40" : "IPv4 20") + " + GRE 4";
    auto option = [&](bool on, const char* what) {
        if (!on) return;
        overhead += 4;
        parts += std::string(" + ") + what + " 4";
    };
    option(t.checksum, "checksum");
    option(t.key.has_value(), "key");
    option(t.sequence, "sequence");
    const unsigned port_mtu = c_.ports[port].mtu;
    const std::string budget = port_desc(port) + " has mtu " + std::to_string(port_mtu) +
                               " and the outer headers take " + std::to_string(overhead) +
                               " bytes (" + parts + ")";
    unsigned effective;
    if (t.mtu != 0) {
        effective = t.mtu;
        if (t.mtu + overhead > port_mtu) {
            r_.error(mp, "mtu " + std::to_string(t.mtu) + " is too large: " + budget +
                             ", so at most " +
                             std::to_string(port_mtu > overhead ? port_mtu - overhead : 0));
            return;
        }
    } else {
        effective = port_mtu > overhead ? port_mtu - overhead : 0;
        if (effective < 576) {
            r_.error(mp, "the automatic mtu would be " + std::to_string(effective) +
                             ", below 576: " + budget + "; raise the port's mtu");
            return;
        }
    }
    if (effective >= 1280) return;
    for (size_t j = 0; j < t.addresses.size(); j++) {
        std::string ap = at_index(at_key(base, "addresses"), j);
        if (!ok(ap) || t.addresses[j].addr.is_v4()) continue;
        std::string why =
            "an IPv6 address on a tunnel needs an mtu of at least 1280 (RFC 8200 section 5), but "
            "this tunnel's " +
            std::string(t.mtu ? "mtu is " : "automatic mtu is ") + std::to_string(effective);
        if (!t.mtu) why += " (" + budget + ")";
        r_.error(r_.present(mp) ? mp : ap, why);
        return;
    }
}

}  // namespace

void validate(Config& cfg, Report& r) {
    Validator(cfg, r).run();
    validate_groups(cfg, r);
    validate_sas(cfg, r);
}

}  // namespace tgw::config::detail
