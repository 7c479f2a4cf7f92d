// The ESP part of a compile: SAs of protected tunnels, their owners, where outbound ESP goes,
// and the inbound lookup tables (rte_ipsec_sad, keyed by SPI and destination).
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ipsec_sad.h>

#include <algorithm>
#include <atomic>

#include "control/compile.hpp"
#include "control/mtu.hpp"
#include "dp/neigh.hpp"

namespace tgw::control {

namespace {

const config::Sa* find_sa(const config::Config& cfg, const std::string& name) {
    for (auto& sa : cfg.sas)
        if (sa.name == name) return &sa;
    return nullptr;
}

// rte_ipsec fixes the family inside a tunnel-mode SA. GRE over ESP carries the GRE tunnel's
// outer packets; a plain ipsec tunnel carries whatever is routed into it (the validator
// checks that this is one family), IPv4 when nothing is routed yet.
uint8_t inner_family(const config::Config& cfg, const config::Tunnel& t) {
    if (t.type != config::TunnelType::Ipsec) return t.local.is_v4() ? 4 : 6;
    auto via = [&](const std::string& target) {
        if (target == t.name) return true;
        for (auto& g : cfg.groups)
            if (g.name == target)
                for (auto& m : g.members)
                    if (m.tunnel == t.name) return true;
        return false;
    };
    for (auto& r : cfg.routes)
        if ((r.kind == config::RouteKind::Tunnel && via(r.tunnel)) ||
            (r.kind == config::RouteKind::Group && via(r.group)) || (!r.backup.empty() && via(r.backup)))
            return r.prefix.addr.is_v4() ? 4 : 6;
    for (auto& a : t.addresses) return a.addr.is_v4() ? 4 : 6;
    return 4;
}

std::string unique(const char* what) {
    static std::atomic<unsigned> n{0};
    return std::string(what) + std::to_string(n.fetch_add(1));
}

}  // namespace

void build_sas(SaBuild& b, ResolveFn resolve, const void* rctx) {
    const config::Config& cfg = b.cfg;
    dp::Snapshot& s = b.s;
    size_t n_sa = 0, n_in4 = 0, n_in6 = 0;
    for (auto& t : cfg.tunnels)
        if (t.protection) n_sa += 1 + t.protection->in.size();
    // Snapshot::sas never reallocates after this: the SAD stores pointers into it.
    s.sas.reserve(n_sa);

    for (auto& ct : cfg.tunnels) {
        if (!ct.protection) continue;
        uint32_t ti = 0;
        while (ti < s.tunnels.size() && s.tunnels[ti].name != ct.name) ti++;
        if (ti == s.tunnels.size()) continue;  // the tunnel itself failed; already reported
        dp::Tunnel& t = s.tunnels[ti];
        SaContext ctx;
        ctx.inner_family = inner_family(cfg, ct);
        ctx.ttl = ct.ttl ? ct.ttl : 64;

        auto add = [&](const std::string& name) -> int {
            const config::Sa* c = find_sa(cfg, name);
            if (!c) return -1;  // the validator reports unknown names
            std::string err;
            auto live = acquire_sa(*c, ctx, b.old, b.next, err);
            if (!live) {
                b.errors.push_back({c->loc, "SA " + c->name + ": " + err});
                return -1;
            }
            dp::Sa sa;
            sa.live = live.get();
            sa.keep = std::move(live);
            sa.spi = c->spi;
            sa.replay_window = c->direction == config::SaDirection::In ? c->replay_window : 0;
            sa.esn = c->esn;
            sa.tunnel = ti;
            sa.owner = t.owner;
            sa.out = c->direction == config::SaDirection::Out;
            sa.tunnel_mode = c->mode == config::SaMode::Tunnel;
            sa.outer_v6 = !c->local.is_v4();
            sa.nat_t = c->nat_t;
            sa.natt_sport = c->nat_t_local_port;
            sa.natt_dport = c->nat_t_remote_port;
            sa.inner_family = ctx.inner_family;
            const bool aead = c->cipher != config::Cipher::AesCbc128 && c->cipher != config::Cipher::AesCbc256;
            sa.iv_len = aead ? 8 : 16;
            sa.block = aead ? 4 : 16;
            sa.icv_len = c->integrity == config::Integrity::HmacSha1_96 ? 12 : 16;
            sa.local = c->local;
            sa.remote = c->remote;
            sa.soft = c->soft;
            sa.hard = c->hard;
            sa.tos_mode = ct.tos_mode;
            sa.dscp = ct.tos;
            sa.df = ct.df;
            sa.ttl = ctx.ttl;
            if (sa.tunnel_mode && !sa.outer_v6) {
                // TTL/protocol, source and destination: the words of the outer IPv4 header
                // that never change (esp_out adds the rest per packet).
                const uint8_t* a = c->local.b.data() + 12;
                const uint8_t* z = c->remote.b.data() + 12;
                sa.ip_sum = (uint32_t(ctx.ttl) << 8 | (c->nat_t ? 17u : 50u)) + (a[0] << 8 | a[1]) +
                            (a[2] << 8 | a[3]) + (z[0] << 8 | z[1]) + (z[2] << 8 | z[3]);
            }
            sa.name = c->name;
            if (sa.out) {
                if (!resolve(rctx, c->remote, sa.port, sa.nh)) {
                    b.errors.push_back({c->loc, "SA " + c->name + ": remote " + c->remote.str() +
                                                    " is not reachable over any port"});
                    return -1;
                }
                sa.neigh_pos = b.neigh ? b.neigh->reserve(sa.port, sa.nh) : -1;
            } else {
                (sa.outer_v6 ? n_in6 : n_in4)++;
            }
            s.sas.push_back(std::move(sa));
            return int(s.sas.size() - 1);
        };

        t.is_protected = true;
        t.single_writer = true;
        t.sa_out = dp::no_sa;
        if (!ct.protection->out.empty()) {
            int i = add(ct.protection->out);
            if (i >= 0) {
                const dp::Sa& sa = s.sas[size_t(i)];
                t.sa_out = uint32_t(i);
                // What fits on the SA's port (control/mtu.hpp). Fragmenting `outer` does not
                // apply to ESP packets: an inner packet above this is fragmented before.
                t.fits = uint16_t(encap_of(ct, find_sa(cfg, ct.protection->out)).max_inner(cfg.ports[sa.port].mtu));
                t.mtu = std::min(effective_mtu(ct, t.fits), t.fits);
                t.mss4 = clamp_mss(ct, t.mtu, 4);
                t.mss6 = clamp_mss(ct, t.mtu, 6);
                if (sa.tunnel_mode) {
                    // GRE over ESP tunnel mode: the GRE packet is the ESP payload, so the
                    // underlay next hop is the SA's.
                    t.port = sa.port;
                    t.nh = sa.nh;
                    t.neigh_pos = sa.neigh_pos;
                }
            }
        }
        for (auto& name : ct.protection->in) add(name);
    }

    auto make_sad = [&](size_t n, bool v6) -> rte_ipsec_sad* {
        if (!n) return nullptr;
        rte_ipsec_sad_conf conf{};
        conf.socket_id = SOCKET_ID_ANY;
        for (auto& m : conf.max_sa) m = uint32_t(n + 8);
        conf.flags = v6 ? RTE_IPSEC_SAD_FLAG_IPV6 : 0;  // read-only once published
        std::string name = unique(v6 ? "sad6_" : "sad4_");
        rte_ipsec_sad* sad = rte_ipsec_sad_create(name.c_str(), &conf);
        if (!sad)
            b.errors.push_back({config::Loc{cfg.source, 0, 0, ""},
                                std::string("cannot allocate the SA table: ") + rte_strerror(rte_errno)});
        return sad;
    };
    s.sad4 = make_sad(n_in4, false);
    s.sad6 = make_sad(n_in6, true);
    for (auto& sa : s.sas) {
        if (sa.out) continue;
        rte_ipsec_sad* sad = sa.outer_v6 ? s.sad6 : s.sad4;
        if (!sad) continue;
        union rte_ipsec_sad_key key{};
        if (!sa.outer_v6) {
            key.v4.spi = rte_cpu_to_be_32(sa.spi);
            std::memcpy(&key.v4.dip, sa.local.b.data() + 12, 4);
        } else {
            key.v6.spi = rte_cpu_to_be_32(sa.spi);
            std::memcpy(key.v6.dip, sa.local.b.data(), 16);
        }
        if (int rc = rte_ipsec_sad_add(sad, &key, RTE_IPSEC_SAD_SPI_DIP, &sa); rc < 0)
            b.errors.push_back({config::Loc{cfg.source, 0, 0, ""},
                                "SA " + sa.name + ": cannot add to the SA table: " + rte_strerror(-rc)});
    }
}

}  // namespace tgw::control
