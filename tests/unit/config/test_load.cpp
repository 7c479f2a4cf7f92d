// Valid documents: every key lands in the model, defaults fill the rest. Also the document-level
// failures (file, syntax, empty) and the Diag rendering contract.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "config/model.hpp"

namespace tgw::config {
namespace {

IpAddr ip(const char* s) { return *IpAddr::parse(s); }
Prefix pfx(const char* s) { return *Prefix::parse(s); }

std::string all(const LoadResult& r) {
    std::string s;
    for (const auto& d : r.errors) s += d.str() + "\n";
    return s;
}

const char* const full = R"(# every key, none at its default
eal: ["--no-huge", "-m", "512"]
workers: [2, 3, 5]
idle_backoff_us: 0
stats_interval: 86400
mbufs: 1048575
log_level: debug
ports:
  - name: lan
    device: "net_af_packet0,iface=gw-lan"
    mac: "02:00:00:00:01:01"
    mtu: 9000
    rx_queues: 4
    addresses: ["10.10.1.1/24", "2001:db8:1::1/64"]
  - name: wan
    device: 0000:03:00.1
    addresses: [192.168.60.1/24]
neighbors:
  - port: wan
    address: 192.168.60.2
    mac: "02:00:00:60:00:02"
tunnels:
  - name: gre-b
    local: 192.168.60.1
    remote: 192.168.60.2
    key: 0xFFFFFFFF
    checksum: true
    sequence: true
    ttl: 0
    tos: 46
    df: clear
    mtu: 1464
    addresses: ["10.88.0.1/30", "2001:db8:88::1/64"]
  - name: gre-c
    local: 192.168.60.1
    remote: 203.0.113.9
    key: 0
    tos: af41
    df: set
routes:
  - prefix: 10.20.0.0/24
    tunnel: gre-b
  - prefix: 0.0.0.0/0
    via: 192.168.60.254
    port: wan
  - prefix: 10.66.0.0/16
    blackhole: true
  - prefix: "2001:db8:20::/48"
    via: "2001:db8:1::fe"
)";

TEST(Load, FullDocumentFillsEveryField) {
    auto r = load_string(full, "full.yaml");
    ASSERT_TRUE(r.errors.empty()) << all(r);
    ASSERT_TRUE(r.config);
    const Config& c = *r.config;
    EXPECT_EQ(c.source, "full.yaml");
    EXPECT_EQ(c.eal_args, (std::vector<std::string>{"--no-huge", "-m", "512"}));
    EXPECT_EQ(c.workers, (std::vector<unsigned>{2, 3, 5}));
    EXPECT_EQ(c.idle_backoff_us, 0u);
    EXPECT_EQ(c.stats_interval_s, 86400u);
    EXPECT_EQ(c.mbufs, 1048575u);
    EXPECT_EQ(c.log_level, "debug");

    ASSERT_EQ(c.ports.size(), 2u);
    const Port& lan = c.ports[0];
    EXPECT_EQ(lan.name, "lan");
    EXPECT_EQ(lan.device, "net_af_packet0,iface=gw-lan");
    ASSERT_TRUE(lan.mac);
    EXPECT_EQ(lan.mac->str(), "02:00:00:00:01:01");
    EXPECT_EQ(lan.mtu, 9000);
    EXPECT_EQ(lan.rx_queues, 4);
    ASSERT_EQ(lan.addresses.size(), 2u);
    // Port addresses keep their host part: they are the gateway's own addresses.
    EXPECT_EQ(lan.addresses[0], pfx("10.10.1.1/24"));
    EXPECT_EQ(lan.addresses[1], pfx("2001:db8:1::1/64"));
    EXPECT_EQ(lan.loc.line, 9);
    EXPECT_EQ(lan.loc.col, 5);
    EXPECT_EQ(lan.loc.path, "ports[0]");
    EXPECT_EQ(lan.loc.file, "full.yaml");
    EXPECT_EQ(c.ports[1].device, "0000:03:00.1");
    EXPECT_FALSE(c.ports[1].mac);

    ASSERT_EQ(c.neighbors.size(), 1u);
    EXPECT_EQ(c.neighbors[0].port, "wan");
    EXPECT_EQ(c.neighbors[0].address, ip("192.168.60.2"));
    EXPECT_EQ(c.neighbors[0].mac.str(), "02:00:00:60:00:02");
    EXPECT_EQ(c.neighbors[0].loc.line, 19);

    ASSERT_EQ(c.tunnels.size(), 2u);
    const Tunnel& b = c.tunnels[0];
    EXPECT_EQ(b.name, "gre-b");
    EXPECT_EQ(b.local, ip("192.168.60.1"));
    EXPECT_EQ(b.remote, ip("192.168.60.2"));
    EXPECT_EQ(b.key, 0xffffffffu);
    EXPECT_TRUE(b.checksum);
    EXPECT_TRUE(b.sequence);
    EXPECT_EQ(b.ttl, 0);
    EXPECT_EQ(b.tos_mode, TosMode::Fixed);
    EXPECT_EQ(b.tos, 46);
    EXPECT_EQ(b.df, DfMode::Clear);
    EXPECT_EQ(b.mtu, 1464);  // 1500 - (20 + 4 + 3 * 4): exactly at the limit
    EXPECT_EQ(b.addresses, (std::vector<Prefix>{pfx("10.88.0.1/30"), pfx("2001:db8:88::1/64")}));
    EXPECT_EQ(b.loc.path, "tunnels[0]");
    const Tunnel& t = c.tunnels[1];
    EXPECT_EQ(t.key, 0u);  // key 0 is a key, not "no key"
    EXPECT_EQ(t.tos_mode, TosMode::Fixed);
    EXPECT_EQ(t.tos, 34);  // AF41
    EXPECT_EQ(t.df, DfMode::Set);

    ASSERT_EQ(c.routes.size(), 4u);
    EXPECT_EQ(c.routes[0].kind, RouteKind::Tunnel);
    EXPECT_EQ(c.routes[0].prefix, pfx("10.20.0.0/24"));
    EXPECT_EQ(c.routes[0].tunnel, "gre-b");
    EXPECT_EQ(c.routes[1].kind, RouteKind::NextHop);
    EXPECT_EQ(c.routes[1].prefix, pfx("0.0.0.0/0"));
    EXPECT_EQ(c.routes[1].next_hop, ip("192.168.60.254"));
    EXPECT_EQ(c.routes[1].port, "wan");
    EXPECT_EQ(c.routes[2].kind, RouteKind::Blackhole);
    EXPECT_EQ(c.routes[3].kind, RouteKind::NextHop);
    EXPECT_EQ(c.routes[3].port, "");  // not given: the compiler finds it from the next hop
    for (const auto& rt : c.routes) EXPECT_EQ(rt.prefix, rt.prefix.masked());
}

TEST(Load, DefaultsApplyWhenKeysAreAbsent) {
    auto r = load_string(R"(
ports:
  - name: p0
    device: "0000:03:00.0"
    addresses: [192.0.2.1/24]
tunnels:
  - name: t0
    local: 192.0.2.1
    remote: 192.0.2.2
)",
                         "min.yaml");
    ASSERT_TRUE(r.errors.empty()) << all(r);
    const Config& c = *r.config;
    EXPECT_TRUE(c.eal_args.empty());
    EXPECT_EQ(c.workers, std::vector<unsigned>{1});
    EXPECT_EQ(c.idle_backoff_us, 100u);
    EXPECT_EQ(c.stats_interval_s, 10u);
    EXPECT_EQ(c.mbufs, 16383u);
    EXPECT_EQ(c.log_level, "info");
    const Port& p = c.ports[0];
    EXPECT_FALSE(p.mac);
    EXPECT_EQ(p.mtu, 1500);
    EXPECT_EQ(p.rx_queues, 0);
    const Tunnel& t = c.tunnels[0];
    EXPECT_FALSE(t.key);
    EXPECT_FALSE(t.checksum);
    EXPECT_FALSE(t.sequence);
    EXPECT_EQ(t.ttl, 64);
    EXPECT_EQ(t.tos_mode, TosMode::Inherit);
    EXPECT_EQ(t.df, DfMode::Copy);
    EXPECT_EQ(t.mtu, 0);
    EXPECT_TRUE(t.addresses.empty());
    EXPECT_TRUE(c.neighbors.empty());
    EXPECT_TRUE(c.routes.empty());
}

TEST(Load, EmptyListsMayBeLeftBlank) {
    // What commenting out every item leaves behind.
    auto r = load_string(R"(
eal:
ports:
  - name: p0
    device: net_null0
    addresses:
neighbors:
tunnels:
routes:
)",
                         "blank.yaml");
    ASSERT_TRUE(r.errors.empty()) << all(r);
    EXPECT_TRUE(r.config->tunnels.empty());
    EXPECT_TRUE(r.config->ports[0].addresses.empty());
}

TEST(Load, TrailingDocumentMarkerIsHarmless) {
    auto r = load_string("ports:\n  - {name: a, device: net_null0}\n---\n", "t.yaml");
    EXPECT_TRUE(r.errors.empty()) << all(r);
}

TEST(Load, AcceptedSpellings) {
    auto r = load_string(R"(
ports:
  - name: A.b_c-9
    device: "03:1f.7"
    addresses: ["198.51.100.0/31", "198.51.100.3/32", "2001:db8::/127", "2001:db8:1::1/128"]
  - name: x
    device: "net_pcap0,rx_pcap=/tmp/in.pcap,tx_pcap=/tmp/out.pcap"
tunnels:
  - name: t
    local: 198.51.100.0
    remote: 198.51.100.1
    key: 4294967295
    checksum: True
    sequence: FALSE
    tos: CS6
    ttl: 255
    mtu: 0
)",
                         "spell.yaml");
    ASSERT_TRUE(r.errors.empty()) << all(r);
    EXPECT_EQ(r.config->tunnels[0].tos, 48);
    EXPECT_TRUE(r.config->tunnels[0].checksum);
}

TEST(Load, MergeKeysShareTunnelSettings) {
    auto r = load_string(R"(
ports:
  - name: wan
    device: net_null0
    addresses: [192.0.2.1/24]
tunnels:
  - &gre
    name: t1
    local: 192.0.2.1
    remote: 192.0.2.2
    ttl: 32
    key: 1
  - <<: *gre
    name: t2
    key: 2
  - {<<: [{ttl: 5}, *gre], name: t3, key: 3, remote: 192.0.2.3}
)",
                         "merge.yaml");
    ASSERT_TRUE(r.errors.empty()) << all(r);
    const auto& t = r.config->tunnels;
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t[1].name, "t2");
    EXPECT_EQ(t[1].key, 2u);  // written in the map: wins over the merged value
    EXPECT_EQ(t[1].ttl, 32);
    EXPECT_EQ(t[1].remote, ip("192.0.2.2"));
    EXPECT_EQ(t[2].ttl, 5);  // earlier merge source wins
    EXPECT_EQ(t[2].remote, ip("192.0.2.3"));
}

TEST(Load, MergedBadValueIsReportedOnceWhereWritten) {
    auto r = load_string(R"(ports:
  - name: wan
    device: net_null0
    addresses: [192.0.2.1/24]
tunnels:
  - &gre {name: t1, local: 192.0.2.1, remote: 192.0.2.2, ttl: 300, key: 1}
  - {<<: *gre, name: t2, key: 2}
  - {<<: *gre, name: t3, key: 3}
  - {<<: 5, name: t4}
)",
                         "merge.yaml");
    ASSERT_EQ(r.errors.size(), 2u) << all(r);
    EXPECT_EQ(r.errors[0].str(),
              "merge.yaml:6:63: tunnels[0].ttl: expected an integer from 0 to 255, got 300");
    // A failed merge does not also produce "missing local", "missing remote".
    EXPECT_EQ(r.errors[1].str(),
              "merge.yaml:9:10: tunnels[3].<<: expected a map or a list of maps to merge (<<: "
              "*anchor), got 5");
}

TEST(Diag, RendersFileLineColPathMessage) {
    Diag d{Loc{"lab.yaml", 12, 13, "tunnels[2].remote"},
           "\"10.0.0.300\" is not an IPv4 or IPv6 address"};
    EXPECT_EQ(d.str(),
              "lab.yaml:12:13: tunnels[2].remote: \"10.0.0.300\" is not an IPv4 or IPv6 address");
    EXPECT_EQ((Diag{Loc{"a.yaml", 1, 1, ""}, "msg"}).str(), "a.yaml:1:1: msg");
    EXPECT_EQ((Diag{Loc{"a.yaml"}, "cannot open"}).str(), "a.yaml: cannot open");
}

TEST(Diag, SpecExampleEndToEnd) {
    auto r = load_string(R"(ports:
  - name: wan
    device: "0000:03:00.0"
    addresses: [10.0.0.1/24]
tunnels:
  - {name: a, local: 10.0.0.1, remote: 10.0.0.2}
  - {name: b, local: 10.0.0.1, remote: 10.0.0.3}
  - name: c
    local: 10.0.0.1
    # the far end
    key: 7
    remote: "10.0.0.300"
)",
                         "lab.yaml");
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors[0].str(),
              "lab.yaml:12:13: tunnels[2].remote: \"10.0.0.300\" is not an IPv4 or IPv6 address");
    EXPECT_FALSE(r.config);
}

TEST(Load, MissingFileNamesFileAndReason) {
    auto r = load_file("/nonexistent/tunnelgw/lab.yaml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_FALSE(r.config);
    EXPECT_EQ(r.errors[0].str(),
              "/nonexistent/tunnelgw/lab.yaml: cannot open: No such file or directory");
}

TEST(Load, DirectoryIsUnreadable) {
    auto r = load_file("/");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].str().find("/: cannot read: Is a directory"), std::string::npos)
        << all(r);
}

TEST(Load, FileRoundTrip) {
    char path[] = "/tmp/tgw-config-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    {
        std::ofstream f(path);
        f << full;
    }
    auto r = load_file(path);
    std::remove(path);
    ASSERT_TRUE(r.errors.empty()) << all(r);
    EXPECT_EQ(r.config->source, path);
}

struct DocCase {
    const char* name;
    std::string yaml;
    std::string expect;  // whole rendered diag
};

class Document : public testing::TestWithParam<DocCase> {};

TEST_P(Document, FailsWithOneDiag) {
    auto r = load_string(GetParam().yaml, "d.yaml");
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors[0].str(), GetParam().expect);
}

INSTANTIATE_TEST_SUITE_P(
    Table, Document,
    testing::Values(
        DocCase{"Empty", "",
                "d.yaml:1:1: the document is empty; expected a map with at least a \"ports\" list"},
        DocCase{"OnlyComments", "# nothing yet\n\n",
                "d.yaml:1:1: the document is empty; expected a map with at least a \"ports\" list"},
        DocCase{"OnlySeparator", "---\n",
                "d.yaml:1:1: the document is empty; expected a map with at least a \"ports\" list"},
        DocCase{"SyntaxUnclosedFlow", "ports: [\n  - a\nworkers: 1\n",
                "d.yaml:2:3: YAML syntax error: illegal block entry"},
        DocCase{"SyntaxTab", "ports:\n\t- name: a\n",
                "d.yaml:2:2: YAML syntax error: illegal block entry (this line is indented with a "
                "tab; YAML "
                "indentation must use spaces)"},
        DocCase{"SyntaxBadIndent", "ports:\n  - name: a\n   device: b\n",
                "d.yaml:3:4: YAML syntax error: end of sequence not found"},
        DocCase{"UndefinedAlias", "ports: *p\n",
                "d.yaml:1:8: YAML syntax error: the referenced anchor is not defined"},
        DocCase{"RootIsList", "- ports\n",
                "d.yaml:1:1: expected the gateway settings (a map with keys eal, workers, "
                "idle_backoff_us, "
                "stats_interval, mbufs, log_level, ports, neighbors, tunnels, security_associations, routes, groups, operations), got a list"},
        DocCase{
            "RootIsScalar", "hello\n",
            "d.yaml:1:1: expected the gateway settings (a map with keys eal, workers, "
            "idle_backoff_us, "
            "stats_interval, mbufs, log_level, ports, neighbors, tunnels, security_associations, routes, groups, operations), got \"hello\""},
        DocCase{
            "MissingPorts", "workers: [1]\n",
            "d.yaml:1:1: ports: missing required key \"ports\": expected a list of 1 to 16 ports"},
        DocCase{"LeadingEmptyDocument", "---\n---\nports: []\n",
                "d.yaml:3:8: ports: expected 1 to 16 ports, got 0"},
        DocCase{"TwoDocuments", "ports:\n  - {name: a, device: net_null0}\n---\nports: []\n",
                "d.yaml:4:1: a second YAML document (after \"---\"); expected exactly one"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Load, NeverThrowsOnGarbage) {
    const std::string inputs[] = {
        std::string("\xff\xfe\x00\x01", 4),
        "{{{{",
        "]",
        "? [a, b]\n: c\n",
        "ports: !!binary xyz",
        "ports:\n  - name: [a, {b: c}]\n    device: {x: [1]}\n",
        std::string(10000, '['),
        "&a [*a]",
        "ports: {<<: {name: a}}",
        "ports:\n  - &p {<<: *p, name: a}\n",
        "ports: &p [*p]\n",
    };
    for (const auto& s : inputs) {
        LoadResult r;
        EXPECT_NO_THROW(r = load_string(s, "g.yaml"));
        EXPECT_FALSE(r.config);
        EXPECT_FALSE(r.errors.empty());
    }
}

}  // namespace
}  // namespace tgw::config
