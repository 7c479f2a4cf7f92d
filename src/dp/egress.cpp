#include <rte_ethdev.h>

#include "dp/neigh.hpp"
#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::dp {

using namespace wire;

void forward(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& out) noexcept {
    for (uint16_t i = 0; i < in.n; i++) {
        rte_mbuf* m = in.m[i];
        PktMeta& md = meta(m);
        const NextHop& h = s.nexthops[in.aux[i]];
        const Port& p = s.ports[h.port];
        bool df;
        IpAddr dst;
        if (md.family == 4) {
            auto* ip = rte_pktmbuf_mtod(m, const Ipv4*);
            df = ip->frag.get() & Ipv4::flag_df;
            dst = IpAddr::v4(ip->dst);
        } else {
            auto* ip6 = rte_pktmbuf_mtod(m, const Ipv6*);
            df = true;
            dst = IpAddr::v6(ip6->dst);
        }
        if (rte_pktmbuf_pkt_len(m) > p.mtu) {
            if (df) {
                md.mtu = p.mtu;
                punt(c, m, Punt::frag_needed);  // the slow path counts the drop
            } else {
                drop(c, m, Drop::mtu_exceeded);
            }
            continue;
        }
        md.out_port = h.port;
        md.nh_addr = h.gw.is_zero() ? dst : h.gw;
        md.neigh_pos = h.neigh_pos;
        out.push(m);
    }
    in.n = 0;
}

void egress(WorkerCtx& c, const Snapshot& s, Vec& in) noexcept {
    // Within a burst most packets go to the same next hop: remember the last answer.
    uint16_t last_port = 0xffff;
    IpAddr last_addr;
    uint8_t last_mac[6];
    bool last_ok = false;
    for (uint16_t i = 0; i < in.n; i++) {
        rte_mbuf* m = in.m[i];
        PktMeta& md = meta(m);
        auto* eth = reinterpret_cast<Eth*>(rte_pktmbuf_prepend(m, sizeof(Eth)));
        if (!eth) {
            drop(c, m, Drop::no_headroom);
            continue;
        }
        const Port& p = s.ports[md.out_port];
        std::memcpy(eth->src, p.mac, 6);
        eth->type.set(md.family == 4 ? ethertype::ipv4 : ethertype::ipv6);
        bool ok;
        uint8_t mac[6];
        if (md.neigh_pos >= 0) {
            ok = c.neigh->mac_at(md.neigh_pos, mac);
        } else {
            // On-link destinations: consecutive packets usually share one, reuse the answer.
            if (md.out_port != last_port || !(md.nh_addr == last_addr)) {
                last_port = md.out_port;
                last_addr = md.nh_addr;
                last_ok = c.neigh->lookup(md.out_port, md.nh_addr, last_mac);
            }
            ok = last_ok;
            std::memcpy(mac, last_mac, 6);
        }
        if (!ok) {
            md.l3_off = sizeof(Eth);
            punt(c, m, Punt::neigh_miss);
            continue;
        }
        std::memcpy(eth->dst, mac, 6);
        tx_push(c, md.out_port, m);
    }
    in.n = 0;
}

void flush_tx(WorkerCtx& c, uint16_t p) noexcept {
    Vec& v = c.tx[p];
    if (!v.n) return;
    uint64_t bytes[max_burst];
    for (uint16_t i = 0; i < v.n; i++) bytes[i] = rte_pktmbuf_pkt_len(v.m[i]);
    uint16_t sent = rte_eth_tx_burst(c.port_ids[p], uint16_t(c.index), v.m, v.n);
    uint64_t b = 0;
    for (uint16_t i = 0; i < sent; i++) b += bytes[i];
    bump(c.ctr->port[p].tx_pkts, sent);
    bump(c.ctr->port[p].tx_bytes, b);
    for (uint16_t i = sent; i < v.n; i++) drop(c, v.m[i], Drop::tx_full);
    v.n = 0;
}

void flush(WorkerCtx& c) noexcept {
    for (uint16_t p = 0; p < c.n_ports; p++) flush_tx(c, p);
    if (c.punted.n) {
        unsigned ok = rte_ring_sp_enqueue_burst(c.punt, reinterpret_cast<void**>(c.punted.m),
                                                c.punted.n, nullptr);
        bump(c.ctr->punted, ok);
        for (unsigned i = ok; i < c.punted.n; i++) drop(c, c.punted.m[i], Drop::punt_ring_full);
        c.punted.n = 0;
    }
    for (unsigned w = 0; w < c.n_workers; w++) {
        Vec& v = c.handoff[w];
        if (!v.n) continue;
        unsigned ok = rte_ring_mp_enqueue_burst(c.handoff_out[w], reinterpret_cast<void**>(v.m),
                                                v.n, nullptr);
        bump(c.ctr->handed_off, ok);
        for (unsigned i = ok; i < v.n; i++) drop(c, v.m[i], Drop::handoff_ring_full);
        v.n = 0;
    }
}

}  // namespace tgw::dp
