#include "dp/mac_table.hpp"

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

namespace tgw::dp {

MacTable::MacTable(const char* name, uint32_t capacity, rte_rcu_qsbr* qsbr)
    : capacity_(capacity), qsbr_(qsbr) {
    rte_hash_parameters p{};
    p.name = name;
    p.entries = capacity;
    p.key_len = sizeof(MacKey);
    p.hash_func = rte_hash_crc;
    p.socket_id = SOCKET_ID_ANY;
    // One writer, lock-free readers; LF implies no free on delete: see reclaim().
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
    hash_ = rte_hash_create(&p);
    if (!hash_) return;

    words_ = static_cast<std::atomic<uint64_t>*>(
        rte_zmalloc("mac_words", sizeof(std::atomic<uint64_t>) * (capacity + 1), 64));
    if (!words_) {
        rte_hash_free(hash_);
        hash_ = nullptr;
    }
    deferred_.reserve(1024);
}

MacTable::~MacTable() {
    rte_hash_free(hash_);
    rte_free(words_);
}

uint64_t MacTable::lookup(const MacKey& k) const noexcept {
    int pos = rte_hash_lookup(hash_, &k);
    if (pos < 0 || uint32_t(pos) > capacity_) return 0;
    return words_[pos].load(std::memory_order_acquire);
}

void MacTable::lookup_bulk(const MacKey* keys, unsigned n, uint64_t* words) const noexcept {
    const void* kp[max_bulk];
    int32_t pos[max_bulk];
    for (unsigned i = 0; i < n; i++) kp[i] = &keys[i];
    if (n == 0 || rte_hash_lookup_bulk(hash_, kp, n, pos) != 0) {
        for (unsigned i = 0; i < n; i++) words[i] = 0;
        return;
    }
    for (unsigned i = 0; i < n; i++)
        words[i] = pos[i] >= 0 && uint32_t(pos[i]) <= capacity_
                       ? words_[pos[i]].load(std::memory_order_acquire)
                       : 0;
}

MacTable::Learned MacTable::learn(const MacKey& k, uint16_t member, uint16_t epoch,
                                  uint32_t now_s, uint32_t limit) noexcept {
    if (per_bd_.size() <= k.bd) per_bd_.resize(k.bd + 1u, 0);
    int pos = rte_hash_lookup(hash_, &k);
    if (pos >= 0) {
        uint64_t w = words_[pos].load(std::memory_order_relaxed);
        bool same = (w & MacEntry::valid) && MacEntry::epoch(w) == epoch;
        words_[pos].store(MacEntry::word(epoch, member, now_s), std::memory_order_release);
        return same && MacEntry::member(w) == member ? Learned::refreshed : Learned::moved;
    }
    if (per_bd_[k.bd] >= limit) return Learned::limit;
    pos = rte_hash_add_key(hash_, &k);
    if (pos < 0 || uint32_t(pos) > capacity_) return Learned::full;
    words_[pos].store(MacEntry::word(epoch, member, now_s), std::memory_order_release);
    per_bd_[k.bd]++;
    size_++;
    return Learned::added;
}

void MacTable::remove(const MacKey& k, int32_t) noexcept {
    int pos = rte_hash_lookup(hash_, &k);
    if (pos < 0) return;
    words_[pos].store(0, std::memory_order_release);
    pos = rte_hash_del_key(hash_, &k);
    if (pos < 0) return;
    if (k.bd < per_bd_.size() && per_bd_[k.bd]) per_bd_[k.bd]--;
    size_--;
    if (!qsbr_) {
        rte_hash_free_key_with_position(hash_, pos);
        return;
    }
    deferred_.push_back({pos, rte_rcu_qsbr_start(qsbr_)});
}

void MacTable::reclaim() noexcept {
    size_t kept = 0;
    for (size_t i = 0; i < deferred_.size(); i++) {
        if (rte_rcu_qsbr_check(qsbr_, deferred_[i].token, false) == 1)
            rte_hash_free_key_with_position(hash_, deferred_[i].pos);
        else
            deferred_[kept++] = deferred_[i];
    }
    deferred_.resize(kept);
}

void MacTable::flush() noexcept {
    age(0, 0, [](uint16_t) { return 0u; });
}

void MacTable::each_raw(void (*cb)(void*, const MacKey&, uint64_t), void* arg) const {
    const void* key;
    void* data;
    uint32_t it = 0;
    int32_t pos;
    while ((pos = rte_hash_iterate(hash_, &key, &data, &it)) >= 0)
        cb(arg, *static_cast<const MacKey*>(key), words_[pos].load(std::memory_order_acquire));
}

}  // namespace tgw::dp
