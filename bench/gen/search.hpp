// RFC 2544 §26.1 throughput: the highest offered rate at which the DUT forwards with loss at
// or below a threshold, found by bisection between a failing and a passing rate. Pure logic:
// the caller runs each trial, so this is testable without ports.
#pragma once
#include <algorithm>
#include <cmath>

namespace tgw::bench {

class Bisection {
public:
    // hi: the fastest rate the generator can offer; first: where to probe first (the rate
    // the DUT forwarded when flooded is a good guess); resolution: stop when the bracket is
    // narrower than this fraction of hi; max_trials bounds the time.
    Bisection(double hi, double first, double resolution, int max_trials)
        : hi0_(hi), hi_(hi), next_(std::clamp(first, hi * 0.01, hi)), res_(resolution), left_(max_trials) {}

    bool done() const noexcept { return left_ <= 0 || hi_ - lo_ <= res_ * hi0_; }
    double next() const noexcept { return next_; }
    double best() const noexcept { return lo_; }  // 0 when nothing passed

    void report(bool pass) noexcept {
        left_--;
        if (pass) lo_ = next_;
        else hi_ = next_;
        // Passing at the generator's ceiling ends the search: nothing higher can be offered.
        if (pass && next_ >= hi_) left_ = 0;
        next_ = (lo_ + hi_) / 2;
    }

private:
    double hi0_, lo_ = 0, hi_, next_, res_;
    int left_;
};

}  // namespace tgw::bench
