// Private to src/config: the YAML reader's building blocks, shared by parse.cpp (the core
// sections) and the files that parse further sections (parse_*.cpp), so no file outgrows
// its purpose. yaml-cpp types stay inside src/config/.
#pragma once
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/detail.hpp"
#include "config/model.hpp"

namespace tgw::config::parsing {


using detail::at_index;
using detail::at_key;
using detail::quoted;
using detail::Report;
using Keys = std::span<const std::string_view>;

constexpr std::string_view name_expected = "a name of 1 to 15 characters from A-Z a-z 0-9 _ . -";
constexpr std::string_view device_expected =
    "a PCI address (0000:03:00.0 or 03:00.0) or a vdev string (net_tap0,iface=gw0)";
constexpr std::string_view mac_expected = "a MAC address such as 02:00:00:00:01:01";
constexpr std::string_view addr_expected = "an IPv4 or IPv6 address";
constexpr std::string_view host_prefix_expected =
    "a host address with its prefix length, such as 10.10.1.1/24 or 2001:db8:1::1/64";
constexpr std::string_view prefix_expected = "a prefix such as 10.20.0.0/24 or 2001:db8::/32";

// Numbers are echoed bare ("got 300"), anything else quoted ("got \"abc\"").
inline bool looks_numeric(std::string_view s) {
    auto digits = [](std::string_view d, auto pred) {
        return !d.empty() && std::all_of(d.begin(), d.end(), [&](char c) {
            return pred(static_cast<unsigned char>(c)) != 0;
        });
    };
    if (!s.empty() && s[0] == '-') s.remove_prefix(1);
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return digits(s.substr(2), [](unsigned char c) { return std::isxdigit(c); });
    return digits(s, [](unsigned char c) { return std::isdigit(c); });
}

// What the user wrote, for the "got ..." half of a message.
inline std::string got(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a map";
        case YAML::NodeType::Scalar:
            return looks_numeric(n.Scalar()) ? n.Scalar() : quoted(n.Scalar());
        default:
            return "nothing";
    }
}

// Decimal, or hex with 0x (GRE keys are often written in hex). Saturates instead of wrapping
// so an absurd value is reported as out of range, not silently accepted modulo 2^64.
inline std::optional<uint64_t> to_uint(std::string_view s) {
    unsigned base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    }
    if (s.empty()) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        unsigned d;
        if (c >= '0' && c <= '9')
            d = unsigned(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = unsigned(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = unsigned(c - 'A' + 10);
        else
            return std::nullopt;
        v = v > (UINT64_MAX - d) / base ? UINT64_MAX : v * base + d;
    }
    return v;
}

// One mapping, its keys checked against what is allowed there.
struct Fields {
    bool is_map = false;
    std::vector<std::pair<std::string, YAML::Node>> entries;
    std::vector<std::string> typo_of;  // allowed keys an unknown key probably meant
    bool merge_failed = false;         // a "<<" could not be applied: missing keys are its echo

    const YAML::Node* find(std::string_view key) const {
        for (auto& e : entries)
            if (e.first == key) return &e.second;
        return nullptr;
    }
};

class Parser {
public:
    explicit Parser(Report& r) : r_(r) {}
    void root(const YAML::Node& doc, Config& c);

private:
    Report& r_;

    Loc mark_loc(const YAML::Mark& m, const std::string& path) const {
        if (m.is_null()) return r_.loc(path);
        return Loc{r_.file(), m.line + 1, m.column + 1, path};
    }
    // yaml-cpp gives an empty value the mark of whatever token follows it, so an empty value
    // is placed at its key instead.
    void place(const YAML::Node& n, const std::string& path, const YAML::Mark& fallback) {
        YAML::Mark m = (n.IsNull() || n.Mark().is_null()) ? fallback : n.Mark();
        if (!m.is_null()) r_.place(path, m.line + 1, m.column + 1);
    }
    void fail(const std::string& path, std::string msg) {
        r_.error(path, std::move(msg));
        r_.mark_bad(path);
    }
    void expected(const YAML::Node& n, const std::string& path, std::string_view what) {
        fail(path, "expected " + std::string(what) + ", got " + got(n));
    }

    Fields open_map(const YAML::Node& n, const std::string& path, Keys keys, std::string_view what);
    void add_keys(const YAML::Node& n, const std::string& path, Keys keys, Fields& f, int depth);
    const YAML::Node* require(const Fields& f, const std::string& path, std::string_view key,
                              std::string_view what);
    std::optional<std::vector<YAML::Node>> list(const YAML::Node& n, const std::string& path,
                                                std::string_view what);

    std::optional<std::string> text(const YAML::Node& n, const std::string& path,
                                    std::string_view what);
    std::optional<uint64_t> integer(const YAML::Node& n, const std::string& path, uint64_t lo,
                                    uint64_t hi, std::string what = {});
    std::optional<bool> boolean(const YAML::Node& n, const std::string& path);
    std::optional<size_t> choice(const YAML::Node& n, const std::string& path, Keys choices);

    std::string name(const YAML::Node& n, const std::string& path);
    std::optional<Mac> unicast_mac(const YAML::Node& n, const std::string& path);
    std::optional<IpAddr> address(const YAML::Node& n, const std::string& path);
    std::optional<Prefix> host_prefix(const YAML::Node& n, const std::string& path);
    std::optional<Prefix> route_prefix(const YAML::Node& n, const std::string& path);
    std::vector<Prefix> host_prefixes(const YAML::Node& n, const std::string& path);

    void workers(const YAML::Node& n, const std::string& path, std::vector<unsigned>& out);
    Port port(const YAML::Node& n, const std::string& path);
    Neighbor neighbor(const YAML::Node& n, const std::string& path);
    Tunnel tunnel(const YAML::Node& n, const std::string& path);
    Route route(const YAML::Node& n, const std::string& path);
    // parse_ecmp.cpp
    Group group(const YAML::Node& n, const std::string& path);
    Keepalive keepalive(const YAML::Node& n, const std::string& path);
    // parse_ops.cpp
    Operations operations(const YAML::Node& n, const std::string& path);
    // parse_sa.cpp
    Sa sa(const YAML::Node& n, const std::string& path);
    void tunnel_security(const Fields& f, const std::string& path, Tunnel& t);
    Protection protection(const YAML::Node& n, const std::string& path);
    std::optional<std::vector<uint8_t>> secret(const Fields& f, const std::string& path,
                                               std::string_view key, std::string_view file_key,
                                               bool required, std::string& where);
    std::optional<std::vector<uint8_t>> secret_file(const YAML::Node& n, const std::string& path);
    void sa_keys(const Fields& f, const std::string& path, Sa& s, std::optional<Cipher> cipher,
                 bool integrity_given);
    void sa_lifetime(const YAML::Node& n, const std::string& path, Sa& s);
    void sa_nat_t(const YAML::Node& n, const std::string& path, Sa& s);

    template <class T, class F>
    void items(const YAML::Node& n, const std::string& path, std::string_view what, size_t lo,
               size_t hi, std::vector<T>& out, F parse_one);
};

}  // namespace tgw::config::parsing
