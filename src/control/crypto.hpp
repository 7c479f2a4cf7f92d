// Crypto set-up for ESP, on the control thread only: the crypto_ipsec_mb device, its session
// pool, and the SA objects (rte_ipsec SA + cryptodev session) the fast path runs. Everything
// here is created before a snapshot is published, never on a packet.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "dp/esp.hpp"

struct rte_mempool;

namespace tgw::control {

// The software crypto device (Intel IPsec-MB through DPDK's crypto_ipsec_mb PMD). One per
// process, opened at start-up whether or not SAs are configured, so a reload can add SAs.
class CryptoDev {
public:
    // Creates (or finds) the vdev, configures it and its session pool. Returns "" or an error.
    std::string open(int socket_id, unsigned max_sessions);
    bool ready() const { return ready_; }
    uint8_t dev_id() const { return dev_id_; }
    rte_mempool* session_pool() const { return pool_; }
    // Whether the device implements `c`/`i` (ChaCha20-Poly1305 depends on the IPsec-MB build).
    bool supports(config::Cipher c, config::Integrity i) const;
    // Stops the device; call before rte_eal_cleanup (which refuses to close a running one).
    void close();
    static CryptoDev& instance();

private:
    bool ready_ = false;
    uint8_t dev_id_ = 0;
    rte_mempool* pool_ = nullptr;
};

// What an SA needs besides its YAML: decided by the tunnel it protects.
struct SaContext {
    uint8_t inner_family = 4;  // tunnel mode: family of the packets inside
    uint8_t ttl = 64;          // outer TTL / hop limit (tunnel mode)
};

// The live SAs by name. A compile starts from the running set and keeps an SA's live state
// when nothing that defines it changed (keys, SPI, endpoints, ...), so its sequence numbers and
// replay window survive a reload; anything else gets a fresh SA.
struct SaStore {
    struct Entry {
        std::string fingerprint;  // never logged: it contains key material
        std::shared_ptr<dp::SaLive> live;
    };
    std::map<std::string, Entry> by_name;
};

// Returns the live SA for `sa` from `old` or a new one; errors go to `error`.
std::shared_ptr<dp::SaLive> acquire_sa(const config::Sa& sa, const SaContext& ctx,
                                       const SaStore& old, SaStore& next, std::string& error);

}  // namespace tgw::control
