// tunnelgw: parse the command line, load and validate the YAML, then run the gateway.
// Exceptions stop here: nothing below the runtime boundary throws on the packet path.
#include <cstdio>

#include "cli/options.hpp"
#include "config/model.hpp"
#include "runtime/gateway.hpp"

int main(int argc, char** argv) {
    tgw::cli::Options opt;
    try {
        opt = tgw::cli::parse(argc, argv);
    } catch (const tgw::cli::CliError& e) {
        fprintf(stderr, "tunnelgw: %s\n%s", e.what(), tgw::cli::usage().c_str());
        return 2;
    }
    if (opt.help) {
        fputs(tgw::cli::usage().c_str(), stdout);
        return 0;
    }
    if (opt.version) {
        printf("tunnelgw %s\n", TUNNELGW_VERSION);
        return 0;
    }
    auto res = tgw::config::load_file(opt.run.config_path);
    if (!res.errors.empty()) {
        for (auto& d : res.errors) fprintf(stderr, "%s\n", d.str().c_str());
        fprintf(stderr, "tunnelgw: %zu error(s) in %s\n", res.errors.size(), opt.run.config_path.c_str());
        return 1;
    }
    const auto& c = *res.config;
    if (!opt.which_tunnel.empty()) return tgw::runtime::which_offline(c, opt.which_tunnel);
    if (opt.check_config) {
        printf("%s: OK (%zu ports, %zu tunnels, %zu routes, %zu workers)\n", opt.run.config_path.c_str(),
               c.ports.size(), c.tunnels.size(), c.routes.size(), c.workers.size());
        return 0;
    }
    return tgw::runtime::run(opt.run, std::move(*res.config));
}
