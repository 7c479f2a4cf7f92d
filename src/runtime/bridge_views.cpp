#include "runtime/bridge_views.hpp"

#include <rte_cycles.h>

#include <algorithm>
#include <cstdio>

#include "dp/bridge.hpp"
#include "runtime/api.hpp"

namespace tgw::runtime {

void bridge_totals(Totals& t, const std::vector<dp::Worker*>& workers, const dp::Snapshot& s,
                   const slowpath::LearnCounters& lc, const dp::MacTable* macs) {
#define TGW_LC(f) t.slowpath.emplace_back("mac_" #f, dp::peek(lc.f))
    TGW_LC(added); TGW_LC(moved); TGW_LC(refreshed); TGW_LC(aged); TGW_LC(stale); TGW_LC(table_full);
#undef TGW_LC
    if (!s.l2) return;
    const dp::BridgeTables& l2 = *s.l2;
    for (size_t d = 0; d < l2.domains.size(); d++) {
        dp::BdCounters c{};
        for (auto* w : workers) {
            const dp::BdCounters& x = w->ctx.br->bd[d];
            c.rx_pkts += dp::peek(x.rx_pkts);
            c.rx_bytes += dp::peek(x.rx_bytes);
            c.forwarded += dp::peek(x.forwarded);
            c.flooded += dp::peek(x.flooded);
            c.flood_copies += dp::peek(x.flood_copies);
            c.unknown_unicast += dp::peek(x.unknown_unicast);
            c.learn_events += dp::peek(x.learn_events);
            c.learn_suppressed += dp::peek(x.learn_suppressed);
        }
        t.bridges.push_back({l2.domains[d].name,
                             {{"rx_packets", c.rx_pkts},
                              {"rx_bytes", c.rx_bytes},
                              {"forwarded", c.forwarded},
                              {"flooded", c.flooded},
                              {"flood_copies", c.flood_copies},
                              {"unknown_unicast", c.unknown_unicast},
                              {"learn_events", c.learn_events},
                              {"learn_suppressed", c.learn_suppressed},
                              {"macs", macs ? macs->count(uint16_t(d)) : 0}}});
    }
    for (size_t m = 0; m < l2.members.size(); m++) {
        dp::MemberCounters c{};
        for (auto* w : workers) {
            const dp::MemberCounters& x = w->ctx.br->member[m];
            c.rx_pkts += dp::peek(x.rx_pkts);
            c.rx_bytes += dp::peek(x.rx_bytes);
            c.tx_pkts += dp::peek(x.tx_pkts);
            c.tx_bytes += dp::peek(x.tx_bytes);
        }
        t.bridge_members.push_back({l2.domains[l2.members[m].bd].name + "/" + l2.members[m].name,
                                    {{"rx_packets", c.rx_pkts},
                                     {"rx_bytes", c.rx_bytes},
                                     {"tx_packets", c.tx_pkts},
                                     {"tx_bytes", c.tx_bytes}}});
    }
}

namespace view {

Page<Mac> macs(Api& api, size_t start, size_t max) {
    const dp::Snapshot& s = api.snapshot();
    Page<Mac> pg;
    pg.generation = s.generation;
    const dp::MacTable* t = api.macs();
    if (!t || !s.l2) return pg;
    const uint32_t now_s = uint32_t(rte_rdtsc() / rte_get_tsc_hz());
    size_t n = 0;
    t->for_each([&](const dp::MacKey& k, uint64_t w) {
        // Entries of an older epoch are already unused; the learner sweeps them.
        if (!(w & dp::MacEntry::valid) || dp::MacEntry::epoch(w) != s.l2->epoch ||
            k.bd >= s.l2->domains.size())
            return;
        size_t i = n++;
        if (i < start || pg.rows.size() >= max) return;
        Mac r;
        r.domain = s.l2->domains[k.bd].name;
        char buf[18];
        std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", k.mac[0], k.mac[1],
                      k.mac[2], k.mac[3], k.mac[4], k.mac[5]);
        r.mac = buf;
        uint16_t m = dp::MacEntry::member(w);
        r.member = m < s.l2->members.size() ? s.l2->members[m].name : "?";
        r.age_s = uint64_t(std::max<int32_t>(0, int32_t(now_s - dp::MacEntry::stamp(w))));
        pg.rows.push_back(std::move(r));
    });
    pg.total = n;
    pg.start = std::min(start, n);
    return pg;
}

Page<BridgeRow> bridges(Api& api, size_t start, size_t max) {
    const dp::Snapshot& s = api.snapshot();
    Page<BridgeRow> pg;
    pg.generation = s.generation;
    if (!s.l2) return pg;
    Totals t = api.totals();
    auto get = [](const Named& n, const char* k) -> uint64_t {
        for (auto& [name, v] : n.values)
            if (name == k) return v;
        return 0;
    };
    std::vector<BridgeRow> all;
    for (size_t d = 0; d < t.bridges.size() && d < s.l2->domains.size(); d++) {
        const Named& n = t.bridges[d];
        BridgeRow r{n.name, s.l2->domains[d].p2p ? "domain p2p" : "domain"};
        r.rx_pkts = get(n, "rx_packets");
        r.rx_bytes = get(n, "rx_bytes");
        r.forwarded = get(n, "forwarded");
        r.flooded = get(n, "flooded");
        r.unknown_unicast = get(n, "unknown_unicast");
        r.learn_events = get(n, "learn_events");
        r.macs = get(n, "macs");
        all.push_back(std::move(r));
        const dp::Bd& bd = s.l2->domains[d];
        for (uint16_t m = bd.first; m < bd.first + bd.n && m < t.bridge_members.size(); m++) {
            const dp::BdMember& mb = s.l2->members[m];
            const Named& x = t.bridge_members[m];
            BridgeRow mr{x.name, mb.kind == dp::BdMember::Kind::tunnel ? "tunnel"
                                 : mb.vlan                              ? "vlan"
                                                                        : "port"};
            mr.rx_pkts = get(x, "rx_packets");
            mr.rx_bytes = get(x, "rx_bytes");
            mr.tx_pkts = get(x, "tx_packets");
            mr.tx_bytes = get(x, "tx_bytes");
            all.push_back(std::move(mr));
        }
    }
    pg.total = all.size();
    pg.start = std::min(start, all.size());
    for (size_t i = pg.start; i < all.size() && pg.rows.size() < max; i++) pg.rows.push_back(all[i]);
    return pg;
}

}  // namespace view
}  // namespace tgw::runtime
