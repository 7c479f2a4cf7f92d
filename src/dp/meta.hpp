// Typed per-mbuf metadata, kept in the mbuf private area (the pool is created with
// priv_size = sizeof(PktMeta)). Written by the stage that owns the packet at the time.
#pragma once
#include <rte_mbuf.h>

#include <cstdint>

#include "tunnelgw/addr.hpp"

namespace tgw::dp {

inline constexpr uint16_t port_local = 0xffff;  // originated by the gateway itself
inline constexpr uint32_t no_tunnel = 0xffffffffu;
inline constexpr uint32_t no_sa = 0xffffffffu;
// A packet may be handed to another worker this many times: once per single-writer state on
// its way (ESP in, GRE sequence, ESP out). The bound keeps a reload race from ping-ponging it.
inline constexpr uint8_t max_handoffs = 3;

// Why a packet goes to the slow path.
enum class Punt : uint8_t {
    none = 0,
    arp,           // ARP frame; data at Ethernet
    nd,            // ICMPv6 neighbour discovery; data at Ethernet or L3 (l3_off)
    local,         // addressed to a gateway address (ICMP echo, host protocols)
    neigh_miss,    // Ethernet header prepended except dst MAC; resolve nh_addr on out_port
    ttl_exceeded,  // the packet as received; answer ICMP time exceeded
    no_route,      // answer ICMP destination unreachable
    frag_needed,   // answer ICMP frag needed / packet too big with `mtu`
    keepalive,     // a reflected GRE keepalive of tunnel `tunnel_in` came back
};

// Where a packet (re-)enters a worker's pipeline: handoff and inject rings carry this.
enum class Entry : uint8_t {
    eth = 0,  // full frame as received on in_port
    l3,       // data starts at an IP header (injected by the slow path, or decapsulated)
    tx,       // complete frame, transmit on out_port as is
    encap,    // an inner packet to put into tunnel `tunnel_in` of snapshot generation `gen`
              // (keepalives: the route lookup would deliver them locally)
};

struct PktMeta {
    IpAddr nh_addr;        // neigh_miss: the address to resolve
    uint32_t tunnel_in;    // tunnel index this packet was decapsulated from, or no_tunnel
    int32_t neigh_pos;     // egress: reserved neighbour position, or -1 to look up nh_addr
    uint16_t in_port;      // port index (config order), or port_local
    uint16_t out_port;     // port index for neigh_miss / Entry::tx
    uint16_t l3_off;       // offset of the IP header from the data start
    uint16_t mtu;          // frag_needed: the MTU to report
    Punt punt;
    Entry entry;
    uint8_t handed;        // times handed to an owner worker (<= max_handoffs)
    uint8_t family;        // 4 or 6: the IP header at l3_off
    uint32_t gen;          // Entry::encap: low 32 bits of the snapshot generation
    uint32_t sa;           // inbound: index of the SA that decrypted this packet, or no_sa
    uint16_t plain_len;    // esp_out: length before encryption (per-SA byte counters)
    uint8_t plain_tos;     // esp_out: inner TOS (outer DSCP/ECN, RFC 4301 §5.1.2.1, RFC 6040)
    uint8_t plain_df;      // esp_out: inner DF
    uint32_t esp_seq;      // esp_in: the packet's ESP sequence number (low 32 bits)
    uint32_t spare;        // keeps the size a multiple of RTE_MBUF_PRIV_ALIGN
};
static_assert(sizeof(PktMeta) % RTE_MBUF_PRIV_ALIGN == 0, "priv_size must be aligned");
static_assert(sizeof(PktMeta) <= 64, "keep the private area within one cache line");

inline PktMeta& meta(rte_mbuf* m) noexcept {
    return *static_cast<PktMeta*>(rte_mbuf_to_priv(m));
}

}  // namespace tgw::dp
