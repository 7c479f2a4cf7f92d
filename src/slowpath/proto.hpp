// Slow-path packet parsing and building as pure functions over byte buffers, so each rule is
// unit-tested without mbufs. Private to src/slowpath/. Every parser checks a length before
// each access; every builder checks `cap` and returns 0 when the frame does not fit.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tunnelgw/addr.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::slowpath::proto {

inline constexpr uint8_t broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
inline constexpr size_t eth_min_frame = 60;  // 64 on the wire minus the FCS

inline bool mac_is_group(const uint8_t m[6]) noexcept {
    return m[0] & 1;
}
inline bool mac_is_zero(const uint8_t m[6]) noexcept {
    return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

// Not a usable unicast source (RFC 1812 §4.3.2.7 and §5.3.7): 0/8, 127/8, class D and E,
// limited broadcast.
bool v4_bad_source(const uint8_t a[4]) noexcept;
// Multicast (224/4) or limited broadcast.
bool v4_group_dest(const uint8_t a[4]) noexcept;
inline bool v6_is_multicast(const uint8_t a[16]) noexcept {
    return a[0] == 0xff;
}
bool v6_is_unspecified(const uint8_t a[16]) noexcept;
// Unspecified, multicast or loopback: not a source that identifies one node (RFC 4443 §2.4(e.6)).
bool v6_bad_source(const uint8_t a[16]) noexcept;

// ---------------------------------------------------------------- ARP (RFC 826)

struct ArpMsg {
    uint16_t op;
    uint8_t sha[6], spa[4], tha[6], tpa[4];
};
enum class ArpParse { ok, truncated, not_arp, bad_format, bad_op, bad_sender };

// `frame` starts at the Ethernet header. Only Ethernet/IPv4 ARP (RFC 826: htype 1,
// ptype 0x0800, hlen 6, plen 4) with op request or reply is accepted; a sender hardware
// address that is multicast, broadcast or zero is rejected (answering it would reflect).
ArpParse parse_arp(const uint8_t* frame, size_t len, ArpMsg& out) noexcept;

// Ethernet + ARP, padded to the minimum frame. Returns the frame length or 0.
size_t build_arp(uint8_t* out, size_t cap, uint16_t op, const uint8_t eth_dst[6],
                 const uint8_t sha[6], const uint8_t spa[4], const uint8_t tha[6],
                 const uint8_t tpa[4]) noexcept;

// ---------------------------------------------------------------- ND (RFC 4861)

struct NdMsg {
    uint8_t type;    // neigh_solicit or neigh_advert
    uint32_t flags;  // NA: R|S|O
    IpAddr src, dst, target;
    bool has_lla;  // source LLA (NS) or target LLA (NA) option for Ethernet
    uint8_t lla[6];
};
enum class NdParse {
    ok,
    truncated,      // shorter than the IPv6 header or its payload length
    not_nd,         // not IPv6 / ICMPv6 NS or NA directly after the fixed header
    bad_hop_limit,  // §7.1.1/§7.1.2: hop limit must be 255 (sent on-link only)
    bad_code,       // code must be 0
    bad_length,     // ICMP length < 24
    bad_checksum,
    bad_target,     // target is multicast
    bad_option,     // an option with length 0 or running past the end
    bad_dad,        // NS from :: not to a solicited-node group, or with a source LLA
    bad_solicited,  // NA to a multicast group with the S flag
};
// `ip` starts at the IPv6 header; `len` is the bytes available from there.
NdParse parse_nd(const uint8_t* ip, size_t len, NdMsg& out) noexcept;

// ff02::1:ffXX:XXXX (RFC 4291 §2.7.1) and its Ethernet group 33:33:ff:XX:XX:XX (RFC 2464 §7).
void solicited_node(const uint8_t target[16], uint8_t group[16]) noexcept;
void v6_multicast_mac(const uint8_t group[16], uint8_t mac[6]) noexcept;

// ICMPv6 checksum (RFC 4443 §2.3) over the pseudo-header (RFC 8200 §8.1) and `msg` as it
// is; the caller zeroes the checksum field first when computing, not when verifying.
uint16_t icmp6_checksum(const uint8_t src[16], const uint8_t dst[16], const uint8_t* msg,
                        size_t len) noexcept;

inline constexpr size_t nd_frame_len = 14 + 40 + 24 + 8;  // with one LLA option
// Ethernet + IPv6 + NA with a target LLA option. Returns the frame length or 0.
size_t build_na(uint8_t* out, size_t cap, const uint8_t eth_src[6], const uint8_t eth_dst[6],
                const uint8_t src[16], const uint8_t dst[16], const uint8_t target[16],
                uint32_t flags) noexcept;
// Ethernet + IPv6 + NS to the target's solicited-node group with a source LLA option.
size_t build_ns(uint8_t* out, size_t cap, const uint8_t eth_src[6], const uint8_t src[16],
                const uint8_t target[16]) noexcept;

// ---------------------------------------------------------------- ICMP echo

enum class EchoResult {
    ok,
    truncated,
    bad_header,
    not_icmp,
    not_echo,
    bad_checksum,
    fragment,
    bad_source
};
// Rewrites an IPv4 echo request of `len` bytes at `ip` into the reply in place: addresses
// swapped, options dropped (the new 20-byte header is written just before the ICMP message),
// trailing link padding cut. `out_off` / `out_len` give the reply inside the buffer.
EchoResult echo_reply4(uint8_t* ip, size_t len, uint16_t id, size_t& out_off,
                       size_t& out_len) noexcept;
// Same for ICMPv6 (only when ICMPv6 directly follows the fixed header).
EchoResult echo_reply6(uint8_t* ip, size_t len, size_t& out_len) noexcept;

// ---------------------------------------------------------------- ICMP errors

enum class ErrVerdict {
    send,
    malformed,      // not a parseable IP packet of that family
    is_icmp_error,  // RFC 1812 §4.3.2.7 / RFC 4443 §2.4(e.1)
    fragment,       // not the first fragment (RFC 1812 §4.3.2.7)
    dst_group,      // multicast / broadcast destination (RFC 1812 §4.3.2.7, RFC 4443 §2.4(e.2))
    bad_source,     // source not a unique host (RFC 1812 §4.3.2.7, RFC 4443 §2.4(e.6))
};
struct Offender {
    IpAddr src, dst;
    size_t len;  // bytes of the IP packet present (total length, capped at what is there)
};
// `ip` is the offending packet; `avail` the bytes present from there. `l2_group` is true when
// it arrived as a link-layer broadcast / multicast.
ErrVerdict check_error4(const uint8_t* ip, size_t avail, bool l2_group, Offender& o) noexcept;
ErrVerdict check_error6(const uint8_t* ip, size_t avail, bool l2_group, Offender& o) noexcept;

inline constexpr size_t icmp4_err_hdr = 20 + 8;
inline constexpr size_t icmp6_err_hdr = 40 + 8;
// RFC 1812 §4.3.2.3: as much of the original as fits in 576 bytes; RFC 4443 §2.4(c): 1280.
inline size_t quote_len4(size_t orig) noexcept {
    return orig < 576 - icmp4_err_hdr ? orig : 576 - icmp4_err_hdr;
}
inline size_t quote_len6(size_t orig) noexcept {
    return orig < 1280 - icmp6_err_hdr ? orig : 1280 - icmp6_err_hdr;
}

// Writes the IP and ICMP headers in front of a quote already placed at buf + icmp4_err_hdr
// (resp. icmp6_err_hdr) and computes the checksums. `rest` is the 32-bit word after the
// checksum: 0, or the next-hop MTU (RFC 1191 §4: low 16 bits; RFC 4443 §3.2: all 32).
// Returns the packet length.
size_t build_error4(uint8_t* buf, size_t quote_len, const uint8_t src[4], const uint8_t dst[4],
                    uint8_t type, uint8_t code, uint32_t rest, uint16_t id) noexcept;
size_t build_error6(uint8_t* buf, size_t quote_len, const uint8_t src[16], const uint8_t dst[16],
                    uint8_t type, uint8_t code, uint32_t rest) noexcept;

}  // namespace tgw::slowpath::proto
