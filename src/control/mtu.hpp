// Tunnel MTU arithmetic: how many bytes a tunnel adds in front of (and, with ESP, behind) an
// inner packet, and the largest inner packet whose encapsulation fits the underlay port MTU.
// Pure functions of the configuration model, shared by the validator, the compiler and tests.
#pragma once
#include <cstdint>
#include <string>

#include "config/model.hpp"

namespace tgw::control {

// The encapsulation of one tunnel, as sizes. A packet of `inner` bytes leaves as
//   fixed + roundup(inner + wrapped + esp_trailer, block)      with ESP (block > 1), or
//   fixed + inner                                              without,
// where `wrapped` is what ESP encrypts besides the inner packet (GRE, TEB Ethernet, and the
// GRE delivery header in ESP tunnel mode).
struct Encap {
    unsigned fixed = 0;        // bytes not subject to ESP padding (outer IPs, UDP, ESP hdr, IV, ICV)
    unsigned wrapped = 0;      // bytes inside the ESP payload in front of the inner packet
    unsigned block = 1;        // ESP padding block (RFC 4303 §2.4), 1 = no ESP
    unsigned esp_trailer = 0;  // pad length + next header (2) with ESP
    std::string parts;         // "IPv4 20 + GRE 4 + key 4 + ..." for messages and ctl

    // Bytes on the wire (without the underlay's Ethernet header) for an inner packet.
    unsigned outer_size(unsigned inner) const noexcept;
    // Largest inner packet with outer_size(inner) <= port_mtu; 0 when nothing fits.
    unsigned max_inner(unsigned port_mtu) const noexcept;
};

// The outbound SA named by t.protection->out, or nullptr (unprotected, or none installed yet).
const config::Sa* outbound_sa(const config::Config& cfg, const config::Tunnel& t) noexcept;

// `outer_v6`: the family of the tunnel's own outer header (local/remote).
Encap encap_of(const config::Tunnel& t, const config::Sa* sa);

// The MTU the fast path enforces: the configured `mtu` when set, else what fits. A configured
// mtu above what fits is a configuration error unless fragmentation is `outer` (checked by the
// validator; here it is taken as given).
uint16_t effective_mtu(const config::Tunnel& t, unsigned fits) noexcept;

// TCP MSS written into SYNs (RFC 879 / RFC 6691: MTU minus the IP and TCP base headers), or 0
// for no clamping. family 4 or 6.
uint16_t clamp_mss(const config::Tunnel& t, unsigned mtu, int family) noexcept;

}  // namespace tgw::control
