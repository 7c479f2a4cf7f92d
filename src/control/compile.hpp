// Config -> Snapshot. Runs on the control (main) thread, never on a worker. Builds every
// table aside; nothing live is touched, so a failed compile leaves the running config alone.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "control/crypto.hpp"
#include "dp/neigh.hpp"
#include "dp/snapshot.hpp"

namespace tgw::control {

struct PortInfo {
    uint16_t port_id = 0;
    uint8_t mac[6] = {};
};

// Tunnel name -> counter/state slot, kept across reloads so a surviving tunnel keeps its
// counters and sequence state; a reused slot gets a new epoch so the owner resets its state.
struct SlotMap {
    std::map<std::string, uint32_t> by_name;
    std::vector<uint32_t> epoch;  // per slot
};

struct CompileResult {
    std::unique_ptr<dp::Snapshot> snap;
    SlotMap slots;  // commit only after the snapshot is published
    SaStore sas;    // the live SAs it uses; commit with the slots
    std::vector<config::Diag> errors;
};

// `neigh` (may be null) gets a reserved entry for every gateway and tunnel next hop, so the
// fast path indexes it instead of hashing. Call on the slow-path thread: it is the table's
// only writer.
CompileResult compile(const config::Config& cfg, const std::vector<PortInfo>& ports,
                      unsigned n_workers, const SlotMap& slots, uint64_t generation,
                      dp::NeighTable* neigh = nullptr,
                      const std::set<std::string>* down = nullptr,
                      const SaStore* sas = nullptr);

// Builds Snapshot::sas and the inbound SA tables for every protected tunnel (compile_sa.cpp).
// `resolve` finds the underlay port and next hop of an address.
struct SaBuild {
    const config::Config& cfg;
    dp::Snapshot& s;
    dp::NeighTable* neigh;
    const SaStore& old;
    SaStore& next;
    std::vector<config::Diag>& errors;
};
using ResolveFn = bool (*)(const void* ctx, const IpAddr& dst, uint16_t& port, IpAddr& nh);
void build_sas(SaBuild& b, ResolveFn resolve, const void* resolve_ctx);

}  // namespace tgw::control
