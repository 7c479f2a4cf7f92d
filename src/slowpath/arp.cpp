// ARP (RFC 826) parsing and building over plain buffers.
#include <cstring>

#include "slowpath/proto.hpp"

namespace tgw::slowpath::proto {

ArpParse parse_arp(const uint8_t* frame, size_t len, ArpMsg& out) noexcept {
    if (len < sizeof(wire::Eth) + sizeof(wire::Arp)) return ArpParse::truncated;
    const auto* eth = reinterpret_cast<const wire::Eth*>(frame);
    if (eth->type.get() != wire::ethertype::arp) return ArpParse::not_arp;
    const auto* a = reinterpret_cast<const wire::Arp*>(frame + sizeof(wire::Eth));
    // RFC 826 "Packet Reception": only the hardware / protocol pair we speak.
    if (a->htype.get() != 1 || a->ptype.get() != wire::ethertype::ipv4 || a->hlen != 6 ||
        a->plen != 4)
        return ArpParse::bad_format;
    uint16_t op = a->op.get();
    if (op != wire::Arp::op_request && op != wire::Arp::op_reply) return ArpParse::bad_op;
    if (mac_is_group(a->sha) || mac_is_zero(a->sha)) return ArpParse::bad_sender;
    out.op = op;
    std::memcpy(out.sha, a->sha, 6);
    std::memcpy(out.spa, a->spa, 4);
    std::memcpy(out.tha, a->tha, 6);
    std::memcpy(out.tpa, a->tpa, 4);
    return ArpParse::ok;
}

size_t build_arp(uint8_t* out, size_t cap, uint16_t op, const uint8_t eth_dst[6],
                 const uint8_t sha[6], const uint8_t spa[4], const uint8_t tha[6],
                 const uint8_t tpa[4]) noexcept {
    // Pad to the Ethernet minimum ourselves: not every PMD (pcap, tap) pads short frames.
    if (cap < eth_min_frame) return 0;
    std::memset(out, 0, eth_min_frame);
    auto* eth = reinterpret_cast<wire::Eth*>(out);
    std::memcpy(eth->dst, eth_dst, 6);
    std::memcpy(eth->src, sha, 6);
    eth->type.set(wire::ethertype::arp);
    auto* a = reinterpret_cast<wire::Arp*>(out + sizeof(wire::Eth));
    a->htype.set(1);
    a->ptype.set(wire::ethertype::ipv4);
    a->hlen = 6;
    a->plen = 4;
    a->op.set(op);
    std::memcpy(a->sha, sha, 6);
    std::memcpy(a->spa, spa, 4);
    std::memcpy(a->tha, tha, 6);
    std::memcpy(a->tpa, tpa, 4);
    return eth_min_frame;
}

}  // namespace tgw::slowpath::proto
