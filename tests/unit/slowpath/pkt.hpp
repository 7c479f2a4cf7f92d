// Test packet builders for the slow-path suites. Checksums here come from DPDK's own
// helpers (rte_raw_cksum, rte_ipv4_cksum, rte_ipv6_udptcp_cksum), not from the code under
// test, so a wrong checksum routine in src/slowpath cannot agree with itself.
#pragma once
#include <rte_ip.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "slowpath/proto.hpp"
#include "tunnelgw/addr.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::sptest {

namespace proto = slowpath::proto;

using Bytes = std::vector<uint8_t>;

inline IpAddr ip(const char* s) {
    auto a = IpAddr::parse(s);
    if (!a) throw std::runtime_error(std::string("bad address in test: ") + s);
    return *a;
}
inline Prefix pfx(const char* s) {
    auto p = Prefix::parse(s);
    if (!p) throw std::runtime_error(std::string("bad prefix in test: ") + s);
    return *p;
}

struct MacA {
    uint8_t b[6];
};
inline constexpr MacA mac_p0{{0x02, 0, 0, 0, 0, 0x01}};
inline constexpr MacA mac_p1{{0x02, 0, 0, 0, 0, 0x02}};
inline constexpr MacA mac_h1{{0x02, 0xaa, 0, 0, 0, 0x01}};
inline constexpr MacA mac_h2{{0x02, 0xaa, 0, 0, 0, 0x02}};
inline constexpr MacA mac_bcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
inline constexpr MacA mac_zero{{0, 0, 0, 0, 0, 0}};

inline void put16(Bytes& b, size_t off, uint16_t v) {
    b[off] = uint8_t(v >> 8);
    b[off + 1] = uint8_t(v);
}
// DPDK checksums are sums of native-order memory words: store them with memcpy.
inline void put_raw(Bytes& b, size_t off, uint16_t v) {
    std::memcpy(&b[off], &v, 2);
}
inline uint16_t get16(const uint8_t* p) {
    return uint16_t(p[0] << 8 | p[1]);
}
inline uint32_t get32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

inline Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

inline Bytes eth(const MacA& dst, const MacA& src, uint16_t type) {
    Bytes b(14);
    std::memcpy(&b[0], dst.b, 6);
    std::memcpy(&b[6], src.b, 6);
    put16(b, 12, type);
    return b;
}

inline Bytes arp(uint16_t op, const MacA& sha, const char* spa, const MacA& tha, const char* tpa,
                 const MacA& eth_dst = mac_bcast) {
    Bytes b = eth(eth_dst, sha, wire::ethertype::arp);
    Bytes a(28);
    put16(a, 0, 1);
    put16(a, 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    put16(a, 6, op);
    std::memcpy(&a[8], sha.b, 6);
    std::memcpy(&a[14], ip(spa).v4_bytes(), 4);
    std::memcpy(&a[18], tha.b, 6);
    std::memcpy(&a[24], ip(tpa).v4_bytes(), 4);
    return cat({b, a});
}

// IPv4 header (with `opt_words` 4-byte NOP options) + payload, header checksum by DPDK.
inline Bytes ipv4(const char* src, const char* dst, uint8_t proto, const Bytes& payload,
                  uint16_t frag = 0, uint8_t ttl = 64, unsigned opt_words = 0) {
    size_t hl = 20 + 4 * opt_words;
    Bytes b(hl);
    b[0] = uint8_t(0x40 | (hl / 4));
    put16(b, 2, uint16_t(hl + payload.size()));
    put16(b, 4, 0x1234);
    put16(b, 6, frag);
    b[8] = ttl;
    b[9] = proto;
    std::memcpy(&b[12], ip(src).v4_bytes(), 4);
    std::memcpy(&b[16], ip(dst).v4_bytes(), 4);
    for (size_t i = 20; i < hl; i++) b[i] = 1;  // NOP
    put_raw(b, 10, uint16_t(~rte_raw_cksum(b.data(), hl)));
    return cat({b, payload});
}

// ICMPv4 message, checksum by DPDK.
inline Bytes icmp4(uint8_t type, uint8_t code, uint32_t rest, const Bytes& data) {
    Bytes b(8);
    b[0] = type;
    b[1] = code;
    put16(b, 4, uint16_t(rest >> 16));
    put16(b, 6, uint16_t(rest));
    b = cat({b, data});
    put_raw(b, 2, uint16_t(~rte_raw_cksum(b.data(), b.size())));
    return b;
}

inline Bytes ipv6(const char* src, const char* dst, uint8_t next, const Bytes& payload,
                  uint8_t hop = 64) {
    Bytes b(40);
    b[0] = 0x60;
    put16(b, 4, uint16_t(payload.size()));
    b[6] = next;
    b[7] = hop;
    std::memcpy(&b[8], ip(src).b.data(), 16);
    std::memcpy(&b[24], ip(dst).b.data(), 16);
    return cat({b, payload});
}

// Recomputes the ICMPv6 checksum of an IPv6 packet whose ICMPv6 message starts at `l4`.
inline void fix_icmp6(Bytes& pkt, size_t l4 = 40) {
    pkt[l4 + 2] = pkt[l4 + 3] = 0;
    auto* h = reinterpret_cast<const rte_ipv6_hdr*>(pkt.data());
    uint16_t c = rte_ipv6_udptcp_cksum(h, pkt.data() + l4);
    std::memcpy(&pkt[l4 + 2], &c, 2);  // DPDK sums memory words: store the value as is
}

inline bool icmp6_valid(const uint8_t* ip6, size_t l4 = 40) {
    return rte_ipv6_udptcp_cksum_verify(reinterpret_cast<const rte_ipv6_hdr*>(ip6), ip6 + l4) == 0;
}
inline bool icmp4_valid(const uint8_t* ip4) {
    size_t hl = (ip4[0] & 0xf) * 4;
    size_t total = get16(ip4 + 2);
    return rte_raw_cksum(ip4 + hl, total - hl) == 0xffff;
}
inline bool ip4_hdr_valid(const uint8_t* ip4) {
    return rte_raw_cksum(ip4, (ip4[0] & 0xf) * 4) == 0xffff;
}

inline Bytes icmp6(const char* src, const char* dst, uint8_t type, uint8_t code, const Bytes& body,
                   uint8_t hop = 64) {
    Bytes m = {type, code, 0, 0};
    m = cat({m, body});
    Bytes p = ipv6(src, dst, wire::ipproto::icmpv6, m, hop);
    fix_icmp6(p);
    return p;
}

inline Bytes lla_opt(uint8_t type, const MacA& mac) {
    Bytes o(8);
    o[0] = type;
    o[1] = 1;
    std::memcpy(&o[2], mac.b, 6);
    return o;
}

// NS / NA as IPv6 packets (no Ethernet), hop limit 255, valid checksum.
inline Bytes ns6(const char* src, const char* dst, const char* target, const Bytes& opts) {
    Bytes body(4 + 16);
    std::memcpy(&body[4], ip(target).b.data(), 16);
    return icmp6(src, dst, wire::icmp6::neigh_solicit, 0, cat({body, opts}), 255);
}
inline Bytes na6(const char* src, const char* dst, const char* target, uint32_t flags,
                 const Bytes& opts) {
    Bytes body(4 + 16);
    body[0] = uint8_t(flags >> 24);
    std::memcpy(&body[4], ip(target).b.data(), 16);
    return icmp6(src, dst, wire::icmp6::neigh_advert, 0, cat({body, opts}), 255);
}

inline Bytes payload(size_t n, uint8_t seed = 0) {
    Bytes b(n);
    for (size_t i = 0; i < n; i++) b[i] = uint8_t(seed + i * 7);
    return b;
}

}  // namespace tgw::sptest
