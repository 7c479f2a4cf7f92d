#include "ctl/commands.hpp"

#include <cstdio>
#include <optional>

#include "ctl/table.hpp"

namespace tgw::ctl {

namespace {

constexpr const char* meta_keys[] = {"total", "start", "count", "next", "generation"};
constexpr int reload_timeout_s = 130;  // the gateway gives a reload 120 s

bool is_meta(const std::string& k) {
    for (const char* m : meta_keys)
        if (k == m) return true;
    return false;
}

// A reply's value, or why there is none.
const json& checked(const json& v, const std::string& cmd, const Client& c) {
    if (v.is_null())
        throw CtlError("the process behind the socket (pid " + std::to_string(c.pid()) +
                       ") does not know " + cmd +
                       ": it is not tunnelgw, or runs with operations.telemetry: false");
    if (v.is_object() && v.contains("error") && v["error"].is_string())
        throw CtlError("tunnelgw: " + v["error"].get<std::string>());
    if (!v.is_object()) throw CtlError("unexpected reply to " + cmd + ": " + v.dump());
    return v;
}

uint64_t unsigned_at(const json& page, const char* key, const std::string& cmd) {
    auto it = page.find(key);
    if (it == page.end() || !it->is_number_unsigned())
        throw CtlError("reply to " + cmd + " has no \"" + key +
                       "\" count; is the gateway a "
                       "different tunnelgw version?");
    return it->get<uint64_t>();
}

// Every page of a list, checked for consistency: a page cut short by DPDK's reply size limit
// or a config reload between two pages (generation changed) are errors, not partial output.
json fetch_list(Client& c, const std::string& cmd, int timeout_s) {
    for (int attempt = 0; attempt < 3; attempt++) {
        json rows = json::array();
        std::optional<uint64_t> generation;
        uint64_t start = 0;
        bool changed = false;
        for (unsigned pages = 0;; pages++) {
            std::string q = start ? cmd + "," + std::to_string(start) : cmd;
            json page = checked(c.query(q, timeout_s), cmd, c);
            uint64_t gen = unsigned_at(page, "generation", cmd);
            if (generation && gen != *generation) {
                changed = true;
                break;
            }
            generation = gen;
            for (auto& r : rows_of(page, cmd)) rows.push_back(std::move(r));
            if (!page.contains("next")) break;
            uint64_t next = unsigned_at(page, "next", cmd);
            if (next <= start || pages > 100000)
                throw CtlError("reply to " + cmd + " pages do not advance (next " +
                               std::to_string(next) + ")");
            start = next;
        }
        if (!changed) return rows;
    }
    throw CtlError("the configuration kept changing while reading " + cmd + "; try again");
}

std::string cell(const json& v) {
    if (v.is_string()) return v.get<std::string>().empty() ? "-" : v.get<std::string>();
    if (v.is_null()) return "-";
    return v.dump();
}

std::string str(const json& row, const char* key) {
    auto it = row.find(key);
    return it == row.end() ? "-" : cell(*it);
}

uint64_t num(const json& row, const char* key) {
    auto it = row.find(key);
    return it != row.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::string duration(uint64_t s) {
    char b[64];
    if (s >= 86400)
        snprintf(b, sizeof b, "%lud %luh %lum", s / 86400, s % 86400 / 3600, s % 3600 / 60);
    else if (s >= 3600)
        snprintf(b, sizeof b, "%luh %lum %lus", s / 3600, s % 3600 / 60, s % 60);
    else
        snprintf(b, sizeof b, "%lum %lus", s / 60, s % 60);
    return b;
}

void print_json(const json& v) { printf("%s\n", v.dump(2).c_str()); }

// Columns: [reply key, title, right-aligned].
struct Col {
    const char* key;
    const char* title;
    bool right;
};

void print_rows(const json& rows, std::initializer_list<Col> cols, const char* none) {
    if (rows.empty()) {
        printf("%s\n", none);
        return;
    }
    Table t;
    for (const Col& c : cols) t.column(c.title, c.right);
    for (const auto& r : rows) {
        std::vector<std::string> cells;
        for (const Col& c : cols) cells.push_back(str(r, c.key));
        t.row(std::move(cells));
    }
    t.print(stdout);
}

// `fix` adds derived columns to each row of the human table (never to --json).
int list(Client& c, const char* cmd, const Settings& s, std::initializer_list<Col> cols,
         const char* none, void (*fix)(json&) = nullptr) {
    json rows = fetch_list(c, cmd, s.timeout_s);
    if (s.json) {
        print_json(rows);
        return 0;
    }
    if (fix)
        for (auto& r : rows) fix(r);
    print_rows(rows, cols, none);
    return 0;
}

// "out1 / in1,in2" for a protected tunnel; "(none)" marks a missing outbound SA (the tunnel
// drops what it should send: sa-missing).
void esp_column(json& r) {
    if (!num(r, "protected")) return;
    std::string out = str(r, "sa_out"), in = str(r, "sa_in");
    for (char& ch : in)
        if (ch == ' ') ch = ',';
    r["esp"] = (out == "-" ? std::string("(none)") : out) + " / " + in;
}

int ports(Client& c, const Settings& s) {
    json rows = fetch_list(c, "/tunnelgw/ports", s.timeout_s);
    if (s.json) {
        print_json(rows);
        return 0;
    }
    for (auto& r : rows) {  // "up 10G": link and speed in one column
        uint64_t mbps = num(r, "speed_mbps");
        std::string link = str(r, "link");
        if (link == "up" && mbps) {  // appends: GCC 12 warns falsely on " " + string (PR 105329)
            link += ' ';
            link += mbps % 1000 ? std::to_string(mbps) : std::to_string(mbps / 1000);
            link += mbps % 1000 ? 'M' : 'G';
        }
        r["link"] = link;
    }
    print_rows(rows,
               {{"name", "PORT", false},
                {"device", "DEVICE", false},
                {"link", "LINK", false},
                {"mtu", "MTU", true},
                {"rx_packets", "RX PKTS", true},
                {"rx_bytes", "RX BYTES", true},
                {"tx_packets", "TX PKTS", true},
                {"tx_bytes", "TX BYTES", true},
                {"hw_rx_missed", "NIC MISSED", true},
                {"addresses", "ADDRESSES", false}},
               "no ports");
    return 0;
}

// The rows whose "packets" is not zero, unless --all.
json nonzero(json rows, const Settings& s) {
    if (s.all) return rows;
    json nz = json::array();
    for (auto& r : rows)
        if (num(r, "packets")) nz.push_back(std::move(r));
    return nz;
}

int drops(Client& c, const Settings& s) {
    json rows = nonzero(fetch_list(c, "/tunnelgw/drops", s.timeout_s), s);
    if (s.json)
        print_json(rows);
    else
        print_rows(
            rows,
            {{"reason", "REASON", false}, {"packets", "PACKETS", true}, {"help", "MEANING", false}},
            "no packets dropped");
    return 0;
}

int pairs(Client& c, const char* cmd, const Settings& s, bool skip_zero) {
    json v = checked(c.query(cmd, s.timeout_s), cmd, c);
    if (s.json) {
        print_json(v);
        return 0;
    }
    std::vector<std::pair<std::string, std::string>> kv;
    for (auto it = v.begin(); it != v.end(); ++it)
        if (!skip_zero || !(it->is_number() && it->get<double>() == 0))
            kv.emplace_back(it.key(), cell(*it));
    if (kv.empty()) printf("nothing to show (every counter is 0; --all shows them)\n");
    print_pairs(stdout, kv);
    return 0;
}

int info(Client& c, const Settings& s) {
    json v = checked(c.query("/tunnelgw/info", s.timeout_s), "/tunnelgw/info", c);
    if (s.json) {
        print_json(v);
        return 0;
    }
    print_pairs(stdout, {{"version", str(v, "version")},
                         {"pid", str(v, "pid")},
                         {"uptime", duration(num(v, "uptime_s"))},
                         {"config", str(v, "config")},
                         {"generation", str(v, "generation")},
                         {"file prefix", str(v, "file_prefix")},
                         {"workers", str(v, "workers")},
                         {"ports", str(v, "ports")},
                         {"tunnels", str(v, "tunnels")},
                         {"routes", str(v, "routes")},
                         {"metrics", str(v, "metrics_listen") == "-"
                                         ? "off"
                                         : "http://" + str(v, "metrics_listen") + "/metrics"},
                         {"pdump", num(v, "pdump") ? "on" : "off"},
                         {"syslog", num(v, "syslog") ? "on" : "off"}});
    return 0;
}

int reload(Client& c, const Settings& s) {
    json v = checked(c.query("/tunnelgw/reload", std::max(s.timeout_s, reload_timeout_s)),
                     "/tunnelgw/reload", c);
    bool ok = str(v, "status") == "ok";
    if (s.json) {
        // Whole messages for scripts: the gateway wraps long ones into lines whose
        // continuations start with four spaces (telemetry strings are short).
        if (v.contains("errors") && v["errors"].is_array()) {
            json joined = json::array();
            for (const auto& e : v["errors"]) {
                std::string line = cell(e);
                if (line.rfind("    ", 0) == 0 && !joined.empty())
                    joined.back() = joined.back().get<std::string>() + " " + line.substr(4);
                else
                    joined.push_back(line);
            }
            v["errors"] = joined;
        }
        print_json(v);
        return ok ? 0 : 1;
    }
    if (ok) {
        printf("reload applied: configuration generation %s\n", str(v, "generation").c_str());
        return 0;
    }
    fprintf(stderr, "reload rejected: %s error(s); the running configuration is unchanged\n",
            str(v, "error_count").c_str());
    if (v.contains("errors") && v["errors"].is_array())
        for (const auto& e : v["errors"]) fprintf(stderr, "  %s\n", cell(e).c_str());
    return 1;
}

int sas(Client& c, const Settings& s) {
    json rows = fetch_list(c, "/tunnelgw/sas", s.timeout_s);
    if (s.json) {
        print_json(rows);
        return 0;
    }
    for (auto& r : rows) {
        char spi[16];
        snprintf(spi, sizeof spi, "0x%08lx", (unsigned long)num(r, "spi"));
        r["spi"] = spi;
        std::string alg = str(r, "encryption");
        if (str(r, "integrity") != "-") {
            alg += '+';
            alg += str(r, "integrity");
        }
        r["alg"] = alg;
        // Drops an inbound SA counted: what an operator looks at first.
        r["drops"] = num(r, "auth_failed") + num(r, "replay") + num(r, "bad_trailer") +
                     num(r, "truncated") + num(r, "policy") + num(r, "expired") +
                     num(r, "seq_exhausted");
    }
    print_rows(rows,
               {{"name", "SA", false},
                {"spi", "SPI", false},
                {"direction", "DIR", false},
                {"tunnel", "TUNNEL", false},
                {"alg", "ALGORITHM", false},
                {"remote", "REMOTE", false},
                {"state", "STATE", false},
                {"packets", "PKTS", true},
                {"bytes", "BYTES", true},
                {"auth_failed", "AUTH FAIL", true},
                {"replay", "REPLAY", true},
                {"drops", "ALL DROPS", true}},
               "no SAs configured");
    return 0;
}

int stages(Client& c, const Settings& s) {
    json rows = nonzero(fetch_list(c, "/tunnelgw/stages", s.timeout_s), s);  // hides idle stages
    if (s.json) {
        print_json(rows);
        return 0;
    }
    print_rows(rows,
               {{"stage", "STAGE", false},
                {"cycles_per_packet", "CYCLES/PKT", true},
                {"packets", "SAMPLED PKTS", true},
                {"calls", "SAMPLED CALLS", true}},
               "no samples yet (no traffic, or operations.stage_sample is 0)");
    return 0;
}

int raw(Client& c, const std::string& cmd, const Settings& s) {
    json v = c.query(cmd, s.timeout_s);
    print_json(v);
    if (v.is_null()) {
        fprintf(stderr, "tunnelgw-ctl: %s: unknown command (\"raw /\" lists them)\n", cmd.c_str());
        return 1;
    }
    return 0;
}

}  // namespace

const std::vector<CommandInfo>& commands() {
    static const std::vector<CommandInfo> v = {
        {"info", "", "version, uptime, config file and generation, file prefix"},
        {"ports", "", "ports: device, link, MTU, packet and byte counters, NIC misses"},
        {"tunnels", "", "tunnels: endpoints, key, MTU, counters, protecting SAs"},
        {"routes", "", "routes: prefix -> tunnel, group, next hop or blackhole"},
        {"neighbours", "", "ARP/ND neighbours (also: neighbors)"},
        {"bridges", "", "bridge domains and members: packets, flooding, learned MACs"},
        {"macs", "", "bridge domains' MAC table: domain, MAC, member, age"},
        {"drops", "", "dropped packets by reason, with their meaning (--all: zeros too)"},
        {"stats", "", "workers: packets, cycles per packet, busy polls, punted"},
        {"slowpath", "", "slow path events: ARP, ND, ICMP (--all: zeros too)"},
        {"sas", "", "ESP SAs (never their keys): SPI, tunnel, algorithm, state, counters"},
        {"stages", "", "sampled cycles per packet of each fast-path stage (--all: idle ones too)"},
        {"reload", "", "reload the config file; lists the errors (exit 1) if it is rejected"},
        {"flow", "\"SRC DST [PROTO [SPORT DPORT]]\"",
         "which tunnel this flow takes now (ECMP hash, keepalive state)"},
        {"raw", "CMD", "send any telemetry command (e.g. /ethdev/stats,0; / lists them)"},
    };
    return v;
}

bool known(const std::string& name) {
    if (name == "neighbors") return true;
    for (const auto& c : commands())
        if (name == c.name) return true;
    return false;
}

json rows_of(const json& page, const std::string& cmd) {
    uint64_t count = unsigned_at(page, "count", cmd);
    json rows = json::array();
    for (uint64_t i = 0; i < count; i++) rows.push_back(json::object());
    for (auto it = page.begin(); it != page.end(); ++it) {
        if (is_meta(it.key())) continue;
        if (!it->is_array() || it->size() != count)
            throw CtlError("reply to " + cmd + " was cut short (column \"" + it.key() + "\" has " +
                           std::to_string(it->is_array() ? it->size() : 0) + " of " +
                           std::to_string(count) + " values)");
        for (uint64_t i = 0; i < count; i++) rows[i][it.key()] = (*it)[i];
    }
    return rows;
}

int run_command(Client& c, const std::string& name, const std::vector<std::string>& args,
                const Settings& s) {
    if (name == "raw") return raw(c, args.at(0), s);
    if (name == "flow") {
        std::string cmd = "/tunnelgw/flow," + args.at(0);
        json v = checked(c.query(cmd, s.timeout_s), "/tunnelgw/flow", c);
        if (s.json) {
            print_json(v);
            return 0;
        }
        if (v.contains("error")) {
            fprintf(stderr, "tunnelgw-ctl: flow: %s\n", str(v, "error").c_str());
            return 2;
        }
        printf("%s\n", str(v, "text").c_str());
        return 0;
    }
    if (name == "info") return info(c, s);
    if (name == "ports") return ports(c, s);
    if (name == "tunnels")
        return list(c, "/tunnelgw/tunnels", s,
                    {{"name", "TUNNEL", false},
                     {"local", "LOCAL", false},
                     {"remote", "REMOTE", false},
                     {"gre_key", "KEY", true},
                     {"mtu", "MTU", true},
                     {"mss", "MSS", true},
                     {"rx_packets", "RX PKTS", true},
                     {"rx_bytes", "RX BYTES", true},
                     {"rx_drops", "RX DROPS", true},
                     {"tx_packets", "TX PKTS", true},
                     {"tx_bytes", "TX BYTES", true},
                     {"tx_drops", "TX DROPS", true},
                     {"state", "STATE", false},
                     {"keepalives_rx", "KA ANSWERED", true},
                     {"esp", "ESP (OUT/IN SAS)", false}},
                    "no tunnels configured", esp_column);
    if (name == "routes")
        return list(c, "/tunnelgw/routes", s,
                    {{"prefix", "PREFIX", false}, {"target", "TARGET", false}},
                    "no routes configured");
    if (name == "neighbours" || name == "neighbors")
        return list(c, "/tunnelgw/neighbours", s,
                    {{"port", "PORT", false},
                     {"address", "ADDRESS", false},
                     {"mac", "MAC", false},
                     {"state", "STATE", false}},
                    "no neighbours");
    if (name == "bridges")
        return list(c, "/tunnelgw/bridges", s,
                    {{"name", "NAME", false},
                     {"kind", "KIND", false},
                     {"rx_packets", "RX PKTS", true},
                     {"tx_packets", "TX PKTS", true},
                     {"forwarded", "FORWARDED", true},
                     {"flooded", "FLOODED", true},
                     {"unknown_unicast", "UNKNOWN UC", true},
                     {"macs", "MACS", true}},
                    "no bridge domains");
    if (name == "macs")
        return list(c, "/tunnelgw/macs", s,
                    {{"domain", "DOMAIN", false},
                     {"mac", "MAC", false},
                     {"member", "MEMBER", false},
                     {"age_s", "AGE(s)", true}},
                    "no MACs learned");
    if (name == "drops") return drops(c, s);
    if (name == "stats") return pairs(c, "/tunnelgw/stats", s, false);
    if (name == "slowpath") return pairs(c, "/tunnelgw/slowpath", s, !s.all);
    if (name == "reload") return reload(c, s);
    if (name == "sas") return sas(c, s);
    if (name == "stages") return stages(c, s);
    throw CtlError("unknown command " + name);
}

}  // namespace tgw::ctl
