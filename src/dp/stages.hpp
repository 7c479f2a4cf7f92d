// The fast-path stages, in the order a packet meets them:
//
//   rx -> ingress -> route --local--> local_in --gre--> gre_decap -> route (inner) ...
//                                             --esp--> esp_in ----> route (inner) ...
//                         --tunnel-> gre_encap [-> esp_out] -> egress -> tx
//                         --port---> forward   -> egress -> tx
//   anything for the slow path (ARP, ND, ICMP to us, errors, unresolved next hops) is punted.
//
// Each stage is a noexcept function over a sub-burst: it reads the immutable snapshot and its
// worker context, writes only mbufs, output vectors and the worker's counters, and every
// packet it does not pass on is either punted or dropped under a named reason.
#pragma once
#include "dp/context.hpp"
#include "dp/snapshot.hpp"

namespace tgw::dp {

// Ethernet frames from a port -> IP packets with the Ethernet header removed.
void ingress(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& l3) noexcept;

// Checks an IP packet starting at the data offset (version, lengths, IPv4 header checksum)
// and trims link-layer padding. Returns Drop::count when the packet is good.
Drop validate_ip(rte_mbuf* m, uint8_t family) noexcept;

// FIB lookup and dispatch. aux of encap = tunnel index, of fwd = next-hop index.
void route(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& local, Vec& encap, Vec& fwd) noexcept;

// Packets addressed to the gateway: GRE and ESP go on (aux = offset of their header; ESP in
// UDP/4500 has esp_natt_flag set), ND/ICMP/other to the slow path.
inline constexpr uint32_t esp_natt_flag = 0x80000000u;
void local_in(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& gre, Vec& esp) noexcept;

// ESP -> decrypted, verified inner packet (md.sa = the SA), or transport-mode payload.
void esp_in(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& inner) noexcept;

// Packet to protect (aux = outbound SA index) -> ESP packet with its outer headers.
void esp_out(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& out) noexcept;
// esp_out, then the ESP packets join `out`, which fragments may have filled: then what is in
// `out` is sent first. Every caller of gre_encap passes its `seal` here.
void esp_out_into(WorkerCtx& c, const Snapshot& s, Vec& seal, Vec& out) noexcept;

// Outer IP + GRE -> inner IP packet, accepted only from a configured tunnel.
void gre_decap(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& inner) noexcept;

// Inner IP packet (aux = tunnel index) -> outer IP + GRE from the tunnel's template. Packets
// of protected tunnels go to `seal` (aux = outbound SA) instead of `out`; an ipsec tunnel's
// get no GRE header at all.
void gre_encap(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& out, Vec& seal) noexcept;

// Routed IP packet (aux = next-hop index) -> egress with out_port and nh_addr set.
void forward(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& out) noexcept;

// Prepends Ethernet, resolves the neighbour, buffers for TX (or punts neigh_miss).
void egress(WorkerCtx& c, const Snapshot& s, Vec& in) noexcept;

// End of a pipeline run: TX bursts, punt ring, handoff rings. Unsent packets are counted.
void flush(WorkerCtx& c) noexcept;
// One port's TX burst now: bridge flooding multiplies frames, so a port's vector can fill
// before the end of a run.
void flush_tx(WorkerCtx& c, uint16_t port) noexcept;
inline void tx_push(WorkerCtx& c, uint16_t port, rte_mbuf* m) noexcept {
    if (c.tx[port].n == max_burst) flush_tx(c, port);
    c.tx[port].push(m);
}

// Helpers shared by stages.
// RFC 1624 incremental update of a ones'-complement checksum for a 16-bit field change.
inline uint16_t csum_update16(uint16_t csum_net, uint16_t old_host, uint16_t new_host) noexcept {
    uint32_t sum = uint16_t(~__builtin_bswap16(csum_net)) + uint32_t(uint16_t(~old_host)) + new_host;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return __builtin_bswap16(uint16_t(~sum));
}

}  // namespace tgw::dp
