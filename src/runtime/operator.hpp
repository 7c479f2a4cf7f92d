// Operator interfaces of a running gateway: DPDK telemetry commands (what tunnelgw-ctl talks
// to), the Prometheus metrics server, dpdk-dumpcap support (pdump) and the log stream.
// Gateway::run() starts them once the first configuration is published and stops them before
// the workers stop; everything else about them lives in operator.cpp, telemetry.cpp and
// metrics.cpp.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "config/model.hpp"
#include "runtime/log.hpp"

namespace tgw::runtime {

class Api;
class ControlQueue;
class MetricsServer;

// The only way an operator thread (DPDK's telemetry thread, the metrics thread) reaches
// gateway state: fn runs on the main thread through the ControlQueue, while the gateway runs.
// fn may outlive the caller when the call times out, so it must own what it writes (capture a
// shared_ptr by value), never a reference to the caller's stack.
class Gate {
public:
    // Any thread but the main one. False when the gateway is not running (starting, stopping)
    // or the main thread did not get to fn within timeout.
    bool call(std::function<void(Api&)> fn,
              std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Main thread.
    void open(Api& api, ControlQueue& q);
    // Main thread: refuse new calls, then serve the queue until no caller is left waiting,
    // so no operator thread is inside the gateway once this returns.
    void close();

private:
    std::mutex mu_;
    Api* api_ = nullptr;
    ControlQueue* q_ = nullptr;
    unsigned in_flight_ = 0;
};

// The process-wide gate. It lives until the process exits: DPDK's telemetry callbacks cannot be
// unregistered and may run during shutdown, when they must find it closed, not destroyed.
Gate& gate();

// Token bucket for messages that an outside party can trigger at will (bad HTTP requests,
// telemetry misuse): at most `rate` lines per second, the rest counted and reported once
// logging resumes. Thread-safe; never used on the fast path.
class LogLimit {
public:
    void set_rate(uint32_t per_second);  // 0 = no limit
    // True when a line may be logged now; *suppressed gets how many were dropped since the
    // last line that was allowed (to say so once).
    bool allow(uint64_t* suppressed);

private:
    std::mutex mu_;
    uint32_t rate_ = 10;
    double tokens_ = 10;
    std::chrono::steady_clock::time_point last_{};
    uint64_t dropped_ = 0;
};
LogLimit& log_limit();

#define TGW_LOG_LIMITED(level, fmt, ...)                                        \
    do {                                                                        \
        uint64_t tgw_suppressed_ = 0;                                           \
        if (::tgw::runtime::log_limit().allow(&tgw_suppressed_)) {              \
            if (tgw_suppressed_)                                                \
                TGW_LOG(level, "(%lu similar messages suppressed by log_rate)", \
                        (unsigned long)tgw_suppressed_);                        \
            TGW_LOG(level, fmt, ##__VA_ARGS__);                                 \
        }                                                                       \
    } while (0)

class Operator {
public:
    Operator();
    ~Operator();  // stops what is still running
    Operator(const Operator&) = delete;
    Operator& operator=(const Operator&) = delete;

    // Main thread, after the first publish. Throws std::runtime_error when the metrics server
    // cannot listen (a startup failure the operator must see); telemetry and pdump problems
    // are logged and do not stop the gateway.
    void start(const config::Operations& ops, Api& api, ControlQueue& q);
    // Main thread, before the workers stop. Idempotent.
    void stop();

private:
    bool started_ = false;
    bool pdump_ = false;
    std::unique_ptr<MetricsServer> metrics_;
};

}  // namespace tgw::runtime
