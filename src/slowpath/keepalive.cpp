// Cisco-compatible GRE keepalives. The probe is a GRE packet addressed back to us, sent
// inside the tunnel: outer (local -> remote) / GRE / inner IP (remote -> local) / GRE, proto 0.
// The peer decapsulates it and routes the inner packet, which is addressed to us, back over
// the underlay, so any GRE implementation "answers" without knowing about keepalives. The
// inner GRE header carries the tunnel's key so the reflection matches the tunnel on receive.
#include "dp/meta.hpp"
#include "slowpath/slowpath.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::slowpath {

using namespace wire;

bool SlowPath::send_keepalive(const dp::Snapshot& snap, uint32_t index) noexcept {
    if (index >= snap.tunnels.size()) return false;
    const dp::Tunnel& t = snap.tunnels[index];
    const size_t ip_len = t.outer_v6 ? sizeof(Ipv6) : sizeof(Ipv4);
    const bool key = reinterpret_cast<const Gre*>(t.tmpl + t.ip_len)->flags_ver.get() & Gre::flag_k;
    const size_t gre_len = key ? 8 : 4;
    uint8_t* d;
    rte_mbuf* m = alloc(ip_len + gre_len, d);
    if (!m) return false;
    std::memset(d, 0, ip_len + gre_len);
    if (!t.outer_v6) {
        auto* ip = reinterpret_cast<Ipv4*>(d);
        ip->ver_ihl = 0x45;
        ip->total_len.set(uint16_t(ip_len + gre_len));
        ip->ttl = 255;
        ip->proto = ipproto::gre;
        std::memcpy(ip->src, t.remote.v4_bytes(), 4);
        std::memcpy(ip->dst, t.local.v4_bytes(), 4);
        ip->csum.set(csum_fold(csum_partial(ip, sizeof(Ipv4))));
    } else {
        auto* ip6 = reinterpret_cast<Ipv6*>(d);
        ip6->vtc_flow.set(6u << 28);
        ip6->payload_len.set(uint16_t(gre_len));
        ip6->next = ipproto::gre;
        ip6->hop_limit = 255;
        std::memcpy(ip6->src, t.remote.b.data(), 16);
        std::memcpy(ip6->dst, t.local.b.data(), 16);
    }
    auto* g = reinterpret_cast<Gre*>(d + ip_len);
    if (key) {
        g->flags_ver.set(Gre::flag_k);
        std::memcpy(d + ip_len + 4, t.tmpl + t.ip_len + 4 + (t.gre_csum_off ? 4 : 0), 4);
    }
    dp::PktMeta& md = dp::meta(m);
    md = dp::PktMeta{};
    md.entry = dp::Entry::encap;
    md.tunnel_in = index;
    md.gen = uint32_t(snap.generation);
    md.in_port = dp::port_local;
    md.neigh_pos = -1;
    md.family = t.outer_v6 ? 6 : 4;
    dp::bump(env_.ctr->tunnel[t.slot].keepalives_tx);
    inject(m);
    return true;
}

}  // namespace tgw::slowpath
