// The `operations:` section: defaults when absent, every accepted form of metrics_listen, and
// one precise finding (line:col, path, message) for each kind of bad value.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
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

// Lines 1-4; "operations:" is line 5 and its keys start on line 6.
const std::string base = R"(ports:
  - name: lan
    device: "net_null0"
    addresses: ["10.10.1.1/24"]
)";

LoadResult with_ops(const std::string& body) {
    return load_string(base + "operations:\n" + body, "o.yaml");
}

TEST(Operations, DefaultsWhenAbsent) {
    auto r = load_string(base, "o.yaml");
    ASSERT_TRUE(r.config) << all(r);
    const Operations& o = r.config->ops;
    EXPECT_TRUE(o.metrics_listen.empty());
    EXPECT_EQ(o.metrics_port, 0);
    EXPECT_TRUE(o.telemetry);
    EXPECT_TRUE(o.pdump);
    EXPECT_FALSE(o.syslog);
    EXPECT_EQ(o.log_rate, 10u);
}

TEST(Operations, EmptySectionKeepsDefaults) {
    auto r = with_ops("  # metrics_listen: \"127.0.0.1:9469\"\n");
    ASSERT_TRUE(r.config) << all(r);
    EXPECT_TRUE(r.config->ops.telemetry);
    EXPECT_EQ(r.config->ops.metrics_port, 0);
}

TEST(Operations, AllKeys) {
    auto r = with_ops(
        "  metrics_listen: \"127.0.0.1:9469\"\n"
        "  telemetry: false\n"
        "  pdump: false\n"
        "  syslog: true\n"
        "  log_rate: 0\n");
    ASSERT_TRUE(r.config) << all(r);
    const Operations& o = r.config->ops;
    EXPECT_EQ(o.metrics_listen, "127.0.0.1:9469");
    EXPECT_EQ(o.metrics_addr.str(), "127.0.0.1");
    EXPECT_EQ(o.metrics_port, 9469);
    EXPECT_FALSE(o.telemetry);
    EXPECT_FALSE(o.pdump);
    EXPECT_TRUE(o.syslog);
    EXPECT_EQ(o.log_rate, 0u);
}

TEST(Operations, ListenForms) {
    struct Row {
        const char* text;
        const char* addr;
        uint16_t port;
    };
    for (const Row& row :
         {Row{"[::1]:9469", "::1", 9469}, Row{"0.0.0.0:1", "0.0.0.0", 1},
          Row{"[::]:65535", "::", 65535}, Row{"[2001:db8::5]:80", "2001:db8::5", 80},
          Row{"192.0.2.7:9100", "192.0.2.7", 9100}}) {
        auto r = with_ops(std::string("  metrics_listen: \"") + row.text + "\"\n");
        ASSERT_TRUE(r.config) << row.text << "\n" << all(r);
        EXPECT_EQ(r.config->ops.metrics_addr.str(), row.addr) << row.text;
        EXPECT_EQ(r.config->ops.metrics_port, row.port) << row.text;
    }
    for (const char* off : {"\"\"", ""}) {
        auto r = with_ops(std::string("  metrics_listen: ") + off + "\n");
        ASSERT_TRUE(r.config) << all(r);
        EXPECT_EQ(r.config->ops.metrics_port, 0) << off;
    }
}

struct Bad {
    std::string body;   // lines from 6
    std::string where;  // line:col
    std::string path;
    std::vector<std::string> says;
};

class BadOps : public testing::TestWithParam<Bad> {};

TEST_P(BadOps, OneFindingAtTheValue) {
    const Bad& b = GetParam();
    auto r = with_ops(b.body);
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    const Diag& d = r.errors[0];
    EXPECT_EQ(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col), b.where) << d.str();
    EXPECT_EQ(d.loc.path, b.path) << d.str();
    for (const auto& s : b.says)
        EXPECT_NE(d.message.find(s), std::string::npos) << d.str() << "\n  lacks: " << s;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadOps,
    testing::Values(
        Bad{"  metrics_listen: \"127.0.0.1\"\n",
            "6:19",
            "operations.metrics_listen",
            {"no \":port\""}},
        Bad{"  metrics_listen: \"127.0.0.1:0\"\n",
            "6:19",
            "operations.metrics_listen",
            {"port \"0\"", "1 to 65535"}},
        Bad{"  metrics_listen: \"127.0.0.1:65536\"\n",
            "6:19",
            "operations.metrics_listen",
            {"1 to 65535"}},
        Bad{"  metrics_listen: \"127.0.0.1:http\"\n",
            "6:19",
            "operations.metrics_listen",
            {"port \"http\""}},
        Bad{"  metrics_listen: \"localhost:9469\"\n",
            "6:19",
            "operations.metrics_listen",
            {"host \"localhost\", which is not an IP address", "127.0.0.1"}},
        Bad{"  metrics_listen: \"::1:9469\"\n",
            "6:19",
            "operations.metrics_listen",
            {"without brackets", "[::1]:9469"}},
        Bad{"  metrics_listen: \"[::1]\"\n", "6:19", "operations.metrics_listen", {"no \":port\""}},
        Bad{"  metrics_listen: \"[::1:9469\"\n",
            "6:19",
            "operations.metrics_listen",
            {"without \"]\""}},
        Bad{"  metrics_listen: \"224.0.0.1:9469\"\n",
            "6:19",
            "operations.metrics_listen",
            {"multicast"}},
        Bad{"  metrics_listen: 9469\n", "6:19", "operations.metrics_listen", {"no \":port\""}},
        Bad{"  metrics_listen: [a]\n", "6:19", "operations.metrics_listen", {"got a list"}},
        Bad{"  telemetry: yes\n", "6:14", "operations.telemetry", {"true or false"}},
        Bad{"  pdump: 1\n", "6:10", "operations.pdump", {"true or false"}},
        Bad{"  syslog: \"on\"\n", "6:11", "operations.syslog", {"true or false"}},
        Bad{"  log_rate: -1\n", "6:13", "operations.log_rate", {"0 for no limit"}},
        Bad{"  log_rate: 100001\n", "6:13", "operations.log_rate", {"100000"}},
        Bad{"  metrics: \"127.0.0.1:9469\"\n",
            "6:3",
            "operations.metrics",
            {"unknown key", "metrics_listen"}}));

TEST(Operations, NotAMap) {
    auto r = with_ops("  - telemetry\n");
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors[0].loc.path, "operations");
    EXPECT_NE(r.errors[0].message.find("the operator interfaces"), std::string::npos) << all(r);
}

// The snippet in docs/config-reference.md's "operations" section is what people copy.
TEST(Operations, ReferenceSnippetLoads) {
    const char* root = std::getenv("TGW_SOURCE_DIR");
    if (!root || !*root) GTEST_SKIP() << "TGW_SOURCE_DIR is not set";
    std::ifstream in(std::string(root) + "/docs/config-reference.md");
    ASSERT_TRUE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string md = ss.str();
    auto h = md.find("\n## operations\n");
    ASSERT_NE(h, std::string::npos) << "no operations section";
    auto start = md.find("```yaml\n", h);
    ASSERT_NE(start, std::string::npos);
    start += 8;
    std::string block = md.substr(start, md.find("```", start) - start);
    auto r = load_string(base + block, "reference");
    ASSERT_TRUE(r.config) << all(r);
    EXPECT_EQ(r.config->ops.metrics_port, 9469);
}

}  // namespace
}  // namespace tgw::config
