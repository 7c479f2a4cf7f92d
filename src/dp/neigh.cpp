#include "dp/neigh.hpp"

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

namespace tgw::dp {

namespace {
uint64_t to_word(const uint8_t mac[6]) noexcept {
    uint64_t w = 0;
    for (int i = 0; i < 6; i++) w = w << 8 | mac[i];
    return w;
}
}  // namespace

NeighTable::NeighTable(const char* name, uint32_t capacity) : capacity_(capacity) {
    rte_hash_parameters p{};
    p.name = name;
    p.entries = capacity;
    p.key_len = sizeof(NeighKey);
    p.hash_func = rte_jhash;
    p.socket_id = SOCKET_ID_ANY;
    // Lock-free readers with a single writer. Keys are never deleted (entries are only
    // invalidated), so no RCU is needed to recycle key slots.
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
    hash_ = rte_hash_create(&p);
    if (!hash_) return;
    words_ = static_cast<std::atomic<uint64_t>*>(
        rte_zmalloc("neigh_words", sizeof(std::atomic<uint64_t>) * capacity, 64));
    if (!words_) {
        rte_hash_free(hash_);
        hash_ = nullptr;
    }
}

NeighTable::~NeighTable() {
    rte_hash_free(hash_);
    rte_free(words_);
}

bool NeighTable::lookup(uint16_t port, const IpAddr& a, uint8_t mac[6]) const noexcept {
    NeighKey k{a, port};
    int pos = rte_hash_lookup(hash_, &k);
    if (pos < 0) return false;
    uint64_t w = words_[pos].load(std::memory_order_acquire);
    if (!(w & valid)) return false;
    mac_from_word(w, mac);
    return true;
}

bool NeighTable::set(uint16_t port, const IpAddr& a, const uint8_t mac[6], bool st) noexcept {
    NeighKey k{a, port};
    int pos = rte_hash_add_key(hash_, &k);
    if (pos < 0 || uint32_t(pos) >= capacity_) return false;
    words_[pos].store(to_word(mac) | valid | (st ? is_static : 0), std::memory_order_release);
    return true;
}

bool NeighTable::is_static_entry(uint16_t port, const IpAddr& a) const noexcept {
    NeighKey k{a, port};
    int pos = rte_hash_lookup(hash_, &k);
    return pos >= 0 && (words_[pos].load(std::memory_order_relaxed) & is_static);
}

int32_t NeighTable::reserve(uint16_t port, const IpAddr& a) noexcept {
    NeighKey k{a, port};
    int pos = rte_hash_add_key(hash_, &k);  // existing key: same position, word untouched
    return pos >= 0 && uint32_t(pos) < capacity_ ? pos : -1;
}

void NeighTable::invalidate(uint16_t port, const IpAddr& a) noexcept {
    NeighKey k{a, port};
    int pos = rte_hash_lookup(hash_, &k);
    if (pos >= 0) words_[pos].store(0, std::memory_order_release);
}

void NeighTable::each_raw(void (*cb)(void*, const NeighKey&, uint64_t), void* arg) const {
    const void* key;
    void* data;
    uint32_t it = 0;
    int32_t pos;
    while ((pos = rte_hash_iterate(hash_, &key, &data, &it)) >= 0) {
        uint64_t w = words_[pos].load(std::memory_order_acquire);
        cb(arg, *static_cast<const NeighKey*>(key), w);
    }
}

}  // namespace tgw::dp
