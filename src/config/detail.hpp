// Private to src/config: what parse.cpp and validate.cpp share. Nothing here is yaml-cpp, so
// the validator works on the plain model plus a record of where each value was written.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "config/model.hpp"

namespace tgw::config::detail {

// Paths name values the way a NOC engineer reads the file: tunnels[2].addresses[0].
inline std::string at_key(const std::string& base, std::string_view key) {
    std::string p = base;
    if (!p.empty()) p += '.';
    p += key;
    return p;
}
inline std::string at_index(const std::string& base, size_t i) {
    return base + '[' + std::to_string(i) + ']';
}

// Collects findings and remembers, per YAML path, where the value was written and whether the
// parser could make sense of it. The validator runs after the YAML tree is gone, so this is
// how a cross-item error still points at the offending value; and checks that depend on a
// value the parser rejected are skipped, so one typo yields one error, not a cascade.
class Report {
public:
    explicit Report(std::string file) : file_(std::move(file)) {}
    const std::string& file() const { return file_; }

    // line/col are 1-based.
    void place(const std::string& path, int line, int col) { where_[path] = {line, col}; }
    bool present(const std::string& path) const { return where_.count(path) != 0; }
    // The value at path is unusable; it and everything below it count as not ok.
    void mark_bad(const std::string& path) { bad_.insert(path); }
    bool ok(const std::string& path) const;

    // Location of path, else of its nearest placed ancestor (a missing key reports at its map).
    Loc loc(const std::string& path) const;
    void error(const std::string& path, std::string message);
    void error_at(Loc loc, std::string message) {
        diags_.push_back({std::move(loc), std::move(message)});
    }

    bool has_errors() const { return !diags_.empty(); }
    std::vector<Diag> take_sorted();

private:
    std::string file_;
    std::unordered_map<std::string, std::pair<int, int>> where_;
    std::unordered_set<std::string> bad_;
    std::vector<Diag> diags_;
};

// "text" with quotes and escapes, shortened when long: values are echoed back in messages.
std::string quoted(std::string_view s);
// ", "-separated list, for "valid keys: ..." and "expected one of ...".
std::string join(std::span<const std::string_view> words, std::string_view sep = ", ");
// The closest of choices when it is a plausible typo of word (case-insensitive edit distance
// of at most 2, fewer for short words); empty when nothing is close.
std::string closest(std::string_view word, std::span<const std::string_view> choices);
// " (did you mean "x"?)" or "".
std::string did_you_mean(std::string_view word, std::span<const std::string_view> choices);

// Rules for one value, used while parsing (validate.cpp).
bool valid_name(std::string_view s);                 // [A-Za-z0-9_.-]{1,15}: fits an interface name
bool valid_pci(std::string_view s);                  // DDDD:BB:DD.F or BB:DD.F
bool valid_vdev(std::string_view s);                 // net_<driver>[,key=value...]
std::string special_address(const IpAddr& a);        // "a multicast address", ... or "" if unicast
std::optional<uint8_t> dscp_by_name(std::string s);  // ef, af41, cs6, ...

// Cross-item rules: references, uniqueness, reachability, MTU budgets.
void validate(Config& cfg, Report& r);  // fills defaults that depend on other items
// validate_ecmp.cpp: groups, their members, and routes that use groups or backups.
void validate_groups(const Config& cfg, Report& r);
// validate_sa.cpp: security associations, tunnel protection, ipsec tunnels' inner family.
// Fills each used SA's omitted endpoints from its tunnel.
void validate_sas(Config& cfg, Report& r);

}  // namespace tgw::config::detail
