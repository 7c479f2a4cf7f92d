// ESP for the generator, with the gateway's own crypto set-up (control::CryptoDev + acquire_sa,
// rte_ipsec over crypto_ipsec_mb): the peer's outbound SA (= the gateway's inbound one) to
// encrypt what the decrypt scenarios send, and the peer's inbound SA (= the gateway's
// outbound one) to decrypt what the encrypt scenarios get back. --write-pcap encrypts its
// frames once, and net_pcap infinite_rx replays them: the gateway's inbound SA must then run
// with replay_window: 0. The live mode encrypts every packet as it is sent.
#pragma once
#include <rte_ipsec.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "packet.hpp"

struct rte_mbuf;

namespace tgw::dp {
struct SaLive;
}

namespace tgw::bench {

struct EspParams {
    uint32_t spi = 0x2002;
    std::vector<uint8_t> key;  // AES-GCM-128: 16-byte key + 4-byte salt (RFC 4106 §8.1)
};

// The test keys the sweep configures on the gateway (bench/run_sweep.py ESP_IN_KEY and
// ESP_OUT_KEY). Benchmark keys, public on purpose; never production ones.
inline constexpr const char* default_esp_key = "2b7e151628aed2a6abf7158809cf4f3cdeadbeef";
inline constexpr const char* default_esp_rx_key = "000102030405060708090a0b0c0d0e0f10111213";

bool parse_hex_key(const std::string& s, std::vector<uint8_t>& out);

// One tunnel-mode AES-GCM-128 SA between the peer (generator B) and the gateway. Needs an
// initialised EAL; throws std::runtime_error.
class EspSa {
public:
    EspSa(const Profile& p, const EspParams& e, bool outbound);
    ~EspSa();
    // Outbound: Ethernet + IPv4 frames -> Ethernet + IPv4 (peer -> gateway) + ESP, in place.
    // Inbound: Ethernet + IPv4 + ESP -> Ethernet + the decrypted IPv4 packet, MACs kept.
    // Both return how many of m[0..n) succeeded, moved to the front (rte_ipsec's order);
    // the rest are left at the tail for the caller to free.
    uint16_t seal(rte_mbuf** m, uint16_t n) noexcept;
    uint16_t open(rte_mbuf** m, uint16_t n) noexcept;
    uint32_t spi() const noexcept { return spi_; }

private:
    uint16_t run(rte_mbuf** m, uint16_t n) noexcept;  // strip Ethernet, rte_ipsec over the rest
    std::shared_ptr<dp::SaLive> live_;
    Profile p_;
    uint32_t spi_;
};

// Encrypts whole frames once (--write-pcap), sequence numbers 1, 2, 3, ... in order.
std::vector<std::vector<uint8_t>> esp_seal(const Profile& p, const EspParams& e,
                                           const std::vector<std::vector<uint8_t>>& frames);

}  // namespace tgw::bench
