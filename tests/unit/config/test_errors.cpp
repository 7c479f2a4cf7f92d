// One row per rule: a document that breaks it, and the single finding it must produce (message
// fragments, line:col of the offending value, YAML path). "Single" is part of the contract: a
// row that also produced an echo of its error elsewhere would be a cascade.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/model.hpp"

namespace tgw::config {
namespace {

std::string all(const LoadResult& r) {
    std::string s;
    for (const auto& d : r.errors) s += d.str() + "\n";
    return s;
}

// Lines 1-7. Extra text appended by the helpers starts on line 8.
const std::string ports = R"(ports:
  - name: lan
    device: "net_tap0"
    addresses: ["10.10.1.1/24", "2001:db8:1::1/64"]
  - name: wan
    device: "0000:03:00.0"
    addresses: ["192.168.60.1/24"]
)";

std::string with_ports(const std::string& extra) { return ports + extra; }

// Tunnel t1 on lines 8-11 (name 9, local 10, remote 11); fields from line 12.
std::string tunnel(const std::string& fields, const std::string& local = "192.168.60.1",
                   const std::string& remote = "192.168.60.2", const std::string& name = "t1") {
    return ports + "tunnels:\n  - name: " + name + "\n    local: " + local +
           "\n    remote: " + remote + "\n" + fields;
}

// Tunnel t1 as above, "routes:" on line 12, routes from line 13.
std::string route(const std::string& routes) { return tunnel("") + "routes:\n" + routes; }

struct Case {
    const char* name;
    std::string yaml;
    std::string where;  // "line:col"
    std::string path;
    std::vector<std::string> says;
};

class Rule : public testing::TestWithParam<Case> {};

TEST_P(Rule, ReportsExactlyOneFinding) {
    const Case& c = GetParam();
    auto r = load_string(c.yaml, "t.yaml");
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    const Diag& d = r.errors[0];
    EXPECT_EQ(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col), c.where) << d.str();
    EXPECT_EQ(d.loc.path, c.path) << d.str();
    EXPECT_EQ(d.loc.file, "t.yaml");
    for (const auto& s : c.says)
        EXPECT_NE(d.message.find(s), std::string::npos) << "want \"" << s << "\" in: " << d.str();
}

// The helpers themselves must be valid, or every row would pass or fail for the wrong reason.
TEST(Rule, BaseDocumentsAreValid) {
    for (const auto& y : {ports, tunnel(""), route("  - prefix: 10.20.0.0/24\n    tunnel: t1\n")}) {
        auto r = load_string(y, "base.yaml");
        EXPECT_TRUE(r.errors.empty()) << all(r);
    }
}

std::string name_of(const testing::TestParamInfo<Case>& i) { return i.param.name; }

// ---- top level --------------------------------------------------------------------------------
// One row per rule: easier to scan than the formatter's layout.
// clang-format off
INSTANTIATE_TEST_SUITE_P(
    TopLevel, Rule,
    testing::Values(
        Case{"EalNotList", with_ports("eal: \"--no-huge\"\n"),
             "8:6", "eal", {"expected a list of strings", "got \"--no-huge\""}},
        Case{"EalItemNotString", with_ports("eal: [\"-m\", {a: 1}]\n"),
             "8:13", "eal[1]", {"expected a string, got a map"}},
        Case{"WorkerZero", with_ports("workers: [0]\n"),
             "8:11", "workers[0]", {"from 1 to 127", "main lcore", "got 0"}},
        Case{"WorkerTooBig", with_ports("workers: [1, 128]\n"),
             "8:14", "workers[1]", {"from 1 to 127", "got 128"}},
        Case{"WorkerNotNumber", with_ports("workers: [one]\n"), "8:11", "workers[0]", {"got \"one\""}},
        Case{"WorkerTwice", with_ports("workers: [1, 2, 1]\n"),
             "8:17", "workers[2]", {"lcore 1 is listed twice"}},
        Case{"WorkersEmpty", with_ports("workers: []\n"),
             "8:10", "workers", {"expected 1 to 16 worker lcore ids, got 0"}},
        Case{"WorkersTooMany", with_ports("workers: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]\n"),
             "8:10", "workers", {"expected 1 to 16", "got 17"}},
        Case{"WorkersScalar", with_ports("workers: 1\n"),
             "8:10", "workers", {"expected a list of lcore ids, got 1"}},
        Case{"IdleBackoff", with_ports("idle_backoff_us: 100001\n"),
             "8:18", "idle_backoff_us", {"expected an integer from 0 to 100000, got 100001"}},
        Case{"IdleBackoffNegative", with_ports("idle_backoff_us: -1\n"),
             "8:18", "idle_backoff_us", {"got -1"}},
        Case{"IdleBackoffFloat", with_ports("idle_backoff_us: 1.5\n"),
             "8:18", "idle_backoff_us", {"got \"1.5\""}},
        Case{"StatsInterval", with_ports("stats_interval: 86401\n"),
             "8:17", "stats_interval", {"0 (off) to 86400", "got 86401"}},
        Case{"MbufsLow", with_ports("mbufs: 1022\n"), "8:8", "mbufs", {"from 1023 to 1048575", "got 1022"}},
        Case{"MbufsHuge", with_ports("mbufs: 99999999999999999999999\n"),
             "8:8", "mbufs", {"got 99999999999999999999999"}},
        Case{"LogLevelTypo", with_ports("log_level: debg\n"),
             "8:12", "log_level",
             {"expected one of emerg, alert, crit, error, warning, notice, info, debug", "got \"debg\"", "did you mean \"debug\"?"}},
        Case{"LogLevelAbbreviated", with_ports("log_level: warn\n"),
             "8:12", "log_level", {"did you mean \"warning\"?"}},
        Case{"LogLevelList", with_ports("log_level: [info]\n"),
             "8:12", "log_level", {"expected one of", "got a list"}},
        Case{"UnknownKeyNearMiss", with_ports("tunnel: []\n"),
             "8:1", "tunnel",
             {"unknown key \"tunnel\"", "did you mean \"tunnels\"?", "valid keys here: eal, workers,"}},
        Case{"UnknownKeyFar", with_ports("interfaces: []\n"),
             "8:1", "interfaces", {"unknown key \"interfaces\"; valid keys here:"}},
        Case{"DuplicateKey", with_ports("mbufs: 2047\nmbufs: 4095\n"),
             "9:1", "mbufs", {"duplicate key \"mbufs\"", "line 8"}},
        Case{"NoPorts", "ports: []\n", "1:8", "ports", {"expected 1 to 16 ports, got 0"}},
        Case{"PortsNotList", "ports: {name: a}\n", "1:8", "ports", {"expected a list of ports, got a map"}}),
    name_of);
// clang-format on

// ---- ports ------------------------------------------------------------------------------------
// Port p on line 2; body from line 3.
std::string port(const std::string& body) { return "ports:\n  - name: p\n" + body; }

// One row per rule: easier to scan than the formatter's layout.
// clang-format off
INSTANTIATE_TEST_SUITE_P(
    Ports, Rule,
    testing::Values(
        Case{"NameChars", "ports:\n  - name: \"lan 1\"\n    device: net_null0\n",
             "2:11", "ports[0].name",
             {"\"lan 1\" is not a valid name", "1 to 15 characters from A-Z a-z 0-9 _ . -"}},
        Case{"NameTooLong", "ports:\n  - name: abcdefghijklmnop\n    device: net_null0\n",
             "2:11", "ports[0].name", {"not a valid name"}},
        Case{"NameEmpty", "ports:\n  - name: \"\"\n    device: net_null0\n",
             "2:11", "ports[0].name", {"\"\" is not a valid name"}},
        Case{"NameMissing", "ports:\n  - device: net_null0\n",
             "2:5", "ports[0].name", {"missing required key \"name\""}},
        Case{"NameMisspelt", "ports:\n  - nmae: lan\n    device: net_null0\n",
             "2:5", "ports[0].nmae",
             {"unknown key \"nmae\" (did you mean \"name\"?)", "valid keys here: name, device, mac, mtu, rx_queues, addresses"}},
        Case{"NameCaseTypo", "ports:\n  - Name: lan\n    device: net_null0\n",
             "2:5", "ports[0].Name", {"did you mean \"name\"?"}},
        Case{"NameTwice", with_ports("  - name: lan\n    device: net_null0\n"),
             "8:11", "ports[2].name",
             {"\"lan\" is already the name of port \"lan\" (ports[0])", "unique among ports and tunnels"}},
        Case{"NameSameAsTunnel",
             tunnel("", "192.168.60.1", "192.168.60.2") + "  - name: wan\n"
                 "    local: 192.168.60.1\n"
                 "    remote: 192.168.60.3\n",
             "12:11", "tunnels[1].name", {"\"wan\" is already the name of port \"wan\" (ports[1])"}},
        Case{"DeviceBad", port("    device: eth0\n"),
             "3:13", "ports[0].device",
             {"\"eth0\" is not a device", "PCI address (0000:03:00.0 or 03:00.0) or a vdev string"}},
        Case{"DevicePciBadFunction", port("    device: \"0000:03:00.8\"\n"),
             "3:13", "ports[0].device", {"is not a device"}},
        Case{"DevicePciBadSlot", port("    device: \"03:20.0\"\n"),
             "3:13", "ports[0].device", {"is not a device"}},
        Case{"DeviceVdevSpace", port("    device: \"net_tap0, iface=a\"\n"),
             "3:13", "ports[0].device", {"is not a device"}},
        Case{"DeviceVdevNoDriver", port("    device: \"net_\"\n"),
             "3:13", "ports[0].device", {"is not a device"}},
        Case{"DeviceMissing", "ports:\n  - name: p\n",
             "2:5", "ports[0].device", {"missing required key \"device\"", "PCI address"}},
        Case{"DeviceShortPciTwice", with_ports("  - name: x\n    device: \"03:00.0\"\n"),
             "9:13", "ports[2].device", {"device \"03:00.0\" is already used by port \"wan\""}},
        Case{"DeviceVdevNameTwice", with_ports("  - name: x\n    device: \"net_tap0,iface=x\"\n"),
             "9:13", "ports[2].device",
             {"already used by port \"lan\"", "a vdev name can be used only once"}},
        Case{"MacMulticast", port("    device: net_null0\n    mac: \"01:00:5e:00:00:01\"\n"),
             "4:10", "ports[0].mac", {"01:00:5e:00:00:01 is a multicast MAC", "expected a unicast MAC"}},
        Case{"MacZero", port("    device: net_null0\n    mac: \"00:00:00:00:00:00\"\n"),
             "4:10", "ports[0].mac", {"not a usable MAC"}},
        Case{"MacBad", port("    device: net_null0\n    mac: 02-00-00-00-00-01\n"),
             "4:10", "ports[0].mac",
             {"\"02-00-00-00-00-01\" is not a MAC address", "such as 02:00:00:00:01:01"}},
        Case{"MtuLow", port("    device: net_null0\n    mtu: 67\n"),
             "4:10", "ports[0].mtu", {"from 68 to 9000, got 67"}},
        Case{"MtuHigh", port("    device: net_null0\n"
            "    mtu: 9001\n"), "4:10", "ports[0].mtu", {"got 9001"}},
        Case{"MtuIpv6",
             port("    device: net_null0\n"
                 "    mtu: 1279\n"
                 "    addresses: [\"10.0.0.1/24\", \"2001:db8::1/64\"]\n"),
             "4:10", "ports[0].mtu", {"mtu 1279 is below 1280", "IPv6 address 2001:db8::1/64"}},
        Case{"RxQueues", port("    device: net_null0\n    rx_queues: 17\n"),
             "4:16", "ports[0].rx_queues", {"from 0 to 16", "got 17"}},
        Case{"AddressesNotList", port("    device: net_null0\n    addresses: 10.0.0.1/24\n"),
             "4:16", "ports[0].addresses", {"expected a list of addresses", "got \"10.0.0.1/24\""}},
        Case{"AddressNoLength", port("    device: net_null0\n    addresses: [10.0.0.1]\n"),
             "4:17", "ports[0].addresses[0]", {"\"10.0.0.1\" has no prefix length", "e.g. \"10.0.0.1/24\""}},
        Case{"AddressNoLength6", port("    device: net_null0\n    addresses: [\"2001:db8::1\"]\n"),
             "4:17", "ports[0].addresses[0]", {"e.g. \"2001:db8::1/64\""}},
        Case{"AddressNetwork", port("    device: net_null0\n    addresses: [10.0.0.0/24]\n"),
             "4:17", "ports[0].addresses[0]", {"10.0.0.0/24 is the network address", "such as 10.0.0.1/24"}},
        Case{"AddressBroadcast", port("    device: net_null0\n"
            "    addresses: [10.0.0.1/30, 10.0.1.3/30]\n"),
             "4:30", "ports[0].addresses[1]", {"10.0.1.3/30 is the broadcast address of 10.0.1.0/30"}},
        Case{"AddressAnycast6", port("    device: net_null0\n    addresses: [\"2001:db8::/64\"]\n"),
             "4:17", "ports[0].addresses[0]", {"subnet-router anycast"}},
        Case{"AddressBadLength", port("    device: net_null0\n    addresses: [10.0.0.1/33]\n"),
             "4:17", "ports[0].addresses[0]",
             {"\"10.0.0.1/33\" has an invalid prefix length", "/0 to /32 for IPv4"}},
        Case{"AddressNotAddress", port("    device: net_null0\n    addresses: [10.0.0.300/24]\n"),
             "4:17", "ports[0].addresses[0]", {"\"10.0.0.300/24\" is not an IPv4 or IPv6 address"}},
        Case{"AddressLoopback", port("    device: net_null0\n    addresses: [127.0.0.1/8]\n"),
             "4:17", "ports[0].addresses[0]", {"127.0.0.1 is a loopback address"}},
        Case{"AddressMulticast", port("    device: net_null0\n    addresses: [\"ff02::1/64\"]\n"),
             "4:17", "ports[0].addresses[0]", {"is a multicast address"}},
        Case{"AddressMapped", port("    device: net_null0\n"
            "    addresses: [\"::ffff:10.0.0.1/24\"]\n"),
             "4:17", "ports[0].addresses[0]", {"IPv4-mapped", "write it as 10.0.0.1/24"}},
        Case{"AddressTwiceOnPorts",
             with_ports("  - name: x\n    device: net_null0\n    addresses: [10.10.1.1/32]\n"),
             "10:17", "ports[2].addresses[0]",
             {"10.10.1.1 is already assigned to port \"lan\" (ports[0].addresses[0])"}},
        Case{"AddressTwiceOnOnePort",
             port("    device: net_null0\n    addresses: [10.0.0.1/24, 10.0.0.1/25]\n"),
             "4:30", "ports[0].addresses[1]", {"10.0.0.1 is already assigned to port \"p\""}},
        Case{"SubnetsOverlap",
             with_ports("  - name: x\n    device: net_null0\n    addresses: [10.10.0.1/16]\n"),
             "10:17", "ports[2].addresses[0]",
             {"subnet 10.10.0.0/16 overlaps 10.10.1.0/24 of port \"lan\" (ports[0].addresses[0])"}},
        // Reported at whichever of the two comes later in the file, wider or not.
        Case{"SubnetsOverlapLaterIsWider",
             R"(ports:
  - name: a
    device: net_null0
    addresses: [10.1.2.1/24]
  - name: b
    device: net_null1
    addresses: [192.0.2.1/24, 10.0.0.1/8]
)",
             "7:31", "ports[1].addresses[1]",
             {"subnet 10.0.0.0/8 overlaps 10.1.2.0/24 of port \"a\" (ports[0].addresses[0])"}},
        Case{"PortNotMap", with_ports("  - wan2\n"),
             "8:5", "ports[2]", {"expected a port (a map with keys name, device,", "got \"wan2\""}},
        Case{"PortsTooMany",
             [] {
                 std::string y = "ports:\n";
                 for (int i = 0; i < 17; i++)
                     y += "  - {name: p" + std::to_string(i) + ", device: net_null" +
                          std::to_string(i) + "}\n";
                 return y;
             }(),
             "2:3", "ports", {"expected 1 to 16 ports, got 17"}}),
    name_of);
// clang-format on

// ---- neighbors --------------------------------------------------------------------------------
std::string neighbor(const std::string& port, const std::string& address,
                     const std::string& mac = "\"02:00:00:00:00:09\"") {
    return with_ports("neighbors:\n  - port: " + port + "\n    address: " + address +
                      "\n    mac: " + mac + "\n");
}

// One row per rule: easier to scan than the formatter's layout.
// clang-format off
INSTANTIATE_TEST_SUITE_P(
    Neighbors, Rule,
    testing::Values(
        Case{"UnknownPort", neighbor("wna", "192.168.60.9"),
             "9:11", "neighbors[0].port",
             {"unknown port \"wna\" (did you mean \"wan\"?); ports are: lan, wan"}},
        Case{"NotInPortSubnet", neighbor("lan", "192.168.60.9"),
             "10:14", "neighbors[0].address",
             {"192.168.60.9 is not in a subnet of port \"lan\" (subnets: 10.10.1.0/24, 2001:db8:1::/64)"}},
        Case{"OwnAddress", neighbor("wan", "192.168.60.1"),
             "10:14", "neighbors[0].address", {"is an address of this gateway, port \"wan\""}},
        Case{"BadAddress", neighbor("wan", "192.168.60"),
             "10:14", "neighbors[0].address", {"\"192.168.60\" is not an IPv4 or IPv6 address"}},
        Case{"MulticastAddress", neighbor("wan", "224.0.0.5"),
             "10:14", "neighbors[0].address", {"224.0.0.5 is a multicast address"}},
        Case{"MulticastMac", neighbor("wan", "192.168.60.9", "\"33:33:00:00:00:01\""),
             "11:10", "neighbors[0].mac", {"multicast MAC"}},
        Case{"MissingMac", with_ports("neighbors:\n  - port: wan\n    address: 192.168.60.9\n"),
             "9:5", "neighbors[0].mac", {"missing required key \"mac\""}},
        Case{"Twice",
             neighbor("wan", "192.168.60.9") + "  - {port: wan, address: 192.168.60.9, mac: \"02:00:00:00:00:08\"}\n",
             "12:26", "neighbors[1].address",
             {"neighbor 192.168.60.9 on port \"wan\" is already defined by neighbors[0]"}}),
    name_of);
// clang-format on

// ---- tunnels ----------------------------------------------------------------------------------
// One row per rule: easier to scan than the formatter's layout.
// clang-format off
INSTANTIATE_TEST_SUITE_P(
    Tunnels, Rule,
    testing::Values(
        Case{"NameBad", tunnel("", "192.168.60.1", "192.168.60.2", "t 1"),
             "9:11", "tunnels[0].name", {"\"t 1\" is not a valid name"}},
        Case{"LocalMissing", with_ports("tunnels:\n  - name: t1\n    remote: 192.168.60.2\n"),
             "9:5", "tunnels[0].local",
             {"missing required key \"local\": expected one of the ports' addresses"}},
        Case{"RemoteMissing", with_ports("tunnels:\n  - name: t1\n    local: 192.168.60.1\n"),
             "9:5", "tunnels[0].remote", {"missing required key \"remote\""}},
        Case{"LocalNotOurs", tunnel("", "192.168.60.9"),
             "10:12", "tunnels[0].local",
             {"192.168.60.9 is not an address of any port", "10.10.1.1, 2001:db8:1::1, 192.168.60.1"}},
        Case{"LocalWithLength", tunnel("", "192.168.60.1/24"),
             "10:12", "tunnels[0].local",
             {"\"192.168.60.1/24\" has a prefix length; expected a plain address such as 192.168.60.1"}},
        Case{"LocalIsInnerAddress",
             tunnel("    addresses: [10.88.0.1/30]\n"
                 "  - name: t2\n"
                 "    local: 10.88.0.1\n"
                 "    remote: 192.168.60.3\n"),
             "14:12", "tunnels[1].local", {"10.88.0.1 is an inner address of tunnel \"t1\""}},
        Case{"RemoteBad", tunnel("", "192.168.60.1", "\"10.0.0.300\""),
             "11:13", "tunnels[0].remote", {"\"10.0.0.300\" is not an IPv4 or IPv6 address"}},
        Case{"RemoteFamily", tunnel("", "192.168.60.1", "\"2001:db8:1::2\""),
             "11:13", "tunnels[0].remote", {"remote 2001:db8:1::2 is IPv6 but local 192.168.60.1 is IPv4"}},
        Case{"RemoteMulticast", tunnel("", "192.168.60.1", "239.1.1.1"),
             "11:13", "tunnels[0].remote", {"239.1.1.1 is a multicast address"}},
        Case{"RemoteLoopback", tunnel("", "192.168.60.1", "127.0.0.2"),
             "11:13", "tunnels[0].remote", {"is a loopback address"}},
        Case{"RemoteUnspecified", tunnel("", "192.168.60.1", "0.0.0.0"),
             "11:13", "tunnels[0].remote", {"is the unspecified address"}},
        Case{"RemoteUnspecified6", tunnel("", "\"2001:db8:1::1\"", "\"::\""),
             "11:13", "tunnels[0].remote", {"is the unspecified address"}},
        Case{"RemoteIsLocal", tunnel("", "192.168.60.1", "192.168.60.1"),
             "11:13", "tunnels[0].remote", {"is the same as local"}},
        Case{"RemoteIsOurs", tunnel("", "192.168.60.1", "10.10.1.1"),
             "11:13", "tunnels[0].remote", {"10.10.1.1 is an address of this gateway, port \"lan\""}},
        Case{"RemoteUnreachable", tunnel("", "192.168.60.1", "203.0.113.5"),
             "11:13", "tunnels[0].remote",
             {"203.0.113.5 is not reachable over the underlay", "routes through a tunnel do not count"}},
        Case{"RemoteOnlyViaTunnelRoute",
             tunnel("", "192.168.60.1", "203.0.113.5") + "routes:\n"
                 "  - {prefix: 0.0.0.0/0, tunnel: t1}\n",
             "11:13", "tunnels[0].remote", {"not reachable over the underlay"}},
        Case{"RemoteRoutedIntoTunnel",
             tunnel("", "192.168.60.1", "203.0.113.5") + "routes:\n"
                 "  - {prefix: 0.0.0.0/0, via: 192.168.60.254}\n"
                 "  - {prefix: 203.0.113.0/24, tunnel: t1}\n",
             "11:13", "tunnels[0].remote",
             {"routed into tunnel \"t1\" by routes[1] (203.0.113.0/24)", "carry its own packets"}},
        Case{"RemoteBlackholed",
             tunnel("", "192.168.60.1", "192.168.60.2") + "routes:\n"
                 "  - {prefix: 192.168.60.0/25, blackhole: true}\n",
             "11:13", "tunnels[0].remote", {"dropped by the blackhole routes[0] (192.168.60.0/25)"}},
        Case{"KeyNegative", tunnel("    key: -1\n"),
             "12:10", "tunnels[0].key",
             {"expected a GRE key from 0 to 4294967295 (decimal or 0x hex), got -1"}},
        Case{"KeyTooBig", tunnel("    key: 4294967296\n"), "12:10", "tunnels[0].key", {"got 4294967296"}},
        Case{"KeyHexTooBig", tunnel("    key: 0x100000000\n"),
             "12:10", "tunnels[0].key", {"got 0x100000000"}},
        Case{"KeyText", tunnel("    key: forty-two\n"), "12:10", "tunnels[0].key", {"got \"forty-two\""}},
        Case{"ChecksumYes", tunnel("    checksum: yes\n"),
             "12:15", "tunnels[0].checksum", {"expected true or false, got \"yes\""}},
        Case{"SequenceNumber", tunnel("    sequence: 1\n"),
             "12:15", "tunnels[0].sequence", {"expected true or false, got 1"}},
        Case{"TtlText", tunnel("    ttl: abc\n"),
             "12:10", "tunnels[0].ttl", {"expected an integer from 0 to 255, got \"abc\""}},
        Case{"TtlBig", tunnel("    ttl: 256\n"),
             "12:10", "tunnels[0].ttl", {"expected an integer from 0 to 255, got 256"}},
        Case{"TosBig", tunnel("    tos: 64\n"),
             "12:10", "tunnels[0].tos", {"\"inherit\" or a DSCP from 0 to 63", "got 64"}},
        Case{"TosName", tunnel("    tos: af44\n"), "12:10", "tunnels[0].tos", {"got \"af44\""}},
        Case{"DfTypo", tunnel("    df: sett\n"),
             "12:9", "tunnels[0].df",
             {"expected one of copy, set, clear, got \"sett\" (did you mean \"set\"?)"}},
        Case{"DfOnIpv6", tunnel("    df: set\n", "\"2001:db8:1::1\"", "\"2001:db8:1::2\""),
             "12:9", "tunnels[0].df", {"apply only to an IPv4 outer header"}},
        Case{"MtuBelowMin", tunnel("    mtu: 575\n"),
             "12:10", "tunnels[0].mtu", {"expected 0 (automatic) or an MTU from 576 to 9000, got 575"}},
        Case{"MtuAboveMax", tunnel("    mtu: 9001\n"), "12:10", "tunnels[0].mtu", {"got 9001"}},
        Case{"MtuOverPort", tunnel("    mtu: 1477\n"),
             "12:10", "tunnels[0].mtu",
             {"mtu 1477 is too large", "port \"wan\" has mtu 1500", "24 bytes (IPv4 20 + GRE 4)", "at most 1476"}},
        Case{"MtuOverPortWithOptions",
             tunnel("    checksum: true\n    key: 1\n    sequence: true\n    mtu: 1465\n"),
             "15:10", "tunnels[0].mtu",
             {"36 bytes (IPv4 20 + GRE 4 + checksum 4 + key 4 + sequence 4)", "at most 1464"}},
        Case{"MtuOverPortFragmentationInner", tunnel("    fragmentation: inner\n    mtu: 1500\n"),
             "13:10", "tunnels[0].mtu", {"mtu 1500 is too large", "set fragmentation: outer"}},
        Case{"FragmentationUnknown", tunnel("    fragmentation: both\n"),
             "12:20", "tunnels[0].fragmentation", {"expected one of inner, outer, off"}},
        Case{"MssClampWord", tunnel("    mss_clamp: on\n"),
             "12:16", "tunnels[0].mss_clamp", {"auto, off, or an MSS from 536 to 9000"}},
        Case{"MssClampTooSmall", tunnel("    mss_clamp: 535\n"),
             "12:16", "tunnels[0].mss_clamp", {"got 535"}},
        Case{"MtuOverPortIpv6", tunnel("    mtu: 1457\n", "\"2001:db8:1::1\"", "\"2001:db8:1::2\""),
             "12:10", "tunnels[0].mtu",
             {"port \"lan\" has mtu 1500", "44 bytes (IPv6 40 + GRE 4)", "at most 1456"}},
        Case{"AutoMtuTooSmall",
             R"(ports:
  - name: w
    device: net_null0
    mtu: 599
    addresses: [192.0.2.1/24]
tunnels:
  - name: t
    local: 192.0.2.1
    remote: 192.0.2.2
)",
             "7:5", "tunnels[0].mtu",
             {"the automatic mtu would be 575, below 576", "port \"w\" has mtu 599"}},
        Case{"InnerIpv6NeedsMtu", tunnel("    mtu: 1200\n    addresses: [\"2001:db8:88::1/64\"]\n"),
             "12:10", "tunnels[0].mtu", {"needs an mtu of at least 1280", "mtu is 1200"}},
        Case{"InnerIpv6NeedsAutoMtu",
             R"(ports:
  - name: w
    device: net_null0
    mtu: 1300
    addresses: [192.0.2.1/24]
tunnels:
  - name: t
    local: 192.0.2.1
    remote: 192.0.2.2
    addresses: ["2001:db8:88::1/64"]
)",
             "10:17", "tunnels[0].addresses[0]", {"automatic mtu is 1276"}},
        Case{"InnerOverlapsPort", tunnel("    addresses: [10.10.1.200/32]\n"),
             "12:17", "tunnels[0].addresses[0]",
             {"subnet 10.10.1.200/32 overlaps 10.10.1.0/24 of port \"lan\""}},
        Case{"InnerOverlapsOtherTunnel",
             tunnel("    addresses: [10.88.0.1/30]\n"
                 "  - name: t2\n"
                 "    local: 192.168.60.1\n"
                 "    remote: 192.168.60.3\n"
                 "    addresses: [10.88.0.2/29]\n"),
             "16:17", "tunnels[1].addresses[0]", {"overlaps 10.88.0.0/30 of tunnel \"t1\""}},
        Case{"SameEndpointsAndKey",
             tunnel("    key: 7\n"
                 "  - name: t2\n"
                 "    local: 192.168.60.1\n"
                 "    remote: 192.168.60.2\n"
                 "    key: 7\n"),
             "13:5", "tunnels[1]",
             {"overlaps with tunnels[0] (tunnel \"t1\")", "same local 192.168.60.1, remote 192.168.60.2 and key 7"}},
        Case{"SameEndpointsNoKey",
             tunnel("  - name: t2\n    local: 192.168.60.1\n    remote: 192.168.60.2\n"),
             "12:5", "tunnels[1]", {"overlaps with tunnels[0]", "and no key"}},
        Case{"TunnelUnknownKey", tunnel("    remote_ip: 1.2.3.4\n"),
             "12:5", "tunnels[0].remote_ip",
             {"unknown key \"remote_ip\"", "valid keys here: name, local, remote, key, checksum, sequence, ttl, tos, df, mtu, addresses"}},
        Case{"TunnelsTooMany",
             [] {
                 std::string y = ports + "tunnels:\n";
                 for (int i = 0; i <= 4096; i++)
                     y += "  - {name: t" + std::to_string(i) +
                          ", local: 192.168.60.1, remote: 192.168.60.2, key: " + std::to_string(i) +
                          "}\n";
                 return y;
             }(),
             "9:3", "tunnels", {"expected at most 4096 tunnels, got 4097"}}),
    name_of);
// clang-format on

// ---- routes -----------------------------------------------------------------------------------
// One row per rule: easier to scan than the formatter's layout.
// clang-format off
INSTANTIATE_TEST_SUITE_P(
    Routes, Rule,
    testing::Values(
        Case{"HostBits", route("  - prefix: 10.20.0.1/24\n    tunnel: t1\n"),
             "13:13", "routes[0].prefix",
             {"\"10.20.0.1/24\" has host bits set (did you mean 10.20.0.0/24?)"}},
        Case{"HostBits6", route("  - prefix: \"2001:db8:20::1/48\"\n    tunnel: t1\n"),
             "13:13", "routes[0].prefix", {"did you mean 2001:db8:20::/48?"}},
        Case{"NoLength", route("  - prefix: 10.20.0.1\n    tunnel: t1\n"),
             "13:13", "routes[0].prefix", {"has no prefix length", "\"10.20.0.1/32\" for this single host"}},
        Case{"PrefixMissing", route("  - tunnel: t1\n"),
             "13:5", "routes[0].prefix", {"missing required key \"prefix\""}},
        Case{"PrefixTwice",
             route("  - {prefix: 10.20.0.0/24, tunnel: t1}\n"
                 "  - {prefix: 10.20.0.0/24, blackhole: true}\n"),
             "14:14", "routes[1].prefix", {"duplicate route for 10.20.0.0/24; routes[0] already routes it"}},
        Case{"PrefixIsConnected", route("  - {prefix: 10.10.1.0/24, tunnel: t1}\n"),
             "13:14", "routes[0].prefix", {"10.10.1.0/24 is the connected subnet of port \"lan\""}},
        Case{"NoTarget", route("  - prefix: 10.20.0.0/24\n"),
             "13:5", "routes[0]", {"expected exactly one of tunnel, group, via or blackhole: true, got none"}},
        Case{"BlackholeFalse", route("  - prefix: 10.20.0.0/24\n    blackhole: false\n"),
             "13:5", "routes[0]", {"got none"}},
        Case{"TwoTargets", route("  - prefix: 10.20.0.0/24\n"
            "    tunnel: t1\n"
            "    via: 192.168.60.254\n"),
             "13:5", "routes[0]", {"got tunnel and via"}},
        Case{"BlackholeYes", route("  - prefix: 10.20.0.0/24\n    blackhole: yes\n"),
             "14:16", "routes[0].blackhole", {"expected true or false, got \"yes\""}},
        Case{"UnknownTunnel", route("  - prefix: 10.20.0.0/24\n    tunnel: t2\n"),
             "14:13", "routes[0].tunnel",
             {"unknown tunnel \"t2\" (did you mean \"t1\"?)", "tunnels are: t1"}},
        Case{"TunnelIsPort", route("  - prefix: 10.20.0.0/24\n    tunnel: wan\n"),
             "14:13", "routes[0].tunnel",
             {"unknown tunnel \"wan\"", "\"wan\" is a port: route to it with via"}},
        Case{"ViaFamily", route("  - prefix: \"2001:db8:20::/48\"\n    via: 192.168.60.254\n"),
             "14:10", "routes[0].via",
             {"next hop 192.168.60.254 is IPv4 but prefix 2001:db8:20::/48 is IPv6"}},
        Case{"ViaOffLink", route("  - prefix: 10.20.0.0/24\n    via: 172.16.0.1\n"),
             "14:10", "routes[0].via",
             {"next hop 172.16.0.1 is not in a subnet of any port", "192.168.60.0/24 (wan)"}},
        Case{"ViaOnTunnelSubnet",
             tunnel("    addresses: [10.88.0.1/30]\n") + "routes:\n"
                 "  - prefix: 10.20.0.0/24\n"
                 "    via: 10.88.0.2\n",
             "15:10", "routes[0].via",
             {"not in a subnet of any port", "on the subnet of tunnel \"t1\", so write tunnel: t1 instead of via"}},
        Case{"ViaNotOnGivenPort", route("  - prefix: 10.20.0.0/24\n"
            "    via: 192.168.60.254\n"
            "    port: lan\n"),
             "14:10", "routes[0].via",
             {"not in a subnet of port \"lan\" (subnets: 10.10.1.0/24, 2001:db8:1::/64)"}},
        Case{"ViaOwnAddress", route("  - prefix: 10.20.0.0/24\n    via: 192.168.60.1\n"),
             "14:10", "routes[0].via", {"next hop 192.168.60.1 is an address of this gateway"}},
        Case{"ViaBad", route("  - prefix: 10.20.0.0/24\n    via: gateway\n"),
             "14:10", "routes[0].via", {"\"gateway\" is not an IPv4 or IPv6 address"}},
        Case{"PortUnknown", route("  - prefix: 10.20.0.0/24\n"
            "    via: 192.168.60.254\n"
            "    port: wan0\n"),
             "15:11", "routes[0].port", {"unknown port \"wan0\" (did you mean \"wan\"?)"}},
        Case{"PortWithTunnel", route("  - prefix: 10.20.0.0/24\n    tunnel: t1\n    port: wan\n"),
             "15:11", "routes[0].port", {"port applies only to a route with via"}},
        Case{"RouteNotMap", route("  - 10.20.0.0/24\n"),
             "13:5", "routes[0]",
             {"expected a route (a map with keys prefix, tunnel, via, port, blackhole, group, backup)"}},
        Case{"RoutesTooMany",
             [] {
                 std::string y = ports + "routes:\n";
                 for (unsigned i = 0; i <= 65536; i++)
                     y += "  - {prefix: " + IpAddr::v4(0xac100000u + i).str() +
                          "/32, blackhole: true}\n";
                 return y;
             }(),
             "9:3", "routes", {"expected at most 65536 routes, got 65537"}}),
    name_of);
// clang-format on

// ---- several findings in one document ---------------------------------------------------------

TEST(Errors, AllReportedInDocumentOrder) {
    // Sections deliberately out of the usual order: routes before tunnels before ports.
    auto r = load_string(R"(routes:
  - prefix: 10.20.0.1/24
    tunnel: gre-x
tunnels:
  - name: gre-a
    local: 192.168.60.1
    remote: 192.168.60.2
    ttl: 300
  - name: gre-a
    local: 192.168.60.1
    remote: 192.168.60.3
ports:
  - name: wan
    device: "0000:03:00.0"
    mtu: 10000
    addresses: [192.168.60.1/24]
workers: [0]
)",
                         "multi.yaml");
    ASSERT_EQ(r.errors.size(), 6u) << all(r);
    const std::vector<std::string> paths = {"routes[0].prefix", "routes[0].tunnel",
                                            "tunnels[0].ttl",   "tunnels[1].name",
                                            "ports[0].mtu",     "workers[0]"};
    for (size_t i = 0; i < paths.size(); i++) EXPECT_EQ(r.errors[i].loc.path, paths[i]) << all(r);
    for (size_t i = 1; i < r.errors.size(); i++)
        EXPECT_LT(r.errors[i - 1].loc.line, r.errors[i].loc.line) << all(r);
    EXPECT_EQ(r.errors[0].str(),
              "multi.yaml:2:13: routes[0].prefix: \"10.20.0.1/24\" has host bits set (did you mean "
              "10.20.0.0/24?)");
}

// A bad value is reported once; checks that would need it are skipped, other fields still checked.
TEST(Errors, NoCascades) {
    struct Row {
        const char* what;
        std::string yaml;
        std::vector<std::string> paths;
    };
    const Row rows[] = {
        {"tunnel with a bad name is still checked field by field",
         tunnel("    ttl: 300\n", "192.168.60.1", "\"10.0.0.300\"", "t 1"),
         {"tunnels[0].name", "tunnels[0].remote", "tunnels[0].ttl"}},
        {"route to a tunnel that exists but has another error",
         tunnel("", "192.168.60.1", "192.168.60.300") +
             "routes:\n  - {prefix: 10.20.0.0/24, tunnel: t1}\n",
         {"tunnels[0].remote"}},
        {"route to a tunnel whose name is malformed",
         tunnel("", "192.168.60.1", "192.168.60.2", "\"t 1\"") +
             "routes:\n  - {prefix: 10.20.0.0/24, tunnel: \"t 1\"}\n",
         {"tunnels[0].name"}},
        {"misspelt port name key: no 'missing name', no unknown-port for references",
         "ports:\n  - nmae: wan\n    device: net_null0\n    addresses: [192.0.2.1/24]\n"
         "neighbors:\n  - {port: wan, address: 192.0.2.9, mac: \"02:00:00:00:00:09\"}\n",
         {"ports[0].nmae"}},
        {"port address without length still owns its address",
         "ports:\n  - name: wan\n    device: net_null0\n    addresses: [192.0.2.1]\n"
         "tunnels:\n  - {name: t, local: 192.0.2.1, remote: 192.0.2.1}\n",
         {"ports[0].addresses[0]", "tunnels[0].remote"}},
        {"unparseable port address: local and reachability are not second-guessed",
         "ports:\n  - name: wan\n    device: net_null0\n    addresses: [192.0.2.300/24]\n"
         "tunnels:\n  - {name: t, local: 192.0.2.1, remote: 192.0.2.2}\n"
         "routes:\n  - {prefix: 0.0.0.0/0, via: 192.0.2.254}\n",
         {"ports[0].addresses[0]"}},
        {"broken via route: the remote it would carry is not called unreachable",
         tunnel("", "192.168.60.1", "203.0.113.5") +
             "routes:\n  - {prefix: 0.0.0.0/0, via: 172.16.0.1}\n",
         {"routes[0].via"}},
        {"route host bits: value kept masked, references still resolve",
         tunnel("", "192.168.60.1", "203.0.113.5") +
             "routes:\n  - {prefix: 0.0.0.1/0, via: 192.168.60.254}\n",
         {"routes[0].prefix"}},
        {"ports list of the wrong type: no unknown-port / not-a-port-address noise",
         "ports: wan\nneighbors:\n  - {port: wan, address: 192.0.2.9, mac: \"02:00:00:00:00:09\"}\n"
         "tunnels:\n  - {name: t, local: 192.0.2.1, remote: 192.0.2.2}\nroutes:\n  - {prefix: "
         "10.0.0.0/8, tunnel: t}\n",
         {"ports"}},
        {"bad tunnel key: duplicate-endpoint check skipped",
         tunnel("    key: -1\n  - name: t2\n    local: 192.168.60.1\n    remote: 192.168.60.2\n"),
         {"tunnels[0].key"}},
    };
    for (const auto& row : rows) {
        auto r = load_string(row.yaml, "c.yaml");
        std::vector<std::string> got;
        for (const auto& d : r.errors) got.push_back(d.loc.path);
        EXPECT_EQ(got, row.paths) << row.what << "\n" << all(r);
    }
}

}  // namespace
}  // namespace tgw::config
