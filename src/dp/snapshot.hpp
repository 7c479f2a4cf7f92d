// The compiled configuration the workers read. Built aside by control/compile.cpp, published
// by pointer swap, freed after an RCU grace period. Never modified once published.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "dp/esp.hpp"
#include "tunnelgw/addr.hpp"
#include "tunnelgw/wire.hpp"

struct rte_fib;
struct rte_fib6;
struct rte_hash;
struct rte_ipsec_sad;

namespace tgw::dp {

struct BridgeTables;

enum class NhKind : uint8_t { drop = 0, local, tunnel, port, blackhole, group, down };

// FIB value = index into Snapshot::nexthops. Index 0 is the "no route" entry.
struct NextHop {
    NhKind kind = NhKind::drop;
    uint16_t port = 0;      // port: egress port index
    uint32_t tunnel = 0;    // tunnel: index into Snapshot::tunnels; group: into Snapshot::groups
    IpAddr gw;              // port: gateway; all-zero = on-link, resolve the destination itself
    int32_t neigh_pos = -1; // port with gw: reserved neighbour position (see NeighTable)
};

// Hot per-tunnel data. The header template is the outer IP header followed by the GRE base
// header and the key; checksum and sequence words are reserved in it as zeros and patched
// per packet (RFC 2890 §2: order is checksum, key, sequence).
struct alignas(64) Tunnel {
    uint8_t tmpl[40 + wire::gre_max_len];
    uint32_t ip_sum;        // IPv4 outer: ones'-complement sum of the constant header words
    uint8_t tmpl_len;       // outer IP + GRE
    uint8_t ip_len;         // 20 or 40
    uint8_t gre_csum_off;   // offset of the checksum word in tmpl, 0 = none
    uint8_t gre_seq_off;    // offset of the sequence word in tmpl, 0 = none
    bool outer_v6;
    bool rx_need_csum;      // drop received packets without a checksum
    bool seq;               // send and check sequence numbers
    uint8_t ttl;            // 0 = copy from inner
    config::TosMode tos_mode;
    uint8_t dscp;
    config::DfMode df;
    uint16_t port;          // underlay egress port index
    uint16_t mtu;           // largest inner packet that is encapsulated
    uint16_t fits;          // largest inner packet whose outer packet fits the port (mtu.hpp)
    uint16_t mss4, mss6;    // TCP MSS clamp for IPv4 / IPv6 SYNs, 0 = off (dp/mss.hpp)
    config::FragMode frag;  // non-DF IPv4 above mtu: fragment inner / outer, or drop
    uint16_t owner;         // worker index that owns this tunnel's sequence state
    uint32_t slot;          // counter / state slot, stable across reloads
    uint32_t epoch;         // changes when a reload gives the slot to another tunnel
    IpAddr nh;              // underlay next hop to resolve (gateway or remote itself)
    int32_t neigh_pos;      // its reserved neighbour position, -1 = look it up
    IpAddr local, remote;
    bool single_writer;     // sequence numbers or an SA: only the owner worker encapsulates
    bool is_protected;      // protection: configured; fails closed without an outbound SA
    bool ipsec_only;        // type ipsec: ESP tunnel mode, no GRE header
    uint32_t sa_out;        // outbound SA index into Snapshot::sas, or no_sa
    std::string name;
};

inline constexpr uint32_t ecmp_mask = (1u << 18) - 1;  // control/ecmp.hpp: ecmp_table_bits

// An ECMP group as the fast path sees it: table[flow_hash & mask] -> member -> tunnel index.
struct Group {
    const uint8_t* table = nullptr;  // ecmp_table_size slots, from `owner`
    std::vector<uint32_t> tunnels;   // member index -> tunnel index
    std::shared_ptr<const std::vector<uint8_t>> owner;
    std::string name;
};

struct Port {
    uint16_t port_id;   // DPDK port id
    uint8_t mac[6];
    uint16_t mtu;
    std::vector<Prefix> addresses;  // for ARP/ND answers and ICMP sources
    std::string name;
};

// Tunnel match key on receive: outer src, outer dst, key. RFC 2890 §2.1: a packet
// without a key matches only a tunnel without a key.
struct TunnelKey {
    IpAddr src;
    IpAddr dst;
    uint32_t key;
    uint32_t has_key;
};
static_assert(sizeof(TunnelKey) == 40);

struct Snapshot {
    uint64_t generation = 0;
    rte_fib* fib4 = nullptr;
    rte_fib6* fib6 = nullptr;
    rte_hash* tunnel_by_key = nullptr;  // TunnelKey -> tunnel index
    std::vector<NextHop> nexthops;
    std::vector<Tunnel> tunnels;
    std::vector<Group> groups;
    std::vector<Port> ports;
    std::vector<Sa> sas;                    // in and out; inbound ones are found via sad4/sad6
    rte_ipsec_sad* sad4 = nullptr;          // (SPI, IPv4 destination) -> Sa*
    rte_ipsec_sad* sad6 = nullptr;          // (SPI, IPv6 destination) -> Sa*
    std::unique_ptr<BridgeTables> l2;       // bridge domains (dp/bridge.hpp); null = none
    config::Config config;                  // the source, for the slow path and ctl
    unsigned n_workers = 1;

    Snapshot();  // out of line: BridgeTables is incomplete here
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;
    ~Snapshot();
};

}  // namespace tgw::dp
