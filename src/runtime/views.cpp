#include "runtime/views.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "dp/neigh.hpp"
#include "dp/snapshot.hpp"
#include "runtime/api.hpp"
#include "runtime/ports.hpp"

namespace tgw::runtime::view {

namespace {

std::string mac_str(const uint8_t m[6]) {
    char b[18];
    snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return b;
}

std::string joined(const std::vector<Prefix>& v) {
    std::string s;
    for (const auto& p : v) {
        if (!s.empty()) s += ' ';
        s += p.str();
    }
    return s;
}

const char* df_name(config::DfMode d) {
    switch (d) {
        case config::DfMode::Set:
            return "set";
        case config::DfMode::Clear:
            return "clear";
        default:
            return "copy";
    }
}

std::string target(const config::Route& r) {
    std::string t;
    switch (r.kind) {
        case config::RouteKind::Tunnel:
            t = "tunnel " + r.tunnel;
            break;
        case config::RouteKind::Group:
            t = "group " + r.group;
            break;
        case config::RouteKind::NextHop:
            t = "via " + r.next_hop.str();
            if (!r.port.empty()) t += " port " + r.port;
            break;
        case config::RouteKind::Blackhole:
            t = "blackhole";
            break;
    }
    if (!r.backup.empty()) t += " backup " + r.backup;
    return t;
}

size_t clamp_start(size_t start, size_t total) { return std::min(start, total); }

}  // namespace

Info info(Api& api) {
    const dp::Snapshot& s = api.snapshot();
    Info i;
    i.config_path = api.config_path();
    i.runtime_dir = rte_eal_get_runtime_dir();
    i.generation = s.generation;
    i.uptime_s = api.uptime();
    i.ports = s.ports.size();
    i.tunnels = s.tunnels.size();
    i.routes = s.config.routes.size();
    i.workers = s.n_workers;
    return i;
}

namespace {

Page<Port> ports_with(Api& api, const Totals& t) {
    const dp::Snapshot& s = api.snapshot();
    const auto& setup = api.ports();
    Page<Port> pg;
    pg.generation = s.generation;
    pg.total = s.ports.size();
    for (size_t i = 0; i < s.ports.size(); i++) {
        const dp::Port& sp = s.ports[i];
        Port p;
        p.name = sp.name;
        p.port_id = sp.port_id;
        p.mac = mac_str(sp.mac);
        p.mtu = sp.mtu;
        p.addresses = joined(sp.addresses);
        // The device name only: vdev arguments (file paths, interface options) are not
        // something a dashboard needs, and stay out of every output.
        if (i < s.config.ports.size()) p.device = device_name(s.config.ports[i].device);
        if (i < setup.size()) {
            p.driver = setup[i].driver;
            p.rx_queues = setup[i].nb_rxq;
            p.tx_queues = setup[i].nb_txq;
        }
        if (i < t.ports.size()) p.c = t.ports[i];
        rte_eth_link link{};
        if (rte_eth_link_get_nowait(sp.port_id, &link) == 0) {
            p.link_up = link.link_status == RTE_ETH_LINK_UP;
            p.speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
        }
        rte_eth_stats st{};
        if (rte_eth_stats_get(sp.port_id, &st) == 0) {
            p.hw_rx_missed = st.imissed;
            p.hw_rx_errors = st.ierrors;
            p.hw_tx_errors = st.oerrors;
            p.hw_rx_nombuf = st.rx_nombuf;
        }
        pg.rows.push_back(std::move(p));
    }
    return pg;
}

Page<Tunnel> tunnels_with(Api& api, const Totals& t, size_t start, size_t max) {
    const dp::Snapshot& s = api.snapshot();
    std::unordered_map<std::string_view, const config::Tunnel*> cfg;
    for (const auto& ct : s.config.tunnels) cfg.emplace(ct.name, &ct);
    Page<Tunnel> pg;
    pg.generation = s.generation;
    pg.total = s.tunnels.size();
    pg.start = clamp_start(start, pg.total);
    size_t end = std::min(pg.total, pg.start + max);
    for (size_t i = pg.start; i < end; i++) {
        const dp::Tunnel& st = s.tunnels[i];
        Tunnel r;
        r.name = st.name;
        r.local = st.local.str();
        r.remote = st.remote.str();
        r.mtu = st.mtu;
        r.mss = st.mss4;
        static constexpr const char* frag_names[] = {"inner", "outer", "off"};
        r.fragmentation = frag_names[unsigned(st.frag)];
        r.sequence = st.seq;
        if (st.port < s.ports.size()) r.port = s.ports[st.port].name;
        if (auto it = cfg.find(st.name); it != cfg.end()) {
            const config::Tunnel& c = *it->second;
            r.key = c.key;
            r.checksum = c.checksum;
            r.ttl = c.ttl;
            r.tos = c.tos_mode == config::TosMode::Inherit ? "inherit" : std::to_string(c.tos);
            r.df = df_name(c.df);
            r.addresses = joined(c.addresses);
            if (c.protection) {
                r.is_protected = true;
                r.sa_out = c.protection->out;
                for (const auto& n : c.protection->in) {
                    if (!r.sa_in.empty()) r.sa_in += ' ';
                    r.sa_in += n;
                }
            }
        }
        if (i < t.tunnels.size()) r.c = t.tunnels[i];
        if (i < t.tunnel_state.size()) r.state = t.tunnel_state[i];
        pg.rows.push_back(std::move(r));
    }
    return pg;
}

}  // namespace

Page<Port> ports(Api& api) { return ports_with(api, api.totals()); }

Page<Tunnel> tunnels(Api& api, size_t start, size_t max) {
    return tunnels_with(api, api.totals(), start, max);
}

Page<Route> routes(Api& api, size_t start, size_t max) {
    const dp::Snapshot& s = api.snapshot();
    const auto& rs = s.config.routes;
    Page<Route> pg;
    pg.generation = s.generation;
    pg.total = rs.size();
    pg.start = clamp_start(start, pg.total);
    size_t end = std::min(pg.total, pg.start + max);
    for (size_t i = pg.start; i < end; i++) pg.rows.push_back({rs[i].prefix.str(), target(rs[i])});
    return pg;
}

Page<Neighbour> neighbours(Api& api, size_t start, size_t max) {
    const dp::Snapshot& s = api.snapshot();
    Page<Neighbour> pg;
    pg.generation = s.generation;
    size_t n = 0;
    // The table is changed only by this thread (the slow path runs here too), so the order is
    // stable between two pages unless ARP/ND learned or forgot an entry in between.
    api.neighbours().for_each([&](uint16_t port, const IpAddr& a, uint64_t w) {
        size_t i = n++;
        if (i < start || pg.rows.size() >= max) return;
        Neighbour r;
        r.port = port < s.ports.size() ? s.ports[port].name : "port" + std::to_string(port);
        r.address = a.str();
        if (w & dp::NeighTable::valid) {
            uint8_t mac[6];
            dp::mac_from_word(w, mac);
            r.mac = mac_str(mac);
            r.state = (w & dp::NeighTable::is_static) ? "static" : "dynamic";
        } else {
            r.state = "incomplete";
        }
        pg.rows.push_back(std::move(r));
    });
    pg.total = n;
    pg.start = clamp_start(start, n);
    return pg;
}

All all(Api& api) {
    All a;
    a.info = info(api);
    Totals t = api.totals();  // once, so every section shows the same instant
    a.ports = ports_with(api, t).rows;
    a.tunnels = tunnels_with(api, t, 0, SIZE_MAX).rows;
    std::copy(std::begin(t.drops), std::end(t.drops), a.drops);
    a.workers.count = a.info.workers;
    a.workers.packets = t.pkts;
    a.workers.busy_cycles = t.busy_cycles;
    a.workers.polls = t.polls;
    a.workers.busy_polls = t.busy_polls;
    a.workers.punted = t.punted;
    a.workers.handed_off = t.handed_off;
    a.workers.tsc_hz = rte_get_tsc_hz();
    a.workers.fragmented = t.fragmented;
    a.workers.fragments = t.fragments;
    a.workers.reassembled = t.reassembled;
    a.workers.mss_clamped = t.mss_clamped;
    a.slowpath = std::move(t.slowpath);
    a.sas = sas(api, 0, SIZE_MAX).rows;
    a.stages = stages(t);
    a.stage_sample = api.snapshot().config.ops.stage_sample;
    return a;
}

}  // namespace tgw::runtime::view
