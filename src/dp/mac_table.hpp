// The bridge domains' MAC table: (domain, MAC) -> member, shared by all workers.
//
// Why one table with one writer, not per-lcore tables: with RSS a station's frames and the
// frames addressed to it arrive on different workers, so a per-lcore table would flood what
// another worker already knows. Workers only read (rte_hash with RW_CONCURRENCY_LF, one
// 64-bit atomic word per position, as NeighTable); they send learn events over their own
// SP/SC ring to the slow path thread, the table's only writer, which also ages entries.
// Deleted key slots are given back after an RCU grace period (the workers' QSBR), so a worker
// that still holds a position never reads a slot reused for another key.
#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

struct rte_hash;
struct rte_rcu_qsbr;

namespace tgw::dp {

struct MacKey {
    uint8_t mac[6];
    uint16_t bd;  // bridge domain index in the snapshot
};
static_assert(sizeof(MacKey) == 8);

// Word layout: valid | epoch (15 bits) | member (16 bits) | stamp (seconds, 32 bits).
// `epoch` is the snapshot's L2 epoch: a reload that changes the domains makes every older
// entry stale at once, before the writer has swept them.
struct MacEntry {
    static constexpr uint64_t valid = 1ull << 63;
    static uint64_t word(uint16_t epoch, uint16_t member, uint32_t stamp) noexcept {
        return valid | uint64_t(epoch & 0x7fff) << 48 | uint64_t(member) << 32 | stamp;
    }
    static uint16_t epoch(uint64_t w) noexcept { return uint16_t(w >> 48) & 0x7fff; }
    static uint16_t member(uint64_t w) noexcept { return uint16_t(w >> 32); }
    static uint32_t stamp(uint64_t w) noexcept { return uint32_t(w); }
};

class MacTable {
public:
    static constexpr unsigned max_bulk = 32;
    enum class Learned : uint8_t { added, moved, refreshed, limit, full, stale };

    MacTable(const char* name, uint32_t capacity, rte_rcu_qsbr* qsbr = nullptr);
    ~MacTable();
    MacTable(const MacTable&) = delete;
    MacTable& operator=(const MacTable&) = delete;
    bool ok() const noexcept { return hash_ != nullptr; }

    // Worker side: words[i] = the entry of keys[i], 0 when there is none. n <= max_bulk.
    void lookup_bulk(const MacKey* keys, unsigned n, uint64_t* words) const noexcept;
    uint64_t lookup(const MacKey& k) const noexcept;

    // Writer side (one thread). `epoch` is the current L2 epoch; an event of another epoch is
    // stale. `limit` is the domain's mac_limit: a new MAC beyond it is not learned.
    Learned learn(const MacKey& k, uint16_t member, uint16_t epoch, uint32_t now_s,
                  uint32_t limit) noexcept;
    // Removes entries older than ageing_s(domain) or of another epoch; returns how many.
    // ageing_s(bd) returns 0 for a domain that no longer exists (its entries go).
    template <typename Ageing>
    unsigned age(uint16_t epoch, uint32_t now_s, Ageing&& ageing_s) noexcept;
    void flush() noexcept;                  // everything, e.g. at a new epoch
    void reclaim() noexcept;                // frees key slots whose grace period has passed
    uint32_t count(uint16_t bd) const noexcept { return bd < per_bd_.size() ? per_bd_[bd] : 0; }
    uint32_t size() const noexcept { return size_; }

    // Display (writer thread): fn(key, word).
    template <typename Fn>
    void for_each(Fn&& fn) const;

private:
    void remove(const MacKey& k, int32_t pos) noexcept;
    void each_raw(void (*cb)(void*, const MacKey&, uint64_t), void* arg) const;
    struct Deferred {
        int32_t pos;
        uint64_t token;
    };

    rte_hash* hash_ = nullptr;
    std::atomic<uint64_t>* words_ = nullptr;
    uint32_t capacity_ = 0;
    rte_rcu_qsbr* qsbr_ = nullptr;
    std::vector<uint32_t> per_bd_;    // entries per domain index
    std::vector<Deferred> deferred_;  // deleted, waiting for the grace period
    uint32_t size_ = 0;
};

template <typename Fn>
void MacTable::for_each(Fn&& fn) const {
    each_raw([](void* a, const MacKey& k, uint64_t w) { (*static_cast<Fn*>(a))(k, w); }, &fn);
}

template <typename Ageing>
unsigned MacTable::age(uint16_t epoch, uint32_t now_s, Ageing&& ageing_s) noexcept {
    // Collect first: deleting while iterating may skip entries (rte_hash_iterate contract).
    MacKey dead[256];
    int32_t pos[256];
    unsigned n = 0, total = 0;
    do {
        n = 0;
        for_each([&](const MacKey& k, uint64_t w) {
            if (n == 256) return;
            uint32_t a = ageing_s(k.bd);
            if (!(w & MacEntry::valid) || MacEntry::epoch(w) != epoch || a == 0 ||
                int32_t(now_s - MacEntry::stamp(w)) >= int32_t(a)) {
                dead[n] = k;
                pos[n++] = -1;
            }
        });
        for (unsigned i = 0; i < n; i++) remove(dead[i], pos[i]);
        total += n;
    } while (n == 256);
    return total;
}

}  // namespace tgw::dp
