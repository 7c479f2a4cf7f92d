#include "runtime/stats.hpp"

#include <rte_cycles.h>

#include <sstream>

namespace tgw::runtime {

using dp::peek;

Totals sum(const std::vector<const dp::LcoreCounters*>& lcores, const dp::Snapshot& s) {
    Totals t;
    t.ports.resize(s.ports.size());
    t.tunnels.resize(s.tunnels.size());
    for (const dp::LcoreCounters* c : lcores) {
        for (size_t p = 0; p < s.ports.size(); p++) {
            t.ports[p].rx_pkts += peek(c->port[p].rx_pkts);
            t.ports[p].rx_bytes += peek(c->port[p].rx_bytes);
            t.ports[p].tx_pkts += peek(c->port[p].tx_pkts);
            t.ports[p].tx_bytes += peek(c->port[p].tx_bytes);
        }
        for (size_t i = 0; i < s.tunnels.size(); i++) {
            const dp::TunnelCounters& x = c->tunnel[s.tunnels[i].slot];
            dp::TunnelCounters& y = t.tunnels[i];
            y.rx_pkts += peek(x.rx_pkts);
            y.rx_bytes += peek(x.rx_bytes);
            y.tx_pkts += peek(x.tx_pkts);
            y.tx_bytes += peek(x.tx_bytes);
            y.rx_drops += peek(x.rx_drops);
            y.tx_drops += peek(x.tx_drops);
            y.ecmp_pkts += peek(x.ecmp_pkts);
            y.keepalives_tx += peek(x.keepalives_tx);
            y.keepalives_rx += peek(x.keepalives_rx);
        }
        for (unsigned d = 0; d < dp::drop_count; d++) t.drops[d] += peek(c->drops[d]);
        t.punted += peek(c->punted);
        t.handed_off += peek(c->handed_off);
        t.polls += peek(c->polls);
        t.busy_polls += peek(c->busy_polls);
        t.busy_cycles += peek(c->busy_cycles);
        t.pkts += peek(c->pkts_processed);
        t.fragmented += peek(c->fragmented);
        t.fragments += peek(c->fragments);
        t.reassembled += peek(c->reassembled);
        t.mss_clamped += peek(c->mss_clamped);
        for (unsigned i = 0; i < dp::stage_count; i++) {
            t.stages[i].calls += peek(c->stages[i].calls);
            t.stages[i].pkts += peek(c->stages[i].pkts);
            t.stages[i].cycles += peek(c->stages[i].cycles);
        }
    }
    return t;
}

void print_report(FILE* f, const Totals& t, const dp::Snapshot& s, double uptime) {
    fprintf(f, "--- tunnelgw counters, uptime %.1f s, config generation %lu ---\n", uptime,
            (unsigned long)s.generation);
    for (size_t p = 0; p < s.ports.size(); p++) {
        const auto& c = t.ports[p];
        fprintf(f, "port %-12s RX: %12lu pkts %15lu bytes   TX: %12lu pkts %15lu bytes\n",
                s.ports[p].name.c_str(), (unsigned long)c.rx_pkts, (unsigned long)c.rx_bytes,
                (unsigned long)c.tx_pkts, (unsigned long)c.tx_bytes);
    }
    for (size_t i = 0; i < s.tunnels.size(); i++) {
        const auto& tn = s.tunnels[i];
        const auto& c = t.tunnels[i];
        fprintf(f, "tunnel %-10s %s -> %s mtu %u  %s\n", tn.name.c_str(), tn.local.str().c_str(),
                tn.remote.str().c_str(), tn.mtu, i < t.tunnel_state.size() ? t.tunnel_state[i].c_str() : "");
        if (c.keepalives_tx || c.ecmp_pkts)
            fprintf(f, "    keepalives sent %lu answered %lu, ECMP-hashed %lu pkts\n",
                    (unsigned long)c.keepalives_tx, (unsigned long)c.keepalives_rx,
                    (unsigned long)c.ecmp_pkts);
        fprintf(f, "    decap RX: %12lu pkts %15lu bytes %10lu dropped\n", (unsigned long)c.rx_pkts,
                (unsigned long)c.rx_bytes, (unsigned long)c.rx_drops);
        fprintf(f, "    encap TX: %12lu pkts %15lu bytes %10lu dropped\n", (unsigned long)c.tx_pkts,
                (unsigned long)c.tx_bytes, (unsigned long)c.tx_drops);
    }
    for (auto* list : {&t.bridges, &t.bridge_members})
        for (const Named& n : *list) {
            fprintf(f, "%s %-16s", list == &t.bridges ? "bridge" : "  member", n.name.c_str());
            for (auto& [k, v] : n.values) fprintf(f, " %s=%lu", k.c_str(), (unsigned long)v);
            fprintf(f, "\n");
        }
    for (const dp::Sa& sa : s.sas) {
        const dp::SaCounters& k = sa.live->ctr;
        static const char* states[] = {"ok", "SOFT-EXPIRED", "EXPIRED"};
        fprintf(f, "sa %-10s spi 0x%08x %-3s tunnel %-10s %12lu pkts %15lu bytes  auth-failed %lu replay %lu  %s\n",
                sa.name.c_str(), sa.spi, sa.out ? "out" : "in",
                sa.tunnel < s.tunnels.size() ? s.tunnels[sa.tunnel].name.c_str() : "-",
                (unsigned long)peek(k.pkts), (unsigned long)peek(k.bytes), (unsigned long)peek(k.auth_failed),
                (unsigned long)peek(k.replay), states[sa.live->state() > 2 ? 2 : sa.live->state()]);
    }
    bool any = false;
    for (unsigned d = 0; d < dp::drop_count; d++) {
        if (!t.drops[d]) continue;
        if (!any) fprintf(f, "drops:\n");
        any = true;
        fprintf(f, "    %-20s %12lu  %s\n", dp::drop_name(dp::Drop(d)), (unsigned long)t.drops[d],
                dp::drop_help(dp::Drop(d)));
    }
    if (!any) fprintf(f, "drops: none\n");
    if (t.pkts)
        fprintf(f, "workers: %lu pkts, %.1f cycles/pkt (busy polls), %lu punted, %lu handed off\n",
                (unsigned long)t.pkts, double(t.busy_cycles) / double(t.pkts), (unsigned long)t.punted,
                (unsigned long)t.handed_off);
    if (t.fragmented || t.reassembled || t.mss_clamped)
        fprintf(f, "mtu: %lu packets fragmented into %lu, %lu reassembled, %lu MSS clamped\n",
                (unsigned long)t.fragmented, (unsigned long)t.fragments,
                (unsigned long)t.reassembled, (unsigned long)t.mss_clamped);
    bool sampled = false;
    for (unsigned i = 0; i < dp::stage_count; i++) {
        const dp::StageCycles& st = t.stages[i];
        if (!st.pkts) continue;
        if (!sampled) fprintf(f, "stages (sampled cycles/pkt):");
        sampled = true;
        fprintf(f, " %s=%lu", dp::stage_name(dp::Stage(i)), (unsigned long)((st.cycles + st.pkts / 2) / st.pkts));
    }
    if (sampled) fprintf(f, "\n");
    if (!t.slowpath.empty()) {
        fprintf(f, "slow path:");
        for (auto& [k, v] : t.slowpath)
            if (v) fprintf(f, " %s=%lu", k.c_str(), (unsigned long)v);
        fprintf(f, "\n");
    }
    fflush(f);
}

namespace {
std::string quote(const std::string& s) {
    std::string o = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') o += '\\';
        o += ch;
    }
    return o + "\"";
}
}  // namespace

std::string to_json(const Totals& t, const dp::Snapshot& s, double uptime) {
    std::ostringstream o;
    o << "{\"uptime_s\":" << uptime << ",\"generation\":" << s.generation << ",\"ports\":{";
    for (size_t p = 0; p < s.ports.size(); p++) {
        const auto& c = t.ports[p];
        o << (p ? "," : "") << quote(s.ports[p].name) << ":{\"rx_packets\":" << c.rx_pkts
          << ",\"rx_bytes\":" << c.rx_bytes << ",\"tx_packets\":" << c.tx_pkts
          << ",\"tx_bytes\":" << c.tx_bytes << "}";
    }
    o << "},\"tunnels\":{";
    for (size_t i = 0; i < s.tunnels.size(); i++) {
        const auto& c = t.tunnels[i];
        o << (i ? "," : "") << quote(s.tunnels[i].name) << ":{\"rx_packets\":" << c.rx_pkts
          << ",\"rx_bytes\":" << c.rx_bytes << ",\"tx_packets\":" << c.tx_pkts
          << ",\"tx_bytes\":" << c.tx_bytes << ",\"rx_drops\":" << c.rx_drops
          << ",\"tx_drops\":" << c.tx_drops << ",\"mtu\":" << s.tunnels[i].mtu
          << ",\"mss\":" << s.tunnels[i].mss4
          << ",\"ecmp_packets\":" << c.ecmp_pkts << ",\"keepalives_tx\":" << c.keepalives_tx
          << ",\"keepalives_rx\":" << c.keepalives_rx << ",\"state\":"
          << quote(i < t.tunnel_state.size() ? t.tunnel_state[i] : "") << "}";
    }
    o << "},\"sas\":{";
    for (size_t i = 0; i < s.sas.size(); i++) {
        const dp::Sa& sa = s.sas[i];
        const dp::SaCounters& k = sa.live->ctr;
        static const char* states[] = {"ok", "soft-expired", "expired"};
        o << (i ? "," : "") << quote(sa.name) << ":{\"spi\":" << sa.spi << ",\"direction\":"
          << (sa.out ? "\"out\"" : "\"in\"") << ",\"tunnel\":"
          << quote(sa.tunnel < s.tunnels.size() ? s.tunnels[sa.tunnel].name : "")
          << ",\"packets\":" << peek(k.pkts) << ",\"bytes\":" << peek(k.bytes)
          << ",\"auth_failed\":" << peek(k.auth_failed) << ",\"replay\":" << peek(k.replay)
          << ",\"bad_trailer\":" << peek(k.bad_trailer) << ",\"truncated\":" << peek(k.truncated)
          << ",\"policy\":" << peek(k.policy) << ",\"expired\":" << peek(k.expired)
          << ",\"seq_exhausted\":" << peek(k.seq_exhausted) << ",\"state\":\""
          << states[sa.live->state() > 2 ? 2 : sa.live->state()] << "\"}";
    }
    o << "},\"drops\":{";
    for (unsigned d = 0; d < dp::drop_count; d++)
        o << (d ? "," : "") << quote(dp::drop_name(dp::Drop(d))) << ":" << t.drops[d];
    o << "},\"workers\":{\"packets\":" << t.pkts << ",\"busy_cycles\":" << t.busy_cycles
      << ",\"polls\":" << t.polls << ",\"busy_polls\":" << t.busy_polls << ",\"punted\":" << t.punted
      << ",\"handed_off\":" << t.handed_off << ",\"fragmented\":" << t.fragmented
      << ",\"fragments\":" << t.fragments << ",\"reassembled\":" << t.reassembled
      << ",\"mss_clamped\":" << t.mss_clamped << "},\"stages\":{";
    for (unsigned i = 0; i < dp::stage_count; i++)
        o << (i ? "," : "") << quote(dp::stage_name(dp::Stage(i))) << ":{\"calls\":" << t.stages[i].calls
          << ",\"packets\":" << t.stages[i].pkts << ",\"cycles\":" << t.stages[i].cycles << "}";
    o << "},\"slowpath\":{";
    for (size_t i = 0; i < t.slowpath.size(); i++)
        o << (i ? "," : "") << quote(t.slowpath[i].first) << ":" << t.slowpath[i].second;
    o << "}";
    for (auto [key, list] : {std::pair{"bridges", &t.bridges}, {"bridge_members", &t.bridge_members}}) {
        o << ",\"" << key << "\":{";
        for (size_t i = 0; i < list->size(); i++) {
            o << (i ? "," : "") << quote((*list)[i].name) << ":{";
            for (size_t j = 0; j < (*list)[i].values.size(); j++)
                o << (j ? "," : "") << quote((*list)[i].values[j].first) << ":" << (*list)[i].values[j].second;
            o << "}";
        }
        o << "}";
    }
    o << "}\n";
    return o.str();
}

}  // namespace tgw::runtime
