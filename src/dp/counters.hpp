// Per-lcore counters. Each block has exactly one writer (its lcore); the slow path sums them
// on read. Single writer means plain load + relaxed store, no atomic read-modify-write.
#pragma once
#include <cstdint>

#include "config/model.hpp"
#include "dp/profile.hpp"

namespace tgw::dp {

// Every drop has a name. X(enum, "name shown to operators", "why")
#define TGW_DROP_REASONS(X)                                                              \
    X(l2_short, "l2-short", "frame shorter than an Ethernet header")                     \
    X(l2_not_for_us, "l2-not-for-us", "unicast to another MAC (promiscuous port)")       \
    X(l2_vlan, "l2-vlan", "VLAN-tagged frame on an untagged port")                        \
    X(l2_ethertype, "l2-ethertype", "neither IPv4, IPv6 nor ARP")                         \
    X(ip_truncated, "ip-truncated", "shorter than its IP header or total length")        \
    X(ip_bad_header, "ip-bad-header", "IP version or header length invalid")             \
    X(ip_bad_checksum, "ip-bad-checksum", "IPv4 header checksum wrong")                  \
    X(ip_multicast, "ip-multicast", "multicast or broadcast destination not handled")    \
    X(ip_martian, "ip-martian", "source is loopback, multicast or unspecified")          \
    X(ttl_exceeded, "ttl-exceeded", "TTL or hop limit expired (ICMP sent if allowed)")    \
    X(no_route, "no-route", "no route to destination (ICMP sent if allowed)")             \
    X(blackhole, "blackhole", "route is a blackhole")                                    \
    X(mtu_exceeded, "mtu-exceeded", "larger than the egress MTU (ICMP sent if DF/IPv6)") \
    X(outer_fragment, "outer-fragment", "fragmented packet addressed to the gateway")    \
    X(gre_truncated, "gre-truncated", "shorter than its GRE header")                    \
    X(gre_version, "gre-version", "GRE version other than 0 (RFC 2784 §2.3.1)")          \
    X(gre_reserved, "gre-reserved", "GRE bits 1-5 set: routing, strict route, recursion (RFC 2784 §2.3)")            \
    X(gre_bad_checksum, "gre-bad-checksum", "GRE checksum wrong (RFC 2784 §2.5)")        \
    X(gre_no_tunnel, "gre-no-tunnel", "no tunnel with this source, destination and key") \
    X(gre_csum_missing, "gre-csum-missing", "tunnel requires a checksum; none present")  \
    X(gre_seq_missing, "gre-seq-missing", "tunnel requires sequence numbers; none present") \
    X(gre_seq_old, "gre-seq-old", "sequence number not newer (RFC 2890 §2.2)")           \
    X(gre_proto, "gre-proto", "inner protocol not carried on this tunnel")               \
    X(gre_inner_bad, "gre-inner-bad", "inner packet is not a valid IP packet")           \
    X(gre_cleartext, "gre-cleartext", "GRE outside ESP for a protected tunnel (fail closed)") \
    X(esp_no_sa, "esp-no-sa", "ESP with no inbound SA for its SPI and destination")      \
    X(esp_truncated, "esp-truncated", "ESP too short for header, IV and ICV, or not whole blocks") \
    X(esp_auth_failed, "esp-auth-failed", "ESP ICV did not verify (RFC 4303 §3.4.4)")     \
    X(esp_replay, "esp-replay", "ESP duplicate or left of the replay window (RFC 4303 §3.4.3)") \
    X(esp_bad_trailer, "esp-bad-trailer", "ESP padding or next header wrong after decryption") \
    X(esp_inner_bad, "esp-inner-bad", "decrypted inner packet is not a valid IP packet")  \
    X(esp_policy, "esp-policy", "decrypted packet's source does not route back into its tunnel") \
    X(esp_crypto_failed, "esp-crypto-failed", "the crypto device failed the packet")      \
    X(natt_keepalive, "natt-keepalive", "NAT-T keepalive consumed (RFC 3948 §2.3)")       \
    X(sa_missing, "sa-missing", "protected tunnel has no outbound SA: dropped, never sent in clear") \
    X(sa_expired, "sa-expired", "SA reached its hard lifetime")                           \
    X(sa_seq_exhausted, "sa-seq-exhausted", "outbound sequence numbers used up, no ESN (RFC 4303 §3.3.3)") \
    X(local_unhandled, "local-unhandled", "addressed to the gateway, no handler")         \
    X(punt_ring_full, "punt-ring-full", "slow path busy: its ring was full")             \
    X(handoff_ring_full, "handoff-ring-full", "owner worker busy: handoff ring full")     \
    X(tx_full, "tx-full", "TX queue full")                                               \
    X(neigh_unresolved, "neigh-unresolved", "next hop did not answer ARP/ND in time")     \
    X(neigh_hold_full, "neigh-hold-full", "too many packets waiting for one neighbour")    \
    X(icmp_rate_limited, "icmp-rate-limited", "ICMP error suppressed by the rate limit")  \
    X(tunnel_down, "tunnel-down", "route's tunnel or group has no live member")          \
    X(stale_inject, "stale-inject", "slow-path packet built for a replaced config")      \
    X(ecn_not_ect, "ecn-not-ect", "outer CE but inner not ECN-capable (RFC 6040 §4.2)")   \
    X(no_headroom, "no-headroom", "no mbuf headroom for the outer headers")              \
    X(slowpath_bad, "slowpath-bad", "malformed ARP/ND/ICMP for the slow path")            \
    X(no_mbuf, "no-mbuf", "mbuf pool empty")                                              \
    X(frag_failed, "frag-failed", "could not fragment a packet above the tunnel MTU (no mbufs)") \
    X(reassembly_timeout, "reassembly-timeout", "outer fragments whose datagram never completed") \
    X(reassembly_failed, "reassembly-failed", "outer fragment refused: table full, overlap, bad length") \
    X(teb_short, "teb-short", "gretap payload shorter than an Ethernet header")           \
    X(bd_bad_src, "bd-bad-src", "bridged frame with a multicast or zero source MAC")     \
    X(bd_hairpin, "bd-hairpin", "destination is behind the member the frame came from")  \
    X(bd_flood_limit, "bd-flood-limit", "flooding over the domain's flood_limit_pps")    \
    X(bd_mac_limit, "bd-mac-limit", "MAC not learned: domain at mac_limit (frame still forwarded)")

enum class Drop : uint16_t {
#define TGW_X(e, n, d) e,
    TGW_DROP_REASONS(TGW_X)
#undef TGW_X
        count
};
inline constexpr unsigned drop_count = unsigned(Drop::count);
const char* drop_name(Drop d) noexcept;
const char* drop_help(Drop d) noexcept;

// Single-writer add: the owning lcore is the only writer, readers load relaxed.
inline void bump(uint64_t& c, uint64_t v = 1) noexcept {
    __atomic_store_n(&c, c + v, __ATOMIC_RELAXED);
}
inline uint64_t peek(const uint64_t& c) noexcept { return __atomic_load_n(&c, __ATOMIC_RELAXED); }

struct alignas(64) PortCounters {
    uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
};

struct TunnelCounters {
    uint64_t rx_pkts, rx_bytes;  // decapsulated and accepted
    uint64_t tx_pkts, tx_bytes;  // encapsulated
    uint64_t rx_drops, tx_drops;
    uint64_t ecmp_pkts;    // packets an ECMP group hashed onto this tunnel
    uint64_t keepalives_tx, keepalives_rx;
};

// Tunnel counters are indexed by the tunnel's slot, which is stable across reloads
// (assigned by name), so a reload keeps the counters of surviving tunnels.
struct alignas(64) LcoreCounters {
    PortCounters port[config::max_ports];
    uint64_t drops[drop_count];
    uint64_t punted;       // handed to the slow path
    uint64_t handed_off;   // handed to the owner worker
    uint64_t polls, busy_polls, busy_cycles, pkts_processed;
    uint64_t fragmented;    // packets fragmented to fit a tunnel (inner or outer), not drops
    uint64_t fragments;     // fragments those became
    uint64_t reassembled;   // outer datagrams reassembled from fragments addressed to us
    uint64_t mss_clamped;   // TCP SYNs whose MSS option was lowered
    TunnelCounters tunnel[config::max_tunnels];
    StageCycles stages[stage_count];  // sampled, see dp/profile.hpp
};

}  // namespace tgw::dp
