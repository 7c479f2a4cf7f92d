#include <rte_ip.h>

#include "dp/flow_hash.hpp"
#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::dp {

using namespace wire;

void gre_encap(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& out) noexcept {
    for (uint16_t i = 0; i < in.n; i++) {
        rte_mbuf* m = in.m[i];
        PktMeta& md = meta(m);
        const Tunnel& t = s.tunnels[in.aux[i]];
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
        if (inner_len > t.mtu) {
            bump(tc.tx_drops);
            if (inner_df) {  // RFC 1191 / RFC 8201: tell the sender; the slow path counts it
                md.mtu = t.mtu;
                punt(c, m, Punt::frag_needed);
            } else {
                drop(c, m, Drop::mtu_exceeded);
            }
            continue;
        }
        // RFC 6438: the outer flow label carries the inner flow's hash, so the underlay can
        // spread one tunnel's flows over its own ECMP paths.
        const uint32_t label =
            t.outer_v6 && md.family ? flow_hash(m, md.family) & 0xfffff : 0;
        auto* hdr = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, t.tmpl_len));
        if (!hdr) {
            bump(tc.tx_drops);
            drop(c, m, Drop::no_headroom);
            continue;
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
        out.push(m);
    }
    in.n = 0;
}

}  // namespace tgw::dp
