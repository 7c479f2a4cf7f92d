// Test fixture for fast-path stages: a compiled snapshot from a programmatic config, a
// worker context with real rings, and a small frame builder with correct checksums.
#pragma once
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "control/compile.hpp"
#include "dp/context.hpp"
#include "dp/frag.hpp"
#include "dp/neigh.hpp"
#include "dp/stages.hpp"
#include "tunnelgw/wire.hpp"

namespace tgw::test {

using Bytes = std::vector<uint8_t>;

inline IpAddr ip(const char* s) { return *IpAddr::parse(s); }
inline Prefix pfx(const char* s) { return *Prefix::parse(s); }

// Gateway: lan 10.10.1.1/24 (port 0), wan 192.168.60.1/24 (port 1);
// tunnel "t0" 192.168.60.1 -> 192.168.60.2, inner 10.88.0.1/30; route 10.20.0.0/24 -> t0.
config::Config base_config();

// Builds frames with valid checksums. Fields are set to typical values, then overridden.
struct Pkt {
    static Bytes ipv4(const char* src, const char* dst, uint8_t proto, const Bytes& payload,
                      uint8_t ttl = 64, uint8_t tos = 0, bool df = false);
    static Bytes ipv6(const char* src, const char* dst, uint8_t next, const Bytes& payload,
                      uint8_t hlim = 64, uint8_t tclass = 0);
    static Bytes icmp_echo(uint16_t id = 1, uint16_t seq = 1, size_t data = 16);
    static Bytes gre(uint16_t proto, const Bytes& inner, bool csum = false,
                     std::optional<uint32_t> key = {}, std::optional<uint32_t> seq = {},
                     uint16_t extra_flags = 0);
    static Bytes eth(const uint8_t dst[6], const uint8_t src[6], uint16_t type, const Bytes& payload);
};

class DpTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;
    void build(const config::Config& cfg, unsigned n_workers = 1,
               const std::set<std::string>* down = nullptr);

    rte_mbuf* mbuf(const Bytes& b);
    Bytes bytes(rte_mbuf* m) const;
    uint64_t dropped(dp::Drop d) const { return ctr_->drops[unsigned(d)]; }

    // Runs stages the way the worker does, without TX: returns what reached egress per port
    // (complete frames), and leaves punted packets in ctx.punted (freed in TearDown).
    struct Out {
        std::vector<std::vector<Bytes>> tx;  // by port index
        std::vector<std::pair<dp::Punt, Bytes>> punted;
        std::vector<unsigned> handoff;       // owner of each handed-off packet
    };
    Out run_frames(const std::vector<Bytes>& frames, uint16_t in_port);

    static rte_mempool* pool();
    config::Config cfg_;
    std::unique_ptr<dp::Snapshot> snap_;
    control::SlotMap slots_;
    std::unique_ptr<dp::NeighTable> neigh_;
    dp::LcoreCounters* ctr_ = nullptr;
    dp::TunnelState* tstate_ = nullptr;
    dp::FragState* frag_ = nullptr;
    dp::WorkerCtx ctx_;
    std::vector<rte_ring*> handoff_;
};

inline const uint8_t lan_mac[6] = {0x02, 0, 0, 0, 0x01, 0x01};
inline const uint8_t wan_mac[6] = {0x02, 0, 0, 0, 0x02, 0x01};
inline const uint8_t host_mac[6] = {0x02, 0, 0, 0, 0x0a, 0x01};
inline const uint8_t peer_mac[6] = {0x02, 0, 0, 0x60, 0, 0x02};

}  // namespace tgw::test
