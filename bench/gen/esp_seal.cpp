#include "esp_seal.hpp"

#include <rte_ipsec.h>
#include <rte_mbuf.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "control/crypto.hpp"

namespace tgw::bench {

bool parse_hex_key(const std::string& s, std::vector<uint8_t>& out) {
    std::string h = s.rfind("0x", 0) == 0 ? s.substr(2) : s;
    if (h.empty() || h.size() % 2) return false;
    out.clear();
    for (size_t i = 0; i < h.size(); i += 2) {
        char* end = nullptr;
        std::string byte = h.substr(i, 2);
        unsigned long v = strtoul(byte.c_str(), &end, 16);
        if (!end || *end) return false;
        out.push_back(uint8_t(v));
    }
    return true;
}

std::vector<std::vector<uint8_t>> esp_seal(const Profile& p, const EspParams& e,
                                           const std::vector<std::vector<uint8_t>>& frames) {
    if (e.key.size() != 20) throw std::runtime_error("--esp-key: AES-GCM-128 needs 16 key + 4 salt bytes");
    control::CryptoDev& dev = control::CryptoDev::instance();
    if (std::string err = dev.open(SOCKET_ID_ANY, 16); !err.empty()) throw std::runtime_error(err);
    config::Sa sa;
    sa.name = "bench-peer-out";
    sa.spi = e.spi;
    sa.direction = config::SaDirection::Out;
    sa.mode = config::SaMode::Tunnel;
    sa.cipher = config::Cipher::AesGcm128;
    sa.key.assign(e.key.begin(), e.key.begin() + 16);
    sa.salt.assign(e.key.begin() + 16, e.key.end());
    auto v4 = [](uint32_t a) {
        const uint8_t b[4] = {uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)};
        return IpAddr::v4(b);
    };
    sa.local = v4(p.peer_ip);
    sa.remote = v4(p.gw_wan_ip);
    control::SaStore none, store;
    std::string err;
    auto live = control::acquire_sa(sa, control::SaContext{4, p.ttl}, none, store, err);
    if (!live) throw std::runtime_error("ESP SA: " + err);

    rte_mempool* pool = rte_pktmbuf_pool_create("bench_seal", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                                SOCKET_ID_ANY);
    if (!pool) throw std::runtime_error("cannot create the mbuf pool for ESP (more memory: -m)");
    std::unique_ptr<rte_mempool, void (*)(rte_mempool*)> keep(pool, rte_mempool_free);
    constexpr size_t eth = sizeof(wire::Eth);
    std::vector<std::vector<uint8_t>> out;
    for (size_t base = 0; base < frames.size(); base += 32) {
        rte_mbuf* m[32];
        const uint16_t n = uint16_t(std::min<size_t>(32, frames.size() - base));
        if (rte_pktmbuf_alloc_bulk(pool, m, n) != 0) throw std::runtime_error("out of mbufs");
        for (uint16_t i = 0; i < n; i++) {
            const auto& f = frames[base + i];
            char* d = rte_pktmbuf_append(m[i], uint16_t(f.size() - eth));
            std::memcpy(d, f.data() + eth, f.size() - eth);
            m[i]->l2_len = 0;
            m[i]->l3_len = sizeof(wire::Ipv4);
        }
        uint16_t k = rte_ipsec_pkt_cpu_prepare(&live->ss, m, n);
        k = k == n ? rte_ipsec_pkt_process(&live->ss, m, n) : k;
        if (k != n) {
            rte_pktmbuf_free_bulk(m, n);
            throw std::runtime_error("rte_ipsec failed to encrypt a frame");
        }
        for (uint16_t i = 0; i < n; i++) {
            auto* ip = rte_pktmbuf_mtod(m[i], wire::Ipv4*);
            ip->csum.set(0);  // rte_ipsec set the length; the checksum is the caller's
            ip->csum.set(wire::csum_fold(wire::csum_partial(ip, sizeof(*ip))));
            auto* e2 = reinterpret_cast<wire::Eth*>(rte_pktmbuf_prepend(m[i], eth));
            std::memcpy(e2->dst, p.gw_b_mac, 6);
            std::memcpy(e2->src, p.b_mac, 6);
            e2->type.set(wire::ethertype::ipv4);
            const uint8_t* b = rte_pktmbuf_mtod(m[i], const uint8_t*);
            out.emplace_back(b, b + rte_pktmbuf_pkt_len(m[i]));
        }
        rte_pktmbuf_free_bulk(m, n);
    }
    live.reset();
    store.by_name.clear();
    dev.close();
    return out;
}

}  // namespace tgw::bench
