#include "dp/bridge.hpp"

#include <rte_cycles.h>

#include "dp/snapshot.hpp"
#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::dp {

using namespace wire;

namespace {

inline void key_of(MacKey& k, const uint8_t* mac, uint16_t bd) noexcept {
    std::memcpy(k.mac, mac, 6);
    k.bd = bd;
}

inline bool bad_source(const uint8_t* mac) noexcept {
    // IEEE 802.1Q §8.7: a group address is never a source; all-zero is no station.
    static constexpr uint8_t zero[6] = {};
    return (mac[0] & 1) || std::memcmp(mac, zero, 6) == 0;
}

// Token bucket in TSC cycles (one writer: its worker); it starts full.
inline bool take(uint64_t& credit, uint64_t& last, uint64_t cost, uint64_t depth,
                 uint64_t now) noexcept {
    credit = last == 0 ? depth : std::min(depth, credit + (now - last));
    last = now;
    if (credit < cost) return false;
    credit -= cost;
    return true;
}

// One bucket per domain per worker: the domain's flood_limit_pps is shared evenly by the
// workers, and a bucket holds one second's worth.
inline bool flood_allowed(BridgeCtx& b, const Bd& d, uint16_t bd, unsigned n_workers,
                          uint64_t now) noexcept {
    if (!d.flood_pps) return true;
    const uint64_t cost = b.hz * n_workers / d.flood_pps;
    return take(b.flood[bd].credit, b.flood[bd].last_tsc, cost, std::max(b.hz, cost), now);
}

inline bool learn_allowed(BridgeCtx& b, uint64_t now) noexcept {
    return take(b.learn_credit, b.learn_last_tsc, b.hz / learn_events_per_s, b.hz / 10, now);
}

// 802.1Q tag on the way out of a VLAN member.
inline bool add_tag(rte_mbuf* m, uint16_t vid) noexcept {
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, sizeof(Vlan)));
    if (!p) return false;
    std::memmove(p, p + sizeof(Vlan), 12);
    reinterpret_cast<be16*>(p + 12)->set(ethertype::vlan);
    reinterpret_cast<be16*>(p + 14)->set(vid);
    return true;
}

// Frames for gretap members, encapsulated and sent a vector at a time: flooding to several
// tunnels makes more frames than a vector holds.
void drain(WorkerCtx& c, const Snapshot& s, Vec& encap) noexcept {
    if (!encap.n) return;
    Vec out, seal;
    gre_encap(c, s, encap, out, seal);
    esp_out_into(c, s, seal, out);
    egress(c, s, out);
}

void send(WorkerCtx& c, const Snapshot& s, const BridgeTables& t, uint16_t to, rte_mbuf* m,
          Vec& encap) noexcept {
    const BdMember& mb = t.members[to];
    MemberCounters& mc = c.br->member[to];
    PktMeta& md = meta(m);
    if (mb.kind == BdMember::Kind::port) {
        if (mb.vlan && !add_tag(m, mb.vlan)) {
            drop(c, m, Drop::no_headroom);
            return;
        }
        bump(mc.tx_pkts);
        bump(mc.tx_bytes, rte_pktmbuf_pkt_len(m));
        tx_push(c, mb.port, m);
        return;
    }
    bump(mc.tx_pkts);
    bump(mc.tx_bytes, rte_pktmbuf_pkt_len(m));
    md.family = 0;  // an Ethernet frame: gre_encap sends it as protocol 0x6558
    const Tunnel& tn = s.tunnels[mb.tunnel];
    if (tn.single_writer && tn.owner != c.index && md.handed < max_handoffs) {
        // RFC 2890 sequence numbers and ESP SAs have one writer, the tunnel's owner worker.
        md.entry = Entry::encap;
        md.tunnel_in = mb.tunnel;
        md.gen = uint32_t(s.generation);
        md.handed++;
        if (!c.handoff[tn.owner].push(m)) drop(c, m, Drop::handoff_ring_full);
        return;
    }
    if (encap.n == max_burst) drain(c, s, encap);
    encap.push(m, mb.tunnel);
}

// To every member of the domain but the one the frame came from. Copies are deep
// (rte_pktmbuf_copy): each one gets its own tag or outer headers prepended.
void flood(WorkerCtx& c, const Snapshot& s, const BridgeTables& t, const Bd& d, uint16_t from,
           rte_mbuf* m, Vec& encap) noexcept {
    BdCounters& bc = c.br->bd[t.members[from].bd];
    uint16_t last = no_member;
    for (uint16_t i = d.first; i < d.first + d.n; i++)
        if (i != from) last = i;
    if (last == no_member) {
        drop(c, m, Drop::bd_hairpin);
        return;
    }
    for (uint16_t i = d.first; i < last; i++) {
        if (i == from) continue;
        rte_mbuf* copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
        if (!copy) {
            bump(c.ctr->drops[unsigned(Drop::no_mbuf)]);
            continue;
        }
        meta(copy) = meta(m);
        bump(bc.flood_copies);
        send(c, s, t, i, copy, encap);
    }
    bump(bc.flood_copies);
    send(c, s, t, last, m, encap);
}

}  // namespace

uint16_t bridge_classify(const BridgeTables& t, uint16_t port, rte_mbuf* m) noexcept {
    if (port >= config::max_ports) return no_member;
    const auto& vm = t.vlan_member[port];
    if (!vm.empty() && rte_pktmbuf_data_len(m) >= sizeof(Eth) + sizeof(Vlan)) {
        auto* p = rte_pktmbuf_mtod(m, uint8_t*);
        if (reinterpret_cast<const be16*>(p + 12)->get() == ethertype::vlan) {
            uint16_t vid = reinterpret_cast<const be16*>(p + 14)->get() & 0x0fff;
            uint16_t mem = vm[vid];
            if (mem != no_member) {
                std::memmove(p + sizeof(Vlan), p, 12);  // strip: the domain sees it untagged
                rte_pktmbuf_adj(m, sizeof(Vlan));
                return mem;
            }
        }
    }
    return t.port_member[port];
}

void bridge(WorkerCtx& c, const Snapshot& s, Vec& in) noexcept {
    if (!in.n) return;
    Vec encap;
    if (!s.l2 || !c.br) {
        for (uint16_t i = 0; i < in.n; i++) drop(c, in.m[i], Drop::gre_proto);
        in.n = 0;
        return;
    }
    const BridgeTables& t = *s.l2;
    BridgeCtx& b = *c.br;
    const uint64_t now = rte_rdtsc();
    const uint32_t now_s = uint32_t(now / b.hz);

    // Pass 1: check each frame and collect its source and destination keys. A frame of the same
    // conversation as the one before it reuses its lookups (one bulk lookup per distinct pair).
    rte_mbuf* ok[max_burst];
    uint16_t from[max_burst];
    MacKey src_k[max_burst], dst_k[max_burst], uk[2 * max_burst];
    uint8_t si[max_burst], di[max_burst];
    unsigned nu = 0;
    uint16_t n = 0;
    for (uint16_t i = 0; i < in.n; i++) {
        rte_mbuf* m = in.m[i];
        const uint16_t mem = uint16_t(in.aux[i]);
        if (mem >= t.members.size()) {
            drop(c, m, Drop::gre_proto);
            continue;
        }
        if (rte_pktmbuf_data_len(m) < sizeof(Eth)) {
            drop(c, m, t.members[mem].kind == BdMember::Kind::tunnel ? Drop::teb_short : Drop::l2_short);
            continue;
        }
        auto* eth = rte_pktmbuf_mtod(m, const Eth*);
        if (bad_source(eth->src)) {
            drop(c, m, Drop::bd_bad_src);
            continue;
        }
        const uint16_t bd = t.members[mem].bd;
        key_of(src_k[n], eth->src, bd);
        key_of(dst_k[n], eth->dst, bd);
        if (n && std::memcmp(&src_k[n], &src_k[n - 1], sizeof(MacKey)) == 0 &&
            std::memcmp(&dst_k[n], &dst_k[n - 1], sizeof(MacKey)) == 0) {
            si[n] = si[n - 1];
            di[n] = di[n - 1];
        } else {
            uk[nu] = src_k[n];
            si[n] = uint8_t(nu++);
            uk[nu] = dst_k[n];
            di[n] = uint8_t(nu++);
        }
        ok[n] = m;
        from[n++] = mem;
    }
    in.n = 0;
    uint64_t words[2 * max_burst];
    for (unsigned k = 0; k < nu; k += MacTable::max_bulk)
        b.macs->lookup_bulk(uk + k, std::min<unsigned>(MacTable::max_bulk, nu - k), words + k);

    // Pass 2: learn, then forward or flood.
    MacKey last_learned{};
    uint16_t last_member = no_member;
    for (uint16_t i = 0; i < n; i++) {
        rte_mbuf* m = ok[i];
        const uint16_t mem = from[i];
        const uint16_t bd = t.members[mem].bd;
        const Bd& d = t.domains[bd];
        BdCounters& bc = b.bd[bd];
        const uint32_t len = rte_pktmbuf_pkt_len(m);
        bump(bc.rx_pkts);
        bump(bc.rx_bytes, len);
        bump(b.member[mem].rx_pkts);
        bump(b.member[mem].rx_bytes, len);
        if (d.p2p) {  // a pseudowire: everything to the other member, nothing learned
            bump(bc.forwarded);
            send(c, s, t, mem == d.first ? uint16_t(d.first + 1) : d.first, m, encap);
            continue;
        }
        const uint64_t sw = words[si[i]];
        const uint32_t refresh = d.ageing_s / 4 ? d.ageing_s / 4 : 1;
        const bool known = (sw & MacEntry::valid) && MacEntry::epoch(sw) == t.epoch &&
                           MacEntry::member(sw) == mem &&
                           int32_t(now_s - MacEntry::stamp(sw)) < int32_t(refresh);
        if (!known && !(last_member == mem && std::memcmp(&last_learned, &src_k[i], 8) == 0)) {
            LearnEvent ev{src_k[i], mem, t.epoch, 0};
            if (learn_allowed(b, now) && rte_ring_sp_enqueue_elem(b.learn, &ev, sizeof ev) == 0) {
                bump(bc.learn_events);
                last_learned = src_k[i];
                last_member = mem;
            } else {
                bump(bc.learn_suppressed);
            }
        }
        const uint64_t dw = words[di[i]];
        const bool multi = dst_k[i].mac[0] & 1;
        if (!multi && (dw & MacEntry::valid) && MacEntry::epoch(dw) == t.epoch &&
            int32_t(now_s - MacEntry::stamp(dw)) < int32_t(d.ageing_s)) {  // a stamp may lead by 1 s
            const uint16_t to = MacEntry::member(dw);
            if (to >= t.members.size() || t.members[to].bd != bd || to == mem) {
                // Learned behind the member it came in on: the station is local there.
                drop(c, m, Drop::bd_hairpin);
                continue;
            }
            bump(bc.forwarded);
            send(c, s, t, to, m, encap);
            continue;
        }
        if (!flood_allowed(b, d, bd, c.n_workers, now)) {
            drop(c, m, Drop::bd_flood_limit);
            continue;
        }
        bump(bc.flooded);
        if (!multi) bump(bc.unknown_unicast);
        flood(c, s, t, d, mem, m, encap);
    }
    drain(c, s, encap);
}

}  // namespace tgw::dp
