#include "control/mtu.hpp"

namespace tgw::control {

unsigned Encap::outer_size(unsigned inner) const noexcept {
    const unsigned payload = inner + wrapped + esp_trailer;
    return fixed + (payload + block - 1) / block * block;
}

unsigned Encap::max_inner(unsigned port_mtu) const noexcept {
    if (port_mtu <= fixed) return 0;
    // Padding makes outer_size a step function: the room is whole blocks only.
    const unsigned room = (port_mtu - fixed) / block * block;
    return room > wrapped + esp_trailer ? room - wrapped - esp_trailer : 0;
}

const config::Sa* outbound_sa(const config::Config& cfg, const config::Tunnel& t) noexcept {
    if (!t.protection || t.protection->out.empty()) return nullptr;
    for (auto& sa : cfg.sas)
        if (sa.name == t.protection->out) return &sa;
    return nullptr;
}

namespace {

void add(Encap& e, unsigned& field, unsigned bytes, const char* what) {
    field += bytes;
    if (!e.parts.empty()) e.parts += " + ";
    e.parts += what;
    e.parts += ' ';
    e.parts += std::to_string(bytes);
}

bool aead(config::Cipher c) noexcept {
    return c == config::Cipher::AesGcm128 || c == config::Cipher::AesGcm256 ||
           c == config::Cipher::Chacha20Poly1305;
}

}  // namespace

Encap encap_of(const config::Tunnel& t, const config::Sa* sa) {
    using config::TunnelType;
    Encap e;
    const bool v6 = !t.local.is_v4();
    const bool gre = t.type != TunnelType::Ipsec;
    const bool is_aead = sa && aead(sa->cipher);
    // Listed outermost first. Without ESP everything is `fixed`. In ESP tunnel mode the GRE
    // delivery header is the SA's inner packet, so encrypted and padded; in transport mode ESP
    // goes after it (RFC 4303 §3.1).
    const bool esp_tunnel = sa && sa->mode == config::SaMode::Tunnel;
    const char* ip_name = v6 ? "IPv6" : "IPv4";
    if (gre && !esp_tunnel) add(e, e.fixed, v6 ? 40 : 20, ip_name);
    if (sa) {
        if (esp_tunnel) {
            // The SA's own endpoints (the validator fills them from the tunnel when omitted).
            const bool sa_v6 = sa->local.is_zero() ? v6 : !sa->local.is_v4();
            add(e, e.fixed, sa_v6 ? 40 : 20, sa_v6 ? "ESP tunnel IPv6" : "ESP tunnel IPv4");
        }
        if (sa->nat_t) add(e, e.fixed, 8, "UDP");  // RFC 3948 §2.1
        add(e, e.fixed, 8, "ESP header");          // SPI + sequence number (RFC 4303 §2)
        // RFC 4106 §3.1 / RFC 7634 §2: 8-byte explicit IV; RFC 3602 §2: CBC IV is one block.
        add(e, e.fixed, is_aead ? 8 : 16, "IV");
    }
    unsigned& inside = sa ? e.wrapped : e.fixed;
    if (gre && esp_tunnel) add(e, inside, v6 ? 40 : 20, ip_name);
    if (gre) {
        add(e, inside, 4, "GRE");
        if (t.checksum) add(e, inside, 4, "checksum");
        if (t.key) add(e, inside, 4, "key");
        if (t.sequence) add(e, inside, 4, "sequence");
        // gretap carries whole frames: the bridged hosts' L3 MTU is 14 bytes less.
        if (t.type == TunnelType::Gretap) add(e, inside, 14, "Ethernet");
    }
    if (sa) {
        add(e, e.esp_trailer, 2, "ESP trailer");  // pad length + next header
        unsigned icv = 16;                        // GCM, ChaCha20-Poly1305, HMAC-SHA-256-128
        if (!is_aead && sa->integrity == config::Integrity::HmacSha1_96) icv = 12;
        if (!is_aead && sa->integrity == config::Integrity::None) icv = 0;
        if (icv) add(e, e.fixed, icv, "ICV");
        // RFC 4303 §2.4: AEAD payloads align to 4 bytes; CBC to the 16-byte AES block.
        e.block = is_aead ? 4 : 16;
        e.parts += " + padding to " + std::to_string(e.block);
    }
    return e;
}

uint16_t effective_mtu(const config::Tunnel& t, unsigned fits) noexcept {
    return uint16_t(t.mtu ? t.mtu : fits);
}

uint16_t clamp_mss(const config::Tunnel& t, unsigned mtu, int family) noexcept {
    switch (t.mss_mode) {
    case config::MssMode::Off:
        return 0;
    case config::MssMode::Fixed:
        return t.mss;
    case config::MssMode::Auto:
        break;
    }
    const unsigned hdrs = family == 4 ? 40 : 60;  // IP + TCP without options
    return uint16_t(mtu > hdrs ? mtu - hdrs : 0);
}

}  // namespace tgw::control
