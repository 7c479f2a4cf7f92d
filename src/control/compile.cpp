#include "control/compile.hpp"

#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_hash.h>
#include <rte_jhash.h>

#include <atomic>
#include <tuple>

#include "control/compile_bridge.hpp"
#include "control/ecmp.hpp"
#include "control/mtu.hpp"
#include "dp/neigh.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::control {

using config::Diag;
using dp::NextHop;
using dp::NhKind;

namespace {

std::string unique_name(const char* what) {
    static std::atomic<unsigned> n{0};
    return std::string(what) + std::to_string(n.fetch_add(1));
}

struct Builder {
    const config::Config& cfg;
    dp::Snapshot& s;
    std::vector<Diag>& errors;
    std::map<std::tuple<int, uint16_t, uint32_t, IpAddr>, uint32_t> nh_index;

    uint32_t nexthop(const NextHop& h) {
        auto key = std::make_tuple(int(h.kind), h.port, h.tunnel, h.gw);
        auto it = nh_index.find(key);
        if (it != nh_index.end()) return it->second;
        uint32_t i = uint32_t(s.nexthops.size());
        s.nexthops.push_back(h);
        nh_index.emplace(key, i);
        return i;
    }

    void add_route(const Prefix& p, uint32_t nh, const config::Loc& loc) {
        Prefix m = p.masked();
        int rc;
        if (m.addr.is_v4()) rc = rte_fib_add(s.fib4, m.addr.v4_host(), m.len, nh);
        else rc = rte_fib6_add(s.fib6, m.addr.b.data(), m.len, nh);
        if (rc < 0)
            errors.push_back({loc, "cannot install route " + m.str() + ": " + rte_strerror(-rc)});
    }

    // Longest match over the underlay only (connected subnets and `via` routes): a tunnel's
    // outer packets must never be routed into a tunnel.
    bool resolve_underlay(const IpAddr& dst, uint16_t& port, IpAddr& nh) const {
        int best = -1;
        for (size_t pi = 0; pi < cfg.ports.size(); pi++)
            for (auto& a : cfg.ports[pi].addresses)
                if (a.contains(dst) && int(a.len) > best) {
                    best = a.len;
                    port = uint16_t(pi);
                    nh = dst;
                }
        for (auto& r : cfg.routes) {
            if (r.kind != config::RouteKind::NextHop || !r.prefix.contains(dst) ||
                int(r.prefix.len) <= best)
                continue;
            uint16_t p;
            if (!port_of(r, p)) continue;
            best = r.prefix.len;
            port = p;
            nh = r.next_hop;
        }
        return best >= 0;
    }

    bool port_of(const config::Route& r, uint16_t& port) const {
        for (size_t pi = 0; pi < cfg.ports.size(); pi++) {
            if (!r.port.empty() && cfg.ports[pi].name != r.port) continue;
            for (auto& a : cfg.ports[pi].addresses)
                if (a.contains(r.next_hop)) {
                    port = uint16_t(pi);
                    return true;
                }
        }
        return false;
    }
};

void build_template(dp::Tunnel& t, const config::Tunnel& c) {
    using namespace wire;
    std::memset(t.tmpl, 0, sizeof t.tmpl);
    if (!t.outer_v6) {
        auto* ip = reinterpret_cast<Ipv4*>(t.tmpl);
        ip->ver_ihl = 0x45;
        ip->proto = ipproto::gre;
        std::memcpy(ip->src, c.local.v4_bytes(), 4);
        std::memcpy(ip->dst, c.remote.v4_bytes(), 4);
        t.ip_len = sizeof(Ipv4);
        // Per packet only tos, length, id, frag and ttl change: the encap stage adds those
        // words to this base instead of re-reading the header it just wrote (RFC 1071 §2(C)).
        t.ip_sum = csum_partial(ip->src, 8, uint32_t(ipproto::gre));
    } else {
        auto* ip6 = reinterpret_cast<Ipv6*>(t.tmpl);
        ip6->vtc_flow.set(6u << 28);
        ip6->next = ipproto::gre;
        std::memcpy(ip6->src, c.local.b.data(), 16);
        std::memcpy(ip6->dst, c.remote.b.data(), 16);
        t.ip_len = sizeof(Ipv6);
    }
    uint16_t flags = (c.checksum ? Gre::flag_c : 0) | (c.key ? Gre::flag_k : 0) |
                     (c.sequence ? Gre::flag_s : 0);
    auto* gre = reinterpret_cast<Gre*>(t.tmpl + t.ip_len);
    gre->flags_ver.set(flags);
    unsigned off = t.ip_len + 4;
    t.gre_csum_off = 0;
    t.gre_seq_off = 0;
    if (c.checksum) {
        t.gre_csum_off = uint8_t(off);
        off += 4;  // checksum + reserved1, both zero in the template
    }
    if (c.key) {
        reinterpret_cast<be32*>(t.tmpl + off)->set(*c.key);
        off += 4;
    }
    if (c.sequence) {
        t.gre_seq_off = uint8_t(off);
        off += 4;
    }
    t.tmpl_len = uint8_t(off);
}

}  // namespace

CompileResult compile(const config::Config& cfg, const std::vector<PortInfo>& ports,
                      unsigned n_workers, const SlotMap& old_slots, uint64_t generation,
                      dp::NeighTable* neigh, const std::set<std::string>* down_in,
                      const SaStore* old_sas) {
    static const SaStore no_sas;
    static const std::set<std::string> none;
    const std::set<std::string>& down = down_in ? *down_in : none;
    CompileResult r;
    r.snap = std::make_unique<dp::Snapshot>();
    dp::Snapshot& s = *r.snap;
    s.generation = generation;
    s.config = cfg;
    s.n_workers = n_workers ? n_workers : 1;
    const config::Loc top{cfg.source, 0, 0, ""};
    if (ports.size() != cfg.ports.size()) {
        r.errors.push_back({top, "internal: port table does not match the configuration"});
        return r;
    }

    size_t n_v4 = 0, n_v6 = 0;
    auto count = [&](const Prefix& p) { (p.addr.is_v4() ? n_v4 : n_v6)++; };
    for (auto& p : cfg.ports)
        for (auto& a : p.addresses) count(a), count(a);
    for (auto& t : cfg.tunnels)
        for (auto& a : t.addresses) count(a), count(a);
    for (auto& rt : cfg.routes) count(rt.prefix);

    rte_fib_conf f4{};
    f4.type = RTE_FIB_DIR24_8;
    f4.default_nh = 0;
    f4.max_routes = int(n_v4 + 64);
    f4.dir24_8.nh_sz = RTE_FIB_DIR24_8_2B;  // 32767 next hops; tbl24 is 32 MiB
    f4.dir24_8.num_tbl8 = uint32_t(std::min<size_t>(n_v4 + 256, 65535));
    s.fib4 = rte_fib_create(unique_name("fib4_").c_str(), SOCKET_ID_ANY, &f4);
    rte_fib6_conf f6{};
    f6.type = RTE_FIB6_TRIE;
    f6.default_nh = 0;
    f6.max_routes = int(n_v6 + 64);
    f6.trie.nh_sz = RTE_FIB6_TRIE_2B;
    f6.trie.num_tbl8 = uint32_t(std::min<size_t>(n_v6 * 14 + 256, 1u << 20));
    s.fib6 = rte_fib6_create(unique_name("fib6_").c_str(), SOCKET_ID_ANY, &f6);
    if (!s.fib4 || !s.fib6) {
        r.errors.push_back({top, std::string("cannot allocate the FIB: ") + rte_strerror(rte_errno) +
                                     " (give the EAL more memory, -m)"});
        return r;
    }
    rte_hash_parameters hp{};
    std::string hname = unique_name("tun_");
    hp.name = hname.c_str();
    hp.entries = uint32_t(std::max<size_t>(64, cfg.tunnels.size() * 2));
    hp.key_len = sizeof(dp::TunnelKey);
    hp.hash_func = rte_jhash;
    hp.socket_id = SOCKET_ID_ANY;
    s.tunnel_by_key = rte_hash_create(&hp);  // read-only once published: no RW flags
    if (!s.tunnel_by_key) {
        r.errors.push_back({top, std::string("cannot allocate the tunnel table: ") +
                                     rte_strerror(rte_errno)});
        return r;
    }

    for (size_t i = 0; i < cfg.ports.size(); i++) {
        dp::Port p;
        p.port_id = ports[i].port_id;
        std::memcpy(p.mac, ports[i].mac, 6);
        p.mtu = cfg.ports[i].mtu;
        p.addresses = cfg.ports[i].addresses;
        p.name = cfg.ports[i].name;
        s.ports.push_back(std::move(p));
    }

    Builder b{cfg, s, r.errors, {}};
    b.nexthop(NextHop{});  // index 0: no route
    const uint32_t nh_local = b.nexthop(NextHop{NhKind::local, 0, 0, {}});

    // Slots: keep the slot of every tunnel that survives; give freed or new slots to the rest.
    r.slots.epoch = old_slots.epoch;
    std::vector<bool> used(config::max_tunnels, false);
    for (auto& t : cfg.tunnels) {
        auto it = old_slots.by_name.find(t.name);
        if (it != old_slots.by_name.end()) {
            r.slots.by_name[t.name] = it->second;
            used[it->second] = true;
        }
    }
    r.slots.epoch.resize(config::max_tunnels, 0);
    uint32_t next_free = 0;

    for (size_t i = 0; i < cfg.tunnels.size(); i++) {
        const config::Tunnel& c = cfg.tunnels[i];
        dp::Tunnel t{};
        t.outer_v6 = !c.local.is_v4();
        build_template(t, c);
        t.rx_need_csum = c.checksum;
        t.seq = c.sequence;
        t.ttl = c.ttl;
        t.tos_mode = c.tos_mode;
        t.dscp = c.tos;
        t.df = c.df;
        t.local = c.local;
        t.remote = c.remote;
        t.name = c.name;
        t.single_writer = t.seq;
        t.ipsec_only = c.type == config::TunnelType::Ipsec;
        t.sa_out = dp::no_sa;
        // In tunnel mode the GRE packet travels inside ESP: its remote need not be reachable
        // over the underlay, only the SA's remote (checked in build_sas).
        bool inside_esp = false;
        if (c.protection)
            for (auto& sa : cfg.sas)
                if (sa.name == c.protection->out && sa.mode == config::SaMode::Tunnel) inside_esp = true;
        if (!b.resolve_underlay(c.remote, t.port, t.nh) && !inside_esp) {
            r.errors.push_back({c.loc, "remote " + c.remote.str() +
                                           " is not reachable over any port (no subnet or via route)"});
            continue;
        }
        // control/mtu.hpp: exact, ESP padding included; the validator already refused an
        // explicit mtu above what fits unless the tunnel fragments outer packets.
        t.fits = uint16_t(encap_of(c, outbound_sa(cfg, c)).max_inner(cfg.ports[t.port].mtu));
        t.mtu = effective_mtu(c, t.fits);
        t.frag = c.fragmentation;
        t.mss4 = clamp_mss(c, t.mtu, 4);
        t.mss6 = clamp_mss(c, t.mtu, 6);
        auto it = r.slots.by_name.find(c.name);
        if (it == r.slots.by_name.end()) {
            while (next_free < used.size() && used[next_free]) next_free++;
            if (next_free >= used.size()) {
                r.errors.push_back({c.loc, "too many tunnels"});
                continue;
            }
            used[next_free] = true;
            r.slots.epoch[next_free]++;
            it = r.slots.by_name.emplace(c.name, next_free).first;
        }
        t.neigh_pos = neigh && !inside_esp ? neigh->reserve(t.port, t.nh) : -1;
        t.slot = it->second;
        t.epoch = r.slots.epoch[t.slot];
        t.owner = uint16_t(t.slot % s.n_workers);

        dp::TunnelKey k{};
        k.src = c.remote;
        k.dst = c.local;
        k.has_key = c.key.has_value();
        k.key = c.key.value_or(0);
        uint32_t idx = uint32_t(s.tunnels.size());
        int rc = rte_hash_add_key_data(s.tunnel_by_key, &k, reinterpret_cast<void*>(uintptr_t(idx)));
        if (rc < 0) {
            r.errors.push_back({c.loc, std::string("cannot add tunnel: ") + rte_strerror(-rc)});
            continue;
        }
        s.tunnels.push_back(std::move(t));
    }

    SaBuild sb{cfg, s, neigh, old_sas ? *old_sas : no_sas, r.sas, r.errors};
    build_sas(
        sb,
        [](const void* ctx, const IpAddr& dst, uint16_t& port, IpAddr& nh) {
            return static_cast<const Builder*>(ctx)->resolve_underlay(dst, port, nh);
        },
        &b);
    compile_bridges(cfg, s, r.errors);

    // Order matters where prefixes are equal: connected, then static (a static route may
    // override a connected subnet), then the gateway's own addresses, which always win.
    for (size_t pi = 0; pi < cfg.ports.size(); pi++)
        for (auto& a : cfg.ports[pi].addresses)
            b.add_route(a, b.nexthop(NextHop{NhKind::port, uint16_t(pi), 0, {}}), cfg.ports[pi].loc);
    auto tunnel_index = [&](const std::string& name) -> int {
        for (size_t i = 0; i < s.tunnels.size(); i++)
            if (s.tunnels[i].name == name) return int(i);
        return -1;
    };
    // ECMP groups over the live members; a tunnel whose keepalives failed is in `down`.
    std::map<std::string, uint32_t> group_index;
    for (auto& g : cfg.groups) {
        dp::Group rg;
        rg.name = g.name;
        std::vector<EcmpMember> members;
        for (auto& m : g.members) {
            int ti = tunnel_index(m.tunnel);
            if (ti < 0) continue;
            rg.tunnels.push_back(uint32_t(ti));
            members.push_back({m.tunnel, m.weight, down.count(m.tunnel) == 0});
        }
        rg.owner = ecmp_table(members);
        rg.table = rg.owner->empty() ? nullptr : rg.owner->data();
        group_index[g.name] = uint32_t(s.groups.size());
        s.groups.push_back(std::move(rg));
    }
    // A tunnel or group with no live member yields nothing; the caller falls back.
    auto live_target = [&](const std::string& name) -> std::optional<NextHop> {
        if (auto it = group_index.find(name); it != group_index.end()) {
            if (!s.groups[it->second].table) return std::nullopt;
            return NextHop{NhKind::group, 0, it->second, {}};
        }
        int ti = tunnel_index(name);
        if (ti < 0 || down.count(name)) return std::nullopt;
        return NextHop{NhKind::tunnel, 0, uint32_t(ti), {}};
    };
    const NextHop nh_down{NhKind::down, 0, 0, {}};
    for (auto& c : cfg.tunnels) {
        auto t = live_target(c.name);
        for (auto& a : c.addresses) b.add_route(a, b.nexthop(t ? *t : nh_down), c.loc);
    }
    for (auto& rt : cfg.routes) {
        NextHop h;
        switch (rt.kind) {
        case config::RouteKind::Blackhole:
            h.kind = NhKind::blackhole;
            break;
        case config::RouteKind::Tunnel:
        case config::RouteKind::Group: {
            const std::string& primary = rt.kind == config::RouteKind::Tunnel ? rt.tunnel : rt.group;
            if (tunnel_index(primary) < 0 && !group_index.count(primary)) {
                r.errors.push_back({rt.loc, "unknown tunnel or group \"" + primary + "\""});
                continue;
            }
            // Primary while it has a live member, else the backup, else counted drops:
            // never into a dead tunnel.
            auto t = live_target(primary);
            if (!t && !rt.backup.empty()) t = live_target(rt.backup);
            h = t ? *t : nh_down;
            break;
        }
        case config::RouteKind::NextHop:
            h.kind = NhKind::port;
            h.gw = rt.next_hop;
            if (!b.port_of(rt, h.port)) {
                r.errors.push_back({rt.loc, "next hop " + rt.next_hop.str() + " is on no port's subnet"});
                continue;
            }
            h.neigh_pos = neigh ? neigh->reserve(h.port, h.gw) : -1;
            break;
        }
        b.add_route(rt.prefix, b.nexthop(h), rt.loc);
    }
    for (auto& p : cfg.ports)
        for (auto& a : p.addresses) b.add_route(Prefix{a.addr, uint8_t(a.addr.is_v4() ? 32 : 128)}, nh_local, p.loc);
    for (auto& t : cfg.tunnels)
        for (auto& a : t.addresses) b.add_route(Prefix{a.addr, uint8_t(a.addr.is_v4() ? 32 : 128)}, nh_local, t.loc);
    // GRE over ESP tunnel mode may use GRE endpoints of its own: its local one is ours.
    for (auto& t : cfg.tunnels)
        if (t.protection && t.type != config::TunnelType::Ipsec)
            b.add_route(Prefix{t.local, uint8_t(t.local.is_v4() ? 32 : 128)}, nh_local, t.loc);

    if (s.nexthops.size() > 32767)
        r.errors.push_back({top, "too many distinct next hops (" + std::to_string(s.nexthops.size()) +
                                     "), the limit is 32767"});
    return r;
}

}  // namespace tgw::control
