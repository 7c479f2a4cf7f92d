// Inbound ESP (RFC 4303 §3.4): find the SA by SPI and destination (rte_ipsec_sad), decrypt,
// verify, check and update the anti-replay window (rte_ipsec over crypto_ipsec_mb), then hand
// the inner packet back to routing. NAT-T (RFC 3948) UDP encapsulation is removed first.
//
// The replay window has one writer: the SA's owner worker. Packets that arrive on another
// worker are handed over before any SA state is read (see esp_out.cpp for why not atomics).
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_ip.h>
#include <rte_ipsec_sad.h>

#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::dp {

using namespace wire;

namespace {

// RFC 3948 §2.2 non-ESP marker (IKE) and §2.3 NAT-keepalive; otherwise strips the UDP header
// so the packet looks like plain ESP (the ICV never covers the outer headers).
enum class Natt { esp, ike, keepalive, bad };

Natt classify_natt(rte_mbuf* m, uint32_t l4) noexcept {
    const uint32_t dlen = rte_pktmbuf_data_len(m);
    if (l4 + sizeof(Udp) >= dlen) return Natt::bad;
    const uint32_t payload = dlen - l4 - uint32_t(sizeof(Udp));
    const uint8_t* u = rte_pktmbuf_mtod_offset(m, const uint8_t*, l4 + sizeof(Udp));
    if (payload == 1 && u[0] == 0xff) return Natt::keepalive;
    if (payload >= 4 && u[0] == 0 && u[1] == 0 && u[2] == 0 && u[3] == 0) return Natt::ike;
    if (payload < sizeof(Esp)) return Natt::bad;
    return Natt::esp;
}

void strip_natt(rte_mbuf* m, uint32_t l4) noexcept {
    auto* p = rte_pktmbuf_mtod(m, uint8_t*);
    auto* ip = reinterpret_cast<Ipv4*>(p);  // NAT-T is IPv4 only (validated)
    ip->proto = ipproto::esp;
    ip->total_len.set(uint16_t(ip->total_len.get() - sizeof(Udp)));
    std::memmove(p + sizeof(Udp), p, l4);
    rte_pktmbuf_adj(m, sizeof(Udp));
}

// Why rte_ipsec_pkt_process refused a packet whose crypto succeeded. It checks the trailer
// (pad length, pad bytes 1, 2, 3, ... of RFC 4303 §2.4, next header) before it touches the
// packet, and only then strips the outer header, ESP header and trailer and updates the replay
// window (a duplicate within one burst, or one the burst pushed out of the window, fails
// there). So a packet that left shorter than it came was refused by the window.
bool refused_by_window(rte_mbuf* m) noexcept { return rte_pktmbuf_pkt_len(m) != meta(m).plain_len; }

// A plain IPsec tunnel's inbound policy (RFC 4301 §5.2 step 4, simplified to routing): the
// decrypted packet's source must be a destination this gateway routes into the same tunnel.
// One FIB lookup for the whole run; ok[i] tells packet i's verdict.
void sources_route_back(const Snapshot& s, rte_mbuf* const* m, uint16_t n, uint8_t family,
                        uint32_t tunnel, bool* ok) noexcept {
    uint64_t nh[max_burst];
    if (family == 4) {
        uint32_t a[max_burst];
        for (uint16_t i = 0; i < n; i++) {
            auto* ip = rte_pktmbuf_mtod(m[i], const Ipv4*);
            a[i] = uint32_t(ip->src[0]) << 24 | uint32_t(ip->src[1]) << 16 |
                   uint32_t(ip->src[2]) << 8 | ip->src[3];
        }
        rte_fib_lookup_bulk(s.fib4, a, nh, n);
    } else {
        uint8_t a[max_burst][16];
        for (uint16_t i = 0; i < n; i++) std::memcpy(a[i], rte_pktmbuf_mtod(m[i], const Ipv6*)->src, 16);
        rte_fib6_lookup_bulk(s.fib6, a, nh, n);
    }
    for (uint16_t i = 0; i < n; i++) {
        ok[i] = false;
        if (nh[i] >= s.nexthops.size()) continue;
        const NextHop& h = s.nexthops[nh[i]];
        if (h.kind == NhKind::tunnel) {
            ok[i] = h.tunnel == tunnel;
        } else if (h.kind == NhKind::group) {
            for (uint32_t t : s.groups[h.tunnel].tunnels) ok[i] = ok[i] || t == tunnel;
        }
    }
}

void open_run(WorkerCtx& c, const Snapshot& s, uint32_t si, rte_mbuf** m, uint16_t n,
              Vec& inner) noexcept {
    const Sa& sa = s.sas[si];
    SaLive& l = *sa.live;
    SaCounters& k = l.ctr;
    if (l.state() >= sa_hard) {
        for (uint16_t i = 0; i < n; i++) drop(c, m[i], Drop::sa_expired);
        bump(k.expired, n);
        return;
    }
    // Lengths first (RFC 4303 §2: header, IV, whole blocks, trailer, ICV), so rte_ipsec's
    // remaining reasons to refuse a packet in prepare are the replay check alone.
    uint16_t ok = 0;
    for (uint16_t i = 0; i < n; i++) {
        rte_mbuf* p = m[i];
        const uint32_t esp_len = rte_pktmbuf_pkt_len(p) - p->l3_len;
        const uint32_t fixed = uint32_t(sizeof(Esp)) + sa.iv_len + sa.icv_len;
        if (esp_len < fixed + 2 || (esp_len - fixed) % sa.block != 0) {
            bump(k.truncated);
            drop(c, p, Drop::esp_truncated);
            continue;
        }
        const uint32_t seq = rte_pktmbuf_mtod_offset(p, const Esp*, p->l3_len)->seq.get();
        // RFC 4303 §3.4.3: a window of W covers the W numbers up to the highest accepted one.
        // rte_ipsec (22.11) refuses only what lies strictly below top - W, one number too
        // many; this closes that edge. With ESN rte_ipsec's own check is all there is.
        if (sa.replay_window && !sa.esn && l.rx_top && seq + uint64_t(sa.replay_window) <= l.rx_top) {
            bump(k.replay);
            drop(c, p, Drop::esp_replay);
            continue;
        }
        meta(p).esp_seq = seq;
        m[ok++] = p;
    }
    n = ok;
    if (!n) return;
    for (uint16_t i = 0; i < n; i++) meta(m[i]).plain_len = uint16_t(rte_pktmbuf_pkt_len(m[i]));
    uint16_t prepared = rte_ipsec_pkt_cpu_prepare(&l.ss, m, n);
    for (uint16_t i = prepared; i < n; i++) drop(c, m[i], Drop::esp_replay);
    bump(k.replay, n - prepared);
    uint16_t done = rte_ipsec_pkt_process(&l.ss, m, prepared);
    for (uint16_t i = done; i < prepared; i++) {
        if (m[i]->ol_flags & RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED) {
            bump(k.auth_failed);
            drop(c, m[i], Drop::esp_auth_failed);
        } else if (refused_by_window(m[i])) {
            bump(k.replay);
            drop(c, m[i], Drop::esp_replay);
        } else {
            bump(k.bad_trailer);
            drop(c, m[i], Drop::esp_bad_trailer);
        }
    }

    const bool plain_tunnel = sa.tunnel != no_tunnel && s.tunnels[sa.tunnel].ipsec_only;
    uint16_t kept = 0;
    for (uint16_t i = 0; i < done; i++) {
        rte_mbuf* p = m[i];
        PktMeta& md = meta(p);
        // The receive flags described the outer header; what is left is the inner packet.
        p->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
        uint8_t family;
        if (sa.replay_window && !sa.esn) {  // the same edge, within this burst (authenticated now)
            if (l.rx_top && md.esp_seq + uint64_t(sa.replay_window) <= l.rx_top) {
                bump(k.replay);
                drop(c, p, Drop::esp_replay);
                continue;
            }
            if (md.esp_seq > l.rx_top) l.rx_top = md.esp_seq;
        }
        if (sa.tunnel_mode) {
            family = sa.inner_family;
        } else {
            // Transport mode: rte_ipsec restored the protocol and length; the checksum is ours.
            family = md.family;
            if (family == 4) {
                auto* ip = rte_pktmbuf_mtod(p, Ipv4*);
                ip->csum.set(0);
                ip->csum.raw = rte_ipv4_cksum(reinterpret_cast<const rte_ipv4_hdr*>(ip));
            }
        }
        if (validate_ip(p, family) != Drop::count) {
            drop(c, p, Drop::esp_inner_bad);
            continue;
        }
        md.family = family;
        m[kept++] = p;
    }
    // Tunnel mode fixes the inner family per SA; transport mode carries GRE (no policy here).
    bool allowed[max_burst];
    if (plain_tunnel && kept) sources_route_back(s, m, kept, sa.inner_family, sa.tunnel, allowed);
    uint64_t bytes = 0;
    uint32_t pkts = 0;
    for (uint16_t i = 0; i < kept; i++) {
        rte_mbuf* p = m[i];
        PktMeta& md = meta(p);
        if (plain_tunnel && !allowed[i]) {
            bump(k.policy);
            drop(c, p, Drop::esp_policy);
            continue;
        }
        const uint32_t len = rte_pktmbuf_pkt_len(p);
        // RFC 4301 §4.4.2.1: past the hard lifetime the SA carries nothing, also within the
        // burst that reached it (the state check above saw only the bursts before).
        if ((sa.hard.packets && k.pkts + pkts >= sa.hard.packets) ||
            (sa.hard.bytes && k.bytes + bytes + len > sa.hard.bytes)) {
            bump(k.expired);
            drop(c, p, Drop::sa_expired);
            continue;
        }
        md.sa = si;
        md.l3_off = 0;
        bytes += len;
        pkts++;
        if (plain_tunnel) {
            const Tunnel& t = s.tunnels[sa.tunnel];
            md.tunnel_in = sa.tunnel;
            bump(c.ctr->tunnel[t.slot].rx_pkts);
            bump(c.ctr->tunnel[t.slot].rx_bytes, len);
        }
        inner.push(p);
    }
    bump(k.pkts, pkts);
    bump(k.bytes, bytes);
    update_volume_state(sa, l);
}

}  // namespace

void esp_in(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& inner) noexcept {
    // Pass 1: NAT-T, lengths, SA lookup, ownership.
    Vec mine;
    uint32_t sa_of[max_burst];
    // A burst is mostly one SA: reuse the previous packet's lookup when the key is the same.
    union rte_ipsec_sad_key last_key{};
    uint8_t last_family = 0;
    void* last_found = nullptr;
    for (uint16_t i = 0; i < in.n; i++) {
        rte_mbuf* m = in.m[i];
        PktMeta& md = meta(m);
        const uint32_t l4 = in.aux[i] & ~esp_natt_flag;
        const bool natt = in.aux[i] & esp_natt_flag;
        if (natt) {
            switch (classify_natt(m, l4)) {
            case Natt::esp:
                break;
            case Natt::keepalive:
                drop(c, m, Drop::natt_keepalive);
                continue;
            case Natt::ike:  // host traffic: the IKE daemon's, not ours
                md.l3_off = 0;
                punt(c, m, Punt::local);
                continue;
            case Natt::bad:
                drop(c, m, Drop::esp_truncated);
                continue;
            }
        }
        const uint32_t esp_off = l4 + (natt ? uint32_t(sizeof(Udp)) : 0);
        if (rte_pktmbuf_data_len(m) < esp_off + sizeof(Esp)) {
            drop(c, m, Drop::esp_truncated);
            continue;
        }
        const auto* esp = rte_pktmbuf_mtod_offset(m, const Esp*, esp_off);
        union rte_ipsec_sad_key key{};
        const union rte_ipsec_sad_key* kp = &key;
        void* found = nullptr;
        if (md.family == 4) {
            key.v4.spi = esp->spi.raw;
            std::memcpy(&key.v4.dip, rte_pktmbuf_mtod(m, const Ipv4*)->dst, 4);
        } else {
            key.v6.spi = esp->spi.raw;
            std::memcpy(key.v6.dip, rte_pktmbuf_mtod(m, const Ipv6*)->dst, 16);
        }
        if (last_family == md.family && std::memcmp(&key, &last_key, sizeof key) == 0) {
            found = last_found;
        } else {
            rte_ipsec_sad* sad = md.family == 4 ? s.sad4 : s.sad6;
            if (sad) rte_ipsec_sad_lookup(sad, &kp, &found, 1);
            last_key = key;
            last_family = md.family;
            last_found = found;
        }
        if (!found) {
            drop(c, m, Drop::esp_no_sa);
            continue;
        }
        const uint32_t si = uint32_t(static_cast<const Sa*>(found) - s.sas.data());
        const Sa& sa = s.sas[si];
        if (sa.nat_t != natt) {
            // RFC 3948 §3.3 / RFC 4301: an SA is UDP-encapsulated or not, never both.
            drop(c, m, Drop::esp_no_sa);
            continue;
        }
        if (sa.owner != c.index && md.handed < max_handoffs) {
            // Re-enters at routing on the owner, unchanged.
            md.entry = Entry::l3;
            md.handed++;
            if (!c.handoff[sa.owner].push(m)) drop(c, m, Drop::handoff_ring_full);
            continue;
        }
        // The ICV never covers the outer headers: without its UDP header the packet is plain ESP.
        if (natt) strip_natt(m, l4);
        m->l2_len = 0;
        m->l3_len = l4;
        sa_of[mine.n] = si;
        mine.push(m);
    }
    in.n = 0;
    // Pass 2: one rte_ipsec call per run of packets of the same SA.
    uint16_t i = 0;
    while (i < mine.n) {
        uint16_t j = uint16_t(i + 1);
        while (j < mine.n && sa_of[j] == sa_of[i]) j++;
        open_run(c, s, sa_of[i], &mine.m[i], uint16_t(j - i), inner);
        i = j;
    }
}

}  // namespace tgw::dp
