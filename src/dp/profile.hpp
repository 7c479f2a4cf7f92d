// Sampled per-stage cycle counts: on one pipeline run in N (operations.stage_sample), each stage
// call is bracketed by rte_rdtsc() and its cycles and input packets are added to the worker's
// own counters. Unsampled runs pay one predictable branch per stage; a sampled run pays two TSC
// reads per stage called (~25 cycles each), i.e. well under one cycle per packet at N = 64.
// The numbers are cycles per packet *entering* a stage, TSC cycles, including cache misses the
// stage causes; a stage that runs twice for a packet (route: outer, then inner) counts twice.
#pragma once
#include <rte_cycles.h>

#include <cstdint>

namespace tgw::dp {

// X(enum, "name shown to operators")
#define TGW_STAGES(X)       \
    X(ingress, "ingress")   \
    X(route, "route")       \
    X(local_in, "local_in") \
    X(esp_in, "esp_in")     \
    X(gre_decap, "gre_decap") \
    X(bridge, "bridge")     \
    X(gre_encap, "gre_encap") \
    X(esp_out, "esp_out")   \
    X(forward, "forward")   \
    X(egress, "egress")     \
    X(tx, "tx")

enum class Stage : uint8_t {
#define TGW_X(e, n) e,
    TGW_STAGES(TGW_X)
#undef TGW_X
        count
};
inline constexpr unsigned stage_count = unsigned(Stage::count);
inline const char* stage_name(Stage s) noexcept {
    static constexpr const char* names[] = {
#define TGW_X(e, n) n,
        TGW_STAGES(TGW_X)
#undef TGW_X
    };
    return unsigned(s) < stage_count ? names[unsigned(s)] : "?";
}

// One stage's samples on one lcore. Single writer (the lcore).
struct StageCycles {
    uint64_t calls;   // sampled calls with at least one packet
    uint64_t pkts;    // packets those calls received
    uint64_t cycles;  // TSC cycles they took
};

// The worker's sampling state: `every` from the snapshot, `tick` counts pipeline runs.
struct StageSampler {
    uint32_t tick = 0;
    bool on = false;

    // At the start of a pipeline run: sample this one?
    void next(uint32_t every) noexcept {
        on = false;
        if (!every) return;
        if (++tick >= every) {
            tick = 0;
            on = true;
        }
    }
};

// Runs `f`, a stage over `n` packets, and on a sampled run adds its cycles to the context's
// counters (c.ctr->stages, written only by this lcore).
template <class Ctx, class F>
inline void timed(Ctx& c, Stage st, uint16_t n, F&& f) noexcept {
    if (__builtin_expect(!c.sampler.on || !n, 1)) {
        f();
        return;
    }
    const uint64_t t0 = rte_rdtsc();
    f();
    const uint64_t dt = rte_rdtsc() - t0;
    StageCycles& k = c.ctr->stages[unsigned(st)];
    __atomic_store_n(&k.calls, k.calls + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&k.pkts, k.pkts + n, __ATOMIC_RELAXED);
    __atomic_store_n(&k.cycles, k.cycles + dt, __ATOMIC_RELAXED);
}

}  // namespace tgw::dp
