#include "tunnelgw/addr.hpp"

#include <arpa/inet.h>

#include <cstdio>

namespace tgw {

std::optional<IpAddr> IpAddr::parse(std::string_view s) {
    // inet_pton reads a C string: an embedded NUL ("1.2.3.4\0junk" from a YAML escape) would
    // silently cut the text short.
    if (s.empty() || s.size() > 45 || std::memchr(s.data(), 0, s.size())) return std::nullopt;
    char buf[64];
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = 0;
    uint8_t raw[16];
    if (s.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buf, raw) == 1) return IpAddr::v4(raw);
        return std::nullopt;
    }
    if (inet_pton(AF_INET6, buf, raw) == 1) return IpAddr::v6(raw);
    return std::nullopt;
}

std::string IpAddr::str() const {
    char buf[INET6_ADDRSTRLEN];
    if (is_v4()) inet_ntop(AF_INET, v4_bytes(), buf, sizeof buf);
    else inet_ntop(AF_INET6, b.data(), buf, sizeof buf);
    return buf;
}

std::optional<Prefix> Prefix::parse(std::string_view s) {
    auto slash = s.find('/');
    auto a = IpAddr::parse(s.substr(0, slash));
    if (!a) return std::nullopt;
    unsigned max = a->is_v4() ? 32 : 128;
    unsigned len = max;
    if (slash != std::string_view::npos) {
        auto t = s.substr(slash + 1);
        if (t.empty() || t.size() > 3) return std::nullopt;
        len = 0;
        for (char c : t) {
            if (c < '0' || c > '9') return std::nullopt;
            len = len * 10 + unsigned(c - '0');
        }
        if (len > max) return std::nullopt;
    }
    return Prefix{*a, uint8_t(len)};
}

std::string Prefix::str() const { return addr.str() + "/" + std::to_string(len); }

Prefix Prefix::masked() const noexcept {
    Prefix p = *this;
    unsigned bits = addr.is_v4() ? 96u + len : len;
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = bits > i * 8 ? std::min(8u, bits - i * 8) : 0;
        p.addr.b[i] &= uint8_t(keep == 8 ? 0xff : (0xff00 >> keep) & 0xff);
    }
    return p;
}

bool Prefix::contains(const IpAddr& a) const noexcept {
    if (a.is_v4() != addr.is_v4()) return false;
    Prefix other{a, len};
    return other.masked().addr == masked().addr;
}

std::optional<Mac> Mac::parse(std::string_view s) {
    if (s.size() != 17) return std::nullopt;
    Mac m;
    for (int i = 0; i < 6; i++) {
        auto hex = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        int hi = hex(s[i * 3]), lo = hex(s[i * 3 + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        if (i < 5 && s[i * 3 + 2] != ':') return std::nullopt;
        m.b[i] = uint8_t(hi << 4 | lo);
    }
    return m;
}

std::string Mac::str() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                  b[5]);
    return buf;
}

}  // namespace tgw
