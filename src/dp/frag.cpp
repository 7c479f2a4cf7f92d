#include "dp/frag.hpp"

#include <rte_ip.h>

#include "tunnelgw/wire.hpp"

namespace tgw::dp {

using namespace wire;

uint16_t fragment(WorkerCtx& c, rte_mbuf* m, uint8_t family, uint16_t mtu, rte_mbuf** out) noexcept {
    FragState* f = c.frag;
    if (!f || !f->direct || !f->indirect) return 0;
    int32_t n;
    if (family == 4) {
        const unsigned hl = rte_pktmbuf_mtod(m, const Ipv4*)->header_len();
        // RFC 791: every fragment but the last carries a multiple of 8 data bytes.
        const uint16_t size = uint16_t(hl + ((mtu - hl) & ~7u));
        n = rte_ipv4_fragment_packet(m, out, max_fragments, size, f->direct, f->indirect);
    } else {
        // RFC 8200 §4.5: the fragment header (8) comes out of each piece's budget.
        const uint16_t size = uint16_t(sizeof(Ipv6) + ((mtu - sizeof(Ipv6) - 8) & ~7u) + 8);
        n = rte_ipv6_fragment_packet(m, out, max_fragments, size, f->direct, f->indirect);
    }
    if (n <= 0) return 0;
    const PktMeta md = meta(m);
    const uint32_t id6 = uint32_t(c.index) << 24 | c.ip_id++;
    for (int32_t i = 0; i < n; i++) {
        rte_mbuf* p = out[i];
        meta(p) = md;
        if (family == 4) {
            auto* ip = rte_pktmbuf_mtod(p, rte_ipv4_hdr*);
            ip->hdr_checksum = 0;
            ip->hdr_checksum = rte_ipv4_cksum(ip);
        } else {
            // DPDK leaves the identification to us; RFC 7739: unique per source/destination
            // while the datagram lives, so per worker and counting.
            auto* fh = rte_pktmbuf_mtod_offset(p, rte_ipv6_fragment_ext*, sizeof(Ipv6));
            fh->id = rte_cpu_to_be_32(id6);
        }
    }
    rte_pktmbuf_free(m);  // the fragments hold references to its data
    bump(c.ctr->fragmented);
    bump(c.ctr->fragments, uint64_t(n));
    return uint16_t(n);
}

rte_mbuf* reassemble(WorkerCtx& c, rte_mbuf* m, uint8_t family, uint16_t l3_len, uint64_t tsc) noexcept {
    FragState* f = c.frag;
    if (!f || !f->table) {
        drop(c, m, Drop::outer_fragment);
        return nullptr;
    }
    m->l2_len = 0;
    m->l3_len = l3_len;
    const uint32_t before = f->death_row.cnt;
    rte_mbuf* whole;
    if (family == 4) {
        whole = rte_ipv4_frag_reassemble_packet(f->table, &f->death_row, m, tsc,
                                                rte_pktmbuf_mtod(m, rte_ipv4_hdr*));
    } else {
        auto* ip6 = rte_pktmbuf_mtod(m, rte_ipv6_hdr*);
        auto* fh = rte_pktmbuf_mtod_offset(m, rte_ipv6_fragment_ext*, sizeof(Ipv6));
        whole = rte_ipv6_frag_reassemble_packet(f->table, &f->death_row, m, tsc, ip6, fh);
    }
    // Whatever went to the death row in this call was refused: table full, a bad or
    // overlapping fragment, or a stale datagram found on the way.
    if (f->death_row.cnt > before)
        bump(c.ctr->drops[unsigned(Drop::reassembly_failed)], f->death_row.cnt - before);
    if (!whole) return nullptr;
    // Later stages read headers with mtod: keep them in the first segment.
    if (rte_pktmbuf_data_len(whole) < 256 && whole->nb_segs > 1 && rte_pktmbuf_linearize(whole) != 0) {
        drop(c, whole, Drop::reassembly_failed);
        return nullptr;
    }
    if (family == 4) {
        auto* ip = rte_pktmbuf_mtod(whole, rte_ipv4_hdr*);
        ip->hdr_checksum = 0;
        ip->hdr_checksum = rte_ipv4_cksum(ip);
    }
    bump(c.ctr->reassembled);
    return whole;
}

void reassembly_collect(WorkerCtx& c, uint64_t tsc) noexcept {
    FragState* f = c.frag;
    if (!f || !f->table) return;
    const uint32_t before = f->death_row.cnt;
    rte_ip_frag_table_del_expired_entries(f->table, &f->death_row, tsc);
    if (f->death_row.cnt > before)
        bump(c.ctr->drops[unsigned(Drop::reassembly_timeout)], f->death_row.cnt - before);
    if (f->death_row.cnt) rte_ip_frag_free_death_row(&f->death_row, 3);
}

}  // namespace tgw::dp
