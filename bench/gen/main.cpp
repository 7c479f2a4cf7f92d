// tunnelgw-bench: offers traffic to a running gateway and counts what comes back.
//
//   generator port A ──► gateway LAN ─[tunnelgw]─ gateway WAN ──► generator port B   (encap)
//   generator port A ◄── gateway LAN ─[tunnelgw]─ gateway WAN ◄── generator port B   (decap)
//
// One invocation = one scenario and one frame size: a warm-up, then either one fixed-rate
// trial (--rate) or a flood trial (max forwarding rate) followed by an RFC 2544 search
// (--search). Writes one JSON document (stdout or --json FILE); progress goes to stderr.
// bench/run_sweep.py runs the standard sweep around it (sudo tools/bench.sh).
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>

#include "engine.hpp"
#include "esp_seal.hpp"
#include "json.hpp"
#include "scenario.hpp"
#include "search.hpp"
#include "telemetry_client.hpp"

namespace po = boost::program_options;
using namespace tgw::bench;

namespace {

struct Options {
    std::string scenario = "gre-encap", size = "64", json_out, pcap_out;
    uint32_t esp_spi = 0x2002, esp_rx_spi = 0x2001;
    std::string esp_key = default_esp_key, esp_rx_key = default_esp_rx_key;
    std::string port_a = "net_memif0,role=client,socket=/run/tgw-bench-lan.sock,id=0";
    std::string port_b = "net_memif1,role=client,socket=/run/tgw-bench-wan.sock,id=0";
    std::string mac_a, mac_b, gw_mac_a, gw_mac_b, gw_telemetry;
    unsigned flows = 1024, burst = 32, pcap_count = 16, max_trials = 8, max_catchup = 256, ecmp_members = 4;
    int64_t gre_key = 42;  // -1: no key
    bool gre_csum = false, gre_seq = false, search = false, list = false;
    double rate_mpps = 0, duration = 1.0, search_trial = 0.5, loss_threshold = 0.001, resolution = 0.02;
    double warmup = 0.2, link_timeout = 10, drain = 0.1;
    std::vector<std::string> eal;
};

Options parse(int argc, char** argv) {
    Options o;
    int own = argc;
    for (int i = 1; i < argc; i++)
        if (std::string(argv[i]) == "--") {
            own = i;
            break;
        }
    for (int i = own + 1; i < argc; i++) o.eal.emplace_back(argv[i]);
    po::options_description d("tunnelgw-bench [options] [-- EAL options]");
    d.add_options()
        ("help,h", "this help")
        ("list-scenarios", po::bool_switch(&o.list), "print the scenario table as JSON and exit")
        ("scenario,s", po::value(&o.scenario), "gre-encap | gre-decap | esp-encap | esp-decap | gre-esp-encap | gre-esp-decap | ecmp-encap | l2-fwd")
        ("size", po::value(&o.size), "frame size incl. FCS of the plain frame, 64..1518, or imix (7:4:1 64/570/1420)")
        ("flows", po::value(&o.flows), "distinct 5-tuples, 1..65534")
        ("port-a", po::value(&o.port_a), "device cabled to the gateway's LAN port (vdev string or PCI address)")
        ("port-b", po::value(&o.port_b), "device cabled to the gateway's WAN port")
        ("mac-a", po::value(&o.mac_a), "source MAC of port A (the gateway's static neighbour 10.10.1.2)")
        ("mac-b", po::value(&o.mac_b), "source MAC of port B (the gateway's neighbour 192.168.60.2)")
        ("gw-mac-a", po::value(&o.gw_mac_a), "the gateway's LAN MAC (destination of frames sent on A)")
        ("gw-mac-b", po::value(&o.gw_mac_b), "the gateway's WAN MAC (destination of frames sent on B)")
        ("gre-key", po::value(&o.gre_key), "GRE key, -1 for none (must match the gateway's tunnel)")
        ("gre-csum", po::bool_switch(&o.gre_csum), "GRE checksums (sent on decap, required on encap)")
        ("gre-seq", po::bool_switch(&o.gre_seq), "GRE sequence numbers (sent on decap, checked on encap)")
        ("ecmp-members", po::value(&o.ecmp_members),
         "ecmp-encap: tunnels in the group, remotes 192.168.60.2 upwards (1..64)")
        ("rate", po::value(&o.rate_mpps), "one fixed-rate trial at this many Mpps instead of flood + search")
        ("duration", po::value(&o.duration), "seconds of the flood or fixed-rate trial")
        ("search", po::bool_switch(&o.search), "after the flood trial, RFC 2544 search for the no-loss rate")
        ("search-trial", po::value(&o.search_trial), "seconds per search trial")
        ("search-trials", po::value(&o.max_trials), "at most this many search trials")
        ("loss-threshold", po::value(&o.loss_threshold), "a search trial passes with loss <= this fraction")
        ("resolution", po::value(&o.resolution), "stop searching when the bracket is below this fraction")
        ("warmup", po::value(&o.warmup), "seconds of low-rate traffic first (0: none)")
        ("drain", po::value(&o.drain), "seconds to keep receiving after each trial")
        ("burst", po::value(&o.burst), "TX/RX burst size, 1..64")
        ("max-catchup", po::value(&o.max_catchup),
         "paced: at most this many late packets back to back; beyond, skip ahead (a generator stall)")
        ("link-timeout", po::value(&o.link_timeout), "seconds to wait for both links (memif: the gateway)")
        ("gw-telemetry", po::value(&o.gw_telemetry),
         "the gateway's DPDK telemetry socket: read /tunnelgw/stats around each trial for cycles/packet")
        ("json", po::value(&o.json_out), "write the report here instead of stdout")
        ("write-pcap", po::value(&o.pcap_out), "write --pcap-count frames of the scenario to a pcap; no EAL")
        ("pcap-count", po::value(&o.pcap_count), "frames for --write-pcap")
        ("esp-spi", po::value(&o.esp_spi), "ESP decrypt scenarios: SPI of the gateway's inbound SA")
        ("esp-key", po::value(&o.esp_key),
         "ESP decrypt scenarios: its AES-GCM-128 key + salt, 40 hex digits (a benchmark key)")
        ("esp-rx-spi", po::value(&o.esp_rx_spi), "ESP encrypt scenarios: SPI of the gateway's outbound SA")
        ("esp-rx-key", po::value(&o.esp_rx_key), "ESP encrypt scenarios: its key + salt, 40 hex digits");
    po::variables_map vm;
    po::store(po::command_line_parser(own, argv).options(d).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << d << "\nSee docs/benchmarking.md.\n";
        exit(0);
    }
    return o;
}

void must(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what);
}

Profile make_profile(const Options& o) {
    Profile p;
    if (!o.mac_a.empty()) must(parse_mac(o.mac_a, p.a_mac), "bad --mac-a");
    if (!o.mac_b.empty()) must(parse_mac(o.mac_b, p.b_mac), "bad --mac-b");
    if (!o.gw_mac_a.empty()) must(parse_mac(o.gw_mac_a, p.gw_a_mac), "bad --gw-mac-a");
    if (!o.gw_mac_b.empty()) must(parse_mac(o.gw_mac_b, p.gw_b_mac), "bad --gw-mac-b");
    must(o.gre_key >= -1 && o.gre_key <= int64_t(UINT32_MAX), "bad --gre-key");
    p.gre_key = o.gre_key >= 0;
    p.key = uint32_t(o.gre_key >= 0 ? o.gre_key : 0);
    p.gre_csum = o.gre_csum;
    p.gre_seq = o.gre_seq;
    must(o.ecmp_members >= 1 && o.ecmp_members <= TrialResult::max_members, "bad --ecmp-members");
    if (o.scenario == "ecmp-encap") p.ecmp_members = o.ecmp_members;
    return p;
}

bool is_pci(const std::string& dev) {
    static const std::regex re("^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]$");
    return std::regex_match(dev, re);
}

// A trial and, when the gateway's telemetry answered before and after it, the gateway
// worker's busy cycles per packet during that trial alone.
struct Measured {
    TrialResult r;
    double gw_cycles_per_pkt = -1;
    unsigned members = 1;
};

void trial_json(Json& j, const char* kind, const Measured& m, double mean_frame) {
    const TrialResult& r = m.r;
    const double hz = double(rte_get_tsc_hz()), us = 1e6 / hz, el = r.elapsed_s > 0 ? r.elapsed_s : 1;
    j.begin_object();
    j.kv("kind", kind).kv("trial", unsigned(r.spec.id)).kv("target_mpps", r.spec.rate_pps / 1e6);
    j.kv("seconds", r.elapsed_s).kv("due", r.due).kv("skipped", r.skipped).kv("attempted", r.attempted);
    j.kv("sent", r.sent);
    j.kv("unsent", r.unsent).kv("received", r.received).kv("lost", r.lost()).kv("loss_ratio", r.loss_ratio());
    j.kv("offered_mpps", double(r.sent) / el / 1e6).kv("offered_gbps", double(r.sent_bytes) * 8 / el / 1e9);
    j.kv("forwarded_mpps", double(r.received) / el / 1e6).kv("forwarded_gbps", double(r.rx_bytes) * 8 / el / 1e9);
    // Line rate equivalent: + preamble, SFD and inter-frame gap (20 B) per plain frame.
    j.kv("forwarded_l1_gbps", double(r.received) / el * (mean_frame + 20) * 8 / 1e9);
    j.kv("generator_limited", r.generator_limited());
    if (m.gw_cycles_per_pkt >= 0) j.kv("gw_cycles_per_pkt", m.gw_cycles_per_pkt);
    j.key("latency_us").begin_object();
    j.kv("samples", r.lat.count()).kv("min", double(r.lat.min()) * us).kv("mean", r.lat.mean() * us);
    j.kv("p50", double(r.lat.percentile(50)) * us).kv("p99", double(r.lat.percentile(99)) * us);
    j.kv("p999", double(r.lat.percentile(99.9)) * us).kv("max", double(r.lat.max()) * us);
    j.end_object();
    j.kv("wrong_port", r.wrong_port).kv("late", r.late).kv("duplicates", r.duplicates);
    j.kv("reordered", r.reordered).kv("gre_seq_regress", r.gre_seq_regress).kv("foreign", r.foreign);
    if (m.members > 1) {  // ECMP: how the flows came back spread over the remotes
        j.key("member_packets").begin_array();
        for (unsigned i = 0; i < m.members; i++) j.value(r.member_pkts[i]);
        j.end_array();
    }
    j.key("invalid").begin_object();
    for (unsigned v = unsigned(Verdict::bad_l2); v < verdict_count; v++) j.kv(verdict_name(Verdict(v)), r.verdicts[v]);
    j.end_object();
    j.end_object();
}

void progress(const char* kind, const TrialResult& r, const Options& o) {
    fprintf(stderr, "  [%s %s] %-6s target %7.3f Mpps  offered %7.3f  forwarded %7.3f Mpps  loss %.4f%%%s\n",
            o.scenario.c_str(), o.size.c_str(), kind, r.spec.rate_pps / 1e6,
            double(r.sent) / r.elapsed_s / 1e6, double(r.received) / r.elapsed_s / 1e6, r.loss_ratio() * 100,
            r.generator_limited() ? "  (generator limited)" : "");
}

int emit(const Options& o, const std::string& doc) {
    if (o.json_out.empty()) {
        printf("%s\n", doc.c_str());
        return 0;
    }
    std::ofstream f(o.json_out);
    f << doc << "\n";
    return f ? 0 : 1;
}

Json header(const Options& o, const Scenario& s, const char* status) {
    Json j;
    j.begin_object();
    j.kv("tool", "tunnelgw-bench").kv("scenario", s.name).kv("status", status).kv("size", o.size);
    return j;
}

int run(const Options& o, const Scenario& s, const Profile& prof, const SizeMix& sizes) {
    std::vector<std::string> args = {"tunnelgw-bench"};
    if (o.eal.empty())  // lab defaults: no hugepages, main lcore on CPU 0 runs the engine
        args.insert(args.end(), {"--no-huge", "-m", "512", "--no-telemetry", "--file-prefix", "tgw-bench-gen",
                                 "--lcores", "0@0", "--log-level", "lib.eal:warning"});
    args.insert(args.end(), o.eal.begin(), o.eal.end());
    bool pci = false;
    for (const auto* dev : {&o.port_a, &o.port_b}) {
        pci |= is_pci(*dev);
        args.push_back(is_pci(*dev) ? "-a" : "--vdev");
        args.push_back(*dev);
    }
    if (!pci && o.eal.empty()) args.push_back("--no-pci");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    must(rte_eal_init(int(argv.size()), argv.data()) >= 0, std::string("EAL init: ") + rte_strerror(rte_errno));

    EngineConfig ec;
    ec.dev_a = o.port_a;
    ec.dev_b = o.port_b;
    ec.prof = prof;
    ec.tx_format = s.tx_format;
    ec.rx_format = s.rx_format;
    ec.sealed = s.sealed;
    ec.esp_tx.spi = o.esp_spi;
    ec.esp_rx.spi = o.esp_rx_spi;
    must(parse_hex_key(o.esp_key, ec.esp_tx.key), "bad --esp-key (hex, 20 bytes: key + salt)");
    must(parse_hex_key(o.esp_rx_key, ec.esp_rx.key), "bad --esp-rx-key (hex, 20 bytes: key + salt)");
    ec.tx_on_a = s.tx_side == Side::a;
    ec.check_macs = s.check_macs;
    ec.flows = o.flows;
    ec.sizes = sizes;
    ec.burst = o.burst;
    ec.max_catchup = std::max(o.max_catchup, o.burst);
    int rc = 0;
    std::string doc;
    {
        Engine eng(ec);
        fprintf(stderr, "tunnelgw-bench: %s, %s B, %u flows, TX lcore %u, RX lcore %u; waiting for links\n",
                s.name, o.size.c_str(), o.flows, eng.tx_lcore(), eng.rx_lcore());
        must(eng.wait_links(o.link_timeout),
             "links not up after " + std::to_string(o.link_timeout) + " s (is tunnelgw running with its memif "
             "server ports on the same sockets, or are the cables in?)");
        const double mean = sizes.mean();
        Json j = header(o, s, "ok");
        j.kv("mean_frame", mean).kv("flows", o.flows).kv("burst", o.burst);
        j.key("gre").begin_object().kv("key", o.gre_key).kv("csum", o.gre_csum).kv("seq", o.gre_seq).end_object();
        j.key("lcores").begin_object().kv("tx", eng.tx_lcore()).kv("rx", eng.rx_lcore()).end_object();
        j.kv("tsc_hz", rte_get_tsc_hz());
        uint16_t id = 1;
        auto trial = [&](const char* kind, double pps, double seconds) {
            TrialSpec t;
            t.id = id++;
            t.rate_pps = pps;
            t.seconds = seconds;
            t.drain_s = o.drain;
            Measured m;
            m.members = prof.ecmp_members;
            std::optional<WorkerCounters> before;
            if (!o.gw_telemetry.empty()) before = read_gateway_stats(o.gw_telemetry);
            m.r = eng.run(t);
            if (before) {
                auto after = read_gateway_stats(o.gw_telemetry);
                if (after && after->packets > before->packets)
                    m.gw_cycles_per_pkt = double(after->busy_cycles - before->busy_cycles) /
                                          double(after->packets - before->packets);
            }
            progress(kind, m.r, o);
            return m;
        };
        if (o.warmup > 0) {
            // Low rate first: proves the path works before any figure is taken.
            Measured w = trial("warmup", std::min(50e3, o.rate_mpps > 0 ? o.rate_mpps * 1e6 : 50e3), o.warmup);
            j.key("warmup");
            trial_json(j, "warmup", w, mean);
            if (w.r.received == 0) {
                fprintf(stderr, "tunnelgw-bench: nothing valid came back in the warm-up (wrong port %lu, invalid %lu, "
                        "foreign %lu): check the gateway's config and counters\n",
                        (unsigned long)w.r.wrong_port, (unsigned long)w.r.invalid(), (unsigned long)w.r.foreign);
                rc = 1;
            }
        }
        if (rc == 0 && o.rate_mpps > 0) {
            j.key("fixed");
            trial_json(j, "fixed", trial("fixed", o.rate_mpps * 1e6, o.duration), mean);
        } else if (rc == 0) {
            Measured flood = trial("flood", 0, o.duration);
            j.key("max");
            trial_json(j, "flood", flood, mean);
            if (o.search) {
                const double hi = double(flood.r.sent) / flood.r.elapsed_s;
                const double first = double(flood.r.received) / flood.r.elapsed_s;
                Bisection b(hi, first, o.resolution, int(o.max_trials));
                j.key("ndr").begin_object().kv("loss_threshold", o.loss_threshold);
                j.key("trials").begin_array();
                Measured best;
                bool found = false;
                while (!b.done() && hi > 0) {
                    Measured r = trial("search", b.next(), o.search_trial);
                    bool pass = r.r.loss_ratio() <= o.loss_threshold && !r.r.generator_limited();
                    trial_json(j, pass ? "pass" : "fail", r, mean);
                    b.report(pass);
                    if (pass) {
                        best = r;
                        found = true;
                    }
                }
                j.end_array();
                j.kv("mpps", b.best() / 1e6);
                j.kv("l1_gbps", b.best() * (mean + 20) * 8 / 1e9);
                if (found) {
                    j.key("result");
                    trial_json(j, "ndr", best, mean);
                }
                j.end_object();
            }
        }
        j.end_object();
        doc = j.str();
        if (rc) doc = header(o, s, "error").kv("error", "nothing came back in the warm-up").end_object().str();
    }
    rte_eal_cleanup();
    int wrc = emit(o, doc);
    return rc ? rc : wrc;
}

int write_pcap_only(const Options& o, const Scenario& s, const Profile& prof, const SizeMix& sizes) {
    Builder b(sealed_profile(prof, s.tx_format, s.sealed), s.tx_format == Format::esp ? s.sealed : s.tx_format,
              o.flows);
    std::vector<std::vector<uint8_t>> frames;
    for (unsigned i = 0; i < o.pcap_count; i++) {
        std::vector<uint8_t> f(max_frame_len, 0);
        unsigned size = sizes.cycle[i % sizes.cycle.size()];
        f.resize(b.build(f.data(), i % b.flows(), size, Stamp{stamp_magic, 0, i, 0}, i));
        frames.push_back(std::move(f));
    }
    if (s.tx_format == Format::esp) {
        // Encrypted once here with the gateway's own crypto code; needs an EAL (no ports).
        EspParams e;
        e.spi = o.esp_spi;
        must(parse_hex_key(o.esp_key, e.key), "bad --esp-key (hex, 20 bytes: key + salt)");
        std::string prefix = "tgw-bench-seal-" + std::to_string(getpid());
        std::vector<std::string> args = {"tunnelgw-bench", "--no-huge", "-m", "128", "--no-pci",
                                         "--no-telemetry", "--file-prefix", prefix, "--log-level",
                                         "lib.eal:warning", "--lcores", "0@" + std::to_string(sched_getcpu())};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        must(rte_eal_init(int(argv.size()), argv.data()) >= 0, std::string("EAL init: ") + rte_strerror(rte_errno));
        frames = esp_seal(prof, e, frames);
        rte_eal_cleanup();
    }
    must(write_pcap(o.pcap_out, frames), "cannot write " + o.pcap_out);
    fprintf(stderr, "tunnelgw-bench: %u %s frames (%s) written to %s\n", o.pcap_count, format_name(s.tx_format),
            s.name, o.pcap_out.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    try {
        o = parse(argc, argv);
    } catch (const std::exception& e) {
        fprintf(stderr, "tunnelgw-bench: %s (--help)\n", e.what());
        return 2;
    }
    if (o.list) {
        printf("%s\n", scenarios_json().c_str());
        return 0;
    }
    const Scenario* s = find_scenario(o.scenario);
    if (!s) {
        fprintf(stderr, "tunnelgw-bench: unknown scenario %s (--list-scenarios)\n", o.scenario.c_str());
        return 2;
    }
    if (!s->supported) {
        // Honest placeholder: no packets, no figures, a status the driver prints as is.
        fprintf(stderr, "tunnelgw-bench: %s: %s\n", s->name, s->why_not);
        emit(o, header(o, *s, "unsupported").kv("reason", s->why_not).end_object().str());
        return 3;
    }
    SizeMix sizes = parse_size(o.size);
    if (sizes.cycle.empty() || o.flows == 0 || o.flows > 65534) {
        fprintf(stderr, "tunnelgw-bench: bad --size (64..1518 or imix) or --flows (1..65534)\n");
        return 2;
    }
    try {
        Profile prof = make_profile(o);
        if (!o.pcap_out.empty()) return write_pcap_only(o, *s, prof, sizes);
        return run(o, *s, prof, sizes);
    } catch (const std::exception& e) {
        fprintf(stderr, "tunnelgw-bench: %s\n", e.what());
        return 1;
    }
}
