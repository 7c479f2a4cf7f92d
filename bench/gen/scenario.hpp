// The scenario table: what is offered where, and what must come back where. ESP is AES-GCM-128
// tunnel mode with the gateway's own crypto code (esp_seal.hpp): sent packets are encrypted
// as they go (live) or once (--write-pcap), received ones decrypted before they are checked.
#pragma once
#include <string>

#include "packet.hpp"

namespace tgw::bench {

enum class Side : uint8_t { a, b };  // a: generator port cabled to the gateway's LAN; b: WAN

struct Scenario {
    const char* name;
    const char* summary;
    Format tx_format;
    Side tx_side;
    Format rx_format;
    bool check_macs;    // the gateway rewrites MACs from its neighbour table: check them
    bool gateway;       // measured against tunnelgw (false: an L2 reference such as testpmd)
    bool supported;
    const char* why_not;  // when !supported
    Format sealed = Format::plain;  // tx or rx format esp: what is inside the ESP tunnel
};

inline constexpr const char* not_supported = "not supported by this gateway build";

inline constexpr Scenario scenarios[] = {
    {"gre-encap", "plain IPv4/UDP in on LAN (A), GRE expected on WAN (B)", Format::plain, Side::a,
     Format::gre, true, true, true, ""},
    {"gre-decap", "GRE in on WAN (B), plain IPv4/UDP expected on LAN (A)", Format::gre, Side::b,
     Format::plain, true, true, true, ""},
    {"esp-encap", "plain in on LAN (A), ESP tunnel mode AES-GCM-128 expected on WAN (B)", Format::plain,
     Side::a, Format::esp, true, true, true, "", Format::plain},
    {"esp-decap", "ESP AES-GCM-128 in on WAN (B), plain expected on LAN (A)", Format::esp, Side::b,
     Format::plain, true, true, true, "", Format::plain},
    {"gre-esp-encap", "plain in on LAN (A), GRE inside ESP AES-GCM-128 expected on WAN (B)", Format::plain,
     Side::a, Format::esp, true, true, true, "", Format::gre},
    {"gre-esp-decap", "GRE inside ESP AES-GCM-128 in on WAN (B), plain expected on LAN (A)", Format::esp,
     Side::b, Format::plain, true, true, true, "", Format::gre},
    {"ecmp-encap", "plain in on LAN (A), GRE spread over an ECMP group of --ecmp-members tunnels on WAN (B)",
     Format::plain, Side::a, Format::gre, true, true, true, ""},
    // gretap: the LAN port is bridged whole with a gretap tunnel (bridge domain, no flood limit).
    // Decap frames keep their own MACs (a bridge does not rewrite them): MACs not checked.
    {"gretap-encap", "plain Ethernet in on a bridged LAN port (A), gretap (GRE 0x6558) expected on WAN (B)",
     Format::plain, Side::a, Format::teb, true, true, true, ""},
    {"gretap-decap", "gretap (GRE 0x6558) in on WAN (B), the inner Ethernet frame expected on LAN (A)",
     Format::teb, Side::b, Format::plain, false, true, true, ""},
    {"l2-fwd", "reference: plain in on A, the same frame expected on B (testpmd io/macswap)", Format::plain,
     Side::a, Format::plain, false, false, true, ""},
};

const Scenario* find_scenario(const std::string& name) noexcept;
std::string scenarios_json();

}  // namespace tgw::bench
