// The slow-path loop: dispatch by punt reason, the hold queue for unresolved next hops, and
// the ICMP error rate limiter. Packet parsing and building live in arp.cpp, nd.cpp, icmp.cpp.
#include "slowpath/slowpath.hpp"

#include <rte_cycles.h>

#include <algorithm>
#include <cstring>

#include "dp/meta.hpp"
#include "slowpath/proto.hpp"

namespace tgw::slowpath {

using dp::Drop;

namespace {

// Every emitted packet gets its metadata written in full, so nothing from its previous life
// (a punted or held packet) leaks into the worker that receives it.
void set_meta(rte_mbuf* m, dp::Entry entry, uint16_t out_port, uint8_t family) noexcept {
    dp::PktMeta& mt = dp::meta(m);
    mt = dp::PktMeta{};
    mt.tunnel_in = dp::no_tunnel;
    mt.neigh_pos = -1;  // no reserved neighbour: a tx frame is complete, an l3 packet is routed
    mt.in_port = dp::port_local;
    mt.out_port = out_port;
    mt.l3_off = 0;
    mt.punt = dp::Punt::none;
    mt.entry = entry;
    mt.handed = 0;
    mt.sa = dp::no_sa;
    mt.family = family;
}

// Our host address on a port: exactly one of its configured addresses.
bool port_has(const dp::Port& p, const IpAddr& a) noexcept {
    for (const Prefix& x : p.addresses)
        if (x.addr == a) return true;
    return false;
}

bool on_link(const dp::Port& p, const IpAddr& a) noexcept {
    for (const Prefix& x : p.addresses)
        if (x.contains(a)) return true;
    return false;
}

// The address of family `v4` in `addrs` whose subnet holds `near`, else the first of that family.
const IpAddr* pick(const std::vector<Prefix>& addrs, bool v4, const IpAddr& near) noexcept {
    const IpAddr* first = nullptr;
    for (const Prefix& x : addrs) {
        if (x.addr.is_v4() != v4) continue;
        if (x.contains(near)) return &x.addr;
        if (!first) first = &x.addr;
    }
    return first;
}

// Snapshot::tunnels and config.tunnels are expected in the same order; match by name when
// both are present so a reordering compiler cannot make us pick another tunnel's address.
const config::Tunnel* tunnel_cfg(const dp::Snapshot& snap, uint32_t idx) noexcept {
    const auto& ct = snap.config.tunnels;
    if (idx < snap.tunnels.size()) {
        const std::string& name = snap.tunnels[idx].name;
        if (idx < ct.size() && ct[idx].name == name) return &ct[idx];
        for (const auto& t : ct)
            if (t.name == name) return &t;
        return nullptr;
    }
    return idx < ct.size() ? &ct[idx] : nullptr;
}

// RFC 1812 §4.3.2.4 / RFC 4443 §2.2: the source of an ICMP error is an address of the
// interface the offending packet arrived on: the tunnel's inner address if it was
// decapsulated, else the port's. Failing that, any gateway address of the family.
bool error_source(const dp::Snapshot& snap, const dp::PktMeta& mt, bool v4, const IpAddr& near,
                  IpAddr& out) noexcept {
    const IpAddr* a = nullptr;
    if (mt.tunnel_in != dp::no_tunnel) {
        if (const config::Tunnel* t = tunnel_cfg(snap, mt.tunnel_in))
            a = pick(t->addresses, v4, near);
    } else if (mt.in_port < snap.ports.size()) {
        a = pick(snap.ports[mt.in_port].addresses, v4, near);
    }
    for (size_t i = 0; !a && i < snap.ports.size(); i++)
        a = pick(snap.ports[i].addresses, v4, near);
    for (size_t i = 0; !a && i < snap.config.tunnels.size(); i++)
        a = pick(snap.config.tunnels[i].addresses, v4, near);
    if (!a) return false;
    out = *a;
    return true;
}

// RFC 1812 §4.3.2.7: directed broadcasts of our own subnets count as broadcasts.
bool directed_broadcast(const dp::Snapshot& snap, const IpAddr& dst) noexcept {
    uint32_t d = dst.v4_host();
    for (const dp::Port& p : snap.ports)
        for (const Prefix& x : p.addresses) {
            if (!x.addr.is_v4() || x.len > 30) continue;  // /31 and /32 have no broadcast
            uint32_t host = x.len == 0 ? ~0u : (1u << (32 - x.len)) - 1;
            if ((x.addr.v4_host() | host) == d) return true;
        }
    return false;
}

uint8_t frame_family(rte_mbuf* m) noexcept {
    if (rte_pktmbuf_data_len(m) < sizeof(wire::Eth)) return 0;
    auto* eth = rte_pktmbuf_mtod(m, const wire::Eth*);
    return eth->type.get() == wire::ethertype::ipv6 ? 6 : 4;
}

}  // namespace

SlowPath::SlowPath(Env env)
    : env_(std::move(env)),
      hz_(env_.tsc_hz ? env_.tsc_hz : rte_get_tsc_hz()),
      pending_(new Pending[max_pending]) {
    // A hand-written token bucket rather than rte_meter: rte_meter marks colours for byte
    // rates (srTCM/trTCM), while RFC 1812 §4.3.2.8 / RFC 4443 §2.4(f) ask for a limit on
    // the number of messages. Credit is counted in TSC cycles, so no division per packet.
    tb_cost_ = env_.icmp_rate ? std::max<uint64_t>(1, hz_ / env_.icmp_rate) : 0;
    tb_max_ = tb_cost_ * std::max<uint32_t>(1, env_.icmp_burst);
    tb_credit_ = tb_max_;
}

SlowPath::~SlowPath() {
    for (unsigned i = 0; i < max_pending; i++) {
        Pending& p = pending_[i];
        for (unsigned k = 0; k < p.n; k++) rte_pktmbuf_free(p.pkts[k]);
        p.n = 0;
    }
}

// ---------------------------------------------------------------- plumbing

void SlowPath::count(Drop why) noexcept {
    dp::bump(env_.ctr->drops[unsigned(why)]);
}

void SlowPath::drop(rte_mbuf* m, Drop why) noexcept {
    count(why);
    rte_pktmbuf_free(m);
}

rte_mbuf* SlowPath::alloc(size_t len, uint8_t*& data) noexcept {
    rte_mbuf* m = rte_pktmbuf_alloc(env_.pool);
    if (!m) {
        count(Drop::no_mbuf);
        return nullptr;
    }
    data = len <= rte_pktmbuf_tailroom(m)
               ? reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, uint16_t(len)))
               : nullptr;
    if (!data) {
        drop(m, Drop::no_mbuf);  // the pool's data room is smaller than our largest reply
        return nullptr;
    }
    return m;
}

void SlowPath::inject(rte_mbuf* m) noexcept {
    // Never wait for worker 0: a full ring costs this packet, not the slow path's progress.
    if (rte_ring_enqueue(env_.inject, m) != 0) {
        dp::bump(sc_.inject_full);
        drop(m, Drop::tx_full);
    }
}

bool SlowPath::icmp_allowed(uint64_t now) noexcept {
    if (tb_cost_ == 0) return false;
    if (now > tb_last_) {
        uint64_t elapsed = now - tb_last_;
        tb_credit_ = elapsed >= tb_max_ - tb_credit_ ? tb_max_ : tb_credit_ + elapsed;
        tb_last_ = now;
    }
    if (tb_credit_ < tb_cost_) return false;
    tb_credit_ -= tb_cost_;
    return true;
}

// ---------------------------------------------------------------- loop

unsigned SlowPath::poll(const dp::Snapshot& snap, uint64_t now_tsc) noexcept {
    unsigned n = 0;
    rte_mbuf* burst[punt_burst];
    for (rte_ring* r : env_.punt) {
        unsigned k =
            rte_ring_dequeue_burst(r, reinterpret_cast<void**>(burst), punt_burst, nullptr);
        for (unsigned i = 0; i < k; i++) handle(snap, burst[i], now_tsc);
        n += k;
    }
    run_timers(snap, now_tsc);
    dp::bump(env_.ctr->polls);
    if (n) {
        dp::bump(env_.ctr->busy_polls);
        dp::bump(env_.ctr->pkts_processed, n);
    }
    return n;
}

void SlowPath::handle(const dp::Snapshot& snap, rte_mbuf* m, uint64_t now_tsc) noexcept {
    switch (dp::meta(m).punt) {
        case dp::Punt::arp:
            on_arp(snap, m);
            return;
        case dp::Punt::nd:
            on_nd(snap, m);
            return;
        case dp::Punt::local:
            on_local(snap, m);
            return;
        case dp::Punt::neigh_miss:
            on_neigh_miss(snap, m, now_tsc);
            return;
        case dp::Punt::ttl_exceeded:
        case dp::Punt::no_route:
        case dp::Punt::frag_needed:
            on_error(snap, m, now_tsc);
            return;
        case dp::Punt::keepalive: {
            uint32_t t = dp::meta(m).tunnel_in;
            rte_pktmbuf_free(m);
            if (env_.on_keepalive && t < snap.tunnels.size())
                env_.on_keepalive(env_.on_keepalive_arg, snap, t);
            return;
        }
        case dp::Punt::none:
            break;
    }
    drop(m, Drop::slowpath_bad);
}

// ---------------------------------------------------------------- ARP

void SlowPath::on_arp(const dp::Snapshot& snap, rte_mbuf* m) noexcept {
    const uint16_t in = dp::meta(m).in_port;
    proto::ArpMsg a;
    if (in >= snap.ports.size() ||
        proto::parse_arp(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), a) !=
            proto::ArpParse::ok)
        return drop(m, Drop::slowpath_bad);
    const dp::Port& port = snap.ports[in];
    dp::bump(a.op == wire::Arp::op_request ? sc_.arp_req_rx : sc_.arp_reply_rx);
    const IpAddr spa = IpAddr::v4(a.spa), tpa = IpAddr::v4(a.tpa);

    if (port_has(port, spa)) {
        // Another station uses one of our addresses (RFC 5227 §2.4). Never learn our own
        // address; leave the operator a counter.
        if (std::memcmp(a.sha, port.mac, 6) != 0) dp::bump(sc_.addr_conflict);
        rte_pktmbuf_free(m);
        return;
    }

    const bool for_us = port_has(port, tpa);
    bool learned = false;
    // RFC 826 "merge": update a sender we already know; add it when the packet is for us.
    // Gratuitous ARP (spa == tpa, RFC 5227 §3) announces a mapping: take it too. A probe
    // (spa 0.0.0.0) has nothing to learn. Unknown senders must be on-link unless we are
    // resolving them (a route may name an off-subnet next hop on an explicit port).
    if (spa.v4_host() != 0) {
        uint8_t old[6];
        bool pending = find_pending(in, spa) != nullptr;
        bool known = env_.neigh->lookup(in, spa, old);
        if (pending || (on_link(port, spa) && (known || for_us || spa == tpa))) {
            learn(in, spa, a.sha);
            learned = true;
        }
    }

    if (a.op == wire::Arp::op_request && for_us) {
        uint8_t* d;
        if (rte_mbuf* r = alloc(proto::eth_min_frame, d)) {
            // RFC 826: swap sender and target, fill in our hardware address.
            proto::build_arp(d, proto::eth_min_frame, wire::Arp::op_reply, a.sha, port.mac, a.tpa,
                             a.sha, a.spa);
            set_meta(r, dp::Entry::tx, in, 4);
            dp::bump(sc_.arp_reply_tx);
            inject(r);
        }
    } else if (!learned) {
        dp::bump(sc_.arp_ignored);
    }
    rte_pktmbuf_free(m);
}

// ---------------------------------------------------------------- ND

void SlowPath::on_nd(const dp::Snapshot& snap, rte_mbuf* m) noexcept {
    const dp::PktMeta& mt = dp::meta(m);
    const uint16_t in = mt.in_port;
    const uint16_t l3 = mt.l3_off;
    // ND needs a link layer: a tunnel (point to point, no link-layer addresses) has none.
    if (in >= snap.ports.size() || mt.tunnel_in != dp::no_tunnel || l3 < sizeof(wire::Eth) ||
        rte_pktmbuf_data_len(m) < l3)
        return drop(m, Drop::slowpath_bad);
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*) + l3 - sizeof(wire::Eth);
    proto::NdMsg nd;
    // Only the first segment is parsed: ND messages are far below any mbuf data room.
    if (proto::parse_nd(frame + sizeof(wire::Eth), rte_pktmbuf_data_len(m) - l3, nd) !=
        proto::NdParse::ok)
        return drop(m, Drop::slowpath_bad);
    const dp::Port& port = snap.ports[in];

    if (nd.type == wire::icmp6::neigh_solicit) {
        dp::bump(sc_.nd_ns_rx);
        // RFC 4861 §7.2.3: a solicitation for an address that is not ours is discarded.
        if (!port_has(port, nd.target)) {
            dp::bump(sc_.nd_ignored);
            rte_pktmbuf_free(m);
            return;
        }
        const bool dad = proto::v6_is_unspecified(nd.src.b.data());
        uint8_t eth_dst[6];
        IpAddr dst;
        uint32_t flags = wire::NdMsg::na_router | wire::NdMsg::na_override;
        if (dad) {
            // RFC 4861 §7.2.4: answer a DAD probe to all-nodes, S clear. Someone wants an
            // address we hold (RFC 4862 §5.4.3): defend it and count the conflict.
            static constexpr uint8_t all_nodes[16] = {0xff, 2, 0, 0, 0, 0, 0, 0,
                                                      0,    0, 0, 0, 0, 0, 0, 1};
            dst = IpAddr::v6(all_nodes);
            proto::v6_multicast_mac(all_nodes, eth_dst);
            dp::bump(sc_.addr_conflict);
        } else {
            dst = nd.src;
            flags |= wire::NdMsg::na_solicited;
            // §7.2.3: the source LLA option creates or updates the sender's entry. Without
            // it (unicast NUD probe) the Ethernet source is the sender's address.
            if (nd.has_lla) {
                if (!port_has(port, nd.src)) learn(in, nd.src, nd.lla);
                std::memcpy(eth_dst, nd.lla, 6);
            } else {
                std::memcpy(eth_dst, frame + 6, 6);
            }
        }
        uint8_t* d;
        if (rte_mbuf* r = alloc(proto::nd_frame_len, d)) {
            proto::build_na(d, proto::nd_frame_len, port.mac, eth_dst, nd.target.b.data(),
                            dst.b.data(), nd.target.b.data(), flags);
            set_meta(r, dp::Entry::tx, in, 6);
            dp::bump(sc_.nd_na_tx);
            inject(r);
        }
        rte_pktmbuf_free(m);
        return;
    }

    dp::bump(sc_.nd_na_rx);
    if (port_has(port, nd.target)) {
        dp::bump(sc_.addr_conflict);  // someone advertises our address
    } else if (nd.has_lla) {
        // RFC 4861 §7.2.5: an advertisement creates no entry unless we are resolving the
        // target (INCOMPLETE); it replaces a known address only with the Override flag.
        uint8_t old[6];
        bool pending = find_pending(in, nd.target) != nullptr;
        bool known = env_.neigh->lookup(in, nd.target, old);
        if (pending ||
            (known && ((nd.flags & wire::NdMsg::na_override) || std::memcmp(old, nd.lla, 6) == 0)))
            learn(in, nd.target, nd.lla);
        else
            dp::bump(sc_.nd_ignored);
    } else {
        dp::bump(sc_.nd_ignored);
    }
    rte_pktmbuf_free(m);
}

// ---------------------------------------------------------------- neighbours

void SlowPath::learn(uint16_t port, const IpAddr& a, const uint8_t mac[6]) noexcept {
    if (env_.neigh->is_static_entry(port, a)) {
        dp::bump(sc_.neigh_static_kept);  // configuration wins over the wire
        return;
    }
    uint8_t old[6];
    if (!(env_.neigh->lookup(port, a, old) && std::memcmp(old, mac, 6) == 0)) {
        if (env_.neigh->set(port, a, mac, false)) dp::bump(sc_.neigh_learned);
    }
    release(port, a, mac);
}

SlowPath::Pending* SlowPath::find_pending(uint16_t port, const IpAddr& a) noexcept {
    if (n_pending_ == 0) return nullptr;
    for (unsigned i = 0; i < max_pending; i++) {
        Pending& p = pending_[i];
        if (p.used && p.port == port && p.addr == a) return &p;
    }
    return nullptr;
}

void SlowPath::release(uint16_t port, const IpAddr& a, const uint8_t mac[6]) noexcept {
    Pending* p = find_pending(port, a);
    if (!p) return;
    for (unsigned k = 0; k < p->n; k++) {
        rte_mbuf* m = p->pkts[k];
        std::memcpy(rte_pktmbuf_mtod(m, wire::Eth*)->dst, mac, 6);  // length checked on hold
        set_meta(m, dp::Entry::tx, port, frame_family(m));
        dp::bump(sc_.released);
        inject(m);
    }
    p->n = 0;
    p->used = false;
    n_pending_--;
}

void SlowPath::expire(Pending& p, Drop why) noexcept {
    for (unsigned k = 0; k < p.n; k++) drop(p.pkts[k], why);
    p.n = 0;
    p.used = false;
    n_pending_--;
}

bool SlowPath::solicit(const dp::Snapshot& snap, Pending& p) noexcept {
    if (p.port >= snap.ports.size()) return false;
    const dp::Port& port = snap.ports[p.port];
    const bool v4 = p.addr.is_v4();
    // ARP: sender = our address in the target's subnet, else the first IPv4 of the port.
    // ND (RFC 4861 §7.2.2): any address of the interface; prefer the on-link one.
    const IpAddr* src = pick(port.addresses, v4, p.addr);
    if (!src) {
        dp::bump(sc_.no_source_addr);
        return false;
    }
    size_t len = v4 ? proto::eth_min_frame : proto::nd_frame_len;
    uint8_t* d;
    rte_mbuf* r = alloc(len, d);
    if (!r) return true;  // counted; the timer retries
    if (v4) {
        static constexpr uint8_t zero[6] = {};
        proto::build_arp(d, len, wire::Arp::op_request, proto::broadcast_mac, port.mac,
                         src->v4_bytes(), zero, p.addr.v4_bytes());
        dp::bump(sc_.arp_req_tx);
    } else {
        proto::build_ns(d, len, port.mac, src->b.data(), p.addr.b.data());
        dp::bump(sc_.nd_ns_tx);
    }
    set_meta(r, dp::Entry::tx, p.port, v4 ? 4 : 6);
    inject(r);
    return true;
}

void SlowPath::on_neigh_miss(const dp::Snapshot& snap, rte_mbuf* m, uint64_t now) noexcept {
    const dp::PktMeta& mt = dp::meta(m);
    const uint16_t port = mt.out_port;
    const IpAddr nh = mt.nh_addr;
    if (port >= snap.ports.size() || nh.is_zero() || rte_pktmbuf_data_len(m) < sizeof(wire::Eth))
        return drop(m, Drop::slowpath_bad);

    uint8_t mac[6];
    if (env_.neigh->lookup(port, nh, mac)) {
        // Resolved between the worker's miss and now.
        std::memcpy(rte_pktmbuf_mtod(m, wire::Eth*)->dst, mac, 6);
        set_meta(m, dp::Entry::tx, port, frame_family(m));
        dp::bump(sc_.released);
        inject(m);
        return;
    }
    if (Pending* p = find_pending(port, nh)) {
        // RFC 1122 §2.3.2.2 / RFC 4861 §7.2.2: queue a few packets per unresolved neighbour.
        if (p->n >= hold_per_neigh) return drop(m, Drop::neigh_hold_full);
        p->pkts[p->n++] = m;
        dp::bump(sc_.held);
        return;
    }
    Pending* p = nullptr;
    for (unsigned i = 0; i < max_pending && !p; i++)
        if (!pending_[i].used) p = &pending_[i];
    if (!p) {
        dp::bump(sc_.pending_full);
        return drop(m, Drop::neigh_hold_full);
    }
    p->used = true;
    p->addr = nh;
    p->port = port;
    p->pkts[0] = m;
    p->n = 1;
    p->tries = 1;
    p->next_tsc = now + hz_;
    n_pending_++;
    dp::bump(sc_.held);
    if (!solicit(snap, *p)) return expire(*p, Drop::neigh_unresolved);
    next_timer_ = std::min(next_timer_, p->next_tsc);
}

void SlowPath::run_timers(const dp::Snapshot& snap, uint64_t now) noexcept {
    if (n_pending_ == 0 || now < next_timer_) return;
    uint64_t next = UINT64_MAX;
    for (unsigned i = 0; i < max_pending; i++) {
        Pending& p = pending_[i];
        if (!p.used) continue;
        if (now >= p.next_tsc) {
            // RFC 4861 §7.3.3 / §10: MAX_MULTICAST_SOLICIT solicitations RETRANS_TIMER apart,
            // then the queued packets are dropped (for ARP too, as RFC 1122 leaves it open).
            if (p.tries >= max_solicit || !solicit(snap, p)) {
                expire(p, Drop::neigh_unresolved);
                continue;
            }
            p.tries++;
            p.next_tsc = now + hz_;
        }
        next = std::min(next, p.next_tsc);
    }
    next_timer_ = next;
}

void SlowPath::apply_static_neighbors(const dp::Snapshot& snap) {
    std::vector<StaticKey> now;
    now.reserve(snap.config.neighbors.size());
    for (const config::Neighbor& n : snap.config.neighbors) {
        uint16_t idx = 0;
        while (idx < snap.ports.size() && snap.ports[idx].name != n.port) idx++;
        if (idx == snap.ports.size()) continue;  // the validator rejects unknown ports
        if (!env_.neigh->set(idx, n.address, n.mac.b.data(), true)) continue;
        now.push_back({idx, n.address});
        release(idx, n.address, n.mac.b.data());
    }
    // Entries that left the config become unknown again (and learnable).
    for (const StaticKey& old : statics_) {
        bool kept = std::any_of(now.begin(), now.end(), [&](const StaticKey& k) {
            return k.port == old.port && k.addr == old.addr;
        });
        if (!kept) env_.neigh->invalidate(old.port, old.addr);
    }
    statics_ = std::move(now);
}

// ---------------------------------------------------------------- local (echo)

void SlowPath::on_local(const dp::Snapshot& snap, rte_mbuf* m) noexcept {
    const dp::PktMeta& mt = dp::meta(m);
    const uint16_t l3 = mt.l3_off;
    const uint8_t family = mt.family;
    // The reply is built in place: same size as the request, no copy and no allocation.
    if (!rte_pktmbuf_is_contiguous(m) && rte_pktmbuf_linearize(m) != 0) {
        dp::bump(sc_.local_unhandled);  // jumbo ping larger than one segment
        return drop(m, Drop::local_unhandled);
    }
    if (rte_pktmbuf_data_len(m) < l3 || (family != 4 && family != 6))
        return drop(m, Drop::slowpath_bad);
    uint8_t* ip = rte_pktmbuf_mtod_offset(m, uint8_t*, l3);
    size_t len = rte_pktmbuf_data_len(m) - l3;

    if (family == 6 && len > sizeof(wire::Ipv6) + 1 &&
        reinterpret_cast<const wire::Ipv6*>(ip)->next == wire::ipproto::icmpv6 &&
        (ip[40] == wire::icmp6::neigh_solicit || ip[40] == wire::icmp6::neigh_advert))
        return on_nd(snap, m);  // unicast ND to our address classified as local

    size_t off = 0, out_len = 0;
    proto::EchoResult r = family == 4 ? proto::echo_reply4(ip, len, ip_id_++, off, out_len)
                                      : proto::echo_reply6(ip, len, out_len);
    switch (r) {
        case proto::EchoResult::ok:
            rte_pktmbuf_adj(m, uint16_t(l3 + off));
            rte_pktmbuf_trim(m, uint16_t(rte_pktmbuf_pkt_len(m) - out_len));
            // Receive flags of the request mean nothing for the reply; the buffer-ownership
            // bits must survive or freeing an external / indirect mbuf goes wrong.
            m->ol_flags &= RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
            m->packet_type = 0;
            set_meta(m, dp::Entry::l3, dp::port_local, family);
            dp::bump(sc_.icmp_echo_replies);
            return inject(m);
        case proto::EchoResult::not_icmp:
        case proto::EchoResult::not_echo:
            dp::bump(sc_.local_unhandled);
            return drop(m, Drop::local_unhandled);
        case proto::EchoResult::fragment:
            return drop(m, Drop::outer_fragment);
        case proto::EchoResult::bad_source:
            return drop(m, Drop::ip_martian);
        case proto::EchoResult::truncated:
        case proto::EchoResult::bad_header:
        case proto::EchoResult::bad_checksum:
            break;
    }
    drop(m, Drop::slowpath_bad);
}

// ---------------------------------------------------------------- ICMP errors

void SlowPath::on_error(const dp::Snapshot& snap, rte_mbuf* m, uint64_t now) noexcept {
    const dp::PktMeta& mt = dp::meta(m);
    // The original packet is dropped whatever happens; the reason is the worker's verdict.
    const Drop why = mt.punt == dp::Punt::ttl_exceeded ? Drop::ttl_exceeded
                     : mt.punt == dp::Punt::no_route   ? Drop::no_route
                                                       : Drop::mtu_exceeded;
    const bool v4 = mt.family == 4;
    if ((mt.family != 4 && mt.family != 6) || mt.l3_off > rte_pktmbuf_pkt_len(m))
        return drop(m, Drop::slowpath_bad);
    if (mt.in_port == dp::port_local) {
        // Our own packet (a reply we injected): answering it would talk to ourselves.
        dp::bump(sc_.icmp_errors_suppressed);
        return drop(m, why);
    }

    uint8_t buf[1280];
    size_t avail = std::min<size_t>(rte_pktmbuf_pkt_len(m) - mt.l3_off, sizeof(buf));
    auto* ip = static_cast<const uint8_t*>(rte_pktmbuf_read(m, mt.l3_off, uint32_t(avail), buf));
    // The received Ethernet header is still in front of a packet that came from a port.
    const bool l2_group = mt.tunnel_in == dp::no_tunnel && mt.l3_off >= sizeof(wire::Eth) &&
                          rte_pktmbuf_data_len(m) >= sizeof(wire::Eth) &&
                          proto::mac_is_group(rte_pktmbuf_mtod(m, const uint8_t*));
    proto::Offender o{};
    proto::ErrVerdict v = !ip  ? proto::ErrVerdict::malformed
                          : v4 ? proto::check_error4(ip, avail, l2_group, o)
                               : proto::check_error6(ip, avail, l2_group, o);
    if (v == proto::ErrVerdict::malformed) return drop(m, Drop::slowpath_bad);
    if (v == proto::ErrVerdict::send && v4 && directed_broadcast(snap, o.dst))
        v = proto::ErrVerdict::dst_group;
    if (v != proto::ErrVerdict::send) {
        dp::bump(sc_.icmp_errors_suppressed);
        return drop(m, why);
    }
    IpAddr src;
    if (!error_source(snap, mt, v4, o.src, src)) {
        dp::bump(sc_.no_source_addr);
        return drop(m, why);
    }
    if (!icmp_allowed(now)) {
        dp::bump(sc_.rate_limited);
        return drop(m, Drop::icmp_rate_limited);
    }

    const size_t hdr = v4 ? proto::icmp4_err_hdr : proto::icmp6_err_hdr;
    size_t quote = v4 ? proto::quote_len4(o.len) : proto::quote_len6(o.len);
    uint8_t* d;
    rte_mbuf* r = alloc(hdr + quote, d);
    if (!r) return drop(m, why);
    std::memcpy(d + hdr, ip, quote);
    uint8_t type, code;
    uint32_t rest = 0;
    switch (mt.punt) {
        case dp::Punt::ttl_exceeded:
            type = v4 ? wire::icmp4::time_exceeded : wire::icmp6::time_exceeded;
            code = 0;  // RFC 792 / RFC 4443 §3.3: hop limit exceeded in transit
            break;
        case dp::Punt::no_route:
            type = v4 ? wire::icmp4::dest_unreach : wire::icmp6::dest_unreach;
            code = 0;  // RFC 792 net unreachable / RFC 4443 §3.1 no route to destination
            break;
        default:
            // RFC 1191 §4: type 3 code 4 with the next-hop MTU in the low 16 bits;
            // RFC 4443 §3.2: Packet Too Big with a 32-bit MTU.
            type = v4 ? wire::icmp4::dest_unreach : wire::icmp6::packet_too_big;
            code = v4 ? wire::icmp4::code_frag_needed : 0;
            rest = mt.mtu;
            break;
    }
    if (v4)
        proto::build_error4(d, quote, src.v4_bytes(), o.src.v4_bytes(), type, code, rest, ip_id_++);
    else
        proto::build_error6(d, quote, src.b.data(), o.src.b.data(), type, code, rest);
    set_meta(r, dp::Entry::l3, dp::port_local, v4 ? 4 : 6);
    dp::bump(sc_.icmp_errors_tx);
    inject(r);
    drop(m, why);
}

}  // namespace tgw::slowpath
