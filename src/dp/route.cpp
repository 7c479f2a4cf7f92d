#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_prefetch.h>

#include <rte_cycles.h>

#include "dp/flow_hash.hpp"
#include "dp/frag.hpp"
#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::dp {

using namespace wire;

namespace {

bool is_nd(rte_mbuf* m, const Ipv6* ip6) noexcept {
    // RFC 4861 §7.1.1: ND messages carry no extension headers we need to walk here; a
    // packet with them is not ND as far as the fast path is concerned.
    if (ip6->next != ipproto::icmpv6 || rte_pktmbuf_data_len(m) < sizeof(Ipv6) + 1) return false;
    uint8_t type = *(reinterpret_cast<const uint8_t*>(ip6) + sizeof(Ipv6));
    return type >= icmp6::router_solicit && type <= 137;
}

// ND needs the frame's link layer (the solicitor's MAC, RFC 4861 §7.2.4). ingress() only
// moved the data offset past the Ethernet header, so for a packet straight off a port the
// header is still there: expose it again. Anything else has no link layer to answer on.
void punt_nd(WorkerCtx& c, rte_mbuf* m) noexcept {
    PktMeta& md = meta(m);
    if (md.entry == Entry::eth && md.tunnel_in == no_tunnel && md.in_port != port_local &&
        rte_pktmbuf_prepend(m, sizeof(Eth))) {
        md.l3_off = sizeof(Eth);
        punt(c, m, Punt::nd);
    } else {
        drop(c, m, Drop::slowpath_bad);
    }
}

// TTL / hop limit: RFC 1812 §5.3.1. Returns false when it expired.
bool decrement_ttl(rte_mbuf* m, uint8_t family) noexcept {
    if (family == 4) {
        auto* ip = rte_pktmbuf_mtod(m, Ipv4*);
        if (ip->ttl <= 1) return false;
        uint16_t old = uint16_t(ip->ttl << 8 | ip->proto);
        ip->ttl--;
        ip->csum.raw = csum_update16(ip->csum.raw, old, uint16_t(ip->ttl << 8 | ip->proto));
        return true;
    }
    auto* ip6 = rte_pktmbuf_mtod(m, Ipv6*);
    if (ip6->hop_limit <= 1) return false;
    ip6->hop_limit--;
    return true;
}

}  // namespace

void route(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& local, Vec& encap, Vec& fwd) noexcept {
    uint32_t ip4[max_burst];
    uint8_t ip6[max_burst][16];
    uint64_t nh4[max_burst], nh6[max_burst];
    uint16_t at4[max_burst], at6[max_burst];
    uint16_t n4 = 0, n6 = 0;

    // Pass 1: pick destinations, filtering multicast before the FIB sees it.
    for (uint16_t i = 0; i < in.n; i++) {
        rte_mbuf* m = in.m[i];
        if (meta(m).family == 4) {
            auto* ip = rte_pktmbuf_mtod(m, Ipv4*);
            if (ip->dst[0] >= 224) {  // multicast and limited broadcast: RFC 1812 §5.3.5
                drop(c, m, Drop::ip_multicast);
                in.m[i] = nullptr;
                continue;
            }
            ip4[n4] = uint32_t(ip->dst[0]) << 24 | uint32_t(ip->dst[1]) << 16 |
                      uint32_t(ip->dst[2]) << 8 | ip->dst[3];
            at4[n4++] = i;
        } else {
            auto* ip = rte_pktmbuf_mtod(m, Ipv6*);
            if (ip->dst[0] == 0xff) {
                if (is_nd(m, ip)) punt_nd(c, m);
                else drop(c, m, Drop::ip_multicast);
                in.m[i] = nullptr;
                continue;
            }
            std::memcpy(ip6[n6], ip->dst, 16);
            at6[n6++] = i;
        }
    }
    if (n4) rte_fib_lookup_bulk(s.fib4, ip4, nh4, n4);
    if (n6) rte_fib6_lookup_bulk(s.fib6, ip6, nh6, n6);

    // ECMP: hash every group-bound packet first and prefetch its table slot, so the burst's
    // cache misses on the (256 KiB) tables overlap instead of stalling one by one.
    uint32_t hash[max_burst];
    auto prehash = [&](uint16_t i, uint64_t nhi) {
        if (nhi >= s.nexthops.size() || s.nexthops[nhi].kind != NhKind::group) return;
        hash[i] = flow_hash(in.m[i], meta(in.m[i]).family);
        rte_prefetch0(&s.groups[s.nexthops[nhi].tunnel].table[hash[i] & ecmp_mask]);
    };
    for (uint16_t k = 0; k < n4; k++) prehash(at4[k], nh4[k]);
    for (uint16_t k = 0; k < n6; k++) prehash(at6[k], nh6[k]);

    // Pass 2: dispatch on the next-hop kind.
    auto dispatch = [&](uint16_t i, uint64_t nhi) {
        rte_mbuf* m = in.m[i];
        PktMeta& md = meta(m);
        if (nhi >= s.nexthops.size()) nhi = 0;
        const NextHop& h = s.nexthops[nhi];
        uint32_t tun = h.tunnel;
        switch (h.kind) {
        case NhKind::local:
            local.push(m);
            return;
        case NhKind::blackhole:
            drop(c, m, Drop::blackhole);
            return;
        case NhKind::drop:
            // Counted as no_route (or icmp_rate_limited) by the slow path when it answers.
            punt(c, m, Punt::no_route);
            return;
        case NhKind::down:
            drop(c, m, Drop::tunnel_down);
            return;
        case NhKind::group: {
            // The control side built the table; here it is only indexed (Katran's split).
            const Group& g = s.groups[h.tunnel];
            tun = g.tunnels[g.table[hash[i] & ecmp_mask]];
            bump(c.ctr->tunnel[s.tunnels[tun].slot].ecmp_pkts);
            [[fallthrough]];
        }
        case NhKind::tunnel: {
            const Tunnel& t = s.tunnels[tun];
            // Sequence numbers have one writer: the owner worker (see TunnelState).
            if (t.single_writer && t.owner != c.index && md.handed < max_handoffs) {
                md.entry = Entry::l3;
                md.handed++;
                if (!c.handoff[t.owner].push(m)) drop(c, m, Drop::handoff_ring_full);
                return;
            }
            break;
        }
        case NhKind::port:
            break;
        }
        if (md.in_port != port_local && !decrement_ttl(m, md.family)) {
            punt(c, m, Punt::ttl_exceeded);  // the slow path counts the drop
            return;
        }
        if (h.kind == NhKind::port) fwd.push(m, uint32_t(nhi));
        else encap.push(m, tun);
    };
    for (uint16_t k = 0; k < n4; k++) dispatch(at4[k], nh4[k]);
    for (uint16_t k = 0; k < n6; k++) dispatch(at6[k], nh6[k]);
    in.n = 0;
}

namespace {

// What a packet addressed to the gateway carries: the upper-layer protocol, its offset, and
// whether this is a fragment (then l4 is the IPv6 fragment header's offset, or 0 when other
// extension headers precede it, which rte_ip_frag does not reassemble).
struct L4 {
    uint8_t proto;
    uint32_t l4;
    bool fragment;
};

L4 l4_of(const uint8_t* p, uint32_t dlen, uint8_t family) noexcept {
    if (family == 4) {
        auto* ip = reinterpret_cast<const Ipv4*>(p);
        return {ip->proto, ip->header_len(), ip->is_fragment()};
    }
    // Walk the extension headers that may precede the payload (RFC 8200 §4).
    L4 r{p[6], sizeof(Ipv6), false};
    for (int hops = 0; hops < 4; hops++) {
        if (r.proto == 44) {
            r.fragment = true;
            if (r.l4 + 8 > dlen) r.proto = 255;
            else r.proto = p[r.l4];  // the fragment header's next header: what it carries
            if (r.l4 != sizeof(Ipv6)) r.l4 = 0;
            break;
        }
        if (r.proto != 0 && r.proto != 43 && r.proto != 60) break;
        if (r.l4 + 2 > dlen) {
            r.proto = 255;
            break;
        }
        uint8_t next = p[r.l4];
        r.l4 += (uint32_t(p[r.l4 + 1]) + 1) * 8;
        r.proto = next;
    }
    return r;
}

}  // namespace

void local_in(WorkerCtx& c, const Snapshot&, Vec& in, Vec& gre, Vec& esp) noexcept {
    const uint64_t now = in.n ? rte_rdtsc() : 0;
    for (uint16_t i = 0; i < in.n; i++) {
        rte_mbuf* m = in.m[i];
        const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
        uint32_t dlen = rte_pktmbuf_data_len(m);
        const uint8_t family = meta(m).family;
        L4 k = l4_of(p, dlen, family);
        uint8_t proto = k.proto;
        uint32_t l4 = k.l4;
        bool fragment = k.fragment;
        // A packet that came out of a tunnel and is for us is host traffic, never decapsulated
        // twice: nested tunnels are not a feature, and a loop must not be either.
        bool from_tunnel = meta(m).tunnel_in != no_tunnel;
        if (fragment && (proto == ipproto::gre || proto == ipproto::esp)) {
            // A peer (or the path) fragmented its outer packets: reassemble, then go on as
            // with an unfragmented one. Never for what came out of a tunnel (no nesting).
            if (from_tunnel || (family == 6 && l4 == 0)) {
                drop(c, m, Drop::outer_fragment);
                continue;
            }
            m = reassemble(c, m, family, uint16_t(family == 4 ? l4 : l4 + 8), now);
            if (!m) continue;
            p = rte_pktmbuf_mtod(m, const uint8_t*);
            dlen = rte_pktmbuf_data_len(m);
            k = l4_of(p, dlen, family);
            proto = k.proto;
            l4 = k.l4;
            fragment = false;
        }
        PktMeta& md = meta(m);
        if (proto == ipproto::gre && !from_tunnel && !fragment) {
            gre.push(m, l4);
            continue;
        }
        // ESP once per packet: ESP inside ESP is not a feature either.
        const bool decrypted = md.sa != no_sa;
        if (proto == ipproto::esp && !from_tunnel && !decrypted) {
            esp.push(m, l4);
            continue;
        }
        if (proto == ipproto::udp && md.family == 4 && !fragment && l4 + sizeof(Udp) <= dlen &&
            reinterpret_cast<const Udp*>(p + l4)->dport.get() == 4500 && !from_tunnel && !decrypted) {
            esp.push(m, l4 | esp_natt_flag);  // RFC 3948: ESP, IKE or a NAT-keepalive
            continue;
        }
        if (proto == ipproto::icmpv6 && !fragment && l4 < dlen && p[l4] >= icmp6::router_solicit &&
            p[l4] <= 137) {
            punt_nd(c, m);
            continue;
        }
        md.l3_off = 0;
        punt(c, m, Punt::local);
    }
    in.n = 0;
}

}  // namespace tgw::dp
