// tunnelgw-ctl: look at and reload a running tunnelgw through DPDK's telemetry socket.
// Exit status: 0 done, 1 the gateway cannot be reached or refused (e.g. a rejected reload),
// 2 wrong usage.
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ctl/client.hpp"
#include "ctl/commands.hpp"

namespace po = boost::program_options;
using namespace tgw::ctl;

namespace {

struct Options {
    std::string file_prefix = "tunnelgw";
    std::string socket;
    bool help = false, version = false;
    Settings s;
    std::string command;
    std::vector<std::string> args;
};

po::options_description describe(Options& o) {
    po::options_description d("Options");
    d.add_options()("help,h", po::bool_switch(&o.help), "show this help and exit")(
        "version,V", po::bool_switch(&o.version), "show the version and exit")(
        "file-prefix,f", po::value(&o.file_prefix)->value_name("NAME"),
        "the gateway's EAL --file-prefix (default: tunnelgw, which tunnelgw uses unless its "
        "EAL arguments give another)")("socket,s", po::value(&o.socket)->value_name("PATH"),
                                       "the telemetry socket itself, instead of --file-prefix")(
        "json,j", po::bool_switch(&o.s.json), "print JSON for scripts instead of tables")(
        "all,a", po::bool_switch(&o.s.all), "drops, slowpath: also show counters that are 0")(
        "timeout,t", po::value(&o.s.timeout_s)->value_name("SEC"),
        "seconds to wait for a reply (default 10; reload waits at least 130)");
    return d;
}

std::string usage() {
    Options o;
    std::ostringstream s;
    s << "usage: tunnelgw-ctl [options] COMMAND [ARG]\n"
         "Shows the state of a running tunnelgw, or reloads its configuration, through DPDK's\n"
         "telemetry socket (/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2 when run as root).\n\n"
         "Commands:\n";
    for (const auto& c : commands()) {
        std::string n = std::string(c.name) + (*c.arg ? std::string(" ") + c.arg : "");
        s << "  " << n << std::string(n.size() < 14 ? 14 - n.size() : 1, ' ') << c.help << "\n";
    }
    s << "\n" << describe(o);
    return s.str();
}

int usage_error(const std::string& msg) {
    fprintf(stderr, "tunnelgw-ctl: %s\n(tunnelgw-ctl --help for usage)\n", msg.c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    try {
        auto desc = describe(o);
        po::options_description hidden;
        hidden.add_options()("command", po::value(&o.command))("args",
                                                               po::value(&o.args)->multitoken());
        po::options_description all;
        all.add(desc).add(hidden);
        po::positional_options_description pos;
        pos.add("command", 1).add("args", -1);
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
        if (vm.count("file-prefix") && vm.count("socket"))
            return usage_error("give --file-prefix or --socket, not both");
    } catch (const po::error& e) {
        return usage_error(e.what());
    }
    if (o.help) {
        fputs(usage().c_str(), stdout);
        return 0;
    }
    if (o.version) {
        printf("tunnelgw-ctl %s\n", TUNNELGW_VERSION);
        return 0;
    }
    if (o.command.empty()) return usage_error("no command given");
    if (!known(o.command)) return usage_error("unknown command \"" + o.command + "\"");
    if (o.command == "flow") {  // the flow may be given as one quoted argument or as words
        if (o.args.empty())
            return usage_error("flow takes \"SRC DST [PROTO [SPORT DPORT]]\"");
        std::string f;
        for (auto& w : o.args) f += (f.empty() ? "" : " ") + w;
        o.args = {f};
    }
    const size_t want = o.command == "raw" || o.command == "flow" ? 1 : 0;
    if (o.args.size() != want)
        return usage_error(o.command + (want ? " takes one argument, the telemetry command (/...)"
                                             : " takes no argument"));
    if (o.command == "raw" && (o.args[0].empty() || o.args[0][0] != '/'))
        return usage_error("raw: a telemetry command starts with \"/\", such as /tunnelgw/info");
    if (o.s.timeout_s < 1 || o.s.timeout_s > 3600)
        return usage_error("--timeout must be 1 to 3600 seconds");
    if (o.socket.empty() &&
        (o.file_prefix.empty() || o.file_prefix.find('/') != std::string::npos ||
         o.file_prefix == "." || o.file_prefix == ".."))
        return usage_error("--file-prefix must be a plain name, such as tunnelgw");

    std::string path = o.socket.empty() ? socket_path(o.file_prefix) : o.socket;
    std::string hint = o.socket.empty() ? "file prefix \"" + o.file_prefix + "\"" : "--socket";
    try {
        Client c(path, o.s.timeout_s, hint);
        int rc = run_command(c, o.command, o.args, o.s);
        fflush(stdout);
        return rc;
    } catch (const CtlError& e) {
        fflush(stdout);
        fprintf(stderr, "tunnelgw-ctl: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {  // e.g. bad_alloc, a JSON type error: still one line
        fflush(stdout);
        fprintf(stderr, "tunnelgw-ctl: unexpected error: %s\n", e.what());
        return 1;
    }
}
