#include "runtime/metrics.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "dp/counters.hpp"
#include "runtime/api.hpp"
#include "runtime/log.hpp"
#include "runtime/operator.hpp"

namespace tgw::runtime {

namespace {

using Clock = std::chrono::steady_clock;

// Bounds on one client, so a slow or hostile one cannot hold the server: the request head must
// arrive within read_timeout and fit in max_request; the reply must drain within write_timeout.
constexpr size_t max_request = 8192;
constexpr auto read_timeout = std::chrono::seconds(2);
constexpr auto write_timeout = std::chrono::seconds(10);
constexpr auto gate_timeout = std::chrono::seconds(2);

std::string endpoint(const IpAddr& a, uint16_t port) {
    // Appends, not "[" + s + "]": GCC 12 warns falsely on that (PR 105329).
    std::string s = a.is_v4() ? "" : "[";
    s += a.str();
    if (!a.is_v4()) s += ']';
    s += ':';
    s += std::to_string(port);
    return s;
}

// Waits for fd to be ready (events) or the wake fd to fire. 1 ready, 0 timeout, -1 stop/error.
int wait_for(int fd, short events, int wake_fd, Clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return 0;
        pollfd p[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
        int n = poll(p, 2, int(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || (p[1].revents & POLLIN)) return -1;
        if (n == 0) return 0;
        if (p[0].revents & (events | POLLHUP | POLLERR)) return 1;
    }
}

bool write_all(int fd, const std::string& data, int wake_fd) {
    auto deadline = Clock::now() + write_timeout;
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_for(fd, POLLOUT, wake_fd, deadline) == 1) continue;
        }
        return false;
    }
    return true;
}

std::string response(int status, const std::string& body, bool head,
                     const char* type = "text/plain; charset=utf-8", const char* extra = "") {
    const char* reason = status == 200   ? "OK"
                         : status == 400 ? "Bad Request"
                         : status == 404 ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                         : status == 408 ? "Request Timeout"
                         : status == 431 ? "Request Header Fields Too Large"
                         : status == 503 ? "Service Unavailable"
                                         : "HTTP Version Not Supported";
    std::string r = "HTTP/1.0 " + std::to_string(status) + " " + reason +
                    "\r\nContent-Type: " + type +
                    "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nCache-Control: no-store\r\nConnection: close\r\n" + extra + "\r\n";
    if (!head) r += body;
    return r;
}

// ---- exposition format ----

std::string label(const std::string& v) {
    std::string o;
    for (char c : v) {
        if (c == '\\')
            o += "\\\\";
        else if (c == '"')
            o += "\\\"";
        else if (c == '\n')
            o += "\\n";
        else
            o += c;
    }
    return o;
}

struct Out {
    std::string s;
    void family(const char* name, const char* type, const char* help) {
        s += "# HELP ";
        s += name;
        s += ' ';
        s += help;
        s += "\n# TYPE ";
        s += name;
        s += ' ';
        s += type;
        s += '\n';
    }
    void sample(const char* name, uint64_t v) {
        s += std::string(name) + ' ' + std::to_string(v) + '\n';
    }
    void sample(const char* name, const char* key, const std::string& val, uint64_t v) {
        s += std::string(name) + '{' + key + "=\"" + label(val) + "\"} " + std::to_string(v) + '\n';
    }
    void gauge(const char* name, const char* help, uint64_t v) {
        family(name, "gauge", help);
        sample(name, v);
    }
};

template <class Row, class Get>
void per(Out& o, const std::vector<Row>& rows, const char* name, const char* type, const char* help,
         const char* key, Get get) {
    if (rows.empty()) return;
    o.family(name, type, help);
    for (const Row& r : rows) o.sample(name, key, r.name, get(r));
}

// Per-SA series, labelled by SA name, direction and tunnel (never by anything key-derived).
template <class Get>
void per_sa(Out& o, const std::vector<view::Sa>& sas, const char* name, const char* type,
            const char* help, Get get) {
    if (sas.empty()) return;
    o.family(name, type, help);
    for (const view::Sa& x : sas)
        o.s += std::string(name) + "{sa=\"" + label(x.name) + "\",direction=\"" + x.direction +
               "\",tunnel=\"" + label(x.tunnel) + "\"} " + std::to_string(get(x)) + '\n';
}

void render_esp(Out& o, const view::All& a) {
    using S = view::Sa;
    per_sa(o, a.sas, "tunnelgw_sa_packets_total", "counter",
           "Packets protected (out) or accepted after decryption (in) by the SA.",
           [](const S& x) { return x.c.pkts; });
    per_sa(o, a.sas, "tunnelgw_sa_bytes_total", "counter",
           "Inner bytes protected (out) or accepted (in) by the SA.",
           [](const S& x) { return x.c.bytes; });
    per_sa(o, a.sas, "tunnelgw_sa_auth_failures_total", "counter",
           "Inbound packets whose ICV did not verify (RFC 4303 section 3.4.4).",
           [](const S& x) { return x.c.auth_failed; });
    per_sa(o, a.sas, "tunnelgw_sa_replay_drops_total", "counter",
           "Inbound duplicates or packets left of the replay window (RFC 4303 section 3.4.3).",
           [](const S& x) { return x.c.replay; });
    per_sa(o, a.sas, "tunnelgw_sa_bad_trailer_total", "counter",
           "Inbound packets with wrong padding or next header after decryption.",
           [](const S& x) { return x.c.bad_trailer; });
    per_sa(o, a.sas, "tunnelgw_sa_truncated_total", "counter",
           "Inbound packets too short for ESP header, IV and ICV.",
           [](const S& x) { return x.c.truncated; });
    per_sa(o, a.sas, "tunnelgw_sa_policy_drops_total", "counter",
           "Decrypted packets not allowed on the SA's tunnel.",
           [](const S& x) { return x.c.policy; });
    per_sa(o, a.sas, "tunnelgw_sa_expired_drops_total", "counter",
           "Packets dropped because the SA reached its hard lifetime.",
           [](const S& x) { return x.c.expired + x.c.seq_exhausted; });
    per_sa(o, a.sas, "tunnelgw_sa_lifetime_state", "gauge",
           "0 ok, 1 soft lifetime reached (install a successor), 2 hard lifetime reached "
           "(carries nothing).",
           [](const S& x) { return uint64_t(x.state_code); });
    per_sa(o, a.sas, "tunnelgw_sa_age_seconds", "gauge",
           "Seconds since the SA was installed (unchanged SAs keep their age across reloads).",
           [](const S& x) { return x.age_s; });

    if (a.stages.empty()) return;
    o.gauge("tunnelgw_stage_sample_interval",
            "Pipeline runs per sampled run for stage cycles (operations.stage_sample; 0 = off).",
            a.stage_sample);
    o.family("tunnelgw_stage_cycles_total", "counter",
             "TSC cycles spent in each fast-path stage on sampled runs.");
    for (const auto& x : a.stages) o.sample("tunnelgw_stage_cycles_total", "stage", x.name, x.cycles);
    o.family("tunnelgw_stage_packets_total", "counter",
             "Packets that entered each fast-path stage on sampled runs (divides the cycles).");
    for (const auto& x : a.stages) o.sample("tunnelgw_stage_packets_total", "stage", x.name, x.packets);
}

}  // namespace

namespace metrics {

std::string render(const view::All& a) {
    Out o;
    o.s.reserve(4096 + a.tunnels.size() * 600);
    o.family("tunnelgw_info", "gauge", "tunnelgw build information; always 1.");
    o.s += "tunnelgw_info{version=\"" + label(TUNNELGW_VERSION) + "\"} 1\n";
    o.family("tunnelgw_uptime_seconds", "gauge", "Seconds since the workers started.");
    char up[32];
    snprintf(up, sizeof up, "%.3f", a.info.uptime_s);
    o.s += std::string("tunnelgw_uptime_seconds ") + up + "\n";
    o.gauge("tunnelgw_config_generation", "Configuration generation; +1 on every applied reload.",
            a.info.generation);
    o.gauge("tunnelgw_workers", "Worker lcores forwarding packets.", a.info.workers);
    o.gauge("tunnelgw_tunnels", "Configured tunnels.", a.info.tunnels);
    o.gauge("tunnelgw_routes", "Configured routes.", a.info.routes);

    using P = view::Port;
    per(o, a.ports, "tunnelgw_port_up", "gauge", "1 when the port's link is up.", "port",
        [](const P& p) { return uint64_t(p.link_up); });
    per(o, a.ports, "tunnelgw_port_rx_packets_total", "counter", "Packets received on the port.",
        "port", [](const P& p) { return p.c.rx_pkts; });
    per(o, a.ports, "tunnelgw_port_rx_bytes_total", "counter", "Bytes received on the port.",
        "port", [](const P& p) { return p.c.rx_bytes; });
    per(o, a.ports, "tunnelgw_port_tx_packets_total", "counter", "Packets sent on the port.",
        "port", [](const P& p) { return p.c.tx_pkts; });
    per(o, a.ports, "tunnelgw_port_tx_bytes_total", "counter", "Bytes sent on the port.", "port",
        [](const P& p) { return p.c.tx_bytes; });
    per(o, a.ports, "tunnelgw_port_nic_rx_missed_total", "counter",
        "Packets the NIC dropped because the RX ring was full (workers too slow).", "port",
        [](const P& p) { return p.hw_rx_missed; });
    per(o, a.ports, "tunnelgw_port_nic_rx_errors_total", "counter",
        "Erroneous packets the NIC received.", "port", [](const P& p) { return p.hw_rx_errors; });
    per(o, a.ports, "tunnelgw_port_nic_tx_errors_total", "counter",
        "Packets the NIC failed to send.", "port", [](const P& p) { return p.hw_tx_errors; });
    per(o, a.ports, "tunnelgw_port_nic_rx_nombuf_total", "counter",
        "RX failures for want of an mbuf.", "port", [](const P& p) { return p.hw_rx_nombuf; });

    using T = view::Tunnel;
    per(o, a.tunnels, "tunnelgw_tunnel_rx_packets_total", "counter",
        "Packets decapsulated and accepted from the tunnel.", "tunnel",
        [](const T& t) { return t.c.rx_pkts; });
    per(o, a.tunnels, "tunnelgw_tunnel_rx_bytes_total", "counter",
        "Inner bytes decapsulated from the tunnel.", "tunnel",
        [](const T& t) { return t.c.rx_bytes; });
    per(o, a.tunnels, "tunnelgw_tunnel_tx_packets_total", "counter",
        "Packets encapsulated into the tunnel.", "tunnel", [](const T& t) { return t.c.tx_pkts; });
    per(o, a.tunnels, "tunnelgw_tunnel_tx_bytes_total", "counter",
        "Bytes encapsulated into the tunnel.", "tunnel", [](const T& t) { return t.c.tx_bytes; });
    per(o, a.tunnels, "tunnelgw_tunnel_rx_dropped_total", "counter",
        "Packets from the tunnel that were dropped (bad checksum, sequence, inner packet...).",
        "tunnel", [](const T& t) { return t.c.rx_drops; });
    per(o, a.tunnels, "tunnelgw_tunnel_tx_dropped_total", "counter",
        "Packets for the tunnel that were dropped (MTU, headroom, next hop...).", "tunnel",
        [](const T& t) { return t.c.tx_drops; });
    per(o, a.tunnels, "tunnelgw_tunnel_mtu", "gauge", "Largest inner packet the tunnel carries.",
        "tunnel", [](const T& t) { return uint64_t(t.mtu); });

    o.family("tunnelgw_drops_total", "counter",
             "Packets dropped, by reason (`tunnelgw-ctl drops` says what each reason means).");
    for (unsigned d = 0; d < dp::drop_count; d++)
        o.sample("tunnelgw_drops_total", "reason", dp::drop_name(dp::Drop(d)), a.drops[d]);

    const view::Workers& w = a.workers;
    o.family("tunnelgw_worker_packets_total", "counter", "Packets processed by the workers.");
    o.sample("tunnelgw_worker_packets_total", w.packets);
    o.family("tunnelgw_worker_busy_cycles_total", "counter",
             "TSC cycles the workers spent on polls that returned packets.");
    o.sample("tunnelgw_worker_busy_cycles_total", w.busy_cycles);
    o.family("tunnelgw_worker_polls_total", "counter", "RX polls by the workers.");
    o.sample("tunnelgw_worker_polls_total", w.polls);
    o.family("tunnelgw_worker_busy_polls_total", "counter", "RX polls that returned packets.");
    o.sample("tunnelgw_worker_busy_polls_total", w.busy_polls);
    o.family("tunnelgw_punted_total", "counter", "Packets handed to the slow path.");
    o.sample("tunnelgw_punted_total", w.punted);
    o.family("tunnelgw_handed_off_total", "counter",
             "Packets handed to the worker owning their tunnel's sequence numbers.");
    o.sample("tunnelgw_handed_off_total", w.handed_off);
    o.family("tunnelgw_fragmented_total", "counter",
             "Packets fragmented to fit a tunnel (fragmentation: inner or outer).");
    o.sample("tunnelgw_fragmented_total", w.fragmented);
    o.family("tunnelgw_fragments_total", "counter", "Fragments those packets became.");
    o.sample("tunnelgw_fragments_total", w.fragments);
    o.family("tunnelgw_reassembled_total", "counter",
             "Outer datagrams reassembled from fragments addressed to the gateway.");
    o.sample("tunnelgw_reassembled_total", w.reassembled);
    o.family("tunnelgw_mss_clamped_total", "counter", "TCP SYNs whose MSS option was lowered.");
    o.sample("tunnelgw_mss_clamped_total", w.mss_clamped);
    o.gauge("tunnelgw_tsc_hz", "TSC frequency: divides busy cycles into seconds.", w.tsc_hz);

    render_esp(o, a);

    if (!a.slowpath.empty()) {
        o.family("tunnelgw_slowpath_events_total", "counter",
                 "Slow path events (ARP, ND, ICMP), by event.");
        for (const auto& [name, v] : a.slowpath)
            o.sample("tunnelgw_slowpath_events_total", "event", name, v);
    }
    return std::move(o.s);
}

Request parse_request(const std::string& head) {
    Request r;
    size_t eol = head.find('\n');
    std::string line = head.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string::npos || line.find(' ', sp2 + 1) != std::string::npos) return r;  // 400
    std::string method = line.substr(0, sp1);
    std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string version = line.substr(sp2 + 1);
    if (method.empty() || target.empty() || target[0] != '/' || version.rfind("HTTP/", 0) != 0)
        return r;
    if (version != "HTTP/1.0" && version != "HTTP/1.1") {
        r.status = 505;
        return r;
    }
    if (method != "GET" && method != "HEAD") {
        r.status = 405;
        return r;
    }
    r.head = method == "HEAD";
    std::string path = target.substr(0, target.find('?'));
    if (path == "/metrics") {
        r.status = 200;
        r.metrics = true;
    } else if (path == "/") {
        r.status = 200;
    } else {
        r.status = 404;
    }
    return r;
}

}  // namespace metrics

// ---- server --------------------------------------------------------------------------------

MetricsServer::~MetricsServer() {
    request_stop();
    join();
}

void MetricsServer::start(const IpAddr& addr, uint16_t port) {
    const std::string where = endpoint(addr, port);
    auto fail = [&](const char* what) {
        std::string msg =
            "metrics (operations.metrics_listen " + where + "): " + what + ": " + strerror(errno);
        if (listen_fd_ >= 0) close(listen_fd_);
        listen_fd_ = -1;
        throw std::runtime_error(msg);
    };
    sockaddr_storage ss{};
    socklen_t len;
    if (addr.is_v4()) {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, addr.v4_bytes(), 4);
        len = sizeof *s4;
    } else {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, addr.b.data(), 16);
        len = sizeof *s6;
    }
    listen_fd_ = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listen_fd_ < 0) fail("cannot create a socket");
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // quick restarts
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) fail("cannot bind");
    if (listen(listen_fd_, 8) != 0) fail("cannot listen");
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) fail("cannot create an eventfd");
    // Created from the main thread, the thread inherits its CPU affinity (the main lcore), so
    // it never competes with a worker for a core.
    thread_ = std::thread([this] { run(); });
    TGW_LOG(INFO, "metrics: http://%s/metrics", where.c_str());
}

void MetricsServer::request_stop() {
    stop_.store(true);
    if (wake_fd_ >= 0) {
        uint64_t one = 1;
        [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
    }
}

void MetricsServer::join() {
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) close(listen_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
    listen_fd_ = wake_fd_ = -1;
}

void MetricsServer::run() {
    // Signals are for the main thread (its handler sets the stop / reload flags).
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    pthread_setname_np(pthread_self(), "tgw-metrics");
    while (!stop_.load()) {
        pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        int n = poll(p, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || (p[1].revents & POLLIN)) break;
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
                continue;
            TGW_LOG_LIMITED(ERR, "metrics: accept: %s", strerror(errno));
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // EMFILE: do not spin
            continue;
        }
        serve(fd);
        shutdown(fd, SHUT_WR);
        close(fd);
    }
}

void MetricsServer::serve(int fd) {
    std::string req;
    auto deadline = Clock::now() + read_timeout;
    char buf[2048];
    for (;;) {
        int w = wait_for(fd, POLLIN, wake_fd_, deadline);
        if (w < 0) return;
        if (w == 0) {
            write_all(fd, response(408, "request timeout\n", false), wake_fd_);
            return;
        }
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return;  // closed or reset before a whole request: nothing to answer
        req.append(buf, size_t(n));
        if (req.find("\r\n\r\n") != std::string::npos || req.find("\n\n") != std::string::npos)
            break;
        if (req.size() >= max_request) {
            TGW_LOG_LIMITED(NOTICE, "metrics: request over %zu bytes refused", max_request);
            write_all(fd, response(431, "request too large\n", false), wake_fd_);
            return;
        }
    }
    metrics::Request r = metrics::parse_request(req);
    if (r.status == 400) TGW_LOG_LIMITED(NOTICE, "metrics: malformed HTTP request refused");
    std::string out;
    if (r.status == 200 && r.metrics) {
        auto all = std::make_shared<view::All>();
        if (gate().call([all](Api& a) { *all = view::all(a); }, gate_timeout))
            out = response(200, metrics::render(*all), r.head,
                           "text/plain; version=0.0.4; charset=utf-8");
        else
            out = response(503, "tunnelgw is not answering (starting, stopping or busy)\n", r.head);
    } else if (r.status == 200) {
        out = response(200, "tunnelgw: metrics are at /metrics\n", r.head);
    } else if (r.status == 405) {
        out = response(405, "only GET and HEAD\n", false, "text/plain; charset=utf-8",
                       "Allow: GET, HEAD\r\n");
    } else {
        out = response(r.status, r.status == 404 ? "not found: try /metrics\n" : "bad request\n",
                       false);
    }
    write_all(fd, out, wake_fd_);
}

}  // namespace tgw::runtime
