// ESP security associations (RFC 4303, manually keyed) and tunnel protection: the YAML side.
// Rules that need only the SA itself (key lengths for the cipher, direction-only keys) are
// here; rules that relate an SA to tunnels and ports are in validate_sa.cpp.
//
// Key material is secret: no message ever echoes a key's text, whatever is wrong with it. A
// message says what was expected and how long (or where malformed) the value was, never what
// it was.
#include "config/parser.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace tgw::config::parsing {

namespace {

struct CipherInfo {
    std::string_view name;
    size_t key;  // bytes of cipher key, without the salt
    bool aead;
};
// In the order of enum Cipher. The 4-byte salt of the AEAD ciphers is RFC 4106 §8.1 (GCM) and
// RFC 7634 §2 (ChaCha20-Poly1305): the implicit part of the nonce, kept with the key.
constexpr CipherInfo ciphers[] = {{"aes-gcm-128", 16, true},
                                  {"aes-gcm-256", 32, true},
                                  {"aes-cbc-128", 16, false},
                                  {"aes-cbc-256", 32, false},
                                  {"chacha20-poly1305", 32, true}};
constexpr std::string_view cipher_names[] = {"aes-gcm-128", "aes-gcm-256", "aes-cbc-128",
                                             "aes-cbc-256", "chacha20-poly1305"};
// In the order of enum Integrity after None. Key lengths: RFC 2404 §3 (HMAC-SHA-1-96: 160
// bits), RFC 4868 §2.1.1 (HMAC-SHA-256-128: 256 bits).
constexpr std::string_view integrity_names[] = {"hmac-sha1-96", "hmac-sha256-128"};
constexpr size_t integrity_key[] = {20, 32};
constexpr size_t salt_len = 4;
constexpr size_t max_key_file = 4096;  // a key file holds at most a few hundred hex digits

const CipherInfo& info(Cipher c) { return ciphers[size_t(c)]; }

std::string bytes(size_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

// Hex text (an optional 0x, then pairs of hex digits) -> bytes. On failure `why` says what is
// wrong in terms that reveal nothing of the text itself.
std::optional<std::vector<uint8_t>> parse_hex(std::string_view s, std::string& why) {
    constexpr std::string_view hint = "; expected hex digits, optionally starting with 0x";
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
    if (s.empty()) {
        why = "is empty" + std::string(hint);
        return std::nullopt;
    }
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::vector<uint8_t> out;
    out.reserve(s.size() / 2);
    for (size_t i = 0; i < s.size(); i++) {
        if (nibble(s[i]) < 0) {
            why = "has a character that is not a hex digit at position " + std::to_string(i + 1) +
                  " (after any 0x)" + std::string(hint);
            return std::nullopt;
        }
    }
    if (s.size() % 2) {
        why = "has an odd number of hex digits (" + std::to_string(s.size()) +
              "); every byte takes two";
        return std::nullopt;
    }
    for (size_t i = 0; i < s.size(); i += 2)
        out.push_back(uint8_t(nibble(s[i]) << 4 | nibble(s[i + 1])));
    return out;
}

}  // namespace

// Opened first and checked with fstat, so the file checked is the file read. Group or world
// access is refused rather than warned about: a key others can read is no longer a secret, and
// one others can write lets them choose it.
std::optional<std::vector<uint8_t>> Parser::secret_file(const YAML::Node& n,
                                                        const std::string& path) {
    auto name = text(n, path, "the path of a file holding the key in hex");
    if (!name) return std::nullopt;
    if (name->empty()) {
        fail(path, "expected the path of a file holding the key in hex, got \"\"");
        return std::nullopt;
    }
    // Relative to the configuration file, so a config and its keys move together.
    std::filesystem::path p(*name);
    if (p.is_relative()) p = std::filesystem::path(r_.file()).parent_path() / p;
    const std::string shown = detail::quoted(p.string());
    // O_NONBLOCK: a FIFO named by mistake must not hang the start-up; fstat then rejects it.
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        fail(path, "cannot open key file " + shown + ": " + std::strerror(errno));
        return std::nullopt;
    }
    std::string content;
    struct stat st {};
    std::string why;
    if (::fstat(fd, &st) != 0) {
        why = std::string("cannot stat it: ") + std::strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        why = "is not a regular file";
    } else if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
        why = std::string("has mode ") + mode +
              ": it must not be readable or writable by group or others; run chmod 600 " +
              p.string();
    } else if (st.st_size > off_t(max_key_file)) {
        why = "is " + std::to_string(st.st_size) +
              " bytes long; a key file holds one hex key (at most " + std::to_string(max_key_file) +
              " bytes)";
    } else {
        char buf[max_key_file + 1];
        size_t len = 0;
        while (len < sizeof buf) {
            ssize_t n = ::read(fd, buf + len, sizeof buf - len);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) why = std::string("cannot be read: ") + std::strerror(errno);
            if (n <= 0) break;
            len += size_t(n);
        }
        if (why.empty()) content.assign(buf, len);
        ::explicit_bzero(buf, sizeof buf);  // a plain memset before return may be optimized out
    }
    ::close(fd);
    if (!why.empty()) {
        fail(path, "key file " + shown + " " + why);
        return std::nullopt;
    }
    // A file written with echo ends in a newline; surrounding whitespace is not part of the key.
    std::string_view s = content;
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    auto key = parse_hex(s, why);
    ::explicit_bzero(content.data(), content.size());
    if (!key) fail(path, "the content of key file " + shown + " " + why);
    return key;
}

// `key` (inline hex) or `file_key` (a file holding it): exactly one. `where` is set to the
// path of the one given, for messages about the key's length.
std::optional<std::vector<uint8_t>> Parser::secret(const Fields& f, const std::string& path,
                                                   std::string_view key, std::string_view file_key,
                                                   bool required, std::string& where) {
    const YAML::Node* inline_v = f.find(key);
    const YAML::Node* file_v = f.find(file_key);
    if (inline_v && file_v) {
        fail(at_key(path, file_key),
             "give either " + std::string(key) + " or " + std::string(file_key) + ", not both");
        return std::nullopt;
    }
    if (!inline_v && !file_v) {
        if (required)
            require(f, path, key,
                    "the key in hex, or " + std::string(file_key) + ": a file holding it");
        return std::nullopt;
    }
    if (file_v) {
        where = at_key(path, file_key);
        return secret_file(*file_v, where);
    }
    where = at_key(path, key);
    auto s = text(*inline_v, where, "a key in hex, such as 0x00112233...");
    if (!s) return std::nullopt;
    std::string why;
    auto k = parse_hex(*s, why);
    if (!k) fail(where, "the key " + why);
    return k;
}

// Key lengths depend on the cipher and integrity algorithm, so they are checked together.
void Parser::sa_keys(const Fields& f, const std::string& path, Sa& s, std::optional<Cipher> cipher,
                     bool integrity_given) {
    std::string kp, sp = at_key(path, "salt"), ap;
    auto key = secret(f, path, "key", "key_file", true, kp);
    std::optional<std::vector<uint8_t>> salt;
    if (auto* v = f.find("salt")) {
        if (auto t = text(*v, sp, "a 4-byte salt in hex, such as 0xa0a1a2a3")) {
            std::string why;
            salt = parse_hex(*t, why);
            if (!salt)
                fail(sp, "the salt " + why);
            else if (salt->size() != salt_len) {
                fail(sp, "the salt must be 4 bytes (8 hex digits), got " + bytes(salt->size()));
                salt.reset();
            }
        }
        if (cipher && !info(*cipher).aead) {
            fail(sp, "salt applies only to AEAD ciphers (aes-gcm-*, chacha20-poly1305); " +
                         std::string(info(*cipher).name) + " has none; remove it");
            salt.reset();
        }
    }
    const bool aead = cipher && info(*cipher).aead;
    std::optional<std::vector<uint8_t>> auth;
    if (aead && (f.find("auth_key") || f.find("auth_key_file"))) {
        std::string which = f.find("auth_key") ? "auth_key" : "auth_key_file";
        fail(at_key(path, which), which + " applies only to aes-cbc-* ciphers; " +
                                      std::string(info(*cipher).name) +
                                      " is an AEAD cipher with its own integrity check; remove it");
    } else {
        auth = secret(f, path, "auth_key", "auth_key_file", cipher && !aead && integrity_given, ap);
    }
    if (!cipher) return;
    const CipherInfo& ci = info(*cipher);
    if (key) {
        std::string name(ci.name);
        if (ci.aead && !f.find("salt")) {
            if (key->size() == ci.key + salt_len) {
                s.salt.assign(key->end() - salt_len, key->end());
                key->resize(ci.key);
                s.key = std::move(*key);
            } else {
                fail(kp, name + " needs " + bytes(ci.key + salt_len) + " of key material (" +
                             std::to_string(ci.key) + "-byte key + 4-byte salt), got " +
                             std::to_string(key->size()));
            }
        } else if (key->size() == ci.key) {
            s.key = std::move(*key);
            if (salt) s.salt = std::move(*salt);
        } else {
            fail(kp, name + " needs a " + std::to_string(ci.key) + "-byte key" +
                         (ci.aead ? std::string(" (the salt is given separately)") : "") +
                         ", got " + std::to_string(key->size()));
        }
    }
    if (auth && s.integrity != Integrity::None) {
        size_t want = integrity_key[size_t(s.integrity) - 1];
        if (auth->size() == want)
            s.auth_key = std::move(*auth);
        else
            fail(ap, std::string(integrity_names[size_t(s.integrity) - 1]) + " needs a " +
                         std::to_string(want) + "-byte key, got " + std::to_string(auth->size()));
    }
}

void Parser::sa_lifetime(const YAML::Node& n, const std::string& path, Sa& s) {
    static constexpr std::string_view keys[] = {"soft", "hard"};
    static constexpr std::string_view limit_keys[] = {"packets", "bytes", "seconds"};
    auto f = open_map(n, path, keys, "SA lifetimes ({soft: {...}, hard: {...}})");
    if (!f.is_map) return;
    auto limits = [&](std::string_view which, SaLifetime& out) {
        auto* v = f.find(which);
        if (!v) return;
        std::string lp = at_key(path, which);
        auto lf = open_map(*v, lp, limit_keys, "limits ({packets: N, bytes: N, seconds: N})");
        if (!lf.is_map) return;
        uint64_t* field[] = {&out.packets, &out.bytes, &out.seconds};
        for (size_t i = 0; i < 3; i++)
            if (auto* x = lf.find(limit_keys[i]))
                *field[i] = integer(*x, at_key(lp, limit_keys[i]), 0, UINT64_MAX,
                                    "an integer from 0 (no limit) to 18446744073709551615")
                                .value_or(0);
    };
    limits("soft", s.soft);
    limits("hard", s.hard);
    // The soft limit is the warning that the hard one is coming; at or past it, it never warns.
    const uint64_t soft[] = {s.soft.packets, s.soft.bytes, s.soft.seconds};
    const uint64_t hard[] = {s.hard.packets, s.hard.bytes, s.hard.seconds};
    for (size_t i = 0; i < 3; i++) {
        if (soft[i] == 0 || hard[i] == 0 || soft[i] < hard[i]) continue;
        std::string kind(limit_keys[i]);
        fail(at_key(at_key(path, "soft"), kind),
             "soft " + kind + " limit " + std::to_string(soft[i]) +
                 " must be below the hard limit " + std::to_string(hard[i]));
    }
}

// RFC 3948: `nat_t: true` uses port 4500 at both ends; a map sets the ports.
void Parser::sa_nat_t(const YAML::Node& n, const std::string& path, Sa& s) {
    if (n.IsScalar()) {
        s.nat_t = boolean(n, path).value_or(false);
        return;
    }
    static constexpr std::string_view keys[] = {"local_port", "remote_port"};
    auto f = open_map(n, path, keys, "true/false or a map of UDP ports");
    if (!f.is_map) return;
    s.nat_t = true;
    if (auto* v = f.find("local_port"))
        s.nat_t_local_port =
            uint16_t(integer(*v, at_key(path, "local_port"), 1, 65535).value_or(4500));
    if (auto* v = f.find("remote_port"))
        s.nat_t_remote_port =
            uint16_t(integer(*v, at_key(path, "remote_port"), 1, 65535).value_or(4500));
}

Sa Parser::sa(const YAML::Node& n, const std::string& path) {
    static constexpr std::string_view keys[] = {
        "name",          "spi",       "direction",     "mode",     "local",    "remote",
        "encryption",    "integrity", "key",           "salt",     "key_file", "auth_key",
        "auth_key_file", "esn",       "replay_window", "lifetime", "nat_t",    "initial_sequence"};
    static constexpr std::string_view directions[] = {"in", "out"};
    static constexpr std::string_view modes[] = {"tunnel", "transport"};
    Sa s;
    s.loc = r_.loc(path);
    auto f = open_map(n, path, keys, "a security association");
    if (!f.is_map) return s;
    if (auto* v = require(f, path, "name", name_expected)) s.name = name(*v, at_key(path, "name"));
    if (auto* v = require(f, path, "spi", "an SPI from 256 to 4294967295"))
        s.spi = uint32_t(integer(*v, at_key(path, "spi"), 256, UINT32_MAX,
                                 "an SPI from 256 to 4294967295, decimal or 0x hex (0 is invalid "
                                 "and 1 to 255 are reserved, RFC 4303 section 2.1)")
                             .value_or(0));
    std::optional<SaDirection> dir;
    if (auto* v = require(f, path, "direction", "in or out")) {
        if (auto i = choice(*v, at_key(path, "direction"), directions))
            dir = *i == 0 ? SaDirection::In : SaDirection::Out;
    }
    if (dir) s.direction = *dir;
    if (auto* v = f.find("mode")) {
        if (auto i = choice(*v, at_key(path, "mode"), modes)) s.mode = SaMode(*i);
    }
    if (auto* v = f.find("local")) s.local = address(*v, at_key(path, "local")).value_or(IpAddr{});
    if (auto* v = f.find("remote"))
        s.remote = address(*v, at_key(path, "remote")).value_or(IpAddr{});

    std::optional<Cipher> cipher;
    if (auto* v = require(f, path, "encryption", "one of " + detail::join(cipher_names))) {
        if (auto i = choice(*v, at_key(path, "encryption"), cipher_names)) cipher = Cipher(*i);
    }
    if (cipher) s.cipher = *cipher;
    bool integrity_ok = false;
    if (auto* v = f.find("integrity")) {
        std::string ip = at_key(path, "integrity");
        if (auto i = choice(*v, ip, integrity_names)) {
            s.integrity = Integrity(*i + 1);
            integrity_ok = true;
        }
        if (cipher && info(*cipher).aead) {
            fail(ip, "integrity applies only to aes-cbc-* ciphers; " +
                         std::string(info(*cipher).name) +
                         " is an AEAD cipher with its own integrity check; remove it");
            s.integrity = Integrity::None;
            integrity_ok = false;
        }
    } else if (cipher && !info(*cipher).aead) {
        require(f, path, "integrity",
                std::string(info(*cipher).name) + " needs one of " + detail::join(integrity_names));
    }
    sa_keys(f, path, s, cipher, integrity_ok);

    if (auto* v = f.find("esn")) s.esn = boolean(*v, at_key(path, "esn")).value_or(false);
    if (auto* v = f.find("replay_window")) {
        std::string wp = at_key(path, "replay_window");
        constexpr std::string_view what = "0 (off) or a window from 64 to 4096 packets";
        if (dir == SaDirection::Out) {
            fail(wp, "replay_window applies only to inbound SAs (direction: in); remove it");
        } else {
            auto w = integer(*v, wp, 0, max_replay_window, std::string(what));
            // RFC 4303 §3.4.3: a window of at least 32 packets, 64 recommended and our minimum.
            if (w && *w != 0 && *w < 64) {
                expected(*v, wp, what);
                w.reset();
            }
            if (w) s.replay_window = uint32_t(*w);
            // RFC 4303 Appendix A2: the receiver infers the high 32 bits of an extended
            // sequence number from the window, so ESN without one cannot work.
            if (w && *w == 0 && s.esn)
                fail(wp,
                     "esn: true needs a replay window: the receiver infers the high half of "
                     "the sequence number from it (RFC 4303 Appendix A2); set 64 or more");
        }
    }
    if (auto* v = f.find("lifetime")) sa_lifetime(*v, at_key(path, "lifetime"), s);
    if (auto* v = f.find("nat_t")) sa_nat_t(*v, at_key(path, "nat_t"), s);
    if (auto* v = f.find("initial_sequence")) {
        std::string qp = at_key(path, "initial_sequence");
        if (dir == SaDirection::In) {
            fail(qp, "initial_sequence applies only to outbound SAs (direction: out); remove it");
        } else {
            // The next packet carries initial_sequence + 1, and a counter that would wrap ends
            // the SA (RFC 4303 §3.3.3), so the last value leaves nothing to send.
            const uint64_t hi = s.esn ? UINT64_MAX - 1 : uint64_t(UINT32_MAX) - 1;
            s.initial_sequence =
                integer(*v, qp, 0, hi,
                        "the last sequence number used, from 0 to " + std::to_string(hi) +
                            (s.esn ? "" : " (with esn: false the counter is 32 bits)"))
                    .value_or(0);
        }
    }
    return s;
}

Protection Parser::protection(const YAML::Node& n, const std::string& path) {
    static constexpr std::string_view keys[] = {"out", "in"};
    constexpr size_t max_in = 4;
    Protection p;
    p.loc = r_.loc(path);
    auto f = open_map(n, path, keys, "the tunnel's security associations");
    if (!f.is_map) return p;
    if (auto* v = f.find("out"))
        p.out = text(*v, at_key(path, "out"), "the name of an outbound security association")
                    .value_or("");
    auto* v = f.find("in");
    if (!v) return p;
    std::string ip = at_key(path, "in");
    constexpr std::string_view what = "the name of an inbound security association";
    if (v->IsScalar()) {  // a single name; placed as in[0] so every name has an indexed path
        place(*v, at_index(ip, 0), v->Mark());
        p.in.push_back(text(*v, at_index(ip, 0), what).value_or(""));
        return p;
    }
    auto l = list(*v, ip, "names of inbound security associations");
    if (!l) return p;
    if (l->size() > max_in) {
        fail(ip,
             "expected at most 4 inbound security associations (enough to overlap a rekey), "
             "got " +
                 std::to_string(l->size()));
        return p;
    }
    for (size_t i = 0; i < l->size(); i++)
        p.in.push_back(text((*l)[i], at_index(ip, i), what).value_or(""));
    return p;
}

// A tunnel's `type` and `protection`, and what an ipsec tunnel cannot have: it has no GRE
// header, so nothing that lives in one.
void Parser::tunnel_security(const Fields& f, const std::string& path, Tunnel& t) {
    static constexpr std::string_view types[] = {"gre", "gretap", "ipsec"};
    if (auto* v = f.find("type")) {
        if (auto i = choice(*v, at_key(path, "type"), types)) t.type = TunnelType(*i);
    }
    if (auto* v = f.find("protection")) t.protection = protection(*v, at_key(path, "protection"));
    if (t.type != TunnelType::Ipsec) return;
    for (std::string_view k : {"key", "checksum", "sequence", "keepalive"})
        if (f.find(k))
            fail(at_key(path, k), std::string(k) +
                                      " applies only to GRE tunnels (type gre or gretap); an "
                                      "ipsec tunnel has no GRE header; remove it");
    require(f, path, "protection",
            "the security associations of an ipsec tunnel ({out: SA, in: SA})");
}

}  // namespace tgw::config::parsing
