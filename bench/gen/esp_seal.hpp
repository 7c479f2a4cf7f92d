// ESP for the generator's decrypt scenarios: frames are encrypted once, at start-up, with the
// gateway's own crypto set-up (control::CryptoDev + acquire_sa, rte_ipsec over crypto_ipsec_mb),
// as the peer's outbound SA = the gateway's inbound one. The result is replayed (net_pcap
// infinite_rx), so the gateway's inbound SA must run with replay_window: 0.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "packet.hpp"

namespace tgw::bench {

struct EspParams {
    uint32_t spi = 0x2002;
    std::vector<uint8_t> key;  // AES-GCM-128: 16-byte key + 4-byte salt (RFC 4106 §8.1)
};

// The test key the sweep configures on the gateway (bench/run_sweep.py ESP_IN_KEY). A
// benchmark key, public on purpose; never a production one.
inline constexpr const char* default_esp_key = "2b7e151628aed2a6abf7158809cf4f3cdeadbeef";

bool parse_hex_key(const std::string& s, std::vector<uint8_t>& out);

// Encrypts Ethernet frames (IPv4 inside) into Ethernet + IPv4 (peer -> gateway) + ESP tunnel
// mode, sequence numbers 1, 2, 3, ... in order. Needs an initialised EAL; throws on error.
std::vector<std::vector<uint8_t>> esp_seal(const Profile& p, const EspParams& e,
                                           const std::vector<std::vector<uint8_t>>& frames);

}  // namespace tgw::bench
