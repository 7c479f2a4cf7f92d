// tunnelgw's commands on DPDK's telemetry socket (/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2),
// the interface tunnelgw-ctl and dpdk-telemetry.py use. The reply format is documented in
// docs/deployment.md ("Telemetry commands"); tunnelgw-ctl depends on it.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "config/model.hpp"

namespace tgw::runtime::telemetry {

// Registers the /tunnelgw/* commands (once per process; DPDK cannot unregister them, so
// after the gateway stops they answer {"error": ...}). Records ops for /tunnelgw/info.
// Returns false when DPDK refused a command (logged).
bool register_commands(const config::Operations& ops);

// Building blocks, exposed for unit tests.
// Printable ASCII only (DPDK 22.11 mangles other bytes into invalid JSON): "§" spelt out,
// anything else non-printable becomes "?".
std::string ascii(const std::string& s);
// A string as telemetry can carry it: ascii(), at most 127 bytes (RTE_TEL_MAX_STRING_LEN) with
// "..." marking the cut, at the end or (keep_tail, for paths) at the start.
std::string clean(const std::string& s, bool keep_tail = false);
// A message wrapped into lines of at most width bytes; continuation lines start with 4 spaces.
std::vector<std::string> wrap(const std::string& s, size_t width = 120);

}  // namespace tgw::runtime::telemetry
