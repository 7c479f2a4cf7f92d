#include "esp_seal.hpp"

#include <rte_mbuf.h>

#include <cstring>
#include <stdexcept>

#include "control/crypto.hpp"

namespace tgw::bench {

namespace {
constexpr size_t eth_len = sizeof(wire::Eth);

IpAddr v4(uint32_t a) {
    const uint8_t b[4] = {uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)};
    return IpAddr::v4(b);
}
}  // namespace

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

EspSa::EspSa(const Profile& p, const EspParams& e, bool outbound) : p_(p), spi_(e.spi) {
    if (e.key.size() != 20) throw std::runtime_error("ESP key: AES-GCM-128 needs 16 key + 4 salt bytes");
    control::CryptoDev& dev = control::CryptoDev::instance();
    if (std::string err = dev.open(SOCKET_ID_ANY, 16); !err.empty()) throw std::runtime_error(err);
    config::Sa sa;
    sa.name = outbound ? "bench-peer-out" : "bench-peer-in";
    sa.spi = e.spi;
    sa.direction = outbound ? config::SaDirection::Out : config::SaDirection::In;
    sa.mode = config::SaMode::Tunnel;
    sa.cipher = config::Cipher::AesGcm128;
    sa.key.assign(e.key.begin(), e.key.begin() + 16);
    sa.salt.assign(e.key.begin() + 16, e.key.end());
    sa.replay_window = 0;  // the generator counts duplicates itself, from its stamps
    sa.local = v4(outbound ? p.peer_ip : p.gw_wan_ip);
    sa.remote = v4(outbound ? p.gw_wan_ip : p.peer_ip);
    control::SaStore none, store;
    std::string err;
    live_ = control::acquire_sa(sa, control::SaContext{4, p.ttl}, none, store, err);
    if (!live_) throw std::runtime_error("ESP SA: " + err);
}

EspSa::~EspSa() {
    live_.reset();
    control::CryptoDev::instance().close();
}

uint16_t EspSa::run(rte_mbuf** m, uint16_t n) noexcept {
    for (uint16_t i = 0; i < n; i++) {
        rte_pktmbuf_adj(m[i], eth_len);
        m[i]->l2_len = 0;
        m[i]->l3_len = sizeof(wire::Ipv4);
    }
    const uint16_t k = rte_ipsec_pkt_cpu_prepare(&live_->ss, m, n);
    return rte_ipsec_pkt_process(&live_->ss, m, k);
}

uint16_t EspSa::seal(rte_mbuf** m, uint16_t n) noexcept {
    const uint16_t k = run(m, n);
    for (uint16_t i = 0; i < k; i++) {
        auto* ip = rte_pktmbuf_mtod(m[i], wire::Ipv4*);
        ip->csum.set(0);  // rte_ipsec set the length; the checksum is the caller's
        ip->csum.set(wire::csum_fold(wire::csum_partial(ip, sizeof(*ip))));
        auto* e = reinterpret_cast<wire::Eth*>(rte_pktmbuf_prepend(m[i], eth_len));
        std::memcpy(e->dst, p_.gw_b_mac, 6);
        std::memcpy(e->src, p_.b_mac, 6);
        e->type.set(wire::ethertype::ipv4);
    }
    return k;
}

uint16_t EspSa::open(rte_mbuf** m, uint16_t n) noexcept {
    // rte_ipsec strips everything in front of the inner packet; the MACs go back on after,
    // found again by mbuf (rte_ipsec moves failed packets to the tail).
    wire::Eth hdr[32];
    rte_mbuf* was[32];
    n = n > 32 ? 32 : n;
    for (uint16_t i = 0; i < n; i++) {
        std::memcpy(&hdr[i], rte_pktmbuf_mtod(m[i], const void*), eth_len);
        was[i] = m[i];
    }
    const uint16_t k = run(m, n);
    for (uint16_t i = 0; i < k; i++) {
        uint16_t j = 0;
        while (was[j] != m[i]) j++;
        auto* e = reinterpret_cast<wire::Eth*>(rte_pktmbuf_prepend(m[i], eth_len));
        std::memcpy(e, &hdr[j], eth_len);
        e->type.set(wire::ethertype::ipv4);
    }
    return k;
}

std::vector<std::vector<uint8_t>> esp_seal(const Profile& p, const EspParams& e,
                                           const std::vector<std::vector<uint8_t>>& frames) {
    EspSa sa(p, e, true);
    rte_mempool* pool = rte_pktmbuf_pool_create("bench_seal", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                                SOCKET_ID_ANY);
    if (!pool) throw std::runtime_error("cannot create the mbuf pool for ESP (more memory: -m)");
    std::unique_ptr<rte_mempool, void (*)(rte_mempool*)> keep(pool, rte_mempool_free);
    std::vector<std::vector<uint8_t>> out;
    for (size_t base = 0; base < frames.size(); base += 32) {
        rte_mbuf* m[32];
        const uint16_t n = uint16_t(std::min<size_t>(32, frames.size() - base));
        if (rte_pktmbuf_alloc_bulk(pool, m, n) != 0) throw std::runtime_error("out of mbufs");
        for (uint16_t i = 0; i < n; i++) {
            const auto& f = frames[base + i];
            std::memcpy(rte_pktmbuf_append(m[i], uint16_t(f.size())), f.data(), f.size());
        }
        const uint16_t k = sa.seal(m, n);
        for (uint16_t i = 0; i < k; i++) {
            const uint8_t* b = rte_pktmbuf_mtod(m[i], const uint8_t*);
            out.emplace_back(b, b + rte_pktmbuf_pkt_len(m[i]));
        }
        rte_pktmbuf_free_bulk(m, n);
        if (k != n) throw std::runtime_error("rte_ipsec failed to encrypt a frame");
    }
    return out;
}

}  // namespace tgw::bench
