// Neighbour table (ARP / ND results and static entries). Lives across reloads.
// One writer: the slow path thread. Workers read lock-free: rte_hash with
// RW_CONCURRENCY_LF for the index, and one 64-bit atomic word per entry for MAC + state,
// so a reader sees either the old or the new MAC, never a torn one.
#pragma once
#include <atomic>
#include <cstdint>

#include "tunnelgw/addr.hpp"

struct rte_hash;

namespace tgw::dp {

struct NeighKey {
    IpAddr addr;
    uint16_t port;
    uint16_t pad = 0;
};
static_assert(sizeof(NeighKey) == 20);

inline void mac_from_word(uint64_t w, uint8_t mac[6]) noexcept {
    for (int i = 0; i < 6; i++) mac[i] = uint8_t(w >> (40 - 8 * i));
}

class NeighTable {
public:
    static constexpr uint64_t valid = 1ull << 63;
    static constexpr uint64_t is_static = 1ull << 62;

    // Returns nullptr-equivalent (ok() false) on failure; never throws.
    NeighTable(const char* name, uint32_t capacity);
    ~NeighTable();
    NeighTable(const NeighTable&) = delete;
    NeighTable& operator=(const NeighTable&) = delete;
    bool ok() const noexcept { return hash_ != nullptr; }

    // Worker side. True and the MAC when resolved.
    bool lookup(uint16_t port, const IpAddr& a, uint8_t mac[6]) const noexcept;
    // Worker side, by a position reserved at compile time: one atomic load, no hashing.
    bool mac_at(int32_t pos, uint8_t mac[6]) const noexcept {
        uint64_t w = words_[pos].load(std::memory_order_acquire);
        if (!(w & valid)) return false;
        mac_from_word(w, mac);
        return true;
    }

    // Slow path side only (single writer).
    bool set(uint16_t port, const IpAddr& a, const uint8_t mac[6], bool static_entry) noexcept;
    // True when an entry exists and is static (dynamic learning must not override it).
    bool is_static_entry(uint16_t port, const IpAddr& a) const noexcept;
    void invalidate(uint16_t port, const IpAddr& a) noexcept;
    // Control side (same thread as the slow path): the stable position of (port, a), adding
    // an unresolved entry if needed, so the fast path can index it directly. -1 when full.
    int32_t reserve(uint16_t port, const IpAddr& a) noexcept;

    // Iterate for display (slow path / ctl). fn(port, addr, mac, flags).
    template <typename Fn>
    void for_each(Fn&& fn) const;

private:
    rte_hash* hash_ = nullptr;
    std::atomic<uint64_t>* words_ = nullptr;
    uint32_t capacity_ = 0;
    void each_raw(void (*cb)(void*, const NeighKey&, uint64_t), void* arg) const;
};

template <typename Fn>
void NeighTable::for_each(Fn&& fn) const {
    each_raw(
        [](void* a, const NeighKey& k, uint64_t w) { (*static_cast<Fn*>(a))(k.port, k.addr, w); },
        &fn);
}


}  // namespace tgw::dp
