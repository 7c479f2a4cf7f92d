#include "runtime/control_queue.hpp"

namespace tgw::runtime {

bool ControlQueue::call(std::function<void()> fn, std::chrono::milliseconds timeout) {
    auto r = std::make_shared<Req>();
    r->fn = std::move(fn);
    std::unique_lock lk(mu_);
    if (closed_) return false;
    q_.push_back(r);
    __atomic_store_n(&pending_, true, __ATOMIC_RELEASE);
    if (cv_.wait_for(lk, timeout, [&] { return r->done; })) return true;
    if (!r->started) {
        r->abandoned = true;
        return false;
    }
    cv_.wait(lk, [&] { return r->done; });
    return true;
}

void ControlQueue::drain() {
    if (!__atomic_load_n(&pending_, __ATOMIC_ACQUIRE)) return;
    std::unique_lock lk(mu_);
    while (!q_.empty()) {
        auto r = q_.front();
        q_.pop_front();
        if (r->abandoned) continue;
        r->started = true;
        lk.unlock();
        r->fn();
        lk.lock();
        r->done = true;
    }
    __atomic_store_n(&pending_, false, __ATOMIC_RELEASE);
    cv_.notify_all();
}

void ControlQueue::close() {
    std::unique_lock lk(mu_);
    closed_ = true;
    q_.clear();
    cv_.notify_all();
}

}  // namespace tgw::runtime
