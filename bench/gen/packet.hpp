// Frames the generator offers and the checks on what comes back. Plain byte buffers only (no
// EAL, no mbufs), so `--write-pcap` and the tests use exactly the code that runs at rate.
//
// Size convention (RFC 2544 §9.1): a size is an Ethernet frame length *including* the 4-byte
// FCS, of the plain (LAN-side) frame. The buffer handed to DPDK is 4 bytes shorter (the NIC
// adds the FCS). A GRE frame of size S is S + 20 (outer IPv4) + the GRE header long, so a
// "64 B" decap test offers 88 B GRE frames (key only) and expects 64 B frames back. A teb
// (gretap) frame carries the whole plain frame: 14 B more than gre.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tunnelgw/wire.hpp"

namespace tgw::bench {

// teb: gretap, the plain frame whole inside GRE protocol 0x6558 (Transparent Ethernet Bridging).
enum class Format : uint8_t { plain, gre, esp, teb };
const char* format_name(Format f) noexcept;

// Carried at the start of the UDP payload of every generated packet. Host byte order: the
// same process stamps and receives, so the TSC is the same clock at both ends.
struct Stamp {
    uint16_t magic;   // stamp_magic: tells our packets from anything else on the wire
    uint16_t trial;   // which trial sent it: late arrivals are not counted in the next one
    uint32_t seq;     // per trial, from 0: loss, duplicates and reordering
    uint64_t tsc;     // rte_rdtsc() when built: latency
};
static_assert(sizeof(Stamp) == 16);
inline constexpr uint16_t stamp_magic = 0x7467;  // "tg"

// Ethernet's minimum frame (IEEE 802.3 §3.2.8); Ethernet + IPv4 + UDP + stamp + FCS is 62 B.
inline constexpr size_t fcs_len = 4;
inline constexpr size_t plain_hdr_len = sizeof(wire::Eth) + sizeof(wire::Ipv4) + sizeof(wire::Udp);
inline constexpr unsigned min_size = 64;
static_assert(plain_hdr_len + sizeof(Stamp) + fcs_len <= min_size, "the stamp must fit a minimum frame");
inline constexpr unsigned max_size = 1518;  // plain frame; the GRE frame may exceed 1518
inline constexpr size_t max_frame_len = 1600;  // largest buffer build() writes

using Mac = uint8_t[6];

// Addresses of both sides. Defaults match the gateway config that bench/run_sweep.py writes:
//   generator A 10.10.1.2 ── lan 10.10.1.1 [tunnelgw] wan 192.168.60.1 ── generator B 192.168.60.2
struct Profile {
    Mac a_mac = {0x02, 0, 0, 0, 0x0a, 0x01};     // generator port A (the LAN host)
    Mac b_mac = {0x02, 0, 0, 0x60, 0, 0x02};     // generator port B (the GRE peer)
    Mac gw_a_mac = {0x02, 0, 0, 0, 0x01, 0x01};  // gateway LAN port
    Mac gw_b_mac = {0x02, 0, 0, 0, 0x02, 0x01};  // gateway WAN port
    uint32_t host_ip = 0x0a0a0102;    // 10.10.1.2: source of plain packets on A
    uint32_t peer_ip = 0xc0a83c02;    // 192.168.60.2: GRE remote (generator B)
    unsigned ecmp_members = 1;        // GRE from the gateway may go to peer_ip + 0..members-1
    uint32_t gw_wan_ip = 0xc0a83c01;  // 192.168.60.1: GRE local (gateway)
    uint32_t encap_dst = 0x0a140000;  // 10.20.0.0/16: routed into the tunnel
    uint32_t decap_src = 0x0a140000;  // 10.20.0.0/16: inner sources behind the peer
    uint32_t decap_dst = 0x0a1e0000;  // 10.30.0.0/16: routed via 10.10.1.2 on the LAN
    uint16_t dport = 9;               // discard
    bool gre_key = true;
    uint32_t key = 42;
    bool gre_csum = false;
    bool gre_seq = false;
    uint8_t ttl = 64;
};

bool parse_mac(const std::string& s, Mac out);
bool parse_ipv4(const std::string& s, uint32_t& out);

// The profile to build the packet inside ESP with: plain inside ESP comes from behind the
// peer, sources in 10.20/16 (which the gateway routes back into the tunnel: its inbound
// policy) to destinations in 10.30/16 on the LAN.
Profile sealed_profile(const Profile& p, Format tx, Format sealed);

// GRE header length for the profile's options (RFC 2890 §2: base, csum, key, seq words).
size_t gre_len(const Profile& p) noexcept;
// Length of the buffer for a frame of `size` in `f` (FCS excluded).
size_t frame_len(const Profile& p, Format f, unsigned size) noexcept;

// Builds frames of one format for `flows` distinct 5-tuples. Per flow, the headers are built
// once; build() copies them and patches lengths, checksums (from a precomputed partial sum),
// the GRE sequence and the stamp.
class Builder {
public:
    Builder(const Profile& p, Format f, unsigned flows);
    // Writes the frame into buf (at least frame_len() bytes, payload beyond the stamp is left
    // as is: zero it once) and returns its length. gre_seq is used when the profile has seq.
    size_t build(uint8_t* buf, unsigned flow, unsigned size, const Stamp& st, uint32_t gre_seq) const noexcept;
    unsigned flows() const noexcept { return flows_; }
    Format format() const noexcept { return f_; }

private:
    struct Tmpl {
        uint8_t hdr[80];
        uint32_t outer_sum;  // IPv4 header sum without total_len and checksum
        uint32_t inner_sum;
    };
    Profile p_;
    Format f_;
    unsigned flows_;
    size_t hdr_len_ = 0;      // bytes before the stamp
    size_t inner_off_ = 0;    // offset of the inner (or only) IPv4 header
    size_t gre_off_ = 0;
    std::vector<Tmpl> t_;
};

// What a received frame is, checked against what the scenario expects.
enum class Verdict : uint8_t {
    ok,
    foreign,     // not one of ours (ARP, LLDP, a frame without our stamp): not counted
    bad_l2,      // our stamp, but wrong Ethernet addresses
    bad_ip,      // IPv4 header malformed or checksum wrong (outer or inner)
    bad_encap,   // wrong encapsulation: GRE where plain expected, wrong key/flags/addresses
    bad_gre_csum,
};
const char* verdict_name(Verdict v) noexcept;
inline constexpr unsigned verdict_count = 6;

struct Expect {
    Format f = Format::plain;
    bool check_macs = true;   // false for L2 references (testpmd macswap rewrites MACs)
    const uint8_t* dst_mac = nullptr;  // the generator port it must arrive on
    const uint8_t* src_mac = nullptr;  // the gateway port it must come from
};

struct Checked {
    Verdict v = Verdict::foreign;
    const Stamp* stamp = nullptr;  // set when the stamp was found (also for bad_* verdicts)
    bool has_gre_seq = false;
    uint32_t gre_seq = 0;
    unsigned member = 0;  // GRE: which remote (outer destination - peer_ip), for ECMP
};

// Parses one frame. Never reads past len.
Checked check(const Profile& p, const Expect& e, const uint8_t* frame, size_t len) noexcept;

// IMIX and fixed sizes: a cyclic list of frame sizes.
struct SizeMix {
    std::string name;             // "64", "imix"
    std::vector<uint16_t> cycle;  // sizes in send order
    double mean() const noexcept;
};
// "64".."1518" or "imix" (7:4:1 of 64/570/1420, interleaved). Empty cycle on error.
SizeMix parse_size(const std::string& s);

// Classic pcap file (microsecond timestamps, LINKTYPE_ETHERNET).
bool write_pcap(const std::string& path, const std::vector<std::vector<uint8_t>>& frames);

}  // namespace tgw::bench
