// ICMP (RFC 792, RFC 1812 §4.3) and ICMPv6 (RFC 4443) echo replies and error messages over
// plain buffers.
#include <cstring>

#include "slowpath/proto.hpp"

namespace tgw::slowpath::proto {

namespace {

constexpr uint8_t reply_ttl = 64;
// RFC 1812 §4.3.2.5: errors other than source quench SHOULD carry precedence 6
// (internetwork control).
constexpr uint8_t error_tos = 0xc0;

bool csum_ok(const uint8_t* p, size_t len) noexcept {
    return wire::csum_fold(wire::csum_partial(p, len)) == 0;
}

void write_ip4(uint8_t* p, uint8_t tos, uint16_t total, uint16_t id, const uint8_t src[4],
               const uint8_t dst[4]) noexcept {
    auto* ip = reinterpret_cast<wire::Ipv4*>(p);
    ip->ver_ihl = 0x45;
    ip->tos = tos;
    ip->total_len.set(total);
    ip->id.set(id);
    ip->frag.set(0);
    ip->ttl = reply_ttl;
    ip->proto = wire::ipproto::icmp;
    std::memmove(ip->src, src, 4);  // src / dst may alias the old header being rewritten
    std::memmove(ip->dst, dst, 4);
    ip->csum.set(0);
    ip->csum.set(wire::csum_fold(wire::csum_partial(p, sizeof(wire::Ipv4))));
}

// ICMPv4 error types (RFC 1812 §4.3.2.7 "an ICMP error message"): everything that is not a
// query or a reply.
bool icmp4_is_error(uint8_t type) noexcept {
    switch (type) {
        case 3:   // destination unreachable
        case 4:   // source quench
        case 5:   // redirect
        case 11:  // time exceeded
        case 12:  // parameter problem
            return true;
        default:
            return false;
    }
}

}  // namespace

bool v4_bad_source(const uint8_t a[4]) noexcept {
    // 0/8 "this network", 127/8 loopback, 224/4 multicast, 240/4 reserved incl. broadcast.
    return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

bool v4_group_dest(const uint8_t a[4]) noexcept {
    bool bcast = a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255;
    return (a[0] >= 224 && a[0] < 240) || bcast;
}

bool v6_is_unspecified(const uint8_t a[16]) noexcept {
    for (int i = 0; i < 16; i++)
        if (a[i]) return false;
    return true;
}

bool v6_bad_source(const uint8_t a[16]) noexcept {
    static constexpr uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return v6_is_unspecified(a) || v6_is_multicast(a) || std::memcmp(a, loopback, 16) == 0;
}

// ---------------------------------------------------------------- echo

EchoResult echo_reply4(uint8_t* p, size_t len, uint16_t id, size_t& out_off,
                       size_t& out_len) noexcept {
    if (len < sizeof(wire::Ipv4)) return EchoResult::truncated;
    auto* ip = reinterpret_cast<wire::Ipv4*>(p);
    size_t hl = ip->header_len();
    if (ip->version() != 4 || hl < sizeof(wire::Ipv4)) return EchoResult::bad_header;
    size_t total = ip->total_len.get();
    if (hl > len || total > len) return EchoResult::truncated;
    if (total < hl) return EchoResult::bad_header;
    if (!csum_ok(p, hl)) return EchoResult::bad_checksum;
    if (ip->proto != wire::ipproto::icmp) return EchoResult::not_icmp;
    // A fragment would need reassembly first; we answer only whole datagrams.
    if (ip->is_fragment()) return EchoResult::fragment;
    size_t ilen = total - hl;
    if (ilen < sizeof(wire::Icmp)) return EchoResult::truncated;
    uint8_t* icmp = p + hl;
    if (icmp[0] != wire::icmp4::echo_request) return EchoResult::not_echo;
    // RFC 1122 §3.2.2: an ICMP message with a bad checksum is silently discarded.
    if (!csum_ok(icmp, ilen)) return EchoResult::bad_checksum;
    if (v4_bad_source(ip->src)) return EchoResult::bad_source;

    // RFC 792: the reply swaps source and destination and echoes the data. Options (record
    // route, timestamp: RFC 1122 §3.2.2.6 SHOULD) are not reflected; the reply gets a plain
    // 20-byte header placed right before the ICMP message.
    uint8_t src[4], dst[4];
    std::memcpy(src, ip->dst, 4);
    std::memcpy(dst, ip->src, 4);
    uint8_t tos = ip->tos;
    out_off = hl - sizeof(wire::Ipv4);
    out_len = sizeof(wire::Ipv4) + ilen;
    write_ip4(p + out_off, tos, uint16_t(out_len), id, src, dst);
    auto* ih = reinterpret_cast<wire::Icmp*>(icmp);
    ih->type = wire::icmp4::echo_reply;
    ih->code = 0;
    ih->csum.set(0);
    ih->csum.set(wire::csum_fold(wire::csum_partial(icmp, ilen)));
    return EchoResult::ok;
}

EchoResult echo_reply6(uint8_t* p, size_t len, size_t& out_len) noexcept {
    if (len < sizeof(wire::Ipv6)) return EchoResult::truncated;
    auto* ip = reinterpret_cast<wire::Ipv6*>(p);
    if (ip->version() != 6) return EchoResult::bad_header;
    size_t plen = ip->payload_len.get();
    if (plen > len - sizeof(wire::Ipv6)) return EchoResult::truncated;
    if (ip->next != wire::ipproto::icmpv6) return EchoResult::not_icmp;
    if (plen < sizeof(wire::Icmp)) return EchoResult::truncated;
    uint8_t* icmp = p + sizeof(wire::Ipv6);
    if (icmp[0] != wire::icmp6::echo_request) return EchoResult::not_echo;
    if (icmp6_checksum(ip->src, ip->dst, icmp, plen) != 0) return EchoResult::bad_checksum;
    if (v6_bad_source(ip->src)) return EchoResult::bad_source;

    // RFC 4443 §4.2: source = the unicast address the request was sent to, data echoed.
    uint8_t tmp[16];
    std::memcpy(tmp, ip->src, 16);
    std::memcpy(ip->src, ip->dst, 16);
    std::memcpy(ip->dst, tmp, 16);
    ip->vtc_flow.set(ip->vtc_flow.get() & 0xfff00000u);  // keep traffic class, new flow
    ip->hop_limit = reply_ttl;
    auto* ih = reinterpret_cast<wire::Icmp*>(icmp);
    ih->type = wire::icmp6::echo_reply;
    ih->code = 0;
    ih->csum.set(0);
    ih->csum.set(icmp6_checksum(ip->src, ip->dst, icmp, plen));
    out_len = sizeof(wire::Ipv6) + plen;
    return EchoResult::ok;
}

// ---------------------------------------------------------------- errors

ErrVerdict check_error4(const uint8_t* p, size_t avail, bool l2_group, Offender& o) noexcept {
    if (avail < sizeof(wire::Ipv4)) return ErrVerdict::malformed;
    const auto* ip = reinterpret_cast<const wire::Ipv4*>(p);
    size_t hl = ip->header_len();
    size_t total = ip->total_len.get();
    if (ip->version() != 4 || hl < sizeof(wire::Ipv4) || hl > avail || total < hl)
        return ErrVerdict::malformed;
    o.src = IpAddr::v4(ip->src);
    o.dst = IpAddr::v4(ip->dst);
    o.len = total < avail ? total : avail;
    // RFC 1812 §4.3.2.7: no error about a datagram sent as link-layer or IP broadcast or
    // multicast (directed broadcasts are checked by the caller, which knows the subnets) ...
    if (l2_group || v4_group_dest(ip->dst)) return ErrVerdict::dst_group;
    // ... whose source does not define a single host ...
    if (v4_bad_source(ip->src)) return ErrVerdict::bad_source;
    // ... that is a non-initial fragment ...
    if (ip->frag.get() & wire::Ipv4::offset_mask) return ErrVerdict::fragment;
    // ... or that is itself an ICMP error message.
    if (ip->proto == wire::ipproto::icmp) {
        if (o.len < hl + 1) return ErrVerdict::malformed;
        if (icmp4_is_error(p[hl])) return ErrVerdict::is_icmp_error;
    }
    return ErrVerdict::send;
}

ErrVerdict check_error6(const uint8_t* p, size_t avail, bool l2_group, Offender& o) noexcept {
    if (avail < sizeof(wire::Ipv6)) return ErrVerdict::malformed;
    const auto* ip = reinterpret_cast<const wire::Ipv6*>(p);
    if (ip->version() != 6) return ErrVerdict::malformed;
    size_t total = sizeof(wire::Ipv6) + ip->payload_len.get();
    o.src = IpAddr::v6(ip->src);
    o.dst = IpAddr::v6(ip->dst);
    o.len = total < avail ? total : avail;
    // RFC 4443 §2.4(e.2, e.3): not for multicast destinations. (e.3) would allow Packet Too
    // Big there for multicast PMTUD, but the gateway never forwards multicast.
    if (l2_group || v6_is_multicast(ip->dst)) return ErrVerdict::dst_group;
    if (v6_bad_source(ip->src)) return ErrVerdict::bad_source;  // §2.4(e.6)

    // Walk the extension headers (RFC 8200 §4) to find a fragment offset or the upper layer.
    uint8_t next = ip->next;
    size_t off = sizeof(wire::Ipv6);
    for (int hops = 0; hops < 8; hops++) {
        switch (next) {
            case 0:     // hop-by-hop options
            case 43:    // routing
            case 60:    // destination options
            case 51: {  // AH (RFC 4302 §2.2: length in 4-byte units minus 2)
                if (o.len < off + 2) return ErrVerdict::malformed;
                size_t hl =
                    next == 51 ? (size_t(p[off + 1]) + 2) * 4 : (size_t(p[off + 1]) + 1) * 8;
                next = p[off];
                off += hl;
                break;
            }
            case 44: {  // fragment
                if (o.len < off + 8) return ErrVerdict::malformed;
                uint16_t fo = uint16_t(p[off + 2] << 8 | p[off + 3]) & 0xfff8;
                if (fo != 0) return ErrVerdict::fragment;  // RFC 1812 §4.3.2.7, same reasoning
                next = p[off];
                off += 8;
                break;
            }
            case wire::ipproto::icmpv6:
                if (o.len < off + 1) return ErrVerdict::malformed;
                // RFC 4443 §2.4(e.1): types 0..127 are errors.
                return p[off] < 128 ? ErrVerdict::is_icmp_error : ErrVerdict::send;
            default:
                return ErrVerdict::send;
        }
    }
    return ErrVerdict::send;
}

size_t build_error4(uint8_t* buf, size_t quote_len, const uint8_t src[4], const uint8_t dst[4],
                    uint8_t type, uint8_t code, uint32_t rest, uint16_t id) noexcept {
    size_t total = icmp4_err_hdr + quote_len;
    write_ip4(buf, error_tos, uint16_t(total), id, src, dst);
    auto* ih = reinterpret_cast<wire::Icmp*>(buf + sizeof(wire::Ipv4));
    ih->type = type;
    ih->code = code;
    ih->id.set(uint16_t(rest >> 16));
    ih->seq.set(uint16_t(rest));
    ih->csum.set(0);
    ih->csum.set(wire::csum_fold(wire::csum_partial(ih, sizeof(wire::Icmp) + quote_len)));
    return total;
}

size_t build_error6(uint8_t* buf, size_t quote_len, const uint8_t src[16], const uint8_t dst[16],
                    uint8_t type, uint8_t code, uint32_t rest) noexcept {
    size_t plen = sizeof(wire::Icmp) + quote_len;
    auto* ip = reinterpret_cast<wire::Ipv6*>(buf);
    ip->vtc_flow.set(6u << 28);
    ip->payload_len.set(uint16_t(plen));
    ip->next = wire::ipproto::icmpv6;
    ip->hop_limit = reply_ttl;
    std::memcpy(ip->src, src, 16);
    std::memcpy(ip->dst, dst, 16);
    auto* ih = reinterpret_cast<wire::Icmp*>(buf + sizeof(wire::Ipv6));
    ih->type = type;
    ih->code = code;
    ih->id.set(uint16_t(rest >> 16));
    ih->seq.set(uint16_t(rest));
    ih->csum.set(0);
    ih->csum.set(icmp6_checksum(ip->src, ip->dst, reinterpret_cast<uint8_t*>(ih), plen));
    return sizeof(wire::Ipv6) + plen;
}

}  // namespace tgw::slowpath::proto
