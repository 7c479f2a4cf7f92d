// TCP MSS clamping (the Cisco `ip tcp adjust-mss` / Linux TCPMSS --clamp-mss-to-pmtu idea):
// lower the MSS option of a SYN or SYN-ACK so neither end sends segments the tunnel would
// have to fragment or refuse. Applied to packets entering a tunnel and leaving one.
#pragma once
#include <rte_mbuf.h>

#include <cstdint>

namespace tgw::dp {

// The data offset of `m` is at an IP header of `family` (4 or 6). If it is a TCP SYN whose MSS
// option exceeds `mss`, the option is lowered to `mss` and the TCP checksum updated
// incrementally (RFC 1624). Returns true when the packet was changed. Packets that are not
// TCP SYNs, non-first fragments, and headers beyond the first segment are left alone.
bool mss_clamp(rte_mbuf* m, uint8_t family, uint16_t mss) noexcept;

// The same on a plain buffer holding an IP packet of `len` bytes (what mss_clamp works on).
bool mss_clamp_buf(uint8_t* ip, uint32_t len, uint8_t family, uint16_t mss) noexcept;

}  // namespace tgw::dp
