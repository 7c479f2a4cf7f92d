// The validated configuration, as plain C++ values. yaml-cpp types never leave src/config/.
// Every item remembers where it came from so the compiler can also report by location.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tunnelgw/addr.hpp"

namespace tgw::config {

struct Loc {
    std::string file;
    int line = 0;  // 1-based; 0 = unknown
    int col = 0;   // 1-based
    std::string path;  // YAML path, e.g. tunnels[2].remote
};

// One finding. str() renders "file:line:col: path: message".
struct Diag {
    Loc loc;
    std::string message;
    std::string str() const;
};

struct Port {
    std::string name;
    std::string device;  // PCI address (0000:03:00.0) or a DPDK vdev string (net_pcap0,rx_pcap=...)
    std::optional<Mac> mac;  // override; default is the device's own
    uint16_t mtu = 1500;     // L3 MTU of the underlay, 68..9000
    uint16_t rx_queues = 0;  // 0 = one per worker
    std::vector<Prefix> addresses;  // host address + prefix length: 192.0.2.1/24
    Loc loc;
};

struct Neighbor {
    std::string port;
    IpAddr address;
    Mac mac;
    Loc loc;
};

enum class TosMode : uint8_t { Inherit, Fixed };  // DSCP of the outer header
enum class DfMode : uint8_t { Copy, Set, Clear };  // IPv4 outer DF bit
// What happens to an IPv4 packet without DF that is larger than the tunnel MTU (docs:
// config-reference "Tunnel MTU"). inner: fragmented before encapsulation, so the far end never
// reassembles outer packets. outer: encapsulated whole and the outer packet fragmented (the
// tunnel mtu may then exceed what fits). off: dropped as mtu-exceeded.
enum class FragMode : uint8_t { Inner, Outer, Off };
// TCP MSS clamping on SYNs in both directions: auto = tunnel MTU - 40 (IPv4) / - 60 (IPv6).
enum class MssMode : uint8_t { Auto, Fixed, Off };

// Cisco-compatible GRE keepalives: a tunnel that misses `retries` in a row is down and leaves
// every group it is in; it is up again after replies have come back for `hold_down` seconds.
struct Keepalive {
    bool enabled = false;
    uint32_t interval_s = 10;  // 1..32767, as Cisco
    uint32_t retries = 3;      // 1..255
    uint32_t hold_down_s = 0;  // 0..3600; 0 = up on the first reply
};

// gre: L3 GRE (RFC 2784/2890). gretap: Ethernet over GRE (protocol 0x6558, Transparent
// Ethernet Bridging), a member of a bridge domain. ipsec: a plain ESP tunnel-mode tunnel, no GRE;
// local/remote are the ESP endpoints and `protection` is required.
enum class TunnelType : uint8_t { Gre, Gretap, Ipsec };

// The SAs that protect a tunnel. A protected tunnel fails closed: with no usable outbound SA its
// packets are dropped and counted, never sent in clear; cleartext GRE arriving for it is dropped.
// Several inbound SAs may be listed at once so a new SA is installed before the old one goes
// (hitless rekey).
struct Protection {
    std::string out;              // outbound SA name; empty = none installed yet (drop)
    std::vector<std::string> in;  // inbound SA names
    Loc loc;
};

struct Tunnel {
    std::string name;
    TunnelType type = TunnelType::Gre;
    IpAddr local;   // one of the gateway's port addresses
    IpAddr remote;  // same family as local
    std::optional<uint32_t> key;  // RFC 2890 key, 0..4294967295
    bool checksum = false;  // send checksum; require it on receive (as Linux csum)
    bool sequence = false;  // send sequence numbers; drop out-of-order on receive (as Linux seq)
    uint8_t ttl = 64;       // outer TTL / hop limit; 0 = copy from inner
    TosMode tos_mode = TosMode::Inherit;
    uint8_t tos = 0;        // DSCP (0..63) when tos_mode == Fixed
    DfMode df = DfMode::Copy;
    uint16_t mtu = 0;       // inner MTU; 0 = underlay MTU minus overhead
    FragMode fragmentation = FragMode::Inner;
    MssMode mss_mode = MssMode::Auto;
    uint16_t mss = 0;       // MssMode::Fixed: 536..9000
    std::vector<Prefix> addresses;  // inner addresses of the gateway on this tunnel
    Keepalive keepalive;
    std::optional<Protection> protection;  // set = the tunnel is protected (fails closed)
    Loc loc;
};

enum class SaDirection : uint8_t { In, Out };
// tunnel: RFC 4303 tunnel mode, a new outer IP header local -> remote. transport: ESP inserted
// after the packet's own IP header (GRE over IPsec where the GRE and ESP endpoints coincide).
enum class SaMode : uint8_t { Tunnel, Transport };
enum class Cipher : uint8_t { AesGcm128, AesGcm256, AesCbc128, AesCbc256, Chacha20Poly1305 };
enum class Integrity : uint8_t { None, HmacSha1_96, HmacSha256_128 };  // None for AEAD ciphers

// 0 = no limit. Counted on the SA's own traffic (after decryption inbound).
struct SaLifetime {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint64_t seconds = 0;
};

// One manually keyed ESP security association (RFC 4303).
struct Sa {
    std::string name;
    uint32_t spi = 0;  // 256..4294967295: RFC 4303 §2.1 reserves 1..255, 0 is never sent
    SaDirection direction = SaDirection::Out;
    SaMode mode = SaMode::Tunnel;
    // ESP endpoints. Optional in YAML; the validator fills them from the tunnel the SA protects
    // (out: local -> remote; in: the packets come from remote to local).
    IpAddr local, remote;
    Cipher cipher = Cipher::AesGcm128;
    Integrity integrity = Integrity::None;
    std::vector<uint8_t> key;       // cipher key only: 16 or 32 bytes
    std::vector<uint8_t> salt;      // AEAD: 4 bytes (RFC 4106 §8.1, RFC 7634 §2); else empty
    std::vector<uint8_t> auth_key;  // HMAC key: 20 (SHA-1) or 32 (SHA-256) bytes; AEAD: empty
    bool esn = false;               // 64-bit extended sequence numbers (RFC 4303 §2.2.1)
    uint32_t replay_window = 1024;  // inbound, packets: 0 = off, else 64..4096
    SaLifetime soft, hard;          // soft raises an event; hard stops the SA
    bool nat_t = false;             // UDP encapsulation, RFC 3948
    uint16_t nat_t_local_port = 4500, nat_t_remote_port = 4500;
    uint64_t initial_sequence = 0;  // outbound: last sequence number used (tests, migration)
    Loc loc;
};

struct GroupMember {
    std::string tunnel;
    uint32_t weight = 1;  // 1..1000
    Loc loc;
};

// An ECMP group: flows are spread over the live members in proportion to their weights.
struct Group {
    std::string name;
    std::vector<GroupMember> members;  // 1..64
    Loc loc;
};

enum class RouteKind : uint8_t { Tunnel, NextHop, Blackhole, Group };

struct Route {
    Prefix prefix;  // masked (host bits cleared) by the parser
    RouteKind kind = RouteKind::Blackhole;
    std::string tunnel;     // kind == Tunnel
    std::string group;      // kind == Group
    std::string backup;     // Tunnel / Group: a group or tunnel used while the primary has no live member
    IpAddr next_hop;        // kind == NextHop
    std::string port;       // kind == NextHop; empty = the port whose subnet holds next_hop
    Loc loc;
};

// Operator interfaces (operations: in the YAML). Read at start; a reload does not change them.
struct Operations {
    std::string metrics_listen;  // as written; "" = no metrics server
    IpAddr metrics_addr;         // parsed from metrics_listen
    uint16_t metrics_port = 0;   // 0 = no metrics server
    bool telemetry = true;       // tunnelgw commands on DPDK's telemetry socket (tunnelgw-ctl)
    bool pdump = true;           // let dpdk-dumpcap capture on the ports
    bool syslog = false;         // copy log lines to syslog (they always go to stderr)
    uint32_t log_rate = 10;      // rate-limited messages: at most this many lines/s; 0 = no limit
    uint32_t stage_sample = 64;  // time the fast-path stages on 1 pipeline run in N; 0 = off
};

// A bridge domain (bridge_domains:): LAN ports, VLANs on ports and gretap tunnels joined into
// one Ethernet segment. Exactly one of port / tunnel is set per member.
enum class BridgeMode : uint8_t { Learning, PointToPoint };
struct BridgeMember {
    std::string port;              // the whole port, or (with vlan) one VLAN on it
    std::optional<uint16_t> vlan;  // 1..4094: only frames with this tag, tag stripped inside
    std::string tunnel;            // a tunnel with type: gretap
    Loc loc;
};
struct BridgeDomain {
    std::string name;
    std::vector<BridgeMember> members;
    uint32_t mac_ageing_s = 300;        // 1..1000000
    uint32_t mac_limit = 4096;          // learned MACs in this domain
    uint32_t flood_limit_pps = 10000;   // flooded frames per second; 0 = no limit
    BridgeMode mode = BridgeMode::Learning;
    Loc loc;
};

struct Config {
    std::string source;  // file name, for messages
    std::vector<std::string> eal_args;  // `eal:` list, passed to rte_eal_init before CLI ones
    std::vector<unsigned> workers;      // lcore ids of the workers; main lcore = slow path
    uint32_t idle_backoff_us = 100;     // sleep after this many µs of empty polls; 0 = busy poll
    uint32_t stats_interval_s = 10;     // periodic counter print; 0 = off
    uint32_t mbufs = 16383;             // mbuf pool size
    std::string log_level = "info";
    std::vector<Port> ports;
    std::vector<Neighbor> neighbors;
    std::vector<Tunnel> tunnels;
    std::vector<Sa> sas;                // security_associations:
    std::vector<Group> groups;
    std::vector<Route> routes;
    std::vector<BridgeDomain> bridge_domains;
    Operations ops;
};

struct LoadResult {
    std::optional<Config> config;  // set only when errors is empty
    std::vector<Diag> errors;      // every problem found, in document order
};

// Parse and validate. Never throws; every problem becomes a Diag.
LoadResult load_file(const std::string& path);
LoadResult load_string(const std::string& text, const std::string& source_name);

// Limits shared by the validator, the compiler and the reference doc.
inline constexpr size_t max_ports = 16;
inline constexpr size_t max_tunnels = 4096;
inline constexpr size_t max_routes = 65536;
inline constexpr size_t max_workers = 16;
inline constexpr size_t max_groups = 1024;
inline constexpr size_t max_group_members = 64;
inline constexpr size_t max_sas = 8192;
inline constexpr uint32_t max_replay_window = 4096;
inline constexpr size_t max_bridge_domains = 256;
inline constexpr size_t max_bridge_members = 1024;  // over all domains
inline constexpr uint32_t max_bridge_macs = 1u << 20;  // sum of mac_limit over all domains

}  // namespace tgw::config
