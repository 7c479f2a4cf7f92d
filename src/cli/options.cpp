#include "cli/options.hpp"

#include <boost/program_options.hpp>
#include <sstream>

namespace po = boost::program_options;

namespace tgw::cli {

namespace {

po::options_description describe(Options& o) {
    po::options_description d("Options");
    d.add_options()
        ("help,h", po::bool_switch(&o.help), "show this help and exit")
        ("version,V", po::bool_switch(&o.version), "show the version and exit")
        ("config,c", po::value(&o.run.config_path)->value_name("FILE"), "YAML configuration (required)")
        ("check-config", po::bool_switch(&o.check_config),
         "validate the configuration and exit: 0 valid, 1 invalid (no EAL, no ports)")
        ("log-level", po::value(&o.run.log_level)->value_name("LEVEL"),
         "emerg|alert|crit|error|warning|notice|info|debug (overrides log_level)")
        ("stats-interval", po::value(&o.run.stats_interval_s)->value_name("SEC"),
         "print counters every SEC seconds, 0 = only at exit (overrides stats_interval)")
        ("idle-backoff", po::value(&o.run.idle_backoff_us)->value_name("USEC"),
         "worker sleep when idle, 0 = busy poll for benchmarks (overrides idle_backoff_us)")
        ("stats-json", po::value(&o.run.stats_json)->value_name("FILE"), "write final counters as JSON at exit")
        ("exit-idle", po::value(&o.run.exit_idle_ms)->value_name("MSEC"),
         "exit after MSEC without packets (tests and pcap replay)")
        ("run-for", po::value(&o.run.run_for_s)->value_name("SEC"), "exit after SEC seconds")
        ("which-tunnel", po::value(&o.which_tunnel)->value_name("FLOW"),
         "print the tunnel a flow \"SRC DST [PROTO [SPORT DPORT]]\" would take with this config "
         "(all tunnels up; the running gateway answers with live state via tunnelgw-ctl) and exit");
    return d;
}

}  // namespace

std::string usage() {
    Options o;
    std::ostringstream s;
    s << "usage: tunnelgw --config FILE [options] [-- EAL options]\n"
         "GRE/IPsec tunnel gateway on DPDK.\n\n"
      << describe(o)
      << "\nEAL options (after --) are passed to DPDK, after the config's `eal:` list.\n"
         "Signals: SIGINT/SIGTERM stop cleanly, SIGHUP reloads the configuration.\n";
    return s.str();
}

Options parse(int argc, char** argv) {
    Options o;
    int own = argc;
    for (int i = 1; i < argc; i++)
        if (std::string(argv[i]) == "--") {
            own = i;
            break;
        }
    for (int i = own + 1; i < argc; i++) o.run.eal_extra.emplace_back(argv[i]);
    auto desc = describe(o);
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(own, argv).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw CliError(e.what());
    }
    if (o.run.stats_interval_s < -1 || o.run.idle_backoff_us < -1 || o.run.run_for_s < 0)
        throw CliError("negative values are not allowed");
    if (!o.help && !o.version && o.run.config_path.empty())
        throw CliError("--config FILE is required");
    return o;
}

}  // namespace tgw::cli
