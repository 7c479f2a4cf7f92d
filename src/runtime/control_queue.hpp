// Runs requests from other threads (DPDK's telemetry thread, the metrics server) on the main
// thread, which owns all control state: snapshots, the neighbour table (as the slow path),
// reload. So no control structure needs a lock, and the workers are never involved.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace tgw::runtime {

class ControlQueue {
public:
    // Any thread but the main one: run fn on the main thread and wait for it. False when the
    // main thread did not start it in time (it is then skipped, never run late). Once started
    // it is always waited for, so what fn captured by reference stays valid while it runs.
    bool call(std::function<void()> fn, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Main thread: run what is queued. Cheap when empty.
    void drain();
    // Main thread, at shutdown: refuse new requests and fail the queued ones.
    void close();

private:
    struct Req {
        std::function<void()> fn;
        bool started = false;
        bool done = false;
        bool abandoned = false;
    };
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Req>> q_;
    bool closed_ = false;
    bool pending_ = false;  // read without the lock by drain() as a fast check
};

}  // namespace tgw::runtime
