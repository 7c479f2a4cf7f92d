// YAML text -> model. This file owns types, ranges and the syntax of each single value; rules
// that relate values to each other are in validate.cpp. Every value's location is recorded in
// the Report so the validator can point at it after the YAML tree is gone.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>

#include "config/detail.hpp"
#include "config/model.hpp"

#include "config/parser.hpp"

namespace tgw::config {
namespace parsing {

Fields Parser::open_map(const YAML::Node& n, const std::string& path, Keys keys,
                        std::string_view what) {
    Fields f;
    if (!n.IsMap()) {
        expected(n, path, std::string(what) + " (a map with keys " + detail::join(keys) + ")");
        return f;
    }
    f.is_map = true;
    add_keys(n, path, keys, f, 0);
    return f;
}

// YAML 1.1 merge keys ("<<: *defaults"), which yaml-cpp leaves to the application: hundreds of
// tunnels that differ only in name and remote are written as one anchor plus overrides. Keys
// written in the map itself win over merged ones, earlier merge sources over later ones.
void Parser::add_keys(const YAML::Node& n, const std::string& path, Keys keys, Fields& f,
                      int depth) {
    constexpr int max_merge_depth = 8;  // an alias may point back at its own map
    const bool merged = depth > 0;
    std::vector<YAML::Node> sources;
    // Range-for, not it->first: g++ 12 misreads yaml-cpp's iterator proxy as dangling.
    for (const auto& kv : n) {
        const YAML::Node& k = kv.first;
        const YAML::Node& v = kv.second;
        if (!k.IsScalar()) {
            r_.error_at(mark_loc(k.Mark(), path), "expected a key name, got " + got(k));
            continue;
        }
        const std::string& key = k.Scalar();
        std::string kp = at_key(path, key);
        if (key == "<<") {
            bool ok = v.IsMap() || (v.IsSequence() && v.size() > 0);
            for (size_t i = 0; ok && v.IsSequence() && i < v.size(); i++) ok = v[i].IsMap();
            if (!ok) {
                f.merge_failed = true;
                r_.error_at(
                    mark_loc(v.Mark().is_null() ? k.Mark() : v.Mark(), kp),
                    "expected a map or a list of maps to merge (<<: *anchor), got " + got(v));
                continue;
            }
            if (v.IsMap())
                sources.push_back(v);
            else
                for (size_t i = 0; i < v.size(); i++) sources.push_back(v[i]);
            continue;
        }
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
            auto guess = detail::closest(key, keys);
            if (!guess.empty()) f.typo_of.push_back(guess);
            r_.error_at(mark_loc(k.Mark(), kp), "unknown key " + quoted(key) +
                                                    detail::did_you_mean(key, keys) +
                                                    "; valid keys here: " + detail::join(keys));
            continue;
        }
        if (f.find(key)) {
            if (merged) continue;  // overridden
            r_.error_at(mark_loc(k.Mark(), kp), "duplicate key " + quoted(key) +
                                                    " (first given on line " +
                                                    std::to_string(r_.loc(kp).line) + ")");
            continue;
        }
        place(v, kp, k.Mark());
        f.entries.emplace_back(key, v);
    }
    for (const auto& src : sources) {
        if (depth >= max_merge_depth) {
            f.merge_failed = true;
            r_.error_at(mark_loc(src.Mark(), path),
                        "merge keys (<<) nested too deeply; is an anchor merged into itself?");
            return;
        }
        add_keys(src, path, keys, f, depth + 1);
    }
}

const YAML::Node* Parser::require(const Fields& f, const std::string& path, std::string_view key,
                                  std::string_view what) {
    if (auto* n = f.find(key)) return n;
    std::string kp = at_key(path, key);
    // A misspelt key already got "unknown key ... did you mean"; saying it is missing too is noise.
    if (!f.merge_failed && std::find(f.typo_of.begin(), f.typo_of.end(), key) == f.typo_of.end())
        r_.error(kp, "missing required key " + quoted(key) + ": expected " + std::string(what));
    r_.mark_bad(kp);
    return nullptr;
}

std::optional<std::vector<YAML::Node>> Parser::list(const YAML::Node& n, const std::string& path,
                                                    std::string_view what) {
    std::vector<YAML::Node> out;
    // "key:" with nothing after it is what commenting out every item leaves: an empty list.
    if (n.IsNull()) return out;
    if (!n.IsSequence()) {
        expected(n, path, "a list of " + std::string(what));
        return std::nullopt;
    }
    for (size_t i = 0; i < n.size(); i++) {
        place(n[i], at_index(path, i), n.Mark());
        out.push_back(n[i]);
    }
    return out;
}

std::optional<std::string> Parser::text(const YAML::Node& n, const std::string& path,
                                        std::string_view what) {
    if (n.IsScalar()) return n.Scalar();
    expected(n, path, what);
    return std::nullopt;
}

std::optional<uint64_t> Parser::integer(const YAML::Node& n, const std::string& path, uint64_t lo,
                                        uint64_t hi, std::string what) {
    if (what.empty()) what = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    std::optional<uint64_t> v;
    if (n.IsScalar()) v = to_uint(n.Scalar());
    if (v && *v >= lo && *v <= hi) return v;
    expected(n, path, what);
    return std::nullopt;
}

// Only true/false: YAML 1.1's yes/no/on/off read as booleans surprise people ("no" as a
// country code), so they are rejected rather than guessed.
std::optional<bool> Parser::boolean(const YAML::Node& n, const std::string& path) {
    if (n.IsScalar()) {
        const auto& s = n.Scalar();
        if (s == "true" || s == "True" || s == "TRUE") return true;
        if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    expected(n, path, "true or false");
    return std::nullopt;
}

std::optional<size_t> Parser::choice(const YAML::Node& n, const std::string& path, Keys choices) {
    if (n.IsScalar()) {
        auto it = std::find(choices.begin(), choices.end(), n.Scalar());
        if (it != choices.end()) return size_t(it - choices.begin());
        fail(path, "expected one of " + detail::join(choices) + ", got " + got(n) +
                       detail::did_you_mean(n.Scalar(), choices));
        return std::nullopt;
    }
    expected(n, path, "one of " + detail::join(choices));
    return std::nullopt;
}

// A malformed name is reported but kept: references to it then still resolve, so one typo in a
// name does not also turn every route through that tunnel into an "unknown tunnel" error.
std::string Parser::name(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path, name_expected);
    if (!s) return {};
    if (!detail::valid_name(*s))
        r_.error(path, quoted(*s) + " is not a valid name: expected " + std::string(name_expected));
    return *s;
}

std::optional<Mac> Parser::unicast_mac(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path, mac_expected);
    if (!s) return std::nullopt;
    auto m = Mac::parse(*s);
    if (!m) {
        fail(path, quoted(*s) + " is not a MAC address: expected " + std::string(mac_expected));
        return std::nullopt;
    }
    if (m->b[0] & 1)
        r_.error(path, m->str() +
                           " is a multicast MAC (lowest bit of the first byte is set); expected a "
                           "unicast MAC");
    else if (*m == Mac{})
        r_.error(path, "00:00:00:00:00:00 is not a usable MAC; expected a unicast MAC");
    return m;
}

// A single address of someone: unicast only. A value with a fixable flaw (a stray "/len") is
// reported but still returned, so checks that use it do not report it again as something else.
std::optional<IpAddr> Parser::address(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path, addr_expected);
    if (!s) return std::nullopt;
    std::string_view sv = *s;
    auto slash = sv.find('/');
    auto a = IpAddr::parse(sv.substr(0, slash));
    if (!a) {
        fail(path, quoted(*s) + " is not an IPv4 or IPv6 address");
        return std::nullopt;
    }
    if (slash != std::string_view::npos)
        r_.error(path,
                 quoted(*s) + " has a prefix length; expected a plain address such as " + a->str());
    else if (a->is_v4() && sv.find(':') != std::string_view::npos)
        r_.error(path, quoted(*s) + " is an IPv4-mapped IPv6 address; write it as " + a->str());
    if (auto why = detail::special_address(*a); !why.empty()) {
        fail(path, a->str() + " is " + why + "; expected a unicast address");
        return std::nullopt;
    }
    return a;
}

// Prefix::parse with the reason it failed, so the message can say which half is wrong.
std::optional<Prefix> parse_prefix(std::string_view s, std::string& why) {
    auto slash = s.find('/');
    auto a = IpAddr::parse(s.substr(0, slash));
    if (!a) {
        why = quoted(s) + " is not an IPv4 or IPv6 address";
        return std::nullopt;
    }
    auto p = Prefix::parse(s);
    if (!p) {
        why = quoted(s) + " has an invalid prefix length: expected /0 to /" +
              std::string(a->is_v4() ? "32 for IPv4" : "128 for IPv6");
        return std::nullopt;
    }
    if (a->is_v4() && s.substr(0, slash).find(':') != std::string_view::npos) {
        why = quoted(s) + " uses an IPv4-mapped IPv6 address; write it as " + p->str();
        return p;  // usable, but still an error
    }
    return p;
}

std::optional<Prefix> Parser::host_prefix(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path, host_prefix_expected);
    if (!s) return std::nullopt;
    std::string why;
    auto p = parse_prefix(*s, why);
    if (!p) {
        fail(path, why);
        return std::nullopt;
    }
    if (!why.empty()) r_.error(path, why);
    const bool v4 = p->addr.is_v4();
    if (s->find('/') == std::string::npos) {
        // Kept as a host route so that references to the address still resolve.
        r_.error(
            path,
            quoted(*s) +
                " has no prefix length; write the host address with its subnet's length, e.g. \"" +
                p->addr.str() + (v4 ? "/24" : "/64") + "\"");
        return p;
    }
    auto why_special = detail::special_address(p->addr);
    if (!why_special.empty()) {
        r_.error(path, p->addr.str() + " is " + why_special + "; expected a unicast host address");
        return p;
    }
    // /31 and /32 (RFC 3021) and /127, /128 (RFC 6164) have no network or broadcast address.
    const Prefix net = p->masked();
    if ((v4 && p->len <= 30) || (!v4 && p->len <= 126)) {
        Prefix first{net.addr, p->len};
        Prefix example = first;
        example.addr.b[15] |= 1;
        if (net.addr == p->addr) {
            r_.error(
                path,
                p->str() + " is the " +
                    (v4 ? std::string("network address")
                        : std::string("subnet-router anycast address (RFC 4291 section 2.6.1)")) +
                    " of its subnet; expected a host address such as " + example.str());
        } else if (v4) {
            uint32_t host_mask = p->len == 0 ? 0xffffffffu : (1u << (32 - p->len)) - 1;
            if ((p->addr.v4_host() & host_mask) == host_mask)
                r_.error(path, p->str() + " is the broadcast address of " + net.str() +
                                   "; expected a host address such as " + example.str());
        }
    }
    return p;
}

std::optional<Prefix> Parser::route_prefix(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path, prefix_expected);
    if (!s) return std::nullopt;
    std::string why;
    auto p = parse_prefix(*s, why);
    if (!p) {
        fail(path, why);
        return std::nullopt;
    }
    if (!why.empty()) r_.error(path, why);
    if (s->find('/') == std::string::npos) {
        r_.error(path, quoted(*s) + " has no prefix length; expected " +
                           std::string(prefix_expected) + " (\"" + p->str() +
                           "\" for this single host)");
        return p;
    }
    Prefix m = p->masked();
    if (!(m == *p))
        r_.error(path, quoted(*s) + " has host bits set (did you mean " + m.str() + "?)");
    return m;
}

// Entries that could not be parsed stay as placeholders so that indexes keep matching paths.
std::vector<Prefix> Parser::host_prefixes(const YAML::Node& n, const std::string& path) {
    std::vector<Prefix> out;
    auto l = list(n, path, "addresses (" + std::string(host_prefix_expected) + ")");
    if (!l) return out;
    for (size_t i = 0; i < l->size(); i++)
        out.push_back(host_prefix((*l)[i], at_index(path, i)).value_or(Prefix{}));
    return out;
}

template <class T, class F>
void Parser::items(const YAML::Node& n, const std::string& path, std::string_view what, size_t lo,
                   size_t hi, std::vector<T>& out, F parse_one) {
    auto l = list(n, path, what);
    if (!l) return;
    if (l->size() < lo || l->size() > hi) {
        std::string range = lo == 0 ? "at most " + std::to_string(hi)
                                    : std::to_string(lo) + " to " + std::to_string(hi);
        r_.error(path, "expected " + range + " " + std::string(what) + ", got " +
                           std::to_string(l->size()));
    }
    for (size_t i = 0; i < l->size(); i++)
        out.push_back((this->*parse_one)((*l)[i], at_index(path, i)));
}

void Parser::workers(const YAML::Node& n, const std::string& path, std::vector<unsigned>& out) {
    auto l = list(n, path, "lcore ids");
    if (!l) return;
    if (l->empty() || l->size() > max_workers) {
        fail(path, "expected 1 to " + std::to_string(max_workers) + " worker lcore ids, got " +
                       std::to_string(l->size()));
        return;
    }
    for (size_t i = 0; i < l->size(); i++) {
        std::string ip = at_index(path, i);
        auto v = integer(
            (*l)[i], ip, 1, 127,
            "an lcore id from 1 to 127 (lcore 0 is the main lcore, which runs the slow path)");
        if (!v) continue;
        if (std::find(out.begin(), out.end(), unsigned(*v)) != out.end())
            r_.error(ip, "lcore " + std::to_string(*v) + " is listed twice");
        else
            out.push_back(unsigned(*v));
    }
}

Port Parser::port(const YAML::Node& n, const std::string& path) {
    static constexpr std::string_view keys[] = {"name", "device",    "mac",
                                                "mtu",  "rx_queues", "addresses"};
    Port p;
    p.loc = r_.loc(path);
    auto f = open_map(n, path, keys, "a port");
    if (!f.is_map) return p;
    if (auto* v = require(f, path, "name", name_expected)) p.name = name(*v, at_key(path, "name"));
    if (auto* v = require(f, path, "device", device_expected)) {
        std::string kp = at_key(path, "device");
        if (auto s = text(*v, kp, device_expected)) {
            p.device = *s;
            if (!detail::valid_pci(*s) && !detail::valid_vdev(*s))
                fail(kp, quoted(*s) + " is not a device: expected " + std::string(device_expected));
        }
    }
    if (auto* v = f.find("mac")) p.mac = unicast_mac(*v, at_key(path, "mac"));
    if (auto* v = f.find("mtu"))
        p.mtu = uint16_t(integer(*v, at_key(path, "mtu"), 68, 9000).value_or(p.mtu));
    if (auto* v = f.find("rx_queues"))
        p.rx_queues = uint16_t(integer(*v, at_key(path, "rx_queues"), 0, 16,
                                       "an integer from 0 to 16 (0 = one per worker)")
                                   .value_or(0));
    if (auto* v = f.find("addresses")) p.addresses = host_prefixes(*v, at_key(path, "addresses"));
    return p;
}

Neighbor Parser::neighbor(const YAML::Node& n, const std::string& path) {
    static constexpr std::string_view keys[] = {"port", "address", "mac"};
    Neighbor nb;
    nb.loc = r_.loc(path);
    auto f = open_map(n, path, keys, "a neighbor");
    if (!f.is_map) return nb;
    if (auto* v = require(f, path, "port", "the name of a port"))
        nb.port = text(*v, at_key(path, "port"), "the name of a port").value_or("");
    if (auto* v = require(f, path, "address", addr_expected))
        nb.address = address(*v, at_key(path, "address")).value_or(IpAddr{});
    if (auto* v = require(f, path, "mac", mac_expected))
        nb.mac = unicast_mac(*v, at_key(path, "mac")).value_or(Mac{});
    return nb;
}

Tunnel Parser::tunnel(const YAML::Node& n, const std::string& path) {
    static constexpr std::string_view keys[] = {"name",     "local",    "remote",   "key",
                                                "checksum", "sequence", "ttl",      "tos",
                                                "df",       "mtu",      "addresses",
                                                "keepalive", "type", "protection"};
    static constexpr std::string_view df_modes[] = {"copy", "set", "clear"};
    Tunnel t;
    t.loc = r_.loc(path);
    auto f = open_map(n, path, keys, "a tunnel");
    if (!f.is_map) return t;
    if (auto* v = require(f, path, "name", name_expected)) t.name = name(*v, at_key(path, "name"));
    if (auto* v = require(f, path, "local", "one of the ports' addresses"))
        t.local = address(*v, at_key(path, "local")).value_or(IpAddr{});
    if (auto* v = require(f, path, "remote", "the unicast address of the far end"))
        t.remote = address(*v, at_key(path, "remote")).value_or(IpAddr{});
    if (auto* v = f.find("key")) {
        auto k = integer(*v, at_key(path, "key"), 0, UINT32_MAX,
                         "a GRE key from 0 to 4294967295 (decimal or 0x hex)");
        if (k) t.key = uint32_t(*k);
    }
    if (auto* v = f.find("checksum"))
        t.checksum = boolean(*v, at_key(path, "checksum")).value_or(false);
    if (auto* v = f.find("sequence"))
        t.sequence = boolean(*v, at_key(path, "sequence")).value_or(false);
    if (auto* v = f.find("ttl"))
        t.ttl = uint8_t(integer(*v, at_key(path, "ttl"), 0, 255).value_or(t.ttl));
    if (auto* v = f.find("tos")) {
        std::string kp = at_key(path, "tos");
        constexpr std::string_view what =
            "\"inherit\" or a DSCP from 0 to 63 (or a name such as ef, af41, cs6)";
        std::optional<uint64_t> num;
        std::optional<uint8_t> named;
        if (v->IsScalar()) {
            num = to_uint(v->Scalar());
            named = detail::dscp_by_name(v->Scalar());
        }
        if (v->IsScalar() && v->Scalar() == "inherit") {
            t.tos_mode = TosMode::Inherit;
        } else if (num && *num <= 63) {
            t.tos_mode = TosMode::Fixed;
            t.tos = uint8_t(*num);
        } else if (named) {
            t.tos_mode = TosMode::Fixed;
            t.tos = *named;
        } else {
            expected(*v, kp, what);
        }
    }
    if (auto* v = f.find("df")) {
        if (auto i = choice(*v, at_key(path, "df"), df_modes)) t.df = DfMode(*i);
    }
    if (auto* v = f.find("mtu")) {
        std::string kp = at_key(path, "mtu");
        auto m = integer(*v, kp, 0, 9000, "0 (automatic) or an MTU from 576 to 9000");
        if (m && *m != 0 && *m < 576) {
            expected(*v, kp, "0 (automatic) or an MTU from 576 to 9000");
            m.reset();
        }
        t.mtu = uint16_t(m.value_or(0));
    }
    if (auto* v = f.find("addresses")) t.addresses = host_prefixes(*v, at_key(path, "addresses"));
    if (auto* v = f.find("keepalive")) t.keepalive = keepalive(*v, at_key(path, "keepalive"));
    tunnel_security(f, path, t);
    return t;
}

Route Parser::route(const YAML::Node& n, const std::string& path) {
    static constexpr std::string_view keys[] = {"prefix", "tunnel", "via", "port",
                                                "blackhole", "group", "backup"};
    Route rt;
    rt.loc = r_.loc(path);
    auto f = open_map(n, path, keys, "a route");
    if (!f.is_map) return rt;
    if (auto* v = require(f, path, "prefix", prefix_expected))
        rt.prefix = route_prefix(*v, at_key(path, "prefix")).value_or(Prefix{});

    std::vector<std::string_view> kinds;
    if (auto* v = f.find("tunnel")) {
        kinds.push_back("tunnel");
        rt.tunnel = text(*v, at_key(path, "tunnel"), "the name of a tunnel").value_or("");
    }
    if (auto* v = f.find("via")) {
        kinds.push_back("via");
        rt.next_hop = address(*v, at_key(path, "via")).value_or(IpAddr{});
    }
    if (auto* v = f.find("blackhole")) {
        auto b = boolean(*v, at_key(path, "blackhole"));
        if (b.value_or(true)) kinds.push_back("blackhole");
    }
    if (auto* v = f.find("group")) {
        kinds.push_back("group");
        rt.group = text(*v, at_key(path, "group"), "the name of a group").value_or("");
    }
    if (kinds.size() != 1) {
        std::string what = kinds.empty() ? std::string("none") : detail::join(kinds, " and ");
        r_.error(path, "expected exactly one of tunnel, group, via or blackhole: true, got " + what);
        // Which kind was meant is unknown; the validator must not use this route for
        // reachability, but still checks each given field on its own.
        r_.mark_bad(at_key(path, "kind"));
    }
    if (!kinds.empty()) {
        rt.kind = kinds[0] == "tunnel" ? RouteKind::Tunnel
                  : kinds[0] == "via"  ? RouteKind::NextHop
                  : kinds[0] == "group" ? RouteKind::Group
                                       : RouteKind::Blackhole;
    }
    if (auto* v = f.find("backup")) {
        std::string kp = at_key(path, "backup");
        rt.backup = text(*v, kp, "the name of a group or tunnel").value_or("");
        if (!f.find("tunnel") && !f.find("group"))
            fail(kp, "backup applies only to a route with tunnel or group; remove it");
    }
    if (auto* v = f.find("port")) {
        std::string kp = at_key(path, "port");
        rt.port = text(*v, kp, "the name of a port").value_or("");
        if (!f.find("via")) fail(kp, "port applies only to a route with via; remove it");
    }
    return rt;
}

void Parser::root(const YAML::Node& doc, Config& c) {
    static constexpr std::string_view keys[] = {
        "eal",       "workers", "idle_backoff_us", "stats_interval", "mbufs",
        "log_level", "ports",   "neighbors",       "tunnels",        "security_associations",
        "routes",    "groups",  "operations"};
    static constexpr std::string_view levels[] = {"emerg",   "alert",  "crit", "error",
                                                  "warning", "notice", "info", "debug"};
    place(doc, "", doc.Mark());
    auto f = open_map(doc, "", keys, "the gateway settings");
    if (!f.is_map) return;

    if (auto* v = f.find("eal")) {
        if (auto l = list(*v, "eal", "strings (EAL arguments)")) {
            for (size_t i = 0; i < l->size(); i++)
                if (auto s = text((*l)[i], at_index("eal", i), "a string"))
                    c.eal_args.push_back(*s);
        }
    }
    if (auto* v = f.find("workers")) {
        workers(*v, "workers", c.workers);
    } else {
        c.workers = {1};
    }
    if (auto* v = f.find("idle_backoff_us"))
        c.idle_backoff_us =
            uint32_t(integer(*v, "idle_backoff_us", 0, 100000).value_or(c.idle_backoff_us));
    if (auto* v = f.find("stats_interval"))
        c.stats_interval_s = uint32_t(
            integer(*v, "stats_interval", 0, 86400, "a number of seconds from 0 (off) to 86400")
                .value_or(c.stats_interval_s));
    if (auto* v = f.find("mbufs"))
        c.mbufs = uint32_t(integer(*v, "mbufs", 1023, 1048575).value_or(c.mbufs));
    if (auto* v = f.find("log_level")) {
        if (auto i = choice(*v, "log_level", levels)) c.log_level = std::string(levels[*i]);
    }
    if (auto* v = require(f, "", "ports", "a list of 1 to 16 ports"))
        items(*v, "ports", "ports", 1, max_ports, c.ports, &Parser::port);
    if (auto* v = f.find("neighbors"))
        items(*v, "neighbors", "neighbors", 0, SIZE_MAX, c.neighbors, &Parser::neighbor);
    if (auto* v = f.find("tunnels"))
        items(*v, "tunnels", "tunnels", 0, max_tunnels, c.tunnels, &Parser::tunnel);
    if (auto* v = f.find("security_associations"))
        items(*v, "security_associations", "security associations", 0, max_sas, c.sas,
              &Parser::sa);
    if (auto* v = f.find("groups"))
        items(*v, "groups", "groups", 0, max_groups, c.groups, &Parser::group);
    if (auto* v = f.find("routes"))
        items(*v, "routes", "routes", 0, max_routes, c.routes, &Parser::route);
    if (auto* v = f.find("operations")) c.ops = operations(*v, "operations");
}

// yaml-cpp's messages for a tab in the indentation ("illegal block entry") do not say why.
std::string tab_hint(const std::string& text, const YAML::Mark& m) {
    if (m.is_null()) return {};
    size_t start = 0;
    for (int line = 0; line < m.line && start != std::string::npos; line++) {
        start = text.find('\n', start);
        if (start != std::string::npos) start++;
    }
    if (start == std::string::npos) return {};
    for (size_t i = start; i < text.size() && (text[i] == ' ' || text[i] == '\t'); i++)
        if (text[i] == '\t')
            return " (this line is indented with a tab; YAML indentation must use spaces)";
    return {};
}

}  // namespace parsing

using parsing::Parser;
using parsing::tab_hint;
using detail::Report;

LoadResult load_string(const std::string& text, const std::string& source_name) {
    LoadResult res;
    try {
        Report r(source_name);
        std::vector<YAML::Node> docs;
        try {
            docs = YAML::LoadAll(text);
        } catch (const YAML::Exception& e) {
            Loc at{source_name};
            if (!e.mark.is_null()) {
                at.line = e.mark.line + 1;
                at.col = e.mark.column + 1;
            }
            res.errors.push_back({at, "YAML syntax error: " + e.msg + tab_hint(text, e.mark)});
            return res;
        }
        // A stray "---" at the end of a file adds an empty document; only real content counts.
        std::erase_if(docs, [](const YAML::Node& d) { return d.IsNull(); });
        if (docs.empty()) {
            r.error_at(Loc{source_name, 1, 1, ""},
                       "the document is empty; expected a map with at least a \"ports\" list");
        } else {
            if (docs.size() > 1)
                r.error_at(Loc{source_name, docs[1].Mark().line + 1, docs[1].Mark().column + 1, ""},
                           "a second YAML document (after \"---\"); expected exactly one");
            Config c;
            Parser(r).root(docs[0], c);
            detail::validate(c, r);
            if (!r.has_errors()) {
                c.source = source_name;
                res.config = std::move(c);
            }
        }
        res.errors = r.take_sorted();
    } catch (const std::exception& e) {
        // Not expected (yaml-cpp conversions are avoided); the contract is "never throws".
        res.config.reset();
        res.errors.push_back(
            {Loc{source_name}, std::string("internal error while loading: ") + e.what()});
    } catch (...) {
        res.config.reset();
        res.errors.push_back({Loc{source_name}, "internal error while loading"});
    }
    return res;
}

LoadResult load_file(const std::string& path) {
    LoadResult res;
    try {
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"),
                                                          &std::fclose);
        if (!f) {
            res.errors.push_back({Loc{path}, std::string("cannot open: ") + std::strerror(errno)});
            return res;
        }
        std::string text;
        char buf[65536];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, n);
        int err = std::ferror(f.get()) ? errno : 0;
        f.reset();
        if (err) {
            res.errors.push_back({Loc{path}, std::string("cannot read: ") + std::strerror(err)});
            return res;
        }
        return load_string(text, path);
    } catch (...) {
        res.errors.push_back({Loc{path}, "cannot read: out of memory"});
        return res;
    }
}

}  // namespace tgw::config
