#include "slowpath/learn.hpp"

namespace tgw::slowpath {

void Learner::prepare(dp::BridgeTables& next) noexcept {
    if (next.signature != signature_) {
        epoch_ = uint16_t((epoch_ + 1) & 0x7fff);
        if (epoch_ == 0) epoch_ = 1;
        signature_ = next.signature;
    }
    next.epoch = epoch_;
}

void Learner::learn(const dp::Snapshot& s, const dp::LearnEvent& ev, uint32_t now_s) noexcept {
    if (!s.l2 || ev.epoch != s.l2->epoch || ev.key.bd >= s.l2->domains.size()) {
        dp::bump(lc_.stale);
        return;
    }
    const dp::Bd& d = s.l2->domains[ev.key.bd];
    switch (t_.learn(ev.key, ev.member, ev.epoch, now_s, d.mac_limit)) {
    case dp::MacTable::Learned::added: dp::bump(lc_.added); break;
    case dp::MacTable::Learned::moved: dp::bump(lc_.moved); break;
    case dp::MacTable::Learned::refreshed: dp::bump(lc_.refreshed); break;
    case dp::MacTable::Learned::limit: dp::bump(ctr_->drops[unsigned(dp::Drop::bd_mac_limit)]); break;
    case dp::MacTable::Learned::full: dp::bump(lc_.table_full); break;
    case dp::MacTable::Learned::stale: dp::bump(lc_.stale); break;
    }
}

void Learner::age(const dp::Snapshot& s, uint32_t now_s) noexcept {
    const uint16_t epoch = s.l2 ? s.l2->epoch : 0;
    unsigned n = t_.age(epoch, now_s, [&](uint16_t bd) -> uint32_t {
        return s.l2 && bd < s.l2->domains.size() ? s.l2->domains[bd].ageing_s : 0;
    });
    dp::bump(lc_.aged, n);
}

unsigned Learner::poll(const dp::Snapshot& s, uint64_t now_tsc) noexcept {
    const uint32_t now_s = uint32_t(now_tsc / hz_);
    unsigned handled = 0;
    dp::LearnEvent ev[burst];
    for (rte_ring* r : rings_) {
        unsigned n = rte_ring_sc_dequeue_burst_elem(r, ev, sizeof(dp::LearnEvent), burst, nullptr);
        for (unsigned i = 0; i < n; i++) learn(s, ev[i], now_s);
        handled += n;
    }
    if (now_tsc >= next_age_tsc_) {
        age(s, now_s);
        t_.reclaim();
        next_age_tsc_ = now_tsc + hz_;
    }
    return handled;
}

}  // namespace tgw::slowpath
