#include "runtime/operator.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_pdump.h>
#include <sys/stat.h>
#include <syslog.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "runtime/api.hpp"
#include "runtime/control_queue.hpp"
#include "runtime/metrics.hpp"
#include "runtime/telemetry.hpp"

namespace tgw::runtime {

// ---- Gate ----------------------------------------------------------------------------------

Gate& gate() {
    static Gate* g = new Gate;  // never destroyed: see the header
    return *g;
}

bool Gate::call(std::function<void(Api&)> fn, std::chrono::milliseconds timeout) {
    Api* api;
    ControlQueue* q;
    {
        std::lock_guard lk(mu_);
        if (!api_) return false;
        api = api_;
        q = q_;
        in_flight_++;
    }
    // `ok` is shared: if the caller times out while fn runs, fn still has somewhere to write.
    auto ok = std::make_shared<std::atomic<bool>>(false);
    bool served = q->call(
        [fn = std::move(fn), api, ok] {
            // An exception must not unwind into the main loop: the gateway would stop.
            try {
                fn(*api);
                ok->store(true);
            } catch (const std::exception& e) {
                TGW_LOG_LIMITED(ERR, "operator request failed: %s", e.what());
            } catch (...) {
                TGW_LOG_LIMITED(ERR, "operator request failed");
            }
        },
        timeout);
    {
        std::lock_guard lk(mu_);
        in_flight_--;
    }
    return served && ok->load();
}

void Gate::open(Api& api, ControlQueue& q) {
    std::lock_guard lk(mu_);
    api_ = &api;
    q_ = &q;
}

void Gate::close() {
    ControlQueue* q;
    {
        std::lock_guard lk(mu_);
        api_ = nullptr;
        q = q_;
    }
    if (!q) return;
    // Callers that got in before the close are waiting for the main thread, which is us.
    for (;;) {
        {
            std::lock_guard lk(mu_);
            if (!in_flight_) break;
        }
        q->drain();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::lock_guard lk(mu_);
    q_ = nullptr;
}

// ---- LogLimit ------------------------------------------------------------------------------

LogLimit& log_limit() {
    static LogLimit* l = new LogLimit;  // used by threads that may outlive main's statics
    return *l;
}

void LogLimit::set_rate(uint32_t per_second) {
    std::lock_guard lk(mu_);
    rate_ = per_second;
    tokens_ = per_second;
}

bool LogLimit::allow(uint64_t* suppressed) {
    std::lock_guard lk(mu_);
    *suppressed = 0;
    if (rate_ == 0) return true;
    auto now = std::chrono::steady_clock::now();
    double dt = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(double(rate_), tokens_ + dt * rate_);  // burst of one second's worth
    if (tokens_ < 1) {
        dropped_++;
        return false;
    }
    tokens_ -= 1;
    *suppressed = dropped_;
    dropped_ = 0;
    return true;
}

// ---- log stream ----------------------------------------------------------------------------

namespace {

std::atomic<bool> g_syslog{false};

// DPDK's default stream on Linux writes every line to stderr and to syslog. Under systemd
// stderr already reaches the journal, so by default lines go to stderr only; `syslog: true`
// copies them to syslog as well (e.g. for a host that forwards syslog). Same stderr as before,
// so nothing changes for anyone reading the console or a test's output.
ssize_t write_log(void*, const char* buf, size_t size) {
    size_t n = fwrite(buf, 1, size, stderr);
    fflush(stderr);
    if (g_syslog.load(std::memory_order_relaxed)) {
        int level = rte_log_cur_msg_loglevel();  // RTE_LOG_EMERG (1) .. RTE_LOG_DEBUG (8)
        int prio = level >= 1 && level <= 8 ? level - 1 : LOG_INFO;
        // The EAL already called openlog() with its ident and --syslog facility.
        syslog(prio, "%.*s", int(size), buf);
    }
    return ssize_t(n);
}

void install_log_stream(bool to_syslog) {
    g_syslog.store(to_syslog);
    // Installed once and never closed: DPDK may log from any thread until the process exits.
    static FILE* stream = [] {
        cookie_io_functions_t io{};
        io.write = write_log;
        FILE* f = fopencookie(nullptr, "w", io);
        if (f) {
            setvbuf(f, nullptr, _IOLBF, 0);
            rte_openlog_stream(f);
        }
        return f;
    }();
    if (!stream) TGW_LOG(WARNING, "cannot install the log stream; logging as DPDK does by default");
}

void report_telemetry_socket() {
    std::string dir = rte_eal_get_runtime_dir();
    std::string sock = dir + "/dpdk_telemetry.v2";
    std::string prefix = dir.substr(dir.rfind('/') + 1);
    struct stat st {};
    if (stat(sock.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
        TGW_LOG(INFO, "telemetry: %s (tunnelgw-ctl --file-prefix %s)", sock.c_str(),
                prefix.c_str());
    else
        TGW_LOG(NOTICE,
                "telemetry: no socket at %s (EAL started with --no-telemetry?): tunnelgw-ctl and "
                "dpdk-telemetry.py cannot reach this gateway",
                sock.c_str());
}

}  // namespace

// ---- Operator ------------------------------------------------------------------------------

Operator::Operator() = default;

Operator::~Operator() { stop(); }

void Operator::start(const config::Operations& ops, Api& api, ControlQueue& q) {
    log_limit().set_rate(ops.log_rate);
    install_log_stream(ops.syslog);
    gate().open(api, q);
    started_ = true;

    if (ops.telemetry) {
        if (telemetry::register_commands(ops)) report_telemetry_socket();
    }
    if (ops.pdump) {
        // Lets dpdk-dumpcap (a secondary process) ask this primary to mirror port traffic.
        if (rte_pdump_init() == 0) {
            pdump_ = true;
            if (!rte_eal_has_hugepages())
                TGW_LOG(NOTICE,
                        "pdump: the EAL runs without hugepages (--no-huge), so "
                        "dpdk-dumpcap cannot attach; capture needs hugepages");
        } else {
            TGW_LOG(WARNING,
                    "pdump: cannot initialise (%s); dpdk-dumpcap will not work "
                    "(multi-process disabled by --in-memory or --no-shconf?)",
                    rte_strerror(rte_errno));
        }
    }
    if (ops.metrics_port) {
        metrics_ = std::make_unique<MetricsServer>();
        metrics_->start(ops.metrics_addr, ops.metrics_port);  // throws: the operator asked for it
    }
}

void Operator::stop() {
    if (!started_) return;
    started_ = false;
    if (metrics_) metrics_->request_stop();  // accept nothing new
    gate().close();                          // serve whoever is already waiting
    if (metrics_) {
        metrics_->join();
        metrics_.reset();
    }
    if (pdump_) {
        rte_pdump_uninit();
        pdump_ = false;
    }
}

}  // namespace tgw::runtime
