// Prometheus metrics over HTTP: GET /metrics in the text exposition format (version 0.0.4).
//
// Hand-written rather than a library: Debian 12 packages no prometheus-cpp (nor civetweb for
// it), and what is needed is small: one listening socket, one connection at a time, bounded
// reads and writes. The server thread never touches gateway state: it asks the main thread for
// a copy through gate() and formats it itself.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "runtime/views.hpp"
#include "tunnelgw/addr.hpp"

namespace tgw::runtime {

class MetricsServer {
public:
    MetricsServer() = default;
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Binds, listens and starts the thread. Throws std::runtime_error saying why it cannot.
    void start(const IpAddr& addr, uint16_t port);
    void request_stop();  // any thread: stop accepting, abandon the current client
    void join();

private:
    void run();
    void serve(int fd);

    int listen_fd_ = -1;
    int wake_fd_ = -1;  // eventfd: wakes the thread out of poll() to stop
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

namespace metrics {

// The exposition text for one copy of the counters (pure: unit-testable without an EAL).
std::string render(const view::All& a);

// A request's verdict: status code, and for 200 which page. Pure, for tests.
struct Request {
    int status = 400;      // 200, 400, 404, 405, 505
    bool head = false;     // HEAD: headers only
    bool metrics = false;  // 200 for /metrics (else the index page)
};
Request parse_request(const std::string& head);

}  // namespace metrics
}  // namespace tgw::runtime
