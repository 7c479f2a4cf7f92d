// Bridge domains -> dp::BridgeTables (members, port/VLAN and tunnel classification).
#pragma once
#include <vector>

#include "config/model.hpp"
#include "dp/snapshot.hpp"

namespace tgw::control {

// After the snapshot's ports and tunnels are built. Leaves s.l2 null when there are none.
void compile_bridges(const config::Config& cfg, dp::Snapshot& s, std::vector<config::Diag>& errors);

}  // namespace tgw::control
