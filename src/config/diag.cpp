// Rendering and collecting configuration findings, and the "did you mean" helper.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>
#include <tuple>

#include "config/detail.hpp"
#include "config/model.hpp"

namespace tgw::config {

std::string Diag::str() const {
    std::string s = loc.file;
    if (loc.line > 0) s += ':' + std::to_string(loc.line) + ':' + std::to_string(loc.col);
    s += ": ";
    if (!loc.path.empty()) s += loc.path + ": ";
    s += message;
    return s;
}

namespace detail {

namespace {

// "tunnels[2].remote" -> "tunnels[2]" -> "tunnels" -> "" (the document root).
std::string parent(const std::string& path) {
    auto cut = path.find_last_of(".[");
    return cut == std::string::npos ? std::string() : path.substr(0, cut);
}

}  // namespace

bool Report::ok(const std::string& path) const {
    if (bad_.empty()) return true;
    for (std::string p = path;; p = parent(p)) {
        if (bad_.count(p)) return false;
        if (p.empty()) return true;
    }
}

Loc Report::loc(const std::string& path) const {
    for (std::string p = path;; p = parent(p)) {
        auto it = where_.find(p);
        if (it != where_.end()) return Loc{file_, it->second.first, it->second.second, path};
        if (p.empty()) return Loc{file_, 0, 0, path};
    }
}

void Report::error(const std::string& path, std::string message) {
    diags_.push_back({loc(path), std::move(message)});
}

std::vector<Diag> Report::take_sorted() {
    // Stable, so findings at one spot keep the order the rules ran in.
    std::stable_sort(diags_.begin(), diags_.end(), [](const Diag& a, const Diag& b) {
        return std::pair(a.loc.line, a.loc.col) < std::pair(b.loc.line, b.loc.col);
    });
    // A value inside an anchor that is merged into many items is checked once per item; the
    // reader needs to hear about it once.
    std::vector<Diag> out;
    std::set<std::tuple<int, int, std::string>> seen;
    for (auto& d : diags_) {
        if (d.loc.line > 0 && !seen.emplace(d.loc.line, d.loc.col, d.message).second) continue;
        out.push_back(std::move(d));
    }
    diags_.clear();
    return out;
}

std::string quoted(std::string_view s) {
    constexpr size_t max_shown = 64;
    std::string out = "\"";
    size_t n = 0;
    for (char c : s) {
        if (++n > max_shown) {
            out += "...";
            break;
        }
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

std::string join(std::span<const std::string_view> words, std::string_view sep) {
    std::string s;
    for (auto w : words) {
        if (!s.empty()) s += sep;
        s += w;
    }
    return s;
}

namespace {

// Optimal string alignment distance: a swapped pair of letters ("nmae") is one typo, not two.
// Fixed-size table: callers only compare words of up to max_typo_len characters, and an
// unknown name may be checked against thousands of tunnel names, so no allocation here.
constexpr size_t max_typo_len = 64;

size_t typo_distance(std::string_view a, std::string_view b) {
    const size_t n = a.size(), m = b.size();
    uint8_t d[max_typo_len + 3][max_typo_len + 3];
    for (size_t i = 0; i <= n; i++) d[i][0] = uint8_t(i);
    for (size_t j = 0; j <= m; j++) d[0][j] = uint8_t(j);
    auto lower = [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    };
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            unsigned cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            unsigned v = std::min({d[i - 1][j] + 1u, d[i][j - 1] + 1u, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]))
                v = std::min(v, d[i - 2][j - 2] + 1u);
            d[i][j] = uint8_t(v);
        }
    }
    return d[n][m];
}

}  // namespace

std::string closest(std::string_view word, std::span<const std::string_view> choices) {
    // Two edits turn any two-letter word into any other, so short words get less slack.
    const size_t limit = std::min<size_t>(2, std::max<size_t>(1, word.size() / 2));
    if (word.size() > max_typo_len) return {};  // not a typo, and keeps the table small
    std::string_view best;
    size_t best_d = limit + 1;
    for (auto c : choices) {
        if (c.size() > word.size() + limit || word.size() > c.size() + limit) continue;
        size_t d = typo_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    if (best.empty() && word.size() >= 3) {
        // An abbreviation ("warn" for "warning") is further than two edits but just as clear.
        for (auto c : choices) {
            if (c.size() <= word.size()) continue;
            bool prefix = std::equal(word.begin(), word.end(), c.begin(), [](char x, char y) {
                return std::tolower(static_cast<unsigned char>(x)) ==
                       std::tolower(static_cast<unsigned char>(y));
            });
            if (!prefix) continue;
            if (!best.empty()) return {};  // ambiguous
            best = c;
        }
    }
    return std::string(best);
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> choices) {
    auto c = closest(word, choices);
    return c.empty() ? std::string() : " (did you mean " + quoted(c) + "?)";
}

}  // namespace detail
}  // namespace tgw::config
