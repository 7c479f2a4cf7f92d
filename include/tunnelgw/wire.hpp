// Wire formats: packed PODs with typed big-endian fields and asserted sizes.
// No bitfields: flag words are read whole and masked with the named constants.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tgw::wire {

// Big-endian integer as stored on the wire. Never read `raw` directly.
template <typename T>
struct __attribute__((packed)) Be {
    T raw;
    constexpr T get() const noexcept { return swap(raw); }
    constexpr void set(T v) noexcept { raw = swap(v); }
    static constexpr T swap(T v) noexcept {
        if constexpr (sizeof(T) == 1) return v;
        else if constexpr (sizeof(T) == 2) return __builtin_bswap16(v);
        else if constexpr (sizeof(T) == 4) return __builtin_bswap32(v);
        else return __builtin_bswap64(v);
    }
};
using be16 = Be<uint16_t>;
using be32 = Be<uint32_t>;
static_assert(sizeof(be16) == 2 && sizeof(be32) == 4);

using MacBytes = uint8_t[6];

namespace ethertype {
inline constexpr uint16_t ipv4 = 0x0800;
inline constexpr uint16_t arp = 0x0806;
inline constexpr uint16_t vlan = 0x8100;
inline constexpr uint16_t qinq = 0x88a8;
inline constexpr uint16_t ipv6 = 0x86dd;
inline constexpr uint16_t teb = 0x6558;  // Transparent Ethernet Bridging (gretap)
}  // namespace ethertype

namespace ipproto {
inline constexpr uint8_t icmp = 1;
inline constexpr uint8_t ipip = 4;
inline constexpr uint8_t tcp = 6;
inline constexpr uint8_t udp = 17;
inline constexpr uint8_t ipv6 = 41;
inline constexpr uint8_t gre = 47;
inline constexpr uint8_t esp = 50;
inline constexpr uint8_t icmpv6 = 58;
}  // namespace ipproto

struct __attribute__((packed)) Eth {
    uint8_t dst[6];
    uint8_t src[6];
    be16 type;
};
static_assert(sizeof(Eth) == 14);

struct __attribute__((packed)) Vlan {
    be16 tci;
    be16 type;
};
static_assert(sizeof(Vlan) == 4);

struct __attribute__((packed)) Ipv4 {
    uint8_t ver_ihl;
    uint8_t tos;
    be16 total_len;
    be16 id;
    be16 frag;  // flags (3) + fragment offset (13)
    uint8_t ttl;
    uint8_t proto;
    be16 csum;
    uint8_t src[4];
    uint8_t dst[4];

    static constexpr uint16_t flag_df = 0x4000;
    static constexpr uint16_t flag_mf = 0x2000;
    static constexpr uint16_t offset_mask = 0x1fff;
    unsigned version() const noexcept { return ver_ihl >> 4; }
    unsigned header_len() const noexcept { return (ver_ihl & 0x0f) * 4u; }
    bool is_fragment() const noexcept { return (frag.get() & (flag_mf | offset_mask)) != 0; }
};
static_assert(sizeof(Ipv4) == 20);

struct __attribute__((packed)) Ipv6 {
    be32 vtc_flow;  // version (4) | traffic class (8) | flow label (20)
    be16 payload_len;
    uint8_t next;
    uint8_t hop_limit;
    uint8_t src[16];
    uint8_t dst[16];

    unsigned version() const noexcept { return vtc_flow.get() >> 28; }
    uint8_t tclass() const noexcept { return uint8_t(vtc_flow.get() >> 20); }
    void set_tclass(uint8_t tc) noexcept {
        vtc_flow.set((vtc_flow.get() & 0xf00fffffu) | (uint32_t(tc) << 20));
    }
};
static_assert(sizeof(Ipv6) == 40);

// RFC 2784 §2.1 base header; RFC 2890 §2 adds the K and S bits and their words.
// Optional words follow in the order checksum+reserved1, key, sequence.
struct __attribute__((packed)) Gre {
    be16 flags_ver;
    be16 proto;

    static constexpr uint16_t flag_c = 0x8000;  // checksum present (RFC 2784)
    static constexpr uint16_t flag_r = 0x4000;  // routing (RFC 1701), reserved0 in RFC 2784
    static constexpr uint16_t flag_k = 0x2000;  // key present (RFC 2890 §2.1)
    static constexpr uint16_t flag_s = 0x1000;  // sequence present (RFC 2890 §2.2)
    // RFC 2784 §2.3: a receiver MUST discard a packet with any of bits 1-5 set (it does not
    // implement RFC 1701): R (bit 1), s (bit 4) and the first Recur bit (bit 5); bits 2 and 3
    // are RFC 2890's K and S. Bits 6-12 MUST be ignored on receipt, so they are not here.
    static constexpr uint16_t reserved0_mask = 0x4c00;
    static constexpr uint16_t ignored_mask = 0x03f8;  // bits 6-12: sent as zero, ignored
    static constexpr uint16_t version_mask = 0x0007;
};
static_assert(sizeof(Gre) == 4);

// Largest GRE header: base + checksum word + key + sequence.
inline constexpr size_t gre_max_len = 16;

inline constexpr size_t gre_header_len(uint16_t flags) noexcept {
    return 4 + ((flags & Gre::flag_c) ? 4 : 0) + ((flags & Gre::flag_k) ? 4 : 0) +
           ((flags & Gre::flag_s) ? 4 : 0);
}

struct __attribute__((packed)) Udp {
    be16 sport;
    be16 dport;
    be16 len;
    be16 csum;
};
static_assert(sizeof(Udp) == 8);

// RFC 4303 §2: SPI and sequence number; IV, payload, padding, trailer and ICV follow.
struct __attribute__((packed)) Esp {
    be32 spi;
    be32 seq;
};
static_assert(sizeof(Esp) == 8);

struct __attribute__((packed)) Tcp {
    be16 sport;
    be16 dport;
    be32 seq;
    be32 ack;
    uint8_t data_off;
    uint8_t flags;
    be16 window;
    be16 csum;
    be16 urg;
};
static_assert(sizeof(Tcp) == 20);

struct __attribute__((packed)) Icmp {
    uint8_t type;
    uint8_t code;
    be16 csum;
    be16 id;   // echo id, or unused / next-hop MTU high word for errors
    be16 seq;  // echo seq, or next-hop MTU (RFC 1191) for type 3 code 4
};
static_assert(sizeof(Icmp) == 8);

namespace icmp4 {
inline constexpr uint8_t echo_reply = 0;
inline constexpr uint8_t dest_unreach = 3;
inline constexpr uint8_t echo_request = 8;
inline constexpr uint8_t time_exceeded = 11;
inline constexpr uint8_t code_net_unreach = 0;
inline constexpr uint8_t code_host_unreach = 1;
inline constexpr uint8_t code_frag_needed = 4;
}  // namespace icmp4

namespace icmp6 {
inline constexpr uint8_t dest_unreach = 1;
inline constexpr uint8_t packet_too_big = 2;
inline constexpr uint8_t time_exceeded = 3;
inline constexpr uint8_t echo_request = 128;
inline constexpr uint8_t echo_reply = 129;
inline constexpr uint8_t router_solicit = 133;
inline constexpr uint8_t router_advert = 134;
inline constexpr uint8_t neigh_solicit = 135;
inline constexpr uint8_t neigh_advert = 136;
}  // namespace icmp6

struct __attribute__((packed)) Arp {
    be16 htype;
    be16 ptype;
    uint8_t hlen;
    uint8_t plen;
    be16 op;
    uint8_t sha[6];
    uint8_t spa[4];
    uint8_t tha[6];
    uint8_t tpa[4];

    static constexpr uint16_t op_request = 1;
    static constexpr uint16_t op_reply = 2;
};
static_assert(sizeof(Arp) == 28);

// RFC 4861 §4.3/4.4: NS and NA share this layout after the ICMPv6 header's first 4 bytes.
struct __attribute__((packed)) NdMsg {
    uint8_t type;
    uint8_t code;
    be16 csum;
    be32 flags;  // NA: R|S|O in the top bits; NS: reserved
    uint8_t target[16];

    static constexpr uint32_t na_router = 0x80000000u;
    static constexpr uint32_t na_solicited = 0x40000000u;
    static constexpr uint32_t na_override = 0x20000000u;
};
static_assert(sizeof(NdMsg) == 24);

// RFC 4861 §4.6.1 source/target link-layer address option for Ethernet.
struct __attribute__((packed)) NdLlaOpt {
    uint8_t type;  // 1 = source, 2 = target
    uint8_t len;   // in units of 8 bytes: 1
    uint8_t mac[6];
};
static_assert(sizeof(NdLlaOpt) == 8);

// Internet checksum helpers (RFC 1071) over plain buffers; rte_net has mbuf versions.
inline uint32_t csum_partial(const void* data, size_t len, uint32_t sum = 0) noexcept {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    while (len >= 2) {
        sum += uint32_t(p[0]) << 8 | p[1];
        p += 2;
        len -= 2;
    }
    if (len) sum += uint32_t(p[0]) << 8;
    return sum;
}
inline uint16_t csum_fold(uint32_t sum) noexcept {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

}  // namespace tgw::wire
