// IP fragmentation and reassembly around the tunnels, with DPDK's librte_ip_frag.
//
// Sending: an inner IPv4 packet without DF that exceeds the tunnel MTU is fragmented before
// encapsulation (each fragment becomes its own GRE packet, so the far end never reassembles
// outer packets), or with `fragmentation: outer` the outer packet is fragmented after it.
// Receiving: outer fragments addressed to the gateway (peers that fragment anyway) are
// reassembled in a per-worker table before GRE/ESP processing.
//
// Everything here uses memory set up at start (mbuf pools, the fragment table, the death
// row): nothing is allocated per packet beyond mbufs from those pools.
#pragma once
#include <rte_ip_frag.h>

#include "dp/context.hpp"

namespace tgw::dp {

// Per-worker state, created at start by runtime/gateway.cpp (tests may leave it null: then
// fragmentation and reassembly are refused and counted as before).
struct FragState {
    rte_mempool* direct = nullptr;    // fragment headers (needs the PktMeta private area)
    rte_mempool* indirect = nullptr;  // payload references into the original packet
    rte_ip_frag_tbl* table = nullptr; // reassembly, bounded (max_flows), with a timeout
    rte_ip_frag_death_row death_row;  // mbufs the table let go, freed once per burst
};

// Datagrams in reassembly per worker. Each holds up to 8 mbufs until it completes or times
// out, so this bounds what a fragment flood can take from the mbuf pool (1024 x 8 < 16383).
inline constexpr uint32_t reasm_max_flows = 1024;
inline constexpr uint32_t reasm_timeout_ms = 2000; // then its fragments are dropped
inline constexpr uint16_t max_fragments = 64;      // out of one packet (9000 B over 576)

// Fragments the IP packet `m` (data at its header, family 4 or 6) into pieces of at most `mtu`
// bytes. On success `m` is consumed and the fragments, each with m's metadata, are in out[];
// IPv4 fragments have their header checksum set, IPv6 ones a fresh identification.
// Returns 0 on failure (m untouched: the caller drops it as frag_failed).
uint16_t fragment(WorkerCtx& c, rte_mbuf* m, uint8_t family, uint16_t mtu, rte_mbuf** out) noexcept;

// An outer fragment addressed to the gateway (data at its IP header; l3_len = IP header plus,
// for IPv6, the fragment header right after it). Returns the whole datagram when this fragment
// completed it, else nullptr (kept in the table, or released to the death row).
rte_mbuf* reassemble(WorkerCtx& c, rte_mbuf* m, uint8_t family, uint16_t l3_len, uint64_t tsc) noexcept;

// Once per burst: expire old datagrams, free the death row, count both.
void reassembly_collect(WorkerCtx& c, uint64_t tsc) noexcept;

}  // namespace tgw::dp
