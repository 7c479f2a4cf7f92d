#include "control/crypto.hpp"

#include <rte_bus_vdev.h>
#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_ipsec.h>
#include <rte_malloc.h>

#include <cstring>

#include "tunnelgw/wire.hpp"

namespace tgw::control {

namespace {

constexpr const char* vdev_name = "crypto_aesni_mb_tgw";
// rte_ipsec's CPU-crypto path passes the IV by pointer; the offset is only a placeholder the
// session API wants, set as for a crypto op.
constexpr uint16_t iv_offset = sizeof(rte_crypto_op) + sizeof(rte_crypto_sym_op);

bool aead(config::Cipher c) {
    return c == config::Cipher::AesGcm128 || c == config::Cipher::AesGcm256 ||
           c == config::Cipher::Chacha20Poly1305;
}

std::string hex(const std::vector<uint8_t>& v) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (uint8_t b : v) s += d[b >> 4], s += d[b & 15];
    return s;
}

std::string fingerprint(const config::Sa& sa, const SaContext& ctx) {
    std::string f;
    auto add = [&](const std::string& x) { f += x, f += '|'; };
    add(std::to_string(sa.spi));
    add(std::to_string(int(sa.direction)));
    add(std::to_string(int(sa.mode)));
    add(sa.local.str());
    add(sa.remote.str());
    add(std::to_string(int(sa.cipher)));
    add(std::to_string(int(sa.integrity)));
    add(hex(sa.key));
    add(hex(sa.salt));
    add(hex(sa.auth_key));
    add(std::to_string(sa.esn));
    add(std::to_string(sa.replay_window));
    add(std::to_string(sa.nat_t) + ":" + std::to_string(sa.nat_t_local_port) + ":" +
        std::to_string(sa.nat_t_remote_port));
    add(std::to_string(sa.initial_sequence));
    add(std::to_string(ctx.inner_family) + ":" + std::to_string(ctx.ttl));
    return f;
}

// Outer header template for tunnel mode: IP (+ UDP for NAT-T). rte_ipsec copies it in front of
// each packet and fills the IPv4 total length / IPv6 payload length; the rest is ours.
size_t tunnel_header(const config::Sa& sa, const SaContext& ctx, uint8_t* out) {
    using namespace wire;
    size_t n;
    const uint8_t next = sa.nat_t ? ipproto::udp : ipproto::esp;
    if (sa.local.is_v4()) {
        auto* ip = reinterpret_cast<Ipv4*>(out);
        std::memset(ip, 0, sizeof *ip);
        ip->ver_ihl = 0x45;
        ip->ttl = ctx.ttl;
        ip->proto = next;
        std::memcpy(ip->src, sa.local.b.data() + 12, 4);
        std::memcpy(ip->dst, sa.remote.b.data() + 12, 4);
        n = sizeof(Ipv4);
    } else {
        auto* ip6 = reinterpret_cast<Ipv6*>(out);
        std::memset(ip6, 0, sizeof *ip6);
        ip6->vtc_flow.set(6u << 28);
        ip6->next = next;
        ip6->hop_limit = ctx.ttl;
        std::memcpy(ip6->src, sa.local.b.data(), 16);
        std::memcpy(ip6->dst, sa.remote.b.data(), 16);
        n = sizeof(Ipv6);
    }
    if (sa.nat_t) {
        // RFC 3948 §2.1: UDP checksum zero for IPv4; the length is set per packet.
        auto* u = reinterpret_cast<Udp*>(out + n);
        std::memset(u, 0, sizeof *u);
        u->sport.set(sa.nat_t_local_port);
        u->dport.set(sa.nat_t_remote_port);
        n += sizeof(Udp);
    }
    return n;
}

}  // namespace

namespace dp_free {
void free_live(dp::SaLive& l) {
    if (l.crypto_session) rte_cryptodev_sym_session_free(l.dev_id, l.crypto_session);
    rte_free(l.sa);
    l.crypto_session = nullptr;
    l.sa = nullptr;
}
}  // namespace dp_free

CryptoDev& CryptoDev::instance() {
    static CryptoDev d;
    return d;
}

std::string CryptoDev::open(int socket_id, unsigned max_sessions) {
    if (ready_) return "";
    int id = rte_cryptodev_get_dev_id(vdev_name);
    if (id < 0) {
        const std::string args = "max_nb_queue_pairs=" + std::to_string(config::max_workers);
        int rc = rte_vdev_init(vdev_name, args.c_str());
        if (rc < 0)
            return std::string("cannot create the crypto device crypto_aesni_mb (is DPDK's "
                               "librte-crypto-ipsec-mb installed?): ") + rte_strerror(-rc);
        id = rte_cryptodev_get_dev_id(vdev_name);
        if (id < 0) return "crypto device created but not found";
    }
    dev_id_ = uint8_t(id);
    rte_cryptodev_info info{};
    rte_cryptodev_info_get(dev_id_, &info);
    if (!(info.feature_flags & RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO))
        return "the crypto_aesni_mb device does not offer synchronous CPU crypto";
    std::string pname = std::string("tgw_sess_") + std::to_string(dev_id_);
    pool_ = rte_cryptodev_sym_session_pool_create(
        pname.c_str(), max_sessions, rte_cryptodev_sym_get_private_session_size(dev_id_), 0, 0,
        socket_id);
    if (!pool_) return std::string("cannot allocate crypto sessions: ") + rte_strerror(rte_errno);
    ops_ = rte_crypto_op_pool_create((pname + "_ops").c_str(), RTE_CRYPTO_OP_TYPE_SYMMETRIC,
                                     4095, 64, 64, socket_id);
    if (!ops_) return std::string("cannot allocate crypto ops: ") + rte_strerror(rte_errno);
    rte_cryptodev_config conf{};
    conf.socket_id = socket_id;
    conf.nb_queue_pairs = config::max_workers;
    if (int rc = rte_cryptodev_configure(dev_id_, &conf); rc < 0)
        return std::string("cannot configure the crypto device: ") + rte_strerror(-rc);
    rte_cryptodev_qp_conf qp{};
    qp.nb_descriptors = 128;
    qp.mp_session = pool_;
    for (uint16_t q = 0; q < config::max_workers; q++)
        if (int rc = rte_cryptodev_queue_pair_setup(dev_id_, q, &qp, socket_id); rc < 0)
            return std::string("cannot set up the crypto queue pairs: ") + rte_strerror(-rc);
    if (int rc = rte_cryptodev_start(dev_id_); rc < 0)
        return std::string("cannot start the crypto device: ") + rte_strerror(-rc);
    ready_ = true;
    return "";
}

void CryptoDev::close() {
    if (!ready_) return;
    rte_cryptodev_stop(dev_id_);
    ready_ = false;
}

bool CryptoDev::supports(config::Cipher c, config::Integrity i) const {
    if (!ready_) return false;
    rte_cryptodev_sym_capability_idx idx{};
    if (aead(c)) {
        idx.type = RTE_CRYPTO_SYM_XFORM_AEAD;
        idx.algo.aead = c == config::Cipher::Chacha20Poly1305 ? RTE_CRYPTO_AEAD_CHACHA20_POLY1305
                                                              : RTE_CRYPTO_AEAD_AES_GCM;
        return rte_cryptodev_sym_capability_get(dev_id_, &idx) != nullptr;
    }
    idx.type = RTE_CRYPTO_SYM_XFORM_CIPHER;
    idx.algo.cipher = RTE_CRYPTO_CIPHER_AES_CBC;
    if (!rte_cryptodev_sym_capability_get(dev_id_, &idx)) return false;
    idx.type = RTE_CRYPTO_SYM_XFORM_AUTH;
    idx.algo.auth = i == config::Integrity::HmacSha1_96 ? RTE_CRYPTO_AUTH_SHA1_HMAC
                                                        : RTE_CRYPTO_AUTH_SHA256_HMAC;
    return rte_cryptodev_sym_capability_get(dev_id_, &idx) != nullptr;
}

std::shared_ptr<dp::SaLive> acquire_sa(const config::Sa& sa, const SaContext& ctx,
                                       const SaStore& old, SaStore& next, std::string& error) {
    std::string fp = fingerprint(sa, ctx);
    if (auto it = old.by_name.find(sa.name); it != old.by_name.end() && it->second.fingerprint == fp) {
        next.by_name[sa.name] = it->second;
        return it->second.live;
    }
    CryptoDev& dev = CryptoDev::instance();
    if (!dev.ready()) {
        error = "no crypto device (the gateway could not open crypto_aesni_mb at start-up)";
        return nullptr;
    }
    if (!dev.supports(sa.cipher, sa.integrity)) {
        error = "this crypto library does not offer the SA's algorithm";
        return nullptr;
    }
    const bool out = sa.direction == config::SaDirection::Out;

    // Crypto transform chain. RFC 4303 §3.3.2/§3.4.4: outbound encrypts then authenticates,
    // inbound verifies then decrypts.
    rte_crypto_sym_xform ciph{}, auth{};
    rte_crypto_sym_xform* chain;
    if (aead(sa.cipher)) {
        ciph.type = RTE_CRYPTO_SYM_XFORM_AEAD;
        ciph.aead.op = out ? RTE_CRYPTO_AEAD_OP_ENCRYPT : RTE_CRYPTO_AEAD_OP_DECRYPT;
        ciph.aead.algo = sa.cipher == config::Cipher::Chacha20Poly1305
                             ? RTE_CRYPTO_AEAD_CHACHA20_POLY1305
                             : RTE_CRYPTO_AEAD_AES_GCM;
        ciph.aead.key.data = sa.key.data();
        ciph.aead.key.length = uint16_t(sa.key.size());
        ciph.aead.iv.offset = iv_offset;
        ciph.aead.iv.length = 12;  // salt + 8-byte explicit IV (RFC 4106 §4, RFC 7634 §2)
        ciph.aead.digest_length = 16;
        ciph.aead.aad_length = sa.esn ? 12 : 8;  // SPI + (ESN) sequence (RFC 4106 §5)
        chain = &ciph;
    } else {
        ciph.type = RTE_CRYPTO_SYM_XFORM_CIPHER;
        ciph.cipher.op = out ? RTE_CRYPTO_CIPHER_OP_ENCRYPT : RTE_CRYPTO_CIPHER_OP_DECRYPT;
        ciph.cipher.algo = RTE_CRYPTO_CIPHER_AES_CBC;
        ciph.cipher.key.data = sa.key.data();
        ciph.cipher.key.length = uint16_t(sa.key.size());
        ciph.cipher.iv.offset = iv_offset;
        ciph.cipher.iv.length = 16;
        auth.type = RTE_CRYPTO_SYM_XFORM_AUTH;
        auth.auth.op = out ? RTE_CRYPTO_AUTH_OP_GENERATE : RTE_CRYPTO_AUTH_OP_VERIFY;
        const bool sha1 = sa.integrity == config::Integrity::HmacSha1_96;
        auth.auth.algo = sha1 ? RTE_CRYPTO_AUTH_SHA1_HMAC : RTE_CRYPTO_AUTH_SHA256_HMAC;
        auth.auth.key.data = sa.auth_key.data();
        auth.auth.key.length = uint16_t(sa.auth_key.size());
        auth.auth.digest_length = sha1 ? 12 : 16;  // RFC 2404, RFC 4868 truncation
        if (out) {
            ciph.next = &auth;
            chain = &ciph;
        } else {
            auth.next = &ciph;
            chain = &auth;
        }
    }

    rte_ipsec_sa_prm prm{};
    prm.ipsec_xform.spi = sa.spi;
    if (sa.salt.size() == 4) std::memcpy(&prm.ipsec_xform.salt, sa.salt.data(), 4);
    prm.ipsec_xform.options.esn = sa.esn;
    prm.ipsec_xform.direction =
        out ? RTE_SECURITY_IPSEC_SA_DIR_EGRESS : RTE_SECURITY_IPSEC_SA_DIR_INGRESS;
    prm.ipsec_xform.proto = RTE_SECURITY_IPSEC_SA_PROTO_ESP;
    const bool tun = sa.mode == config::SaMode::Tunnel;
    prm.ipsec_xform.mode = tun ? RTE_SECURITY_IPSEC_SA_MODE_TUNNEL : RTE_SECURITY_IPSEC_SA_MODE_TRANSPORT;
    prm.ipsec_xform.tunnel.type =
        sa.local.is_v4() ? RTE_SECURITY_IPSEC_TUNNEL_IPV4 : RTE_SECURITY_IPSEC_TUNNEL_IPV6;
    prm.ipsec_xform.replay_win_sz = out ? 0 : sa.replay_window;
    // initial_sequence is the last number used; rte_ipsec takes the next one to send (and
    // treats 0 as 1).
    if (out) prm.ipsec_xform.esn.value = sa.initial_sequence + 1;
    prm.crypto_xform = chain;
    // No RTE_IPSEC_SAFLAG_SQN_ATOM: each SA has exactly one worker (its owner, see
    // dp/esp_out.cpp), so sequence numbers and the replay window have a single writer and
    // need neither atomics nor rte_ipsec's reader-writer lock.
    prm.flags = 0;
    uint8_t hdr[64];
    if (tun) {
        prm.tun.hdr_len = uint8_t(tunnel_header(sa, ctx, hdr));
        prm.tun.hdr_l3_off = 0;
        prm.tun.next_proto = ctx.inner_family == 4 ? wire::ipproto::ipip : wire::ipproto::ipv6;
        prm.tun.hdr = hdr;
    } else {
        prm.trs.proto = sa.local.is_v4() ? wire::ipproto::ipip : wire::ipproto::ipv6;
    }

    int size = rte_ipsec_sa_size(&prm);
    if (size < 0) {
        error = std::string("rte_ipsec rejects the SA: ") + rte_strerror(-size);
        return nullptr;
    }
    auto live = std::shared_ptr<dp::SaLive>(new dp::SaLive());
    live->dev_id = dev.dev_id();
    live->sa = static_cast<rte_ipsec_sa*>(rte_zmalloc("tgw_sa", size_t(size), RTE_CACHE_LINE_SIZE));
    if (!live->sa) {
        error = "out of memory for the SA";
        return nullptr;
    }
    if (int rc = rte_ipsec_sa_init(live->sa, &prm, uint32_t(size)); rc < 0) {
        error = std::string("rte_ipsec rejects the SA: ") + rte_strerror(-rc);
        return nullptr;
    }
    live->crypto_session = rte_cryptodev_sym_session_create(dev.dev_id(), chain, dev.session_pool());
    if (!live->crypto_session) {
        error = std::string("cannot create the crypto session: ") + rte_strerror(rte_errno);
        return nullptr;
    }
    live->ss.sa = live->sa;
    // Outbound AES-CBC goes through crypto ops (lookaside), not CPU crypto: DPDK 22.11's
    // rte_ipsec CPU path (cpu_outb_pkt_prepare) passes the IV field's own value {seq, 0} as
    // the cipher IV while the cipher range starts at that field, so the first block, sent as
    // the IV, is E_K(0) for every packet: a constant IV, which RFC 3602 §3 forbids. With ops
    // the IV is zero and the sent IV is E_K(seq): unpredictable (NIST SP 800-38A app. C).
    // tests/scenario/esp_scenario.py neg-cbc-iv-* checks the IVs on the wire.
    const bool cbc = !aead(sa.cipher);
    live->lookaside = out && cbc;
    live->op_pool = dev.op_pool();
    live->ss.type = live->lookaside ? RTE_SECURITY_ACTION_TYPE_NONE : RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO;
    live->ss.crypto.ses = static_cast<rte_cryptodev_sym_session*>(live->crypto_session);
    live->ss.crypto.dev_id = dev.dev_id();
    if (int rc = rte_ipsec_session_prepare(&live->ss); rc < 0) {
        error = std::string("rte_ipsec cannot run the SA on this device: ") + rte_strerror(-rc);
        return nullptr;
    }
    next.by_name[sa.name] = SaStore::Entry{fp, live};
    return live;
}

}  // namespace tgw::control

namespace tgw::dp {
SaLive::~SaLive() { control::dp_free::free_live(*this); }
}  // namespace tgw::dp
