// The /tunnelgw/* telemetry commands. They run on DPDK's telemetry thread, which must not touch
// gateway state: each one copies what it needs through gate() (on the main thread) and formats
// the reply here.
//
// Reply shapes, forced by DPDK 22.11's telemetry library:
//  - a reply is at most 16 KiB, and values that do not fit are dropped silently, so every reply
//    is sized below reply_budget and lists are paged;
//  - dict keys may hold only A-Z a-z 0-9 _ /, so tunnel, port and drop names (which contain
//    "-" and ".") are values, never keys;
//  - containers nest one level, so a list is a dict of columns (one array per field), not an
//    array of objects: {"total":N, "start":S, "count":C, "next":S+C, "generation":G,
//    "name":[...], "rx_packets":[...], ...}. "next" is present only when more rows follow;
//    ask for them with "/tunnelgw/tunnels,<next>".
//  - strings are at most 127 bytes of printable ASCII (see ascii()).
#include "runtime/telemetry.hpp"

#include <algorithm>

#include "control/which.hpp"

#include <rte_cycles.h>
#include <rte_telemetry.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>

#include "dp/counters.hpp"
#include "runtime/api.hpp"
#include "runtime/bridge_views.hpp"
#include "runtime/log.hpp"
#include "runtime/operator.hpp"
#include "runtime/views.hpp"

namespace tgw::runtime::telemetry {

namespace {

constexpr size_t reply_budget = 14000;  // of DPDK's 16384, leaving room for the envelope
constexpr size_t max_rows = RTE_TEL_MAX_ARRAY_ENTRIES;
constexpr auto reload_timeout = std::chrono::seconds(120);  // a large config compiles slowly

std::mutex g_mu;
config::Operations g_ops;  // for /tunnelgw/info; written once at registration

size_t json_len(const std::string& s) {
    size_t n = s.size() + 3;  // quotes and a comma
    for (char c : s) n += (c == '"' || c == '\\');
    return n;
}

size_t digits(uint64_t v) {
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

void error(rte_tel_data* d, const std::string& msg) {
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "error", clean(msg).c_str());
}

void not_answered(rte_tel_data* d) {
    error(d, "tunnelgw did not answer: it is starting or stopping, or was busy for 5 s");
}

// "" or a row number: where a page starts.
bool start_of(const char* params, size_t& start, rte_tel_data* d) {
    start = 0;
    if (!params || !*params) return true;
    std::string_view p(params);
    if (p.size() > 9 || p.find_first_not_of("0123456789") != std::string_view::npos) {
        error(d,
              "expected no parameter or the row number to start from (the \"next\" of the "
              "previous page), got \"" +
                  std::string(p.substr(0, 40)) + "\"");
        return false;
    }
    for (char c : p) start = start * 10 + size_t(c - '0');
    return true;
}

template <class Row>
struct Field {
    const char* name;
    std::string (*text)(const Row&);  // exactly one of text / num
    uint64_t (*num)(const Row&);
};

// As many rows of pg as fit in one reply, as columns.
template <class Row, size_t N>
void emit(rte_tel_data* d, const view::Page<Row>& pg, const Field<Row> (&fields)[N]) {
    size_t used = 160;  // total, start, count, next, generation
    for (const auto& f : fields) used += std::strlen(f.name) + 6;
    size_t count = 0;
    for (const Row& r : pg.rows) {
        size_t sz = 0;
        for (const auto& f : fields)
            sz += f.text ? json_len(clean(f.text(r))) : digits(f.num(r)) + 1;
        if (count == max_rows || used + sz > reply_budget) break;
        used += sz;
        count++;
    }
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "total", pg.total);
    rte_tel_data_add_dict_u64(d, "start", pg.start);
    rte_tel_data_add_dict_u64(d, "count", count);
    if (pg.start + count < pg.total) rte_tel_data_add_dict_u64(d, "next", pg.start + count);
    rte_tel_data_add_dict_u64(d, "generation", pg.generation);
    for (const auto& f : fields) {
        rte_tel_data* a = rte_tel_data_alloc();
        if (!a) {
            error(d, "out of memory");
            return;
        }
        rte_tel_data_start_array(a, f.text ? RTE_TEL_STRING_VAL : RTE_TEL_U64_VAL);
        for (size_t i = 0; i < count; i++) {
            if (f.text)
                rte_tel_data_add_array_string(a, clean(f.text(pg.rows[i])).c_str());
            else
                rte_tel_data_add_array_u64(a, f.num(pg.rows[i]));
        }
        if (rte_tel_data_add_dict_container(d, f.name, a, 0) != 0) rte_tel_data_free(a);
    }
}

// Copies a page on the main thread, then emits it here.
template <class Row, size_t N, class Fetch>
int list(const char* params, rte_tel_data* d, Fetch fetch, const Field<Row> (&fields)[N]) {
    size_t start;
    if (!start_of(params, start, d)) return 0;
    auto pg = std::make_shared<view::Page<Row>>();
    if (!gate().call([pg, start, fetch](Api& api) { *pg = fetch(api, start); }))
        not_answered(d);
    else
        emit(d, *pg, fields);
    return 0;
}

using view::Neighbour;
using view::Port;
using view::Route;
using view::Tunnel;

const Field<Port> port_fields[] = {
    {"name", [](const Port& p) { return p.name; }, nullptr},
    {"port_id", nullptr, [](const Port& p) { return uint64_t(p.port_id); }},
    {"device", [](const Port& p) { return p.device; }, nullptr},
    {"driver", [](const Port& p) { return p.driver; }, nullptr},
    {"mac", [](const Port& p) { return p.mac; }, nullptr},
    {"mtu", nullptr, [](const Port& p) { return uint64_t(p.mtu); }},
    {"link", [](const Port& p) { return std::string(p.link_up ? "up" : "down"); }, nullptr},
    {"speed_mbps", nullptr, [](const Port& p) { return uint64_t(p.speed_mbps); }},
    {"rx_queues", nullptr, [](const Port& p) { return uint64_t(p.rx_queues); }},
    {"tx_queues", nullptr, [](const Port& p) { return uint64_t(p.tx_queues); }},
    {"addresses", [](const Port& p) { return p.addresses; }, nullptr},
    {"rx_packets", nullptr, [](const Port& p) { return p.c.rx_pkts; }},
    {"rx_bytes", nullptr, [](const Port& p) { return p.c.rx_bytes; }},
    {"tx_packets", nullptr, [](const Port& p) { return p.c.tx_pkts; }},
    {"tx_bytes", nullptr, [](const Port& p) { return p.c.tx_bytes; }},
    {"hw_rx_missed", nullptr, [](const Port& p) { return p.hw_rx_missed; }},
    {"hw_rx_errors", nullptr, [](const Port& p) { return p.hw_rx_errors; }},
    {"hw_tx_errors", nullptr, [](const Port& p) { return p.hw_tx_errors; }},
    {"hw_rx_nombuf", nullptr, [](const Port& p) { return p.hw_rx_nombuf; }},
};

// The GRE key is shown: it is an identifier carried in clear in every packet (RFC 2890 §2.1),
// and comparing it is how a "gre-no-tunnel" drop is diagnosed. It is not a secret.
const Field<Tunnel> tunnel_fields[] = {
    {"name", [](const Tunnel& t) { return t.name; }, nullptr},
    {"local", [](const Tunnel& t) { return t.local; }, nullptr},
    {"remote", [](const Tunnel& t) { return t.remote; }, nullptr},
    {"gre_key", [](const Tunnel& t) { return t.key ? std::to_string(*t.key) : std::string(); },
     nullptr},
    {"checksum", nullptr, [](const Tunnel& t) { return uint64_t(t.checksum); }},
    {"sequence", nullptr, [](const Tunnel& t) { return uint64_t(t.sequence); }},
    {"ttl", nullptr, [](const Tunnel& t) { return uint64_t(t.ttl); }},
    {"tos", [](const Tunnel& t) { return t.tos; }, nullptr},
    {"df", [](const Tunnel& t) { return t.df; }, nullptr},
    {"mtu", nullptr, [](const Tunnel& t) { return uint64_t(t.mtu); }},
    {"mss", nullptr, [](const Tunnel& t) { return uint64_t(t.mss); }},
    {"fragmentation", [](const Tunnel& t) { return t.fragmentation; }, nullptr},
    {"port", [](const Tunnel& t) { return t.port; }, nullptr},
    {"addresses", [](const Tunnel& t) { return t.addresses; }, nullptr},
    {"rx_packets", nullptr, [](const Tunnel& t) { return t.c.rx_pkts; }},
    {"rx_bytes", nullptr, [](const Tunnel& t) { return t.c.rx_bytes; }},
    {"tx_packets", nullptr, [](const Tunnel& t) { return t.c.tx_pkts; }},
    {"tx_bytes", nullptr, [](const Tunnel& t) { return t.c.tx_bytes; }},
    {"rx_drops", nullptr, [](const Tunnel& t) { return t.c.rx_drops; }},
    {"tx_drops", nullptr, [](const Tunnel& t) { return t.c.tx_drops; }},
    {"state", [](const Tunnel& t) { return t.state; }, nullptr},
    {"keepalives_tx", nullptr, [](const Tunnel& t) { return t.c.keepalives_tx; }},
    {"keepalives_rx", nullptr, [](const Tunnel& t) { return t.c.keepalives_rx; }},
    {"ecmp_packets", nullptr, [](const Tunnel& t) { return t.c.ecmp_pkts; }},
    {"protected", nullptr, [](const Tunnel& t) { return uint64_t(t.is_protected); }},
    {"sa_out", [](const Tunnel& t) { return t.sa_out; }, nullptr},
    {"sa_in", [](const Tunnel& t) { return t.sa_in; }, nullptr},
};

// SAs: names, SPIs, algorithms, endpoints and counters. Keys, salts and everything derived
// from them never leave control/ (there is no field here that could carry one).
using view::Sa;
const Field<Sa> sa_fields[] = {
    {"name", [](const Sa& a) { return a.name; }, nullptr},
    {"spi", nullptr, [](const Sa& a) { return uint64_t(a.spi); }},
    {"direction", [](const Sa& a) { return a.direction; }, nullptr},
    {"tunnel", [](const Sa& a) { return a.tunnel; }, nullptr},
    {"mode", [](const Sa& a) { return a.mode; }, nullptr},
    {"encryption", [](const Sa& a) { return a.encryption; }, nullptr},
    {"integrity", [](const Sa& a) { return a.integrity; }, nullptr},
    {"local", [](const Sa& a) { return a.local; }, nullptr},
    {"remote", [](const Sa& a) { return a.remote; }, nullptr},
    {"esn", nullptr, [](const Sa& a) { return uint64_t(a.esn); }},
    {"nat_t", nullptr, [](const Sa& a) { return uint64_t(a.nat_t); }},
    {"replay_window", nullptr, [](const Sa& a) { return uint64_t(a.replay_window); }},
    {"state", [](const Sa& a) { return a.state; }, nullptr},
    {"age_s", nullptr, [](const Sa& a) { return a.age_s; }},
    {"soft_seconds", nullptr, [](const Sa& a) { return a.soft.seconds; }},
    {"hard_seconds", nullptr, [](const Sa& a) { return a.hard.seconds; }},
    {"soft_packets", nullptr, [](const Sa& a) { return a.soft.packets; }},
    {"hard_packets", nullptr, [](const Sa& a) { return a.hard.packets; }},
    {"soft_bytes", nullptr, [](const Sa& a) { return a.soft.bytes; }},
    {"hard_bytes", nullptr, [](const Sa& a) { return a.hard.bytes; }},
    {"packets", nullptr, [](const Sa& a) { return a.c.pkts; }},
    {"bytes", nullptr, [](const Sa& a) { return a.c.bytes; }},
    {"auth_failed", nullptr, [](const Sa& a) { return a.c.auth_failed; }},
    {"replay", nullptr, [](const Sa& a) { return a.c.replay; }},
    {"bad_trailer", nullptr, [](const Sa& a) { return a.c.bad_trailer; }},
    {"truncated", nullptr, [](const Sa& a) { return a.c.truncated; }},
    {"policy", nullptr, [](const Sa& a) { return a.c.policy; }},
    {"expired", nullptr, [](const Sa& a) { return a.c.expired; }},
    {"seq_exhausted", nullptr, [](const Sa& a) { return a.c.seq_exhausted; }},
};

using view::Stage;
const Field<Stage> stage_fields[] = {
    {"stage", [](const Stage& x) { return x.name; }, nullptr},
    {"calls", nullptr, [](const Stage& x) { return x.calls; }},
    {"packets", nullptr, [](const Stage& x) { return x.packets; }},
    {"cycles", nullptr, [](const Stage& x) { return x.cycles; }},
    {"cycles_per_packet", nullptr, [](const Stage& x) { return x.cycles_per_packet(); }},
};

const Field<Route> route_fields[] = {
    {"prefix", [](const Route& r) { return r.prefix; }, nullptr},
    {"target", [](const Route& r) { return r.target; }, nullptr},
};

const Field<Neighbour> neighbour_fields[] = {
    {"port", [](const Neighbour& n) { return n.port; }, nullptr},
    {"address", [](const Neighbour& n) { return n.address; }, nullptr},
    {"mac", [](const Neighbour& n) { return n.mac; }, nullptr},
    {"state", [](const Neighbour& n) { return n.state; }, nullptr},
};

const Field<view::Mac> mac_fields[] = {
    {"domain", [](const view::Mac& m) { return m.domain; }, nullptr},
    {"mac", [](const view::Mac& m) { return m.mac; }, nullptr},
    {"member", [](const view::Mac& m) { return m.member; }, nullptr},
    {"age_s", nullptr, [](const view::Mac& m) { return m.age_s; }},
};

int cmd_macs(const char*, const char* params, rte_tel_data* d) {
    return list(params, d, [](Api& a, size_t s) { return view::macs(a, s, max_rows); }, mac_fields);
}

using view::BridgeRow;
const Field<BridgeRow> bridge_fields[] = {
    {"name", [](const BridgeRow& r) { return r.name; }, nullptr},
    {"kind", [](const BridgeRow& r) { return r.kind; }, nullptr},
    {"rx_packets", nullptr, [](const BridgeRow& r) { return r.rx_pkts; }},
    {"rx_bytes", nullptr, [](const BridgeRow& r) { return r.rx_bytes; }},
    {"tx_packets", nullptr, [](const BridgeRow& r) { return r.tx_pkts; }},
    {"tx_bytes", nullptr, [](const BridgeRow& r) { return r.tx_bytes; }},
    {"forwarded", nullptr, [](const BridgeRow& r) { return r.forwarded; }},
    {"flooded", nullptr, [](const BridgeRow& r) { return r.flooded; }},
    {"unknown_unicast", nullptr, [](const BridgeRow& r) { return r.unknown_unicast; }},
    {"learn_events", nullptr, [](const BridgeRow& r) { return r.learn_events; }},
    {"macs", nullptr, [](const BridgeRow& r) { return r.macs; }},
};

int cmd_bridges(const char*, const char* params, rte_tel_data* d) {
    return list(params, d, [](Api& a, size_t s) { return view::bridges(a, s, max_rows); },
                bridge_fields);
}

struct Drop {
    std::string reason, help;
    uint64_t packets;
};
const Field<Drop> drop_fields[] = {
    {"reason", [](const Drop& x) { return x.reason; }, nullptr},
    {"packets", nullptr, [](const Drop& x) { return x.packets; }},
    {"help", [](const Drop& x) { return x.help; }, nullptr},
};

int cmd_ports(const char*, const char* params, rte_tel_data* d) {
    return list(
        params, d,
        [](Api& a, size_t start) {
            auto pg = view::ports(a);
            pg.start = std::min(start, pg.total);
            pg.rows.erase(pg.rows.begin(), pg.rows.begin() + long(pg.start));
            return pg;
        },
        port_fields);
}

int cmd_tunnels(const char*, const char* params, rte_tel_data* d) {
    return list(
        params, d, [](Api& a, size_t s) { return view::tunnels(a, s, max_rows); }, tunnel_fields);
}

int cmd_routes(const char*, const char* params, rte_tel_data* d) {
    return list(
        params, d, [](Api& a, size_t s) { return view::routes(a, s, max_rows); }, route_fields);
}

int cmd_neighbours(const char*, const char* params, rte_tel_data* d) {
    return list(
        params, d, [](Api& a, size_t s) { return view::neighbours(a, s, max_rows); },
        neighbour_fields);
}

int cmd_drops(const char*, const char* params, rte_tel_data* d) {
    return list(
        params, d,
        [](Api& a, size_t start) {
            Totals t = a.totals();
            view::Page<Drop> pg;
            pg.generation = a.snapshot().generation;
            pg.total = dp::drop_count;
            pg.start = std::min<size_t>(start, pg.total);
            for (size_t i = pg.start; i < dp::drop_count; i++)
                pg.rows.push_back(
                    {dp::drop_name(dp::Drop(i)), dp::drop_help(dp::Drop(i)), t.drops[i]});
            return pg;
        },
        drop_fields);
}

int cmd_sas(const char*, const char* params, rte_tel_data* d) {
    return list(
        params, d, [](Api& a, size_t s) { return view::sas(a, s, max_rows); }, sa_fields);
}

int cmd_stages(const char*, const char* params, rte_tel_data* d) {
    return list(
        params, d,
        [](Api& a, size_t start) {
            view::Page<Stage> pg;
            pg.generation = a.snapshot().generation;
            auto all = view::stages(a.totals());
            pg.total = all.size();
            pg.start = std::min(start, pg.total);
            pg.rows.assign(all.begin() + long(pg.start), all.end());
            return pg;
        },
        stage_fields);
}

int cmd_stats(const char*, const char*, rte_tel_data* d) {
    auto res = std::make_shared<view::All>();
    if (!gate().call([res](Api& a) {
            // Only the worker totals are needed; view::all() would also copy every tunnel.
            Totals t = a.totals();
            res->info = view::info(a);
            res->workers = {res->info.workers, t.pkts,   t.busy_cycles, t.polls,
                            t.busy_polls,      t.punted, t.handed_off,  0,
                            t.fragmented,      t.fragments, t.reassembled, t.mss_clamped};
        })) {
        not_answered(d);
        return 0;
    }
    const view::Workers& w = res->workers;
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "workers", w.count);
    rte_tel_data_add_dict_u64(d, "packets", w.packets);
    rte_tel_data_add_dict_u64(d, "busy_cycles", w.busy_cycles);
    rte_tel_data_add_dict_u64(d, "cycles_per_packet",
                              w.packets ? (w.busy_cycles + w.packets / 2) / w.packets : 0);
    rte_tel_data_add_dict_u64(d, "polls", w.polls);
    rte_tel_data_add_dict_u64(d, "busy_polls", w.busy_polls);
    rte_tel_data_add_dict_u64(d, "busy_percent", w.polls ? w.busy_polls * 100 / w.polls : 0);
    rte_tel_data_add_dict_u64(d, "punted", w.punted);
    rte_tel_data_add_dict_u64(d, "handed_off", w.handed_off);
    rte_tel_data_add_dict_u64(d, "fragmented", w.fragmented);
    rte_tel_data_add_dict_u64(d, "fragments", w.fragments);
    rte_tel_data_add_dict_u64(d, "reassembled", w.reassembled);
    rte_tel_data_add_dict_u64(d, "mss_clamped", w.mss_clamped);
    rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
    rte_tel_data_add_dict_u64(d, "uptime_s", uint64_t(res->info.uptime_s));
    return 0;
}

int cmd_slowpath(const char*, const char*, rte_tel_data* d) {
    auto res = std::make_shared<std::vector<std::pair<std::string, uint64_t>>>();
    if (!gate().call([res](Api& a) { *res = a.totals().slowpath; })) {
        not_answered(d);
        return 0;
    }
    rte_tel_data_start_dict(d);
    for (const auto& [name, v] : *res) {
        std::string k = name;
        for (char& c : k)  // dict keys: A-Z a-z 0-9 _ only
            if (!isalnum(static_cast<unsigned char>(c))) c = '_';
        rte_tel_data_add_dict_u64(d, k.c_str(), v);
    }
    return 0;
}

// "Which tunnel would this flow take": /tunnelgw/flow,SRC DST [PROTO [SPORT DPORT]] (commas
// or spaces), answered from the live snapshot, so keepalive state counts.
int cmd_flow(const char*, const char* params, rte_tel_data* d) {
    std::string q = params ? params : "";
    std::replace(q.begin(), q.end(), ',', ' ');
    std::string err;
    auto fq = control::parse_flow(q, err);
    rte_tel_data_start_dict(d);
    if (!fq) {
        rte_tel_data_add_dict_string(d, "error", clean(err).c_str());
        return 0;
    }
    auto res = std::make_shared<control::FlowAnswer>();
    if (!gate().call([res, f = *fq](Api& a) { *res = control::which_tunnel(a.snapshot(), f); })) {
        not_answered(d);
        return 0;
    }
    rte_tel_data_add_dict_string(d, "verdict", clean(res->verdict).c_str());
    rte_tel_data_add_dict_string(d, "tunnel", clean(res->tunnel).c_str());
    rte_tel_data_add_dict_string(d, "group", clean(res->group).c_str());
    rte_tel_data_add_dict_string(d, "text", clean(res->text).c_str());
    return 0;
}

int cmd_info(const char*, const char*, rte_tel_data* d) {
    auto res = std::make_shared<view::Info>();
    if (!gate().call([res](Api& a) { *res = view::info(a); })) {
        not_answered(d);
        return 0;
    }
    config::Operations ops;
    {
        std::lock_guard lk(g_mu);
        ops = g_ops;
    }
    const view::Info& i = *res;
    std::string prefix = i.runtime_dir.substr(i.runtime_dir.rfind('/') + 1);
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "version", TUNNELGW_VERSION);
    rte_tel_data_add_dict_u64(d, "pid", uint64_t(getpid()));
    rte_tel_data_add_dict_u64(d, "uptime_s", uint64_t(i.uptime_s));
    rte_tel_data_add_dict_u64(d, "generation", i.generation);
    rte_tel_data_add_dict_string(d, "config", clean(i.config_path, true).c_str());
    rte_tel_data_add_dict_string(d, "file_prefix", clean(prefix).c_str());
    rte_tel_data_add_dict_string(d, "runtime_dir", clean(i.runtime_dir, true).c_str());
    rte_tel_data_add_dict_u64(d, "workers", i.workers);
    rte_tel_data_add_dict_u64(d, "ports", i.ports);
    rte_tel_data_add_dict_u64(d, "tunnels", i.tunnels);
    rte_tel_data_add_dict_u64(d, "routes", i.routes);
    rte_tel_data_add_dict_string(d, "metrics_listen", clean(ops.metrics_listen).c_str());
    rte_tel_data_add_dict_u64(d, "pdump", ops.pdump);
    rte_tel_data_add_dict_u64(d, "syslog", ops.syslog);
    return 0;
}

// {"status":"ok","generation":G} or {"status":"rejected","error_count":N,"errors":[lines]}:
// each error is "line:col: path: message" (the file is /tunnelgw/info's "config"), wrapped into
// lines of at most 120 bytes whose continuations start with four spaces.
int cmd_reload(const char*, const char*, rte_tel_data* d) {
    struct Result {
        std::vector<std::string> errors;
        uint64_t generation = 0;
    };
    auto res = std::make_shared<Result>();
    bool answered = gate().call(
        [res](Api& a) {
            for (const auto& e : a.reload()) {
                std::string s = e.str();
                if (!e.loc.file.empty() && s.rfind(e.loc.file + ":", 0) == 0)
                    s.erase(0, e.loc.file.size() + 1);
                res->errors.push_back(std::move(s));
            }
            res->generation = a.snapshot().generation;
        },
        reload_timeout);
    if (!answered) {
        error(d,
              "tunnelgw did not answer within 120 s (stopping, or still compiling: the "
              "log says whether the reload was applied)");
        return 0;
    }
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "status", res->errors.empty() ? "ok" : "rejected");
    rte_tel_data_add_dict_u64(d, "generation", res->generation);
    if (res->errors.empty()) return 0;
    rte_tel_data_add_dict_u64(d, "error_count", res->errors.size());
    rte_tel_data* a = rte_tel_data_alloc();
    if (!a) return 0;
    rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
    size_t used = 200, shown = 0, lines = 0;
    for (const auto& e : res->errors) {
        auto w = wrap(e);
        size_t sz = 0;
        for (const auto& l : w) sz += json_len(l);
        if (used + sz > reply_budget - 200 || lines + w.size() > max_rows - 1) break;
        for (const auto& l : w) rte_tel_data_add_array_string(a, l.c_str());
        used += sz;
        lines += w.size();
        shown++;
    }
    if (shown < res->errors.size())
        rte_tel_data_add_array_string(a, ("... and " + std::to_string(res->errors.size() - shown) +
                                          " more error(s): see the gateway log")
                                             .c_str());
    if (rte_tel_data_add_dict_container(d, "errors", a, 0) != 0) rte_tel_data_free(a);
    return 0;
}

// A C callback must not let an exception escape into DPDK.
template <int (*F)(const char*, const char*, rte_tel_data*)>
int guarded(const char* cmd, const char* params, rte_tel_data* d) noexcept {
    try {
        return F(cmd, params, d);
    } catch (const std::exception& e) {
        TGW_LOG_LIMITED(ERR, "telemetry %s failed: %s", cmd, e.what());
    } catch (...) {
        TGW_LOG_LIMITED(ERR, "telemetry %s failed", cmd);
    }
    error(d, "internal error (see the gateway log)");
    return 0;
}

}  // namespace

// DPDK 22.11's telemetry escapes bytes above 127 wrongly (U+00A7 "§" comes out as "\v\-",
// which is not JSON), so replies are kept to printable ASCII: "§" is spelt out, any other
// non-ASCII character becomes one "?", a control character one "?".
std::string ascii(const std::string& s) {
    std::string o;
    o.reserve(s.size());
    for (size_t i = 0; i < s.size(); i++) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f) {
            o += char(c);
        } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xa7) {
            o += "section ";
            i++;
        } else {
            o += '?';
            // Skip the continuation bytes (10xxxxxx) of a multi-byte UTF-8 character.
            while (c >= 0xc0 && i + 1 < s.size() &&
                   (static_cast<unsigned char>(s[i + 1]) & 0xc0) == 0x80)
                i++;
        }
    }
    return o;
}

std::string clean(const std::string& s, bool keep_tail) {
    constexpr size_t max = RTE_TEL_MAX_STRING_LEN - 1;
    std::string o = ascii(s);
    if (o.size() <= max) return o;
    if (keep_tail) return "..." + o.substr(o.size() - (max - 3));  // paths: the file name matters
    return o.substr(0, max - 3) + "...";
}

std::vector<std::string> wrap(const std::string& s, size_t width) {
    std::vector<std::string> out;
    const std::string indent = "    ";
    std::string rest = ascii(s);
    bool first = true;
    while (!rest.empty()) {
        size_t room = first ? width : width - indent.size();
        if (rest.size() <= room) {
            out.push_back(first ? rest : indent + rest);
            break;
        }
        size_t cut = rest.rfind(' ', room);
        if (cut == std::string::npos || cut < room / 2) cut = room;  // no space near: cut a word
        out.push_back((first ? "" : indent) + rest.substr(0, cut));
        size_t next = cut;
        while (next < rest.size() && rest[next] == ' ') next++;
        rest.erase(0, next);
        first = false;
    }
    return out;
}

bool register_commands(const config::Operations& ops) {
    {
        std::lock_guard lk(g_mu);
        g_ops = ops;
    }
    static std::once_flag once;
    static bool ok = true;
    std::call_once(once, [] {
        struct Cmd {
            const char* name;
            telemetry_cb fn;
            const char* help;
        };
        // Help texts must live as long as the process: DPDK keeps the pointers.
        static const Cmd cmds[] = {
            {"/tunnelgw/info", guarded<cmd_info>,
             "tunnelgw version, uptime, config generation and path, file prefix. No parameters"},
            {"/tunnelgw/ports", guarded<cmd_ports>,
             "Ports: device, link, MTU, addresses, counters, NIC misses. Parameter: start row"},
            {"/tunnelgw/tunnels", guarded<cmd_tunnels>,
             "GRE tunnels: config, MTU, counters. Parameter: start row (the previous \"next\")"},
            {"/tunnelgw/routes", guarded<cmd_routes>,
             "Routes: prefix -> target. Parameter: start row (the previous \"next\")"},
            {"/tunnelgw/neighbours", guarded<cmd_neighbours>,
             "ARP/ND neighbours: port, address, MAC, state. Parameter: start row"},
            {"/tunnelgw/bridges", guarded<cmd_bridges>,
             "Bridge domains and their members: packet counters, flooding, learned MACs. "
             "Parameter: start row"},
            {"/tunnelgw/macs", guarded<cmd_macs>,
             "Bridge domains' MAC table: domain, MAC, member, age_s. Parameter: start row"},
            {"/tunnelgw/drops", guarded<cmd_drops>,
             "Dropped packets by reason, with what each reason means"},
            {"/tunnelgw/stats", guarded<cmd_stats>,
             "Workers: packets, busy cycles, cycles per packet, punted, handed off"},
            {"/tunnelgw/slowpath", guarded<cmd_slowpath>, "Slow path events: ARP, ND, ICMP"},
            {"/tunnelgw/sas", guarded<cmd_sas>,
             "ESP SAs (no keys): SPI, tunnel, algorithm, lifetime state, counters. Parameter: "
             "start row"},
            {"/tunnelgw/stages", guarded<cmd_stages>,
             "Sampled TSC cycles per packet of each fast-path stage (operations.stage_sample)"},
            {"/tunnelgw/flow", guarded<cmd_flow>,
             "Which tunnel a flow takes now. Parameter: SRC DST [PROTO [SPORT DPORT]]"},
            {"/tunnelgw/reload", guarded<cmd_reload>,
             "Reload the config file (as SIGHUP): status ok, or the errors and the old config "
             "kept"},
        };
        for (const Cmd& c : cmds) {
            int rc = rte_telemetry_register_cmd(c.name, c.fn, c.help);
            if (rc != 0) {
                TGW_LOG(ERR, "cannot register telemetry command %s: %s", c.name, strerror(-rc));
                ok = false;
            }
        }
    });
    return ok;
}

}  // namespace tgw::runtime::telemetry
