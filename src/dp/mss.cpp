#include "dp/mss.hpp"

#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::dp {

using namespace wire;

namespace {

// Offset of the TCP header, or 0 when this is not a TCP segment we may touch.
uint32_t tcp_offset(const uint8_t* p, uint32_t len, uint8_t family) noexcept {
    if (family == 4) {
        if (len < sizeof(Ipv4)) return 0;
        auto* ip = reinterpret_cast<const Ipv4*>(p);
        // A non-first fragment has no TCP header (RFC 791: offset counts 8-byte units).
        if (ip->proto != ipproto::tcp || (ip->frag.get() & Ipv4::offset_mask)) return 0;
        return ip->header_len();
    }
    if (len < sizeof(Ipv6)) return 0;
    uint8_t next = p[6];
    uint32_t off = sizeof(Ipv6);
    // RFC 8200 §4: hop-by-hop, routing, destination options and a first fragment may precede.
    for (int hops = 0; hops < 4 && next != ipproto::tcp; hops++) {
        if (off + 8 > len) return 0;
        if (next == 44) {
            if ((uint16_t(p[off + 2]) << 8 | p[off + 3]) & 0xfff8) return 0;
            next = p[off];
            off += 8;
        } else if (next == 0 || next == 43 || next == 60) {
            next = p[off];
            off += (uint32_t(p[off + 1]) + 1) * 8;
        } else {
            return 0;
        }
    }
    return next == ipproto::tcp ? off : 0;
}

}  // namespace

bool mss_clamp_buf(uint8_t* p, uint32_t len, uint8_t family, uint16_t mss) noexcept {
    const uint32_t off = tcp_offset(p, len, family);
    if (!off || off + sizeof(Tcp) > len) return false;
    auto* tcp = reinterpret_cast<Tcp*>(p + off);
    constexpr uint8_t syn = 0x02;
    if (!(tcp->flags & syn)) return false;
    const uint32_t doff = uint32_t(tcp->data_off >> 4) * 4;
    if (doff < sizeof(Tcp) || off + doff > len) return false;
    // RFC 9293 §3.1: options are kind 0 (end), kind 1 (no-op) or kind, length, data.
    uint8_t* opt = p + off;
    for (uint32_t o = sizeof(Tcp); o < doff;) {
        const uint8_t kind = opt[o];
        if (kind == 0) break;
        if (kind == 1) {
            o++;
            continue;
        }
        if (o + 2 > doff || opt[o + 1] < 2 || o + opt[o + 1] > doff) return false;
        if (kind == 2 && opt[o + 1] == 4) {  // RFC 6691: MSS, kind 2, length 4
            const uint32_t v = o + 2;
            const uint16_t old = uint16_t(opt[v] << 8 | opt[v + 1]);
            if (old <= mss) return false;
            opt[v] = uint8_t(mss >> 8);
            opt[v + 1] = uint8_t(mss);
            // RFC 1624 eqn. 3. The checksum sums 16-bit words from the TCP header start; a
            // value at an odd offset straddles two words, so it counts byte-swapped.
            if (v & 1) tcp->csum.raw = csum_update16(tcp->csum.raw, __builtin_bswap16(old),
                                                     __builtin_bswap16(mss));
            else tcp->csum.raw = csum_update16(tcp->csum.raw, old, mss);
            return true;
        }
        o += opt[o + 1];
    }
    return false;
}

bool mss_clamp(rte_mbuf* m, uint8_t family, uint16_t mss) noexcept {
    return mss_clamp_buf(rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_data_len(m), family, mss);
}

}  // namespace tgw::dp
