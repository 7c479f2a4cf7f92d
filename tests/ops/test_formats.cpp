// The pure parts of the operator interfaces, without an EAL: the Prometheus text, the HTTP
// request verdicts, and the string rules that keep telemetry replies valid JSON.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "runtime/metrics.hpp"
#include "runtime/operator.hpp"
#include "runtime/telemetry.hpp"
#include "runtime/views.hpp"

namespace tgw::runtime {
namespace {

view::All sample() {
    view::All a;
    a.info.generation = 3;
    a.info.uptime_s = 12.5;
    a.info.workers = 2;
    a.info.tunnels = 1;
    view::Port p;
    p.name = "lan";
    p.link_up = true;
    p.c.rx_pkts = 17;
    p.hw_rx_missed = 4;
    a.ports.push_back(p);
    view::Tunnel t;
    t.name = "odd\"name\\x";  // names are validated, but the renderer must not trust that
    t.mtu = 1476;
    t.c.tx_pkts = 10;
    a.tunnels.push_back(t);
    a.drops[1] = 5;
    a.workers = {2, 100, 5000, 40, 20, 3, 1, 2000000000};
    a.slowpath = {{"arp_req_rx", 2}};
    return a;
}

TEST(Metrics, RendersEveryFamilyWithHelpAndType) {
    std::string text = metrics::render(sample());
    std::istringstream in(text);
    std::string line;
    std::regex series(R"(^([a-z_]+)(\{[a-z]+="(?:[^"\\]|\\.)*"\})? [0-9.]+$)");
    std::set<std::string> typed;
    int samples = 0;
    while (std::getline(in, line)) {
        if (line.rfind("# TYPE ", 0) == 0) {
            typed.insert(line.substr(7, line.find(' ', 7) - 7));
            continue;
        }
        if (line.rfind("# HELP ", 0) == 0) continue;
        std::smatch m;
        ASSERT_TRUE(std::regex_match(line, m, series)) << line;
        EXPECT_TRUE(typed.count(m[1].str())) << "no TYPE before " << line;
        samples++;
    }
    EXPECT_GT(samples, 40);
    for (const char* want :
         {"tunnelgw_port_rx_packets_total{port=\"lan\"} 17\n",
          "tunnelgw_port_nic_rx_missed_total{port=\"lan\"} 4\n",
          "tunnelgw_tunnel_tx_packets_total{tunnel=\"odd\\\"name\\\\x\"} 10\n",
          "tunnelgw_drops_total{reason=\"l2-not-for-us\"} 5\n",
          "tunnelgw_drops_total{reason=\"l2-short\"} 0\n", "tunnelgw_config_generation 3\n",
          "tunnelgw_uptime_seconds 12.500\n", "tunnelgw_worker_busy_cycles_total 5000\n",
          "tunnelgw_slowpath_events_total{event=\"arp_req_rx\"} 2\n", "tunnelgw_info{version=\""})
        EXPECT_NE(text.find(want), std::string::npos) << "missing: " << want;
}

TEST(Metrics, PerSaAndStageSeries) {
    view::All a = sample();
    view::Sa sa;
    sa.name = "in1";
    sa.direction = "in";
    sa.tunnel = "hub1";
    sa.state_code = dp::sa_soft;
    sa.c.pkts = 7;
    sa.c.auth_failed = 2;
    sa.c.replay = 3;
    sa.c.bad_trailer = 1;
    a.sas.push_back(sa);
    a.stages.push_back({"esp_in", 4, 128, 51200});
    a.stage_sample = 64;
    std::string text = metrics::render(a);
    const std::string l = "{sa=\"in1\",direction=\"in\",tunnel=\"hub1\"} ";
    for (const std::string& want :
         {"tunnelgw_sa_packets_total" + l + "7\n", "tunnelgw_sa_auth_failures_total" + l + "2\n",
          "tunnelgw_sa_replay_drops_total" + l + "3\n", "tunnelgw_sa_bad_trailer_total" + l + "1\n",
          "tunnelgw_sa_lifetime_state" + l + "1\n", std::string("# TYPE tunnelgw_sa_lifetime_state gauge\n"),
          std::string("tunnelgw_stage_cycles_total{stage=\"esp_in\"} 51200\n"),
          std::string("tunnelgw_stage_packets_total{stage=\"esp_in\"} 128\n"),
          std::string("tunnelgw_stage_sample_interval 64\n")})
        EXPECT_NE(text.find(want), std::string::npos) << "missing: " << want;
    // Without SAs there is no SA family at all (no empty TYPE lines).
    EXPECT_EQ(metrics::render(sample()).find("tunnelgw_sa_"), std::string::npos);
}

TEST(Metrics, RequestVerdicts) {
    struct Row {
        const char* req;
        int status;
        bool metrics, head;
    };
    for (const Row& r :
         {Row{"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, true, false},
          Row{"GET /metrics?x=1 HTTP/1.0\r\n\r\n", 200, true, false},
          Row{"HEAD /metrics HTTP/1.0\n\n", 200, true, true},
          Row{"GET / HTTP/1.0\r\n\r\n", 200, false, false},
          Row{"GET /metricsx HTTP/1.0\r\n\r\n", 404, false, false},
          Row{"POST /metrics HTTP/1.0\r\n\r\n", 405, false, false},
          Row{"GET /metrics HTTP/2.0\r\n\r\n", 505, false, false},
          Row{"GET /metrics\r\n\r\n", 400, false, false},
          Row{"GET  /metrics HTTP/1.0\r\n\r\n", 400, false, false},
          Row{"GET metrics HTTP/1.0\r\n\r\n", 400, false, false}, Row{"", 400, false, false},
          Row{"\x01\x02 \xff HTTP/1.0\r\n\r\n", 400, false, false}}) {
        auto v = metrics::parse_request(r.req);
        EXPECT_EQ(v.status, r.status) << r.req;
        EXPECT_EQ(v.metrics, r.metrics) << r.req;
        EXPECT_EQ(v.head, r.head) << r.req;
    }
}

TEST(Telemetry, StringsStayPrintableAsciiAndShort) {
    EXPECT_EQ(telemetry::ascii("RFC 2784 \u00a72.3"), "RFC 2784 section 2.3");
    EXPECT_EQ(telemetry::ascii("a\tb\x7f"
                               "c\u00e9d\U0001F600e"),
              "a?b?c?d?e");
    EXPECT_EQ(telemetry::ascii("\xff\xfe"), "??");  // invalid UTF-8 too
    std::string long_s(300, 'x');
    auto c = telemetry::clean(long_s);
    EXPECT_EQ(c.size(), 127u);
    EXPECT_EQ(c.substr(124), "...");
    auto tail = telemetry::clean("/very" + long_s + "/gw.yaml", true);
    EXPECT_EQ(tail.size(), 127u);
    EXPECT_EQ(tail.substr(0, 3), "...");
    EXPECT_EQ(tail.substr(tail.size() - 8), "/gw.yaml");
}

TEST(Telemetry, WrapKeepsWordsAndMarksContinuations) {
    std::string msg =
        "12:5: tunnels[0]: unknown key \"colour\"; valid keys here: name, local, remote, "
        "key, checksum, sequence, ttl, tos, df, mtu, addresses, keepalive";
    auto w = telemetry::wrap(msg, 60);
    ASSERT_GE(w.size(), 2u);
    std::string joined;
    for (size_t i = 0; i < w.size(); i++) {
        EXPECT_LE(w[i].size(), 60u) << w[i];
        if (i) {
            EXPECT_EQ(w[i].substr(0, 4), "    ");
            joined += ' ' + w[i].substr(4);
        } else {
            joined = w[i];
        }
    }
    EXPECT_EQ(joined, msg);
    EXPECT_EQ(telemetry::wrap("short", 60), std::vector<std::string>{"short"});
    auto hard = telemetry::wrap(std::string(150, 'y'), 60);  // no space: cut inside the word
    EXPECT_EQ(hard.size(), 3u);
}

TEST(LogLimit, BurstThenRateThenSaysHowManyWereDropped) {
    LogLimit l;
    l.set_rate(10);
    uint64_t suppressed = 0;
    for (int i = 0; i < 10; i++) EXPECT_TRUE(l.allow(&suppressed)) << i;  // a second's worth
    EXPECT_FALSE(l.allow(&suppressed));
    EXPECT_FALSE(l.allow(&suppressed));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // ~2.5 lines' worth
    EXPECT_TRUE(l.allow(&suppressed));
    EXPECT_EQ(suppressed, 2u);
    EXPECT_TRUE(l.allow(&suppressed));
    EXPECT_EQ(suppressed, 0u);
    l.set_rate(0);  // no limit
    for (int i = 0; i < 1000; i++) ASSERT_TRUE(l.allow(&suppressed));
}

}  // namespace
}  // namespace tgw::runtime
