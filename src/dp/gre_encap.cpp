#include <rte_ip.h>

#include <algorithm>

#include "dp/flow_hash.hpp"
#include "dp/frag.hpp"
#include "dp/mss.hpp"
#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::dp {

using namespace wire;

namespace {

// Outer IP + GRE in front of one inner packet (or inner fragment). False = dropped.
bool encap_one(WorkerCtx& c, const Tunnel& t, rte_mbuf* m) noexcept {
    PktMeta& md = meta(m);
    TunnelCounters& tc = c.ctr->tunnel[t.slot];
    const uint32_t inner_len = rte_pktmbuf_pkt_len(m);
    uint8_t inner_tos, inner_ttl;
    bool inner_df;
    if (md.family == 0) {
        // gretap: an Ethernet frame (protocol 0x6558) has no TOS or TTL to inherit; like
        // Linux gretap, DF stays clear unless the tunnel sets it.
        inner_tos = 0;
        inner_ttl = 64;
        inner_df = false;
    } else if (md.family == 4) {
        auto* ip = rte_pktmbuf_mtod(m, const Ipv4*);
        inner_tos = ip->tos;
        inner_ttl = ip->ttl;
        inner_df = ip->frag.get() & Ipv4::flag_df;
    } else {
        auto* ip6 = rte_pktmbuf_mtod(m, const Ipv6*);
        inner_tos = ip6->tclass();
        inner_ttl = ip6->hop_limit;
        inner_df = true;  // IPv6 is never fragmented on the path (RFC 8200 §5)
    }
    // RFC 6438: the outer flow label carries the inner flow's hash, so the underlay can
    // spread one tunnel's flows over its own ECMP paths.
    const uint32_t label = t.outer_v6 && md.family ? flow_hash(m, md.family) & 0xfffff : 0;
    auto* hdr = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, t.tmpl_len));
    if (!hdr) {
        bump(tc.tx_drops);
        drop(c, m, Drop::no_headroom);
        return false;
    }
    std::memcpy(hdr, t.tmpl, t.tmpl_len);
    // RFC 6040 §4.1 normal mode: the outer ECN field is a copy of the inner one.
    // DSCP: inherited (RFC 2983 uniform model) or the tunnel's fixed value.
    uint8_t dscp = t.tos_mode == config::TosMode::Inherit ? uint8_t(inner_tos >> 2) : t.dscp;
    uint8_t tos = uint8_t(dscp << 2 | (inner_tos & 3));
    uint8_t ttl = t.ttl ? t.ttl : inner_ttl;
    auto* gre = reinterpret_cast<Gre*>(hdr + t.ip_len);
    gre->proto.set(md.family == 4   ? ethertype::ipv4
                   : md.family == 6 ? ethertype::ipv6
                                    : ethertype::teb);
    if (t.gre_seq_off) {
        // Only the owner worker gets here for a sequenced tunnel (route() hands off).
        TunnelState& st = c.tstate[t.slot];
        if (st.epoch != t.epoch) st = TunnelState{t.epoch, 0, 0, 0};
        reinterpret_cast<be32*>(hdr + t.gre_seq_off)->set(st.tx_seq++);
    }
    const uint32_t total = inner_len + t.tmpl_len;
    if (!t.outer_v6) {
        auto* ip = reinterpret_cast<Ipv4*>(hdr);
        ip->tos = tos;
        ip->ttl = ttl;
        ip->total_len.set(uint16_t(total));
        ip->id.set(c.ip_id++);
        bool df = t.df == config::DfMode::Set || (t.df == config::DfMode::Copy && inner_df);
        const uint16_t frag = df ? Ipv4::flag_df : 0;
        ip->frag.set(frag);
        uint32_t sum = t.ip_sum + (0x4500u | tos) + total + ip->id.get() + frag + (uint32_t(ttl) << 8);
        ip->csum.set(csum_fold(sum));
    } else {
        auto* ip6 = reinterpret_cast<Ipv6*>(hdr);
        ip6->vtc_flow.set(6u << 28 | uint32_t(tos) << 20 | label);
        ip6->hop_limit = ttl;
        ip6->payload_len.set(uint16_t(total - sizeof(Ipv6)));
    }
    if (t.gre_csum_off) {
        // RFC 2784 §2.5: computed with the checksum field zero (as in the template).
        uint16_t sum = 0;
        rte_raw_cksum_mbuf(m, t.ip_len, total - t.ip_len, &sum);
        uint16_t ck = uint16_t(~sum);
        std::memcpy(hdr + t.gre_csum_off, &ck, 2);
    }
    bump(tc.tx_pkts);
    bump(tc.tx_bytes, inner_len);
    md.family = t.outer_v6 ? 6 : 4;
    md.out_port = t.port;
    md.nh_addr = t.nh;
    md.neigh_pos = t.neigh_pos;
    return true;
}

// A run starts from at most max_burst packets, so its vectors cannot overflow, except with
// fragments, which can outnumber the burst: before one would overflow `out` or what egress
// fills from it, send everything buffered right away.
void emit(WorkerCtx& c, const Snapshot& s, Vec& out, rte_mbuf* m) noexcept {
    uint16_t fullest = c.punted.n;
    for (uint16_t p = 0; p < c.n_ports; p++) fullest = std::max(fullest, c.tx[p].n);
    if (out.n + fullest >= max_burst) {
        egress(c, s, out);
        flush(c);
    }
    out.push(m);
}

// fragmentation: outer. We are the source of the outer packet, so we may fragment it
// (RFC 4459 §3.1); its DF bit, copied or set, cannot stand for a packet that does not fit.
void emit_outer(WorkerCtx& c, const Snapshot& s, const Tunnel& t, Vec& out, rte_mbuf* m) noexcept {
    const uint16_t port_mtu = s.ports[t.port].mtu;
    if (rte_pktmbuf_pkt_len(m) <= port_mtu) return emit(c, s, out, m);
    if (!t.outer_v6) {
        auto* ip = rte_pktmbuf_mtod(m, Ipv4*);
        ip->frag.set(ip->frag.get() & ~Ipv4::flag_df);
    }
    rte_mbuf* pieces[max_fragments];
    const uint16_t n = fragment(c, m, meta(m).family, port_mtu, pieces);
    if (!n) {
        bump(c.ctr->tunnel[t.slot].tx_drops);
        return drop(c, m, Drop::frag_failed);
    }
    for (uint16_t k = 0; k < n; k++) emit(c, s, out, pieces[k]);
}

// A packet to protect goes to `seal`; fragments can outnumber a burst, so a full `seal` is
// encrypted on the spot and its output sent through emit().
void to_seal(WorkerCtx& c, const Snapshot& s, Vec& seal, Vec& out, rte_mbuf* m, uint32_t sa) noexcept {
    if (seal.n == max_burst) {
        Vec sealed;
        esp_out(c, s, seal, sealed);
        for (uint16_t i = 0; i < sealed.n; i++) emit(c, s, out, sealed.m[i]);
    }
    seal.push(m, sa);
}

}  // namespace

void gre_encap(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& out, Vec& seal) noexcept {
    // Until a packet is fragmented, `out` cannot overflow (one output per input) unless egress
    // already buffered packets in this run; from then on every packet goes through emit().
    bool careful = c.punted.n != 0;
    for (uint16_t p = 0; p < c.n_ports; p++) careful |= c.tx[p].n != 0;
    for (uint16_t i = 0; i < in.n; i++) {
        rte_mbuf* m = in.m[i];
        PktMeta& md = meta(m);
        const Tunnel& t = s.tunnels[in.aux[i]];
        TunnelCounters& tc = c.ctr->tunnel[t.slot];
        const uint32_t inner_len = rte_pktmbuf_pkt_len(m);
        // Fail closed (RFC 4301 §4.4.1 PROTECT with no SA): never fall back to cleartext.
        if (t.is_protected && t.sa_out == no_sa) {
            bump(tc.tx_drops);
            drop(c, m, Drop::sa_missing);
            continue;
        }
        if (const uint16_t mss = md.family == 4 ? t.mss4 : md.family == 6 ? t.mss6 : 0;
            mss && mss_clamp(m, md.family, mss))
            bump(c.ctr->mss_clamped);

        rte_mbuf* pieces[max_fragments];
        pieces[0] = m;
        uint16_t n = 1;
        if (inner_len > t.mtu && md.family == 0 && (t.frag != config::FragMode::Outer || t.is_protected)) {
            // A bridged frame has no IP header to fragment or to answer with ICMP (as Linux
            // gretap); only outer fragmentation can carry it.
            bump(tc.tx_drops);
            drop(c, m, Drop::mtu_exceeded);
            continue;
        }
        if (inner_len > t.mtu && md.family != 0) {
            const bool df = md.family == 6 ||
                            (rte_pktmbuf_mtod(m, const Ipv4*)->frag.get() & Ipv4::flag_df);
            if (df) {  // RFC 1191 / RFC 8201: tell the sender; the slow path counts it
                bump(tc.tx_drops);
                md.mtu = t.mtu;
                punt(c, m, Punt::frag_needed);
                continue;
            }
            // RFC 791 §2.3: fragment before encapsulating, so each piece is a whole GRE
            // packet and the far end reassembles only the inner datagram (RFC 4459 §3.2).
            if (t.frag != config::FragMode::Off) n = fragment(c, m, 4, t.mtu, pieces);
            if (t.frag == config::FragMode::Off || !n) {
                bump(tc.tx_drops);
                drop(c, m, t.frag == config::FragMode::Off ? Drop::mtu_exceeded : Drop::frag_failed);
                continue;
            }
            careful = true;
        }
        for (uint16_t k = 0; k < n; k++) {
            if (t.ipsec_only) {  // plain ESP tunnel mode: esp_out adds the only outer header
                bump(tc.tx_pkts);
                bump(tc.tx_bytes, rte_pktmbuf_pkt_len(pieces[k]));
                to_seal(c, s, seal, out, pieces[k], t.sa_out);
                continue;
            }
            if (!encap_one(c, t, pieces[k])) continue;
            if (t.is_protected) {
                // The ESP packet is what meets the underlay, and t.mtu already leaves room for
                // ESP: fragmentation (inner, or outer as inner here) happened above.
                to_seal(c, s, seal, out, pieces[k], t.sa_out);
            } else if (t.frag == config::FragMode::Outer) {
                careful = true;
                emit_outer(c, s, t, out, pieces[k]);
            } else if (careful) {
                emit(c, s, out, pieces[k]);
            } else {
                out.push(pieces[k]);
            }
        }
    }
    in.n = 0;
}

}  // namespace tgw::dp
