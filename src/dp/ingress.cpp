#include <rte_ip.h>

#include "dp/bridge.hpp"
#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::dp {

using namespace wire;

namespace {
// Header checksum check in 32-bit words: a sum over a correct header folds to 0xffff.
inline bool ipv4_header_ok(const Ipv4* ip, unsigned hl) noexcept {
    const auto* p = reinterpret_cast<const uint8_t*>(ip);
    uint64_t sum = 0;
    for (unsigned i = 0; i < hl; i += 4) {
        uint32_t w;
        std::memcpy(&w, p + i, 4);
        sum += w;
    }
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffffffff) + (sum >> 32);
    uint32_t s32 = uint32_t(sum);
    uint32_t s16 = (s32 & 0xffff) + (s32 >> 16);
    s16 = (s16 & 0xffff) + (s16 >> 16);
    return s16 == 0xffff;
}

inline bool mac_eq(const uint8_t* a, const uint8_t* b) noexcept {
    uint32_t a4, b4;
    uint16_t a2, b2;
    std::memcpy(&a4, a, 4);
    std::memcpy(&b4, b, 4);
    std::memcpy(&a2, a + 4, 2);
    std::memcpy(&b2, b + 4, 2);
    return a4 == b4 && a2 == b2;
}
}  // namespace

Drop validate_ip(rte_mbuf* m, uint8_t family) noexcept {
    uint32_t len = rte_pktmbuf_pkt_len(m);
    if (family == 4) {
        if (len < sizeof(Ipv4) || rte_pktmbuf_data_len(m) < sizeof(Ipv4)) return Drop::ip_truncated;
        auto* ip = rte_pktmbuf_mtod(m, Ipv4*);
        unsigned hl = ip->header_len();
        if (ip->version() != 4 || hl < sizeof(Ipv4)) return Drop::ip_bad_header;
        unsigned total = ip->total_len.get();
        if (total < hl) return Drop::ip_bad_header;
        if (len < total || rte_pktmbuf_data_len(m) < hl) return Drop::ip_truncated;
        if (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_BAD) return Drop::ip_bad_checksum;
        if (!(m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_GOOD) && !ipv4_header_ok(ip, hl))
            return Drop::ip_bad_checksum;
        uint8_t s0 = ip->src[0];
        if (s0 == 127 || s0 >= 224 || (s0 == 0)) return Drop::ip_martian;
        if (len > total) rte_pktmbuf_trim(m, uint16_t(len - total));  // Ethernet padding
        return Drop::count;
    }
    if (len < sizeof(Ipv6) || rte_pktmbuf_data_len(m) < sizeof(Ipv6)) return Drop::ip_truncated;
    auto* ip6 = rte_pktmbuf_mtod(m, Ipv6*);
    if (ip6->version() != 6) return Drop::ip_bad_header;
    uint32_t total = sizeof(Ipv6) + ip6->payload_len.get();
    if (len < total) return Drop::ip_truncated;
    // RFC 4291 §2.5.2/2.7: unspecified may only be a source for DAD (ND, punted before
    // this matters), multicast never; loopback never on the wire.
    static constexpr uint8_t loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (ip6->src[0] == 0xff || std::memcmp(ip6->src, loop, 16) == 0) return Drop::ip_martian;
    if (len > total) rte_pktmbuf_trim(m, uint16_t(len - total));
    return Drop::count;
}

void ingress(WorkerCtx& c, const Snapshot& s, Vec& in, Vec& l3) noexcept {
    for (uint16_t i = 0; i < in.n; i++) {
        rte_mbuf* m = in.m[i];
        PktMeta& md = meta(m);
        if (md.in_port < c.n_ports) {
            PortCounters& pc = c.ctr->port[md.in_port];
            bump(pc.rx_pkts);
            bump(pc.rx_bytes, rte_pktmbuf_pkt_len(m));
        }
        if (rte_pktmbuf_data_len(m) < sizeof(Eth)) {
            drop(c, m, Drop::l2_short);
            continue;
        }
        // Bridged ports and VLANs go to the bridge before any L3 handling (dp/bridge.hpp).
        if (s.l2) {
            uint16_t mem = bridge_classify(*s.l2, md.in_port, m);
            if (mem != no_member) {
                if (!c.l2.push(m, mem)) drop(c, m, Drop::tx_full);
                continue;
            }
        }
        auto* eth = rte_pktmbuf_mtod(m, Eth*);
        // Ports run promiscuous (a MAC override may not be programmable on every PMD), so
        // unicast to another station is filtered here.
        if (!(eth->dst[0] & 1) && md.in_port < s.ports.size() &&
            !mac_eq(eth->dst, s.ports[md.in_port].mac)) {
            drop(c, m, Drop::l2_not_for_us);
            continue;
        }
        uint16_t type = eth->type.get();
        uint8_t family;
        if (type == ethertype::ipv4) family = 4;
        else if (type == ethertype::ipv6) family = 6;
        else if (type == ethertype::arp) {
            md.l3_off = sizeof(Eth);
            punt(c, m, Punt::arp);
            continue;
        } else if (type == ethertype::vlan || type == ethertype::qinq) {
            drop(c, m, Drop::l2_vlan);
            continue;
        } else {
            drop(c, m, Drop::l2_ethertype);
            continue;
        }
        rte_pktmbuf_adj(m, sizeof(Eth));
        Drop bad = validate_ip(m, family);
        if (bad != Drop::count) {
            drop(c, m, bad);
            continue;
        }
        md.family = family;
        md.l3_off = 0;
        l3.push(m);
    }
    in.n = 0;
}

}  // namespace tgw::dp
