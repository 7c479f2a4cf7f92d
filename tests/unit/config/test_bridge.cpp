// bridge_domains: and type: gretap, accepted and rejected.
#include <gtest/gtest.h>

#include <string>

#include "config/model.hpp"

namespace tgw::config {
namespace {

const std::string base = R"(ports:
  - name: lan
    device: "net_tap0"
    addresses: ["10.10.1.1/24"]
  - name: lan2
    device: "net_tap1"
  - name: wan
    device: "net_tap2"
    addresses: ["192.168.60.1/24"]
tunnels:
  - name: tap-b
    type: gretap
    local: 192.168.60.1
    remote: 192.168.60.2
    key: 5
)";

std::string errors(const std::string& y) {
    auto r = load_string(y, "b.yaml");
    std::string s;
    for (auto& d : r.errors) s += d.str() + "\n";
    return s;
}

TEST(Bridge, Accepted) {
    auto r = load_string(base + R"(bridge_domains:
  - name: stretch
    members: [{port: lan2}, {port: lan, vlan: 100}, {tunnel: tap-b}]
    mac_ageing: 60
    mac_limit: 100
    flood_limit_pps: 0
)", "b.yaml");
    ASSERT_TRUE(r.config) << r.errors.front().str();
    const auto& d = r.config->bridge_domains.at(0);
    EXPECT_EQ(r.config->tunnels[0].type, TunnelType::Gretap);
    EXPECT_EQ(d.members.size(), 3u);
    EXPECT_EQ(d.members[1].vlan.value_or(0), 100);
    EXPECT_EQ(d.mac_ageing_s, 60u);
    EXPECT_EQ(d.flood_limit_pps, 0u);
    EXPECT_EQ(d.mode, BridgeMode::Learning);
}

struct Row {
    const char* what;
    std::string yaml;
    const char* message;
};

TEST(Bridge, Rejected) {
    const Row rows[] = {
        {"L3 port bridged whole", base + "bridge_domains:\n  - name: d\n    members: [{port: lan}, {tunnel: tap-b}]\n",
         "bridge_domains[0].members[0].port: port \"lan\" has addresses"},
        {"p2p needs 2", base + "bridge_domains:\n  - name: d\n    mode: point-to-point\n    members: [{port: lan2}, {port: lan, vlan: 5}, {tunnel: tap-b}]\n",
         "point-to-point joins exactly 2 members"},
        {"gre tunnel", base + "  - name: g\n    local: 192.168.60.1\n    remote: 192.168.60.3\n"
                              "bridge_domains:\n  - name: d\n    members: [{port: lan2}, {tunnel: g}, {tunnel: tap-b}]\n",
         "is not a gretap tunnel"},
        {"twice", base + "bridge_domains:\n  - name: d\n    members: [{port: lan2}, {tunnel: tap-b}]\n"
                         "  - name: e\n    members: [{port: lan2}, {port: lan, vlan: 7}]\n",
         "is already a member of bridge_domains[0] (d)"},
        {"vlan range", base + "bridge_domains:\n  - name: d\n    members: [{port: lan, vlan: 4095}, {tunnel: tap-b}]\n",
         "a VLAN id from 1 to 4094"},
        {"vlan on tunnel", base + "bridge_domains:\n  - name: d\n    members: [{port: lan2}, {tunnel: tap-b, vlan: 3}]\n",
         "vlan applies only to a port member"},
        {"orphan gretap", base, "gretap tunnel \"tap-b\" is in no bridge domain"},
        {"bad mode", base + "bridge_domains:\n  - name: d\n    mode: hub\n    members: [{port: lan2}, {tunnel: tap-b}]\n",
         "expected one of learning, point-to-point"},
    };
    for (const auto& row : rows) {
        std::string e = errors(row.yaml);
        EXPECT_NE(e.find(row.message), std::string::npos) << row.what << ":\n" << e;
    }
}

}  // namespace
}  // namespace tgw::config
