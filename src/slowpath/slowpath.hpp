// The slow path: one thread (the main lcore) that answers ARP, neighbour discovery and ICMP
// echo, resolves next hops for the workers, and generates ICMP errors.
//
// Workers punt to it through one SP/SC ring each and never wait for it. It transmits nothing
// itself: every packet it emits goes to worker 0 through the `inject` ring with PktMeta set,
// either as a complete frame (Entry::tx + out_port) or as an IP packet to route (Entry::l3).
// It is the single writer of the neighbour table, of its own LcoreCounters and of the
// SlowCounters below.
#pragma once
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dp/counters.hpp"
#include "dp/neigh.hpp"
#include "dp/snapshot.hpp"
#include "tunnelgw/addr.hpp"

namespace tgw::slowpath {

struct Env {
    rte_mempool* pool = nullptr;       // replies and ICMP errors are allocated here
    dp::NeighTable* neigh = nullptr;   // the slow path is its only writer
    rte_ring* inject = nullptr;        // to worker 0 (SP/SC)
    std::vector<rte_ring*> punt;       // one per worker (SP/SC)
    dp::LcoreCounters* ctr = nullptr;  // the slow path's own block (drops)
    uint64_t tsc_hz = 0;               // 0 = rte_get_tsc_hz(); tests set it to drive time
    uint32_t icmp_rate = 100;  // ICMP errors per second (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f))
    uint32_t icmp_burst = 50;  // bucket depth
    // A reflected keepalive of tunnel `index` (snapshot index) came back. Runs on the slow
    // path thread, which is also the control thread that owns tunnel liveness.
    void (*on_keepalive)(void* arg, const dp::Snapshot& snap, uint32_t index) = nullptr;
    void* on_keepalive_arg = nullptr;
};

// Events (not drops: drops go to LcoreCounters::drops). Single writer, read with dp::peek.
struct SlowCounters {
    uint64_t arp_req_rx;              // ARP requests received
    uint64_t arp_reply_rx;            // ARP replies received
    uint64_t arp_reply_tx;            // ARP replies sent for our addresses
    uint64_t arp_req_tx;              // ARP requests sent to resolve a next hop
    uint64_t arp_ignored;             // valid ARP, not for us and nothing to learn
    uint64_t nd_ns_rx;                // neighbour solicitations received
    uint64_t nd_na_rx;                // neighbour advertisements received
    uint64_t nd_na_tx;                // advertisements sent for our addresses
    uint64_t nd_ns_tx;                // solicitations sent to resolve a next hop
    uint64_t nd_ignored;              // valid ND, not for us and nothing to learn
    uint64_t neigh_learned;           // entries written from ARP / ND
    uint64_t neigh_static_kept;       // learning refused: a static entry exists
    uint64_t addr_conflict;           // someone else claims one of our addresses
    uint64_t held;                    // packets queued waiting for resolution
    uint64_t released;                // held packets sent once resolved
    uint64_t pending_full;            // no free resolution slot (also counted as neigh_hold_full)
    uint64_t no_source_addr;          // cannot solicit: no address of that family on the port
    uint64_t icmp_echo_replies;       // echo replies sent
    uint64_t icmp_errors_tx;          // ICMP / ICMPv6 errors sent
    uint64_t icmp_errors_suppressed;  // not sent by rule (RFC 1812 §4.3.2.7, RFC 4443 §2.4(e))
    uint64_t rate_limited;            // not sent: token bucket empty
    uint64_t local_unhandled;         // addressed to us, no handler (TCP, UDP, ...)
    uint64_t inject_full;             // inject ring full: emitted packet freed (drop tx_full)
};

class SlowPath {
public:
    // Resolution slots (distinct unresolved next hops at once) and packets held per slot.
    static constexpr unsigned max_pending = 256;
    static constexpr unsigned hold_per_neigh = 4;
    // RFC 4861 §10 MAX_MULTICAST_SOLICIT and RETRANS_TIMER; used for ARP as well.
    static constexpr unsigned max_solicit = 3;
    static constexpr unsigned punt_burst = 32;

    explicit SlowPath(Env env);
    ~SlowPath();  // frees held packets
    SlowPath(const SlowPath&) = delete;
    SlowPath& operator=(const SlowPath&) = delete;

    // Drains up to punt_burst packets from each punt ring, then runs the timers.
    // Returns the number of punted packets handled.
    unsigned poll(const dp::Snapshot& snap, uint64_t now_tsc) noexcept;
    // One punted packet. Takes ownership of m.
    void handle(const dp::Snapshot& snap, rte_mbuf* m, uint64_t now_tsc) noexcept;
    // Retransmits solicitations and expires unresolved next hops (poll calls it).
    void run_timers(const dp::Snapshot& snap, uint64_t now_tsc) noexcept;
    // Installs config.neighbors as static entries and removes static entries that left the
    // config. Call on the slow path thread after each publish (single writer).
    void apply_static_neighbors(const dp::Snapshot& snap);
    // Sends one Cisco-style keepalive into tunnel `index` (keepalive.cpp). False when no mbuf.
    bool send_keepalive(const dp::Snapshot& snap, uint32_t index) noexcept;

    const SlowCounters& counters() const noexcept { return sc_; }
    unsigned pending() const noexcept { return n_pending_; }  // unresolved next hops

private:
    struct Pending {
        IpAddr addr;
        uint16_t port = 0;
        uint8_t tries = 0;  // solicitations sent
        uint8_t n = 0;      // packets held
        bool used = false;
        uint64_t next_tsc = 0;
        rte_mbuf* pkts[hold_per_neigh] = {};
    };
    struct StaticKey {
        uint16_t port;
        IpAddr addr;
    };

    void on_arp(const dp::Snapshot& snap, rte_mbuf* m) noexcept;
    void on_nd(const dp::Snapshot& snap, rte_mbuf* m) noexcept;
    void on_local(const dp::Snapshot& snap, rte_mbuf* m) noexcept;
    void on_neigh_miss(const dp::Snapshot& snap, rte_mbuf* m, uint64_t now) noexcept;
    void on_error(const dp::Snapshot& snap, rte_mbuf* m, uint64_t now) noexcept;

    // Writes a learned entry unless a static one exists, then releases held packets.
    void learn(uint16_t port, const IpAddr& a, const uint8_t mac[6]) noexcept;
    void release(uint16_t port, const IpAddr& a, const uint8_t mac[6]) noexcept;
    bool solicit(const dp::Snapshot& snap, Pending& p) noexcept;
    void expire(Pending& p, dp::Drop why) noexcept;
    Pending* find_pending(uint16_t port, const IpAddr& a) noexcept;
    bool icmp_allowed(uint64_t now) noexcept;

    rte_mbuf* alloc(size_t len, uint8_t*& data) noexcept;
    void inject(rte_mbuf* m) noexcept;
    void drop(rte_mbuf* m, dp::Drop why) noexcept;
    void count(dp::Drop why) noexcept;

    Env env_;
    SlowCounters sc_{};
    uint64_t hz_;
    std::unique_ptr<Pending[]> pending_;
    unsigned n_pending_ = 0;
    uint64_t next_timer_ = UINT64_MAX;
    // Token bucket in TSC cycles: one ICMP error costs hz / rate cycles of credit.
    uint64_t tb_cost_, tb_max_, tb_credit_, tb_last_ = 0;
    uint16_t ip_id_ = 0;
    std::vector<StaticKey> statics_;
};

}  // namespace tgw::slowpath
