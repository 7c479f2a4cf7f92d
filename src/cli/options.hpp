// Command line. Everything after `--` goes to the DPDK EAL untouched.
#pragma once
#include <stdexcept>
#include <string>

#include "runtime/gateway.hpp"

namespace tgw::cli {

struct Options {
    runtime::RunOptions run;
    bool help = false;
    bool version = false;
    bool check_config = false;
    std::string which_tunnel;  // a flow to look up offline (all tunnels assumed up)
};

struct CliError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws CliError with a one-line message on unknown or malformed options.
Options parse(int argc, char** argv);
std::string usage();

}  // namespace tgw::cli
