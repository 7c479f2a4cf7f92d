#include <rte_hash.h>
#include <rte_ip.h>

#include "dp/mss.hpp"
#include "dp/bridge.hpp"
#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::dp {

using namespace wire;

namespace {

inline TunnelState& state_of(WorkerCtx& c, const Tunnel& t) noexcept {
    TunnelState& st = c.tstate[t.slot];
    if (st.epoch != t.epoch) st = TunnelState{t.epoch, 0, 0, 0};
    return st;
}

// RFC 6040 §4.2 decapsulation: outer CE is propagated into an ECN-capable inner header;
// an inner Not-ECT packet with outer CE must be dropped (the congestion mark would be lost).
bool ecn_decap(rte_mbuf* m, uint8_t family, uint8_t outer_ecn) noexcept {
    if (outer_ecn != 3) return true;
    if (family == 4) {
        auto* ip = rte_pktmbuf_mtod(m, Ipv4*);
        uint8_t ecn = ip->tos & 3;
        if (ecn == 0) return false;
        if (ecn != 3) {
            uint16_t old = uint16_t(ip->ver_ihl << 8 | ip->tos);
            ip->tos |= 3;
            ip->csum.raw = csum_update16(ip->csum.raw, old, uint16_t(ip->ver_ihl << 8 | ip->tos));
        }
        return true;
    }
    auto* ip6 = rte_pktmbuf_mtod(m, Ipv6*);
    uint8_t tc = ip6->tclass();
    if ((tc & 3) == 0) return false;
    ip6->set_tclass(tc | 3);
    return true;
}

}  // namespace

void gre_decap(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& inner) noexcept {
    TunnelKey last_key{};
    int32_t last_idx = -1;
    for (uint16_t i = 0; i < in.n; i++) {
        rte_mbuf* m = in.m[i];
        PktMeta& md = meta(m);
        const uint32_t off = in.aux[i];  // GRE header offset (outer IP header length)
        const uint32_t len = rte_pktmbuf_pkt_len(m);

        uint8_t buf[gre_max_len];
        auto* g = static_cast<const uint8_t*>(
            rte_pktmbuf_read(m, off, std::min<uint32_t>(gre_max_len, len - std::min(len, off)), buf));
        if (!g || len < off + sizeof(Gre)) {
            drop(c, m, Drop::gre_truncated);
            continue;
        }
        uint16_t flags = reinterpret_cast<const Gre*>(g)->flags_ver.get();
        if (flags & Gre::version_mask) {  // RFC 2784 §2.3.1; version 1 is PPTP (RFC 2637)
            drop(c, m, Drop::gre_version);
            continue;
        }
        if (flags & Gre::reserved0_mask) {
            drop(c, m, Drop::gre_reserved);
            continue;
        }
        const uint32_t hlen = uint32_t(gre_header_len(flags));
        if (len < off + hlen) {
            drop(c, m, Drop::gre_truncated);
            continue;
        }
        uint32_t w = 4;
        const bool has_csum = flags & Gre::flag_c;
        if (has_csum) w += 4;
        TunnelKey k{};
        if (flags & Gre::flag_k) {
            k.has_key = 1;
            k.key = reinterpret_cast<const be32*>(g + w)->get();
            w += 4;
        }
        const bool has_seq = flags & Gre::flag_s;
        uint32_t seq = has_seq ? reinterpret_cast<const be32*>(g + w)->get() : 0;
        const uint16_t proto = reinterpret_cast<const Gre*>(g)->proto.get();

        uint8_t outer_ecn;
        if (md.family == 4) {
            auto* ip = rte_pktmbuf_mtod(m, const Ipv4*);
            k.src = IpAddr::v4(ip->src);
            k.dst = IpAddr::v4(ip->dst);
            outer_ecn = ip->tos & 3;
        } else {
            auto* ip6 = rte_pktmbuf_mtod(m, const Ipv6*);
            k.src = IpAddr::v6(ip6->src);
            k.dst = IpAddr::v6(ip6->dst);
            outer_ecn = ip6->tclass() & 3;
        }
        // Consecutive packets of one burst usually belong to one tunnel: reuse the lookup.
        int32_t idx = last_idx;
        if (idx < 0 || std::memcmp(&k, &last_key, sizeof k) != 0) {
            void* data = nullptr;
            idx = rte_hash_lookup_data(s.tunnel_by_key, &k, &data) >= 0
                      ? int32_t(reinterpret_cast<uintptr_t>(data))
                      : -1;
            last_key = k;
            last_idx = idx;
        }
        if (idx < 0) {
            drop(c, m, Drop::gre_no_tunnel);
            continue;
        }
        const Tunnel& t = s.tunnels[idx];
        TunnelCounters& tc = c.ctr->tunnel[t.slot];
        // Fail closed: a protected tunnel accepts GRE only from inside one of its own SAs,
        // keepalives included.
        if (t.is_protected && (md.sa == no_sa || s.sas[md.sa].tunnel != uint32_t(idx))) {
            bump(tc.rx_drops);
            drop(c, m, Drop::gre_cleartext);
            continue;
        }
        if (proto == 0 && len == off + hlen) {
            // Our own Cisco-style keepalive, reflected by the peer: protocol 0, no payload.
            // Checked before the checksum and sequence rules: keepalives carry neither.
            bump(tc.keepalives_rx);
            md.tunnel_in = uint32_t(idx);
            md.l3_off = 0;
            punt(c, m, Punt::keepalive);
            continue;
        }
        if (t.seq && t.owner != c.index && md.handed < max_handoffs) {
            md.entry = Entry::l3;
            md.handed++;
            if (!c.handoff[t.owner].push(m)) drop(c, m, Drop::handoff_ring_full);
            continue;
        }
        if (has_csum) {
            // RFC 2784 §2.5: ones' complement sum over the GRE header and payload.
            uint16_t sum = 0;
            if (rte_raw_cksum_mbuf(m, off, len - off, &sum) != 0 || sum != 0xffff) {
                bump(tc.rx_drops);
                drop(c, m, Drop::gre_bad_checksum);
                continue;
            }
        } else if (t.rx_need_csum) {
            bump(tc.rx_drops);
            drop(c, m, Drop::gre_csum_missing);
            continue;
        }
        // A gretap tunnel carries Ethernet frames (0x6558) only, a gre tunnel IP only.
        const uint16_t member = s.l2 && uint32_t(idx) < s.l2->tunnel_member.size()
                                    ? s.l2->tunnel_member[idx]
                                    : no_member;
        uint8_t family;
        if (member != no_member) family = proto == ethertype::teb ? 0 : 0xff;
        else if (proto == ethertype::ipv4) family = 4;
        else if (proto == ethertype::ipv6) family = 6;
        else family = 0xff;
        if (family == 0xff) {
            bump(tc.rx_drops);
            drop(c, m, Drop::gre_proto);
            continue;
        }
        if (t.seq) {
            // RFC 2890 §2.2: drop anything not newer than the last accepted number
            // (serial arithmetic, as Linux ip_gre does); checked after the checksum so a
            // corrupted packet cannot move the window.
            if (!has_seq) {
                bump(tc.rx_drops);
                drop(c, m, Drop::gre_seq_missing);
                continue;
            }
            TunnelState& st = state_of(c, t);
            if (st.rx_seen && int32_t(seq - st.rx_next) < 0) {
                bump(tc.rx_drops);
                drop(c, m, Drop::gre_seq_old);
                continue;
            }
            st.rx_next = seq + 1;
            st.rx_seen = 1;
        }
        rte_pktmbuf_adj(m, uint16_t(off + hlen));
        if (family == 0) {
            if (rte_pktmbuf_pkt_len(m) < sizeof(Eth)) {
                bump(tc.rx_drops);
                drop(c, m, Drop::teb_short);
                continue;
            }
            md.tunnel_in = uint32_t(idx);
            bump(tc.rx_pkts);
            bump(tc.rx_bytes, rte_pktmbuf_pkt_len(m));
            if (!c.l2.push(m, member)) drop(c, m, Drop::tx_full);
            continue;
        }
        if (validate_ip(m, family) != Drop::count) {
            bump(tc.rx_drops);
            drop(c, m, Drop::gre_inner_bad);
            continue;
        }
        if (!ecn_decap(m, family, outer_ecn)) {
            bump(tc.rx_drops);
            drop(c, m, Drop::ecn_not_ect);
            continue;
        }
        // Both directions are clamped: a SYN-ACK from the far side advertises its MSS here.
        if (const uint16_t mss = family == 4 ? t.mss4 : t.mss6; mss && mss_clamp(m, family, mss))
            bump(c.ctr->mss_clamped);
        md.family = family;
        md.tunnel_in = uint32_t(idx);
        md.l3_off = 0;
        bump(tc.rx_pkts);
        bump(tc.rx_bytes, rte_pktmbuf_pkt_len(m));
        inner.push(m);
    }
    in.n = 0;
}

}  // namespace tgw::dp
