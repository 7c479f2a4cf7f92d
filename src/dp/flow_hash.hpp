// Flow hash for ECMP (and the IPv6 outer flow label): the inner 5-tuple, or the 3-tuple for
// fragments and protocols without ports, so every packet of a flow takes the same member
// (RFC 2992 §2; RFC 6438 for the flow label). CRC32-C: one instruction per word on SSE4.2.
#pragma once
#include <rte_hash_crc.h>
#include <rte_mbuf.h>

#include "tunnelgw/wire.hpp"

namespace tgw::dp {

// Over an IP header at p with dlen contiguous bytes (the control side's "which tunnel"
// query builds such a header to get exactly the fast path's answer).
inline uint32_t flow_hash_bytes(const uint8_t* p, uint32_t dlen, uint8_t family) noexcept {
    using namespace wire;
    uint32_t h;
    uint8_t proto;
    uint32_t l4;
    bool ports_ok;
    // rte_hash_crc loads 8 bytes at a time: copy the addresses out of the (2-byte aligned)
    // packet first, so no load is misaligned.
    alignas(8) uint8_t addrs[32];
    if (family == 4) {
        auto* ip = reinterpret_cast<const Ipv4*>(p);
        std::memcpy(addrs, ip->src, 8);
        h = rte_hash_crc(addrs, 8, 0x5eed);
        proto = ip->proto;
        l4 = ip->header_len();
        ports_ok = !ip->is_fragment();
    } else {
        auto* ip6 = reinterpret_cast<const Ipv6*>(p);
        std::memcpy(addrs, ip6->src, 32);
        h = rte_hash_crc(addrs, 32, 0x5eed);
        proto = ip6->next;
        l4 = sizeof(Ipv6);
        ports_ok = true;  // a fragment header makes `next` 44: no ports read then
    }
    h = rte_hash_crc_4byte(proto, h);
    if (ports_ok && (proto == ipproto::tcp || proto == ipproto::udp || proto == 132) &&
        l4 + 4 <= dlen) {
        uint32_t ports;
        std::memcpy(&ports, p + l4, 4);
        h = rte_hash_crc_4byte(ports, h);
    }
    return h;
}

inline uint32_t flow_hash(const rte_mbuf* m, uint8_t family) noexcept {
    return flow_hash_bytes(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), family);
}

}  // namespace tgw::dp
