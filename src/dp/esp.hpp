// ESP security associations as the fast path sees them (RFC 4303, tunnel and transport mode).
//
// The ESP mechanics (sequence numbers, ESN, anti-replay window, padding, the tunnel header,
// ICV placement) are DPDK's rte_ipsec; the cipher is the crypto_ipsec_mb cryptodev (Intel
// IPsec-MB) called synchronously through rte_ipsec's CPU-crypto path, so a packet never
// waits in a queue pair. Written here by hand, because neither library has them: lifetimes,
// NAT-T (RFC 3948) glue, the outer DSCP/ECN/DF rules, and the per-SA counters.
#pragma once
#include <rte_ipsec.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "config/model.hpp"
#include "dp/meta.hpp"
#include "tunnelgw/addr.hpp"

namespace tgw::dp {

// Per-SA counters. One writer: the SA's owner worker (see Sa::owner).
struct alignas(64) SaCounters {
    uint64_t pkts, bytes;   // protected (out) or accepted (in); bytes of the inner packet
    uint64_t auth_failed;   // ICV did not verify
    uint64_t replay;        // duplicate or left of the anti-replay window (RFC 4303 §3.4.3)
    uint64_t bad_trailer;   // padding or next-header wrong after decryption (RFC 4303 §2.4)
    uint64_t truncated;     // too short for ESP header, IV, ICV, or not a whole block
    uint64_t policy;        // decrypted inner packet not allowed on this SA's tunnel
    uint64_t expired;       // dropped because the SA reached its hard lifetime
    uint64_t seq_exhausted; // outbound sequence space used up (no ESN)
};

// Why an SA stopped or warned. Lifetimes are checked per burst on the owner (packets, bytes,
// sequence space) and once a second on the control thread (seconds).
enum SaLimit : uint8_t {
    sa_ok = 0,
    sa_soft = 1,  // soft lifetime reached: an event for the slow path / log, traffic continues
    sa_hard = 2,  // hard lifetime or sequence exhaustion: the SA carries nothing any more
};

// The mutable part of an SA: crypto session, rte_ipsec state, counters. Owned by the control
// side, shared by every snapshot that uses the SA and kept across reloads while the SA's
// parameters do not change, so a reload does not restart sequence numbers or the window.
struct SaLive {
    alignas(64) rte_ipsec_session ss{};
    rte_ipsec_sa* sa = nullptr;
    void* crypto_session = nullptr;
    uint8_t dev_id = 0;
    bool lookaside = false;          // crypto ops on the worker's queue pair (esp_out.cpp)
    rte_mempool* op_pool = nullptr;  // for the lookaside path
    SaCounters ctr{};
    uint32_t rx_top = 0;  // inbound, no ESN: highest sequence number accepted (owner only)
    // Written by the owner worker (volume limits) ...
    std::atomic<uint8_t> volume_state{sa_ok};
    // ... and by the control thread (time limits): two fields, one writer each.
    std::atomic<uint8_t> time_state{sa_ok};
    uint64_t installed_tsc = 0;  // control only

    uint8_t state() const noexcept {
        uint8_t a = volume_state.load(std::memory_order_relaxed);
        uint8_t b = time_state.load(std::memory_order_relaxed);
        return a > b ? a : b;
    }
    ~SaLive();
};

// One SA in a snapshot: immutable parameters plus a pointer to its live state.
struct Sa {
    SaLive* live = nullptr;
    std::shared_ptr<SaLive> keep;  // holds `live` for as long as this snapshot exists
    uint32_t spi = 0;              // host order
    uint32_t replay_window = 0;    // inbound
    bool esn = false;
    uint32_t tunnel = 0xffffffffu; // index of the tunnel it protects, or none
    uint16_t owner = 0;            // worker that runs it: its sequence numbers / replay window
    bool out = false;
    bool tunnel_mode = true;
    bool outer_v6 = false;
    bool nat_t = false;
    uint8_t inner_family = 4;      // tunnel mode: what is inside (rte_ipsec fixes it per SA)
    uint8_t iv_len = 8;            // explicit IV: 8 (GCM, ChaCha20, RFC 4106/7634), 16 (CBC)
    uint8_t icv_len = 16;          // 16, or 12 for HMAC-SHA1-96
    uint8_t block = 4;             // ciphertext alignment: 4 (AEAD), 16 (CBC)
    uint32_t ip_sum = 0;           // tunnel mode, IPv4: sum of the outer header's constant words
    uint16_t natt_sport = 4500, natt_dport = 4500;
    // Outbound: where the ESP packet goes.
    uint16_t port = 0;
    IpAddr nh;
    int32_t neigh_pos = -1;
    IpAddr local, remote;
    config::SaLifetime soft, hard;  // packets and bytes are checked on the fast path
    config::TosMode tos_mode = config::TosMode::Inherit;
    uint8_t dscp = 0;
    config::DfMode df = config::DfMode::Copy;
    uint8_t ttl = 64;
    std::string name;
};

// Packets and bytes lifetimes (RFC 4301 §4.4.2.1), after the owner counted a run: soft raises
// the event the control thread logs, hard stops the SA. Owner worker only.
inline void update_volume_state(const Sa& sa, SaLive& l) noexcept {
    const SaCounters& k = l.ctr;
    uint8_t st = sa_ok;
    if ((sa.hard.packets && k.pkts >= sa.hard.packets) || (sa.hard.bytes && k.bytes >= sa.hard.bytes))
        st = sa_hard;
    else if ((sa.soft.packets && k.pkts >= sa.soft.packets) || (sa.soft.bytes && k.bytes >= sa.soft.bytes))
        st = sa_soft;
    if (st > l.volume_state.load(std::memory_order_relaxed))
        l.volume_state.store(st, std::memory_order_relaxed);
}

}  // namespace tgw::dp
