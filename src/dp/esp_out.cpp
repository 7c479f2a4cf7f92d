// Outbound ESP: protect GRE packets of a protected tunnel (or inner packets of an ipsec tunnel)
// with the tunnel's outbound SA.
//
// Single writer: every packet of an SA is processed by the SA's owner worker (route() and
// run_entries() hand the others over through the handoff rings, as for GRE sequence numbers).
// That gives each SA strictly increasing, unique sequence numbers without atomics; the
// alternative, rte_ipsec's SQN_ATOM mode with numbers reserved per burst, would still need a
// shared cache line per SA bouncing between workers on every burst, and inbound its replay
// window takes a reader-writer lock, which the fast path must not.
#include <rte_cryptodev.h>
#include <rte_ip.h>

#include <cstring>

#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::dp {

using namespace wire;

namespace {

// Room rte_ipsec needs: in front, outer IPv6 + UDP + ESP header + IV; behind, padding up to
// a CBC block, the trailer, the ICV and the ESN high bits / AAD scratch.
constexpr uint16_t need_head = 40 + 8 + 8 + 16;  // transport NAT-T: 8 + 16 + UDP 8
constexpr uint16_t need_tail = 16 + 2 + 16 + 4 + 12;

// Volume lifetimes: how many of `n` packets (with lengths from meta) the SA may still carry.
uint16_t within_hard_limit(const Sa& sa, const SaCounters& k, rte_mbuf** m, uint16_t n) noexcept {
    if (!sa.hard.packets && !sa.hard.bytes) return n;
    uint64_t pkts = k.pkts, bytes = k.bytes;
    for (uint16_t i = 0; i < n; i++) {
        pkts++;
        bytes += meta(m[i]).plain_len;
        if ((sa.hard.packets && pkts > sa.hard.packets) || (sa.hard.bytes && bytes > sa.hard.bytes))
            return i;
    }
    return n;
}

// rte_ipsec writes the tunnel header's lengths; the TOS, DF, IPv4 checksum and the NAT-T UDP
// length are ours. RFC 4301 §5.1.2.1 with RFC 6040 §4.1 normal mode: DSCP per the tunnel,
// ECN copied from the inner header.
void finish_outer(const Sa& sa, rte_mbuf* m) noexcept {
    const PktMeta& md = meta(m);
    const uint8_t dscp =
        sa.tos_mode == config::TosMode::Inherit ? uint8_t(md.plain_tos >> 2) : sa.dscp;
    const uint8_t tos = uint8_t(dscp << 2 | (md.plain_tos & 3));
    if (sa.nat_t && !sa.tunnel_mode) {
        // RFC 3948 §2.1, transport mode: rte_ipsec put ESP right after the packet's own IPv4
        // header (it only builds a UDP header from a tunnel-mode template); the UDP header
        // goes between them. need_head left room for it.
        const uint8_t* at = rte_pktmbuf_mtod(m, const uint8_t*);
        const uint32_t hl = reinterpret_cast<const Ipv4*>(at)->header_len();
        auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, sizeof(Udp)));
        std::memmove(p, at, hl);
        auto* ip = reinterpret_cast<Ipv4*>(p);
        ip->proto = ipproto::udp;
        ip->total_len.set(uint16_t(rte_pktmbuf_pkt_len(m)));
        auto* u = reinterpret_cast<Udp*>(p + hl);
        u->sport.set(sa.natt_sport);
        u->dport.set(sa.natt_dport);
    }
    const uint32_t total = rte_pktmbuf_pkt_len(m);
    if (!sa.outer_v6) {
        auto* ip = rte_pktmbuf_mtod(m, Ipv4*);
        if (sa.nat_t) {
            auto* u = reinterpret_cast<Udp*>(reinterpret_cast<uint8_t*>(ip) + ip->header_len());
            u->len.set(uint16_t(total - ip->header_len()));
            u->csum.set(0);  // RFC 3948 §2.1
        }
        if (sa.tunnel_mode) {
            // Our own template: its constant words are summed once (Sa::ip_sum), so the header
            // is never read back. (Reading it with wide loads right after rte_ipsec's narrow
            // stores stalled on store forwarding: a quarter of this stage's time.)
            const bool df = sa.df == config::DfMode::Set || (sa.df == config::DfMode::Copy && md.plain_df);
            const uint16_t frag = df ? Ipv4::flag_df : 0;
            ip->tos = tos;
            ip->frag.set(frag);
            uint32_t sum = sa.ip_sum + (0x4500u | tos) + total + ip->id.get() + frag;
            ip->csum.set(csum_fold(sum));
        } else {
            ip->csum.set(0);
            ip->csum.raw = rte_ipv4_cksum(reinterpret_cast<const rte_ipv4_hdr*>(ip));
        }
    } else if (sa.tunnel_mode) {
        auto* ip6 = rte_pktmbuf_mtod(m, Ipv6*);
        ip6->vtc_flow.set((ip6->vtc_flow.get() & 0xf00fffffu) | uint32_t(tos) << 20);
    }
}

// The lookaside path (outbound AES-CBC, see control/crypto.cpp): the ops go through this
// worker's own queue pair and come straight back; IPsec-MB completes them on dequeue, so this
// is synchronous too. Returns how many packets (reordered to the front of m) completed, and
// sets `allocated` to that plus the packets rte_ipsec did not prepare, which follow them.
// Unused ops go back here. Failed crypto is flagged for rte_ipsec_pkt_process.
uint16_t run_ops(WorkerCtx& c, SaLive& l, rte_mbuf** m, rte_crypto_op** cop, uint16_t prepared,
                 uint16_t& allocated) noexcept {
    if (allocated > prepared) rte_mempool_put_bulk(l.op_pool, reinterpret_cast<void**>(cop + prepared), allocated - prepared);
    const uint16_t qp = uint16_t(c.index);
    uint16_t enq = rte_cryptodev_enqueue_burst(l.dev_id, qp, cop, prepared);
    // Not accepted (cannot happen with 128 descriptors and bursts of 32): drop those.
    if (enq < prepared) {
        rte_mempool_put_bulk(l.op_pool, reinterpret_cast<void**>(cop + enq), prepared - enq);
        for (uint16_t i = enq; i < prepared; i++) drop(c, m[i], Drop::esp_crypto_failed);
    }
    rte_mbuf* tail[max_burst];  // the packets after `prepared` (sequence exhausted) stay put
    const uint16_t n_tail = uint16_t(allocated - prepared);
    for (uint16_t i = 0; i < n_tail; i++) tail[i] = m[prepared + i];
    uint16_t got = 0;
    rte_crypto_op* done[max_burst];
    for (unsigned spins = 0; got < enq && spins < 1024; spins++)
        got += rte_cryptodev_dequeue_burst(l.dev_id, qp, done + got, uint16_t(enq - got));
    for (uint16_t i = 0; i < got; i++) {
        rte_mbuf* p = done[i]->sym->m_src;
        if (done[i]->status == RTE_CRYPTO_OP_STATUS_SUCCESS) p->ol_flags &= ~RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED;
        else p->ol_flags |= RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED;
        m[i] = p;
    }
    if (got) rte_mempool_put_bulk(l.op_pool, reinterpret_cast<void**>(done), got);
    // Ops still in flight after the bound would be a device failure; their packets are lost
    // with them and counted, never sent.
    if (got < enq) bump(c.ctr->drops[unsigned(Drop::esp_crypto_failed)], enq - got);
    for (uint16_t i = 0; i < n_tail; i++) m[got + i] = tail[i];
    allocated = uint16_t(got + n_tail);
    return got;
}

void seal_run(WorkerCtx& c, const Sa& sa, rte_mbuf** m, uint16_t n,
              Vec& out) noexcept {
    SaLive& l = *sa.live;
    SaCounters& k = l.ctr;
    if (l.state() >= sa_hard) {
        for (uint16_t i = 0; i < n; i++) drop(c, m[i], Drop::sa_expired);
        bump(k.expired, n);
        return;
    }
    // Room first, so that afterwards rte_ipsec can fail a packet only for want of sequence
    // numbers and every failure has one known reason.
    uint16_t ok = 0;
    for (uint16_t i = 0; i < n; i++) {
        rte_mbuf* p = m[i];
        PktMeta& md = meta(p);
        if (rte_pktmbuf_headroom(p) < need_head || rte_pktmbuf_tailroom(rte_pktmbuf_lastseg(p)) < need_tail) {
            drop(c, p, Drop::no_headroom);
            continue;
        }
        const uint32_t len = rte_pktmbuf_pkt_len(p);
        md.plain_len = uint16_t(len);
        if (md.family == 4) {
            auto* ip = rte_pktmbuf_mtod(p, const Ipv4*);
            md.plain_tos = ip->tos;
            md.plain_df = (ip->frag.get() & Ipv4::flag_df) != 0;
            p->l3_len = ip->header_len();
        } else {
            auto* ip6 = rte_pktmbuf_mtod(p, const Ipv6*);
            md.plain_tos = ip6->tclass();
            md.plain_df = 1;
            p->l3_len = sizeof(Ipv6);
        }
        p->l2_len = 0;
        m[ok++] = p;
    }
    n = ok;
    const uint16_t allowed = within_hard_limit(sa, k, m, n);
    for (uint16_t i = allowed; i < n; i++) drop(c, m[i], Drop::sa_expired);
    bump(k.expired, n - allowed);
    n = allowed;
    if (!n) {
        update_volume_state(sa, l);
        return;
    }

    rte_crypto_op* cop[max_burst];
    if (l.lookaside && rte_crypto_op_bulk_alloc(l.op_pool, RTE_CRYPTO_OP_TYPE_SYMMETRIC, cop, n) == 0) {
        for (uint16_t i = 0; i < n; i++) drop(c, m[i], Drop::no_mbuf);
        return;
    }
    uint16_t prepared = l.lookaside ? rte_ipsec_pkt_crypto_prepare(&l.ss, m, cop, n)
                                    : rte_ipsec_pkt_cpu_prepare(&l.ss, m, n);
    if (l.lookaside) prepared = run_ops(c, l, m, cop, prepared, n);
    if (prepared < n) {
        // RFC 4303 §3.3.3: without ESN the counter must not cycle; the SA is finished.
        l.volume_state.store(sa_hard, std::memory_order_relaxed);
        bump(k.seq_exhausted, n - prepared);
        for (uint16_t i = prepared; i < n; i++) drop(c, m[i], Drop::sa_seq_exhausted);
    }
    uint16_t done = rte_ipsec_pkt_process(&l.ss, m, prepared);
    for (uint16_t i = done; i < prepared; i++) drop(c, m[i], Drop::esp_crypto_failed);

    const uint8_t family = sa.outer_v6 ? 6 : 4;
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < done; i++) {
        rte_mbuf* p = m[i];
        PktMeta& md = meta(p);
        bytes += md.plain_len;
        finish_outer(sa, p);
        md.family = family;
        md.out_port = sa.port;
        md.nh_addr = sa.nh;
        md.neigh_pos = sa.neigh_pos;
        out.push(p);
    }
    bump(k.pkts, done);
    bump(k.bytes, bytes);
    update_volume_state(sa, l);
}

}  // namespace

void esp_out(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& out) noexcept {
    // Packets of one SA are contiguous runs in practice (one burst, one tunnel): process each
    // run with one rte_ipsec call so the crypto library sees a burst.
    uint16_t i = 0;
    while (i < in.n) {
        const uint32_t si = in.aux[i];
        uint16_t j = uint16_t(i + 1);
        while (j < in.n && in.aux[j] == si) j++;
        seal_run(c, s.sas[si], &in.m[i], uint16_t(j - i), out);
        i = j;
    }
    in.n = 0;
}

void esp_out_into(WorkerCtx& c, const Snapshot& s, Vec& seal, Vec& out) noexcept {
    if (!seal.n) return;
    Vec sealed;
    esp_out(c, s, seal, sealed);
    for (uint16_t i = 0; i < sealed.n; i++) {
        if (out.n == max_burst) {  // fragments filled it (gre_encap.cpp): send what is there
            egress(c, s, out);
            flush(c);
        }
        out.push(sealed.m[i]);
    }
}

}  // namespace tgw::dp
