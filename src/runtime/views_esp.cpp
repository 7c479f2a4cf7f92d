// Operator views of ESP: the SAs (parameters and counters, never key material: keys, salts and
// the SA store's fingerprints stay in control/) and the sampled per-stage cycles.
#include <rte_cycles.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "dp/snapshot.hpp"
#include "runtime/api.hpp"
#include "runtime/views.hpp"

namespace tgw::runtime::view {

namespace {

const char* encryption_name(config::Cipher c) {
    switch (c) {
        case config::Cipher::AesGcm128: return "aes-gcm-128";
        case config::Cipher::AesGcm256: return "aes-gcm-256";
        case config::Cipher::AesCbc128: return "aes-cbc-128";
        case config::Cipher::AesCbc256: return "aes-cbc-256";
        case config::Cipher::Chacha20Poly1305: return "chacha20-poly1305";
    }
    return "?";
}

const char* integrity_name(config::Integrity i) {
    switch (i) {
        case config::Integrity::HmacSha1_96: return "hmac-sha1-96";
        case config::Integrity::HmacSha256_128: return "hmac-sha256-128";
        case config::Integrity::None: break;
    }
    return "";  // AEAD: the cipher authenticates
}

dp::SaCounters copy(const dp::SaCounters& k) {
    using dp::peek;
    dp::SaCounters c{};
    c.pkts = peek(k.pkts);
    c.bytes = peek(k.bytes);
    c.auth_failed = peek(k.auth_failed);
    c.replay = peek(k.replay);
    c.bad_trailer = peek(k.bad_trailer);
    c.truncated = peek(k.truncated);
    c.policy = peek(k.policy);
    c.expired = peek(k.expired);
    c.seq_exhausted = peek(k.seq_exhausted);
    return c;
}

}  // namespace

Page<Sa> sas(Api& api, size_t start, size_t max) {
    const dp::Snapshot& s = api.snapshot();
    Page<Sa> pg;
    pg.generation = s.generation;
    pg.total = s.sas.size();
    pg.start = std::min(start, pg.total);
    const size_t end = std::min(pg.total, pg.start + std::min(max, pg.total));
    const uint64_t now = rte_get_tsc_cycles(), hz = rte_get_tsc_hz();
    std::unordered_map<std::string_view, const config::Sa*> cfg;
    for (const auto& c : s.config.sas) cfg.emplace(c.name, &c);
    for (size_t i = pg.start; i < end; i++) {
        const dp::Sa& d = s.sas[i];
        Sa r;
        r.name = d.name;
        r.spi = d.spi;
        r.direction = d.out ? "out" : "in";
        r.tunnel = d.tunnel < s.tunnels.size() ? s.tunnels[d.tunnel].name : "";
        r.mode = d.tunnel_mode ? "tunnel" : "transport";
        r.local = d.local.str();
        r.remote = d.remote.str();
        r.nat_t = d.nat_t;
        r.soft = d.soft;
        r.hard = d.hard;
        if (auto it = cfg.find(d.name); it != cfg.end()) {
            const config::Sa& c = *it->second;
            r.encryption = encryption_name(c.cipher);
            r.integrity = integrity_name(c.integrity);
            r.esn = c.esn;
            r.replay_window = d.out ? 0 : c.replay_window;
        }
        const dp::SaLive& l = *d.live;
        r.state_code = std::min<uint8_t>(l.state(), dp::sa_hard);
        static const char* states[] = {"ok", "soft-expired", "expired"};
        r.state = states[r.state_code];
        // installed_tsc is the control thread's, and so is this view: no race.
        if (l.installed_tsc && hz && now > l.installed_tsc) r.age_s = (now - l.installed_tsc) / hz;
        r.c = copy(l.ctr);
        pg.rows.push_back(std::move(r));
    }
    return pg;
}

std::vector<Stage> stages(const Totals& t) {
    std::vector<Stage> v;
    for (unsigned i = 0; i < dp::stage_count; i++)
        v.push_back({dp::stage_name(dp::Stage(i)), t.stages[i].calls, t.stages[i].pkts,
                     t.stages[i].cycles});
    return v;
}

}  // namespace tgw::runtime::view
