// tunnelgw-ctl's subcommands: each asks the gateway through its /tunnelgw/* telemetry commands
// and prints a table (people) or JSON (scripts, --json).
#pragma once
#include <string>
#include <vector>

#include "ctl/client.hpp"

namespace tgw::ctl {

struct Settings {
    bool json = false;  // --json
    bool all = false;   // --all: drops and slow path events that are zero too
    int timeout_s = 10;
};

// The subcommands, for the usage text: name, argument, what it shows.
struct CommandInfo {
    const char* name;
    const char* arg;
    const char* help;
};
const std::vector<CommandInfo>& commands();
bool known(const std::string& name);

// Runs one subcommand and prints its result on stdout. Returns the exit status (1 for a
// rejected reload); throws CtlError when the gateway cannot be asked or answers an error.
int run_command(Client& c, const std::string& name, const std::vector<std::string>& args,
                const Settings& s);

// A whole list command (every page), as an array of row objects. Exposed for tests.
json rows_of(const json& page, const std::string& cmd);

}  // namespace tgw::ctl
