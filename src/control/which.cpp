#include "control/which.hpp"

#include <rte_fib.h>
#include <rte_fib6.h>

#include <sstream>
#include <vector>

#include "dp/flow_hash.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::control {

using namespace wire;

std::optional<FlowQuery> parse_flow(const std::string& text, std::string& error) {
    std::istringstream in(text);
    std::vector<std::string> w;
    for (std::string x; in >> x;) w.push_back(x);
    if (w.size() != 2 && w.size() != 3 && w.size() != 5) {
        error = "expected \"SRC DST [PROTO [SPORT DPORT]]\", e.g. \"10.10.1.2 10.20.0.5 tcp 40000 443\"";
        return std::nullopt;
    }
    FlowQuery q;
    auto s = IpAddr::parse(w[0]), d = IpAddr::parse(w[1]);
    if (!s || !d || s->is_v4() != d->is_v4()) {
        error = "SRC and DST must be two addresses of the same family";
        return std::nullopt;
    }
    q.src = *s;
    q.dst = *d;
    if (w.size() >= 3) {
        static const std::pair<const char*, uint8_t> names[] = {
            {"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmpv6", 58}, {"sctp", 132}, {"gre", 47}, {"esp", 50}};
        bool ok = false;
        for (auto& [n, v] : names)
            if (w[2] == n) q.proto = v, ok = true;
        if (!ok) {
            char* end;
            long v = strtol(w[2].c_str(), &end, 10);
            if (*end || v < 0 || v > 255) {
                error = "PROTO must be tcp, udp, icmp, icmpv6, sctp or a number from 0 to 255";
                return std::nullopt;
            }
            q.proto = uint8_t(v);
        }
    }
    if (w.size() == 5) {
        char *e1, *e2;
        long a = strtol(w[3].c_str(), &e1, 10), b = strtol(w[4].c_str(), &e2, 10);
        if (*e1 || *e2 || a < 0 || a > 65535 || b < 0 || b > 65535) {
            error = "SPORT and DPORT must be numbers from 0 to 65535";
            return std::nullopt;
        }
        q.sport = uint16_t(a);
        q.dport = uint16_t(b);
    }
    return q;
}

FlowAnswer which_tunnel(const dp::Snapshot& s, const FlowQuery& q) {
    // The header the fast path would hash: the packet as it would be routed.
    uint8_t pkt[sizeof(Ipv6) + 4] = {};
    uint8_t family = q.dst.is_v4() ? 4 : 6;
    uint32_t len;
    if (family == 4) {
        auto* ip = reinterpret_cast<Ipv4*>(pkt);
        ip->ver_ihl = 0x45;
        ip->proto = q.proto;
        std::memcpy(ip->src, q.src.v4_bytes(), 4);
        std::memcpy(ip->dst, q.dst.v4_bytes(), 4);
        len = sizeof(Ipv4);
    } else {
        auto* ip6 = reinterpret_cast<Ipv6*>(pkt);
        ip6->vtc_flow.set(6u << 28);
        ip6->next = q.proto;
        std::memcpy(ip6->src, q.src.b.data(), 16);
        std::memcpy(ip6->dst, q.dst.b.data(), 16);
        len = sizeof(Ipv6);
    }
    be16 ports[2];
    ports[0].set(q.sport);
    ports[1].set(q.dport);
    std::memcpy(pkt + len, ports, 4);

    uint64_t nh = 0;
    if (family == 4) {
        uint32_t a = q.dst.v4_host();
        rte_fib_lookup_bulk(s.fib4, &a, &nh, 1);
    } else {
        uint8_t a[1][16];
        std::memcpy(a[0], q.dst.b.data(), 16);
        rte_fib6_lookup_bulk(s.fib6, a, &nh, 1);
    }
    FlowAnswer r;
    if (nh >= s.nexthops.size()) nh = 0;
    const dp::NextHop& h = s.nexthops[nh];
    switch (h.kind) {
    case dp::NhKind::drop:
        r.verdict = "no-route";
        r.text = "no route to " + q.dst.str();
        break;
    case dp::NhKind::local:
        r.verdict = "local";
        r.text = q.dst.str() + " is an address of this gateway";
        break;
    case dp::NhKind::blackhole:
        r.verdict = "blackhole";
        r.text = "dropped: the route is a blackhole";
        break;
    case dp::NhKind::down:
        r.verdict = "down";
        r.text = "dropped: the route's tunnels (and backup) are all down";
        break;
    case dp::NhKind::port:
        r.verdict = "port";
        r.text = "out of port " + s.ports[h.port].name +
                 (h.gw.is_zero() ? std::string(" (on-link)") : " via " + h.gw.str());
        break;
    case dp::NhKind::tunnel:
        r.verdict = "tunnel";
        r.tunnel = s.tunnels[h.tunnel].name;
        r.text = "tunnel " + r.tunnel;
        break;
    case dp::NhKind::group: {
        const dp::Group& g = s.groups[h.tunnel];
        uint32_t hash = dp::flow_hash_bytes(pkt, len + 4, family);
        r.verdict = "group";
        r.group = g.name;
        r.tunnel = s.tunnels[g.tunnels[g.table[hash & dp::ecmp_mask]]].name;
        r.text = "tunnel " + r.tunnel + " (group " + g.name + ", flow hash 0x" +
                 [](uint32_t v) {
                     char b[9];
                     snprintf(b, sizeof b, "%08x", v);
                     return std::string(b);
                 }(hash) + ")";
        break;
    }
    }
    return r;
}

}  // namespace tgw::control
