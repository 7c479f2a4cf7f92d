// IPv6 neighbour discovery (RFC 4861) parsing and building over plain buffers.
#include <cstring>

#include "slowpath/proto.hpp"

namespace tgw::slowpath::proto {

namespace {

constexpr uint8_t opt_source_lla = 1;
constexpr uint8_t opt_target_lla = 2;

void write_ip6(uint8_t* p, const uint8_t src[16], const uint8_t dst[16], uint16_t payload) {
    auto* ip = reinterpret_cast<wire::Ipv6*>(p);
    ip->vtc_flow.set(6u << 28);
    ip->payload_len.set(payload);
    ip->next = wire::ipproto::icmpv6;
    ip->hop_limit = 255;  // RFC 4861 §7.1: ND is accepted only with hop limit 255
    std::memcpy(ip->src, src, 16);
    std::memcpy(ip->dst, dst, 16);
}

// Ethernet + IPv6 + the 24-byte NS/NA body + one LLA option; returns the ND message.
wire::NdMsg* write_nd(uint8_t* out, const uint8_t eth_src[6], const uint8_t eth_dst[6],
                      const uint8_t src[16], const uint8_t dst[16], uint8_t type,
                      const uint8_t target[16], uint8_t opt_type) {
    std::memset(out, 0, nd_frame_len);
    auto* eth = reinterpret_cast<wire::Eth*>(out);
    std::memcpy(eth->dst, eth_dst, 6);
    std::memcpy(eth->src, eth_src, 6);
    eth->type.set(wire::ethertype::ipv6);
    write_ip6(out + 14, src, dst, sizeof(wire::NdMsg) + sizeof(wire::NdLlaOpt));
    auto* nd = reinterpret_cast<wire::NdMsg*>(out + 14 + 40);
    nd->type = type;
    std::memcpy(nd->target, target, 16);
    auto* opt = reinterpret_cast<wire::NdLlaOpt*>(out + 14 + 40 + sizeof(wire::NdMsg));
    opt->type = opt_type;
    opt->len = 1;
    std::memcpy(opt->mac, eth_src, 6);
    return nd;
}

void finish_csum(uint8_t* frame, wire::NdMsg* nd) {
    const auto* ip = reinterpret_cast<const wire::Ipv6*>(frame + 14);
    nd->csum.set(0);
    nd->csum.set(icmp6_checksum(ip->src, ip->dst, reinterpret_cast<const uint8_t*>(nd),
                                ip->payload_len.get()));
}

}  // namespace

uint16_t icmp6_checksum(const uint8_t src[16], const uint8_t dst[16], const uint8_t* msg,
                        size_t len) noexcept {
    uint32_t s = wire::csum_partial(src, 16);
    s = wire::csum_partial(dst, 16, s);
    s += uint32_t(len >> 16) + uint32_t(len & 0xffff);  // upper-layer packet length (32 bits)
    s += wire::ipproto::icmpv6;                         // 3 zero bytes + next header
    s = wire::csum_partial(msg, len, s);
    return wire::csum_fold(s);
}

void solicited_node(const uint8_t target[16], uint8_t group[16]) noexcept {
    static constexpr uint8_t pfx[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
    std::memcpy(group, pfx, 13);
    std::memcpy(group + 13, target + 13, 3);
}

void v6_multicast_mac(const uint8_t group[16], uint8_t mac[6]) noexcept {
    mac[0] = mac[1] = 0x33;
    std::memcpy(mac + 2, group + 12, 4);
}

NdParse parse_nd(const uint8_t* p, size_t len, NdMsg& out) noexcept {
    if (len < sizeof(wire::Ipv6)) return NdParse::truncated;
    const auto* ip = reinterpret_cast<const wire::Ipv6*>(p);
    if (ip->version() != 6 || ip->next != wire::ipproto::icmpv6) return NdParse::not_nd;
    size_t plen = ip->payload_len.get();
    if (plen > len - sizeof(wire::Ipv6)) return NdParse::truncated;
    if (plen < 1) return NdParse::truncated;
    const uint8_t* icmp = p + sizeof(wire::Ipv6);
    uint8_t type = icmp[0];
    if (type != wire::icmp6::neigh_solicit && type != wire::icmp6::neigh_advert)
        return NdParse::not_nd;
    // RFC 4861 §7.1.1 (NS) and §7.1.2 (NA) validity checks, in that order.
    if (ip->hop_limit != 255) return NdParse::bad_hop_limit;
    if (plen < sizeof(wire::NdMsg)) return NdParse::bad_length;
    const auto* nd = reinterpret_cast<const wire::NdMsg*>(icmp);
    if (icmp6_checksum(ip->src, ip->dst, icmp, plen) != 0) return NdParse::bad_checksum;
    if (nd->code != 0) return NdParse::bad_code;
    if (v6_is_multicast(nd->target)) return NdParse::bad_target;

    out = NdMsg{};
    out.type = type;
    out.flags = nd->flags.get();
    out.src = IpAddr::v6(ip->src);
    out.dst = IpAddr::v6(ip->dst);
    out.target = IpAddr::v6(nd->target);
    uint8_t want = type == wire::icmp6::neigh_solicit ? opt_source_lla : opt_target_lla;
    bool any_slla = false;
    for (size_t off = sizeof(wire::NdMsg); off < plen;) {
        if (plen - off < 2) return NdParse::bad_option;
        size_t olen = size_t(icmp[off + 1]) * 8;
        if (olen == 0 || olen > plen - off) return NdParse::bad_option;
        if (icmp[off] == opt_source_lla) any_slla = true;
        // RFC 2464 §6: the Ethernet LLA option is exactly 8 bytes; others are ignored.
        if (icmp[off] == want && olen == sizeof(wire::NdLlaOpt) && !out.has_lla) {
            out.has_lla = true;
            std::memcpy(out.lla, icmp + off + 2, 6);
        }
        off += olen;
    }
    if (type == wire::icmp6::neigh_solicit && v6_is_unspecified(ip->src)) {
        // DAD probe: must go to the target's solicited-node group, without a source LLA.
        uint8_t group[16];
        solicited_node(nd->target, group);
        if (std::memcmp(group, ip->dst, 16) != 0 || any_slla) return NdParse::bad_dad;
    }
    if (type == wire::icmp6::neigh_advert && v6_is_multicast(ip->dst) &&
        (out.flags & wire::NdMsg::na_solicited))
        return NdParse::bad_solicited;
    return NdParse::ok;
}

size_t build_na(uint8_t* out, size_t cap, const uint8_t eth_src[6], const uint8_t eth_dst[6],
                const uint8_t src[16], const uint8_t dst[16], const uint8_t target[16],
                uint32_t flags) noexcept {
    if (cap < nd_frame_len) return 0;
    wire::NdMsg* nd = write_nd(out, eth_src, eth_dst, src, dst, wire::icmp6::neigh_advert, target,
                               opt_target_lla);
    nd->flags.set(flags);
    finish_csum(out, nd);
    return nd_frame_len;
}

size_t build_ns(uint8_t* out, size_t cap, const uint8_t eth_src[6], const uint8_t src[16],
                const uint8_t target[16]) noexcept {
    if (cap < nd_frame_len) return 0;
    // RFC 4861 §7.2.2: multicast to the target's solicited-node group, with our source LLA.
    uint8_t group[16], mac[6];
    solicited_node(target, group);
    v6_multicast_mac(group, mac);
    wire::NdMsg* nd =
        write_nd(out, eth_src, mac, src, group, wire::icmp6::neigh_solicit, target, opt_source_lla);
    finish_csum(out, nd);
    return nd_frame_len;
}

}  // namespace tgw::slowpath::proto
