// Layer 2: bridge domains joining LAN ports, VLANs on ports and gretap tunnels (GRE protocol
// 0x6558, Transparent Ethernet Bridging). The compiled tables (BridgeTables, in the snapshot),
// each worker's bridge state (BridgeCtx: counters, flood buckets, its learn ring) and the
// stage itself.
//
//   ingress --bridged port/VLAN--> bridge --port member--> (VLAN tag) -> tx
//   gre_decap --0x6558 gretap-->   bridge --tunnel member-> gre_encap (family 0) -> egress
//
// VLANs: a member `{port: p}` takes the whole port, tags and all (tagged frames pass through
// unchanged); `{port: p, vlan: v}` takes only frames tagged v, strips the tag on the way in and
// adds it on the way out, so the same domain may map VLAN 100 here to VLAN 200 elsewhere or to
// untagged frames in the tunnel. A VLAN member wins over a whole-port member of the same port.
#pragma once
#include <rte_ring.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "dp/context.hpp"
#include "dp/mac_table.hpp"

namespace tgw::dp {

struct Snapshot;

inline constexpr uint16_t no_member = 0xffff;

struct BdMember {
    enum class Kind : uint8_t { port, tunnel };
    Kind kind = Kind::port;
    uint16_t bd = 0;      // domain index
    uint16_t port = 0;    // port index (kind port)
    uint16_t vlan = 0;    // 0 = the whole port, untouched tags
    uint32_t tunnel = 0;  // tunnel index (kind tunnel)
    std::string name;     // "lan2", "lan2.100", "site-b-tap"
};

struct Bd {
    uint16_t first = 0, n = 0;  // members [first, first + n)
    bool p2p = false;
    uint32_t ageing_s = 300, mac_limit = 4096, flood_pps = 0;
    std::string name;
};

struct BridgeTables {
    uint16_t epoch = 1;  // MAC entries of another epoch are stale (set by the learner)
    std::string signature;  // what the MAC entries depend on: same signature, same epoch
    std::vector<Bd> domains;
    std::vector<BdMember> members;
    uint16_t port_member[config::max_ports];  // whole-port member, or no_member
    std::vector<uint16_t> vlan_member[config::max_ports];  // 4096 entries when the port has any
    std::vector<uint16_t> tunnel_member;                   // by tunnel index
    BridgeTables() {
        for (auto& p : port_member) p = no_member;
    }
};

// A worker asks the table's writer to learn (domain, MAC) on member.
struct LearnEvent {
    MacKey key;
    uint16_t member;
    uint16_t epoch;
    uint32_t pad;
};
static_assert(sizeof(LearnEvent) == 16);

struct BdCounters {
    uint64_t rx_pkts, rx_bytes;    // frames that entered the domain
    uint64_t forwarded;            // known unicast, sent to one member
    uint64_t flooded;              // frames flooded (broadcast, multicast, unknown unicast)
    uint64_t flood_copies;         // copies sent by flooding
    uint64_t unknown_unicast;      // of flooded: unicast to an unknown MAC
    uint64_t learn_events;         // sent to the learner
    uint64_t learn_suppressed;     // not sent: rate limit or ring full (learned later)
};
struct MemberCounters {
    uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
};

// Per worker, written only by its worker.
struct alignas(64) BridgeCtx {
    BdCounters bd[config::max_bridge_domains];
    MemberCounters member[config::max_bridge_members];
    struct Bucket {
        uint64_t last_tsc;
        uint64_t credit;  // in TSC cycles; a flooded frame costs hz / rate
    } flood[config::max_bridge_domains];
    uint64_t learn_credit, learn_last_tsc;
    rte_ring* learn = nullptr;  // to the learner (SP/SC, LearnEvent elements)
    const MacTable* macs = nullptr;
    uint64_t hz = 0;
};

// Per-worker learn event budget: enough for a LAN's stations to appear at once, small enough
// that a MAC flood cannot keep the slow path busy.
inline constexpr uint32_t learn_events_per_s = 20000;

// Frames (data at the Ethernet header, aux = member they came from) -> forwarded or flooded.
// Port members go to c.tx; tunnel members through gre_encap (family 0) and egress, or to the
// owner worker of a sequenced tunnel. A sub-pipeline of its own: flooding multiplies frames,
// so its output never shares the L3 stages' vectors.
void bridge(WorkerCtx& c, const Snapshot& s, Vec& in) noexcept;

// The member a frame arriving on port `port` belongs to, or no_member. Strips a mapped tag.
uint16_t bridge_classify(const BridgeTables& t, uint16_t port, rte_mbuf* m) noexcept;

}  // namespace tgw::dp
