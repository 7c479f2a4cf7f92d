// One address type for both families: IPv4 is held IPv4-mapped (::ffff:a.b.c.d, RFC 4291
// §2.5.5.2) so tables and hashes key on 16 bytes regardless of family.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace tgw {

struct IpAddr {
    std::array<uint8_t, 16> b{};

    static IpAddr v4(const uint8_t p[4]) noexcept {
        IpAddr a;
        a.b[10] = a.b[11] = 0xff;
        std::memcpy(&a.b[12], p, 4);
        return a;
    }
    static IpAddr v4(uint32_t host_order) noexcept {
        uint8_t p[4] = {uint8_t(host_order >> 24), uint8_t(host_order >> 16),
                        uint8_t(host_order >> 8), uint8_t(host_order)};
        return v4(p);
    }
    static IpAddr v6(const uint8_t p[16]) noexcept {
        IpAddr a;
        std::memcpy(a.b.data(), p, 16);
        return a;
    }
    bool is_v4() const noexcept {
        static constexpr uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return std::memcmp(b.data(), pfx, 12) == 0;
    }
    const uint8_t* v4_bytes() const noexcept { return &b[12]; }
    uint32_t v4_host() const noexcept {
        return uint32_t(b[12]) << 24 | uint32_t(b[13]) << 16 | uint32_t(b[14]) << 8 | b[15];
    }
    bool is_zero() const noexcept {
        for (auto x : b)
            if (x) return false;
        return true;
    }
    bool operator==(const IpAddr&) const = default;
    auto operator<=>(const IpAddr&) const = default;

    // Accepts dotted quad or RFC 4291/5952 text; nullopt on anything else.
    static std::optional<IpAddr> parse(std::string_view s);
    std::string str() const;
};
static_assert(sizeof(IpAddr) == 16);

struct Prefix {
    IpAddr addr;
    uint8_t len = 0;  // in the address's own family: 0..32 for IPv4, 0..128 for IPv6

    // "10.0.0.0/8", "2001:db8::/32"; a bare address is a host prefix.
    static std::optional<Prefix> parse(std::string_view s);
    std::string str() const;
    bool contains(const IpAddr& a) const noexcept;
    Prefix masked() const noexcept;
    bool operator==(const Prefix&) const = default;
};

struct Mac {
    std::array<uint8_t, 6> b{};
    static std::optional<Mac> parse(std::string_view s);
    std::string str() const;
    bool operator==(const Mac&) const = default;
};

}  // namespace tgw
