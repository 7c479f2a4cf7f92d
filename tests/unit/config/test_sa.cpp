// ESP security associations and tunnel protection in the YAML: every cipher and integrity
// combination loads with the right key split; every rule yields exactly one finding at the
// right path; key files must be private; key material never appears in a message; omitted
// SA endpoints are filled from the tunnel.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/model.hpp"

namespace tgw::config {
namespace {

namespace fs = std::filesystem;

std::string all(const LoadResult& r) {
    std::string s;
    for (const auto& d : r.errors) s += d.str() + "\n";
    return s;
}

// n bytes of hex, different for each seed and not a run of one digit, so that a leak of any
// part of it into a message can be searched for.
std::string hex(size_t n, unsigned seed = 1) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    uint32_t x = 0x9e3779b9u * (seed + 1);
    for (size_t i = 0; i < 2 * n; i++) {
        x = x * 1664525u + 1013904223u;
        s += digits[(x >> 24) & 15];
    }
    return s;
}
std::vector<uint8_t> bytes_of(const std::string& h) {
    std::vector<uint8_t> v;
    for (size_t i = 0; i + 1 < h.size(); i += 2)
        v.push_back(uint8_t(std::stoul(h.substr(i, 2), nullptr, 16)));
    return v;
}

const std::string ports = R"(ports:
  - name: lan
    device: net_null0
    addresses: ["10.10.1.1/24"]
  - name: wan
    device: net_null1
    addresses: ["192.0.2.1/24", "2001:db8:60::1/64"]
)";

// A tunnel item. Protected by hub1-out / hub1-in unless fields say otherwise.
std::string tunnel(const std::string& fields = "", const std::string& name = "hub1",
                   const std::string& remote = "192.0.2.2", const std::string& local = "192.0.2.1",
                   const std::string& protection = "{out: hub1-out, in: [hub1-in]}") {
    return "  - name: " + name + "\n    local: " + local + "\n    remote: " + remote +
           "\n    protection: " + protection + "\n" + fields;
}

// An SA item: name, spi, direction, then the body.
std::string sa(const std::string& name, const std::string& dir, const std::string& spi,
               const std::string& body) {
    return "  - name: " + name + "\n    spi: " + spi + "\n    direction: " + dir + "\n" + body;
}
const std::string gcm = "    encryption: aes-gcm-128\n    key: 0x" + hex(20) + "\n";

// ports, one tunnel hub1, SAs hub1-out (first) and hub1-in (second), then extra text.
std::string doc(const std::string& out_extra = "", const std::string& in_extra = "",
                const std::string& tunnels = tunnel(), const std::string& extra = "") {
    return ports + "tunnels:\n" + tunnels + "security_associations:\n" +
           sa("hub1-out", "out", "0x1001", gcm + out_extra) +
           sa("hub1-in", "in", "0x2001", gcm + in_extra) + extra;
}

// ---- valid ------------------------------------------------------------------------------------

struct Valid {
    const char* name;
    std::string body;  // of hub1-out, after name/spi/direction
    Cipher cipher;
    Integrity integrity;
    size_t key, salt, auth;
};

class Combination : public testing::TestWithParam<Valid> {};

TEST_P(Combination, LoadsWithKeySplit) {
    const Valid& v = GetParam();
    std::string y = ports + "tunnels:\n" + tunnel() + "security_associations:\n" +
                    sa("hub1-out", "out", "0x1001", v.body) + sa("hub1-in", "in", "0x2001", gcm);
    auto r = load_string(y, "v.yaml");
    ASSERT_TRUE(r.config) << all(r);
    const Sa& s = r.config->sas[0];
    EXPECT_EQ(s.cipher, v.cipher);
    EXPECT_EQ(s.integrity, v.integrity);
    EXPECT_EQ(s.key.size(), v.key);
    EXPECT_EQ(s.salt.size(), v.salt);
    EXPECT_EQ(s.auth_key.size(), v.auth);
    // key || salt, in that order, as ip xfrm's rfc4106(gcm(aes)) takes them.
    auto want = bytes_of(hex(v.key + v.salt, 7));
    std::vector<uint8_t> got = s.key;
    got.insert(got.end(), s.salt.begin(), s.salt.end());
    if (v.body.find("salt:") == std::string::npos) {
        EXPECT_EQ(got, want);
    } else {
        EXPECT_EQ(s.key, bytes_of(hex(v.key, 7)));
        EXPECT_EQ(s.salt, (std::vector<uint8_t>{0xa0, 0xa1, 0xa2, 0xa3}));
    }
}

std::string enc(const char* c, size_t key) {
    return "    encryption: " + std::string(c) + "\n    key: 0x" + hex(key, 7) + "\n";
}
std::string cbc(const char* c, size_t key, const char* integ, size_t auth) {
    return enc(c, key) + "    integrity: " + integ + "\n    auth_key: " + hex(auth, 8) + "\n";
}

std::string upper(std::string s) {
    for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string valid_name(const testing::TestParamInfo<Valid>& i) { return i.param.name; }

// clang-format off
INSTANTIATE_TEST_SUITE_P(
    Sa, Combination,
    testing::Values(
        Valid{"Gcm128", enc("aes-gcm-128", 20), Cipher::AesGcm128, Integrity::None, 16, 4, 0},
        Valid{"Gcm256", enc("aes-gcm-256", 36), Cipher::AesGcm256, Integrity::None, 32, 4, 0},
        Valid{"Chacha", enc("chacha20-poly1305", 36), Cipher::Chacha20Poly1305, Integrity::None, 32, 4, 0},
        Valid{"Gcm128SaltApart", enc("aes-gcm-128", 16) + "    salt: 0xa0a1a2a3\n",
              Cipher::AesGcm128, Integrity::None, 16, 4, 0},
        Valid{"Gcm256SaltApart", enc("aes-gcm-256", 32) + "    salt: A0A1A2A3\n",
              Cipher::AesGcm256, Integrity::None, 32, 4, 0},
        Valid{"Cbc128Sha1", cbc("aes-cbc-128", 16, "hmac-sha1-96", 20), Cipher::AesCbc128, Integrity::HmacSha1_96, 16, 0, 20},
        Valid{"Cbc128Sha256", cbc("aes-cbc-128", 16, "hmac-sha256-128", 32), Cipher::AesCbc128, Integrity::HmacSha256_128, 16, 0, 32},
        Valid{"Cbc256Sha1", cbc("aes-cbc-256", 32, "hmac-sha1-96", 20), Cipher::AesCbc256, Integrity::HmacSha1_96, 32, 0, 20},
        Valid{"Cbc256Sha256", cbc("aes-cbc-256", 32, "hmac-sha256-128", 32), Cipher::AesCbc256, Integrity::HmacSha256_128, 32, 0, 32},
        Valid{"UpperCaseHexNo0x", "    encryption: aes-gcm-128\n    key: " + upper(hex(20, 7)) + "\n",
              Cipher::AesGcm128, Integrity::None, 16, 4, 0}),
    valid_name);
// clang-format on

TEST(SaLoad, EveryKeyIsReadIntoTheModel) {
    std::string out =
        "    mode: transport\n    esn: true\n    initial_sequence: 4294967296\n"
        "    nat_t: {local_port: 4501, remote_port: 4502}\n"
        "    lifetime:\n      soft: {packets: 10, bytes: 1000, seconds: 60}\n"
        "      hard: {packets: 20, bytes: 2000, seconds: 120}\n";
    std::string in = "    esn: true\n    replay_window: 64\n    nat_t: true\n";
    auto r = load_string(doc(out, in), "v.yaml");
    ASSERT_TRUE(r.config) << all(r);
    const Sa& o = r.config->sas[0];
    const Sa& i = r.config->sas[1];
    EXPECT_EQ(o.spi, 0x1001u);
    EXPECT_EQ(o.direction, SaDirection::Out);
    EXPECT_EQ(o.mode, SaMode::Transport);
    EXPECT_TRUE(o.esn);
    EXPECT_EQ(o.initial_sequence, 4294967296ull);
    EXPECT_TRUE(o.nat_t);
    EXPECT_EQ(o.nat_t_local_port, 4501);
    EXPECT_EQ(o.nat_t_remote_port, 4502);
    EXPECT_EQ(o.soft.packets, 10u);
    EXPECT_EQ(o.soft.bytes, 1000u);
    EXPECT_EQ(o.soft.seconds, 60u);
    EXPECT_EQ(o.hard.packets, 20u);
    EXPECT_EQ(o.hard.bytes, 2000u);
    EXPECT_EQ(o.hard.seconds, 120u);
    EXPECT_EQ(i.spi, 0x2001u);
    EXPECT_EQ(i.direction, SaDirection::In);
    EXPECT_EQ(i.mode, SaMode::Tunnel);
    EXPECT_EQ(i.replay_window, 64u);
    EXPECT_TRUE(i.nat_t);
    EXPECT_EQ(i.nat_t_local_port, 4500);
    const Tunnel& t = r.config->tunnels[0];
    EXPECT_EQ(t.type, TunnelType::Gre);
    ASSERT_TRUE(t.protection);
    EXPECT_EQ(t.protection->out, "hub1-out");
    EXPECT_EQ(t.protection->in, std::vector<std::string>{"hub1-in"});
}

TEST(SaLoad, DefaultsAndEndpointsFromTheTunnel) {
    auto r = load_string(doc(), "v.yaml");
    ASSERT_TRUE(r.config) << all(r);
    for (const Sa& s : r.config->sas) {
        EXPECT_EQ(s.local.str(), "192.0.2.1") << s.name;  // out: leaves from; in: arrives at
        EXPECT_EQ(s.remote.str(), "192.0.2.2") << s.name;
    }
    const Sa& i = r.config->sas[1];
    EXPECT_EQ(i.replay_window, 1024u);
    EXPECT_EQ(i.mode, SaMode::Tunnel);
    EXPECT_FALSE(i.esn);
    EXPECT_FALSE(i.nat_t);
    EXPECT_EQ(i.initial_sequence, 0u);
}

// GRE inside tunnel-mode ESP between other addresses: hub1-out names its ESP endpoints, and
// hub1-in, which names none, takes them from it (both directions run between the same two
// addresses). "spare" protects nothing and is left alone.
TEST(SaLoad, DefaultsFromTheOutboundSa) {
    std::string y = doc("    remote: 192.0.2.77\n", "", tunnel(), sa("spare", "in", "0x3001", gcm));
    auto r = load_string(y, "v.yaml");
    ASSERT_TRUE(r.config) << all(r);
    const Sa &o = r.config->sas[0], &i = r.config->sas[1], &spare = r.config->sas[2];
    EXPECT_EQ(o.local.str(), "192.0.2.1");
    EXPECT_EQ(o.remote.str(), "192.0.2.77");
    EXPECT_EQ(i.local.str(), "192.0.2.1");
    EXPECT_EQ(i.remote.str(), "192.0.2.77");
    EXPECT_TRUE(spare.local.is_zero());
    EXPECT_TRUE(spare.remote.is_zero());
    // GRE endpoints that are no port's addresses: the GRE packet only travels inside ESP.
    r = load_string(doc("    local: 192.0.2.1\n    remote: 192.0.2.77\n", "",
                        tunnel("", "hub1", "10.99.0.2", "10.99.0.1")),
                    "v.yaml");
    ASSERT_TRUE(r.config) << all(r);
    EXPECT_EQ(r.config->sas[1].local.str(), "192.0.2.1");
    EXPECT_EQ(r.config->sas[1].remote.str(), "192.0.2.77");
    // A transport-mode SA has no endpoints but the GRE packet's: it keeps the tunnel's.
    r = load_string(doc("    remote: 192.0.2.77\n", "    mode: transport\n"), "v.yaml");
    ASSERT_TRUE(r.config) << all(r);
    EXPECT_EQ(r.config->sas[1].remote.str(), "192.0.2.2");
}

TEST(SaLoad, OtherValidShapes) {
    const std::string ipsec = tunnel("    type: ipsec\n    addresses: [\"10.255.0.1/30\"]\n");
    const std::string routes = "routes:\n  - {prefix: 10.20.0.0/16, tunnel: hub1}\n";
    for (const auto& y : {
             // in: a single name; protection with no SA yet (fails closed); gretap parsed
             doc("", "",
                 tunnel("", "hub1", "192.0.2.2", "192.0.2.1", "{out: hub1-out, in: hub1-in}") +
                     tunnel("    type: gretap\n", "hub2", "192.0.2.3", "192.0.2.1", "{}")),
             // ipsec tunnel carrying one family, in an ECMP group and as a backup
             doc("", "", ipsec + tunnel("", "hub2", "192.0.2.3", "192.0.2.1", "{}"),
                 "groups:\n  - {name: g, members: [hub1, hub2]}\n" + routes +
                     "  - {prefix: 10.30.0.0/16, group: g}\n"
                     "  - {prefix: 10.40.0.0/16, tunnel: hub2, backup: hub1}\n"),
             // two ipsec tunnels between the same endpoints, one per inner family
             doc("", "",
                 ipsec + tunnel("    type: ipsec\n", "hub1-v6", "192.0.2.2", "192.0.2.1",
                                "{out: v6-out}"),
                 sa("v6-out", "out", "0x1002", gcm) + routes +
                     "  - {prefix: \"2001:db8:20::/48\", tunnel: hub1-v6}\n"),
             // a GRE tunnel carries both families whatever protects it
             doc("", "", tunnel("    addresses: [\"10.255.0.1/30\"]\n"),
                 routes + "  - {prefix: \"2001:db8:20::/48\", tunnel: hub1}\n"),
             // the same inbound SPI on different local addresses is two SAs
             doc("", "    local: 192.0.2.1\n",
                 tunnel() + tunnel("", "hub6", "\"2001:db8:60::2\"", "\"2001:db8:60::1\"",
                                   "{in: [v6-in]}"),
                 sa("v6-in", "in", "0x2001", gcm + "    local: \"2001:db8:60::1\"\n")),
             // replay off; ESN outbound only
             doc("    esn: true\n", "    replay_window: 0\n"),
             // SAs share settings through a merge key
             ports + "tunnels:\n" + tunnel() + "security_associations:\n  - &s\n    " +
                 sa("hub1-out", "out", "4097", gcm).substr(4) +
                 "  - <<: *s\n    name: hub1-in\n    direction: in\n",
         }) {
        auto r = load_string(y, "v.yaml");
        EXPECT_TRUE(r.config) << all(r) << y;
    }
}

// ---- one finding per rule ---------------------------------------------------------------------

struct Case {
    const char* name;
    std::string yaml;
    std::string path;
    std::vector<std::string> says;
};

class SaRule : public testing::TestWithParam<Case> {};

TEST_P(SaRule, ReportsExactlyOneFinding) {
    const Case& c = GetParam();
    auto r = load_string(c.yaml, "t.yaml");
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    const Diag& d = r.errors[0];
    EXPECT_EQ(d.loc.path, c.path) << d.str();
    EXPECT_GT(d.loc.line, 0) << d.str();
    for (const auto& s : c.says)
        EXPECT_NE(d.message.find(s), std::string::npos) << "want \"" << s << "\" in: " << d.str();
}

TEST(SaRule, BaseDocumentIsValid) {
    auto r = load_string(doc(), "base.yaml");
    EXPECT_TRUE(r.errors.empty()) << all(r);
}

std::string case_name(const testing::TestParamInfo<Case>& i) { return i.param.name; }

// hub1-out with body b instead of the AES-GCM-128 default.
std::string out_sa(const std::string& b) {
    return ports + "tunnels:\n" + tunnel() + "security_associations:\n" +
           sa("hub1-out", "out", "0x1001", b) + sa("hub1-in", "in", "0x2001", gcm);
}
// y with the first occurrence of from replaced by to.
std::string swap(std::string y, const std::string& from, const std::string& to) {
    return y.replace(y.find(from), from.size(), to);
}
const std::string sa0 = "security_associations[0]";
const std::string sa1 = "security_associations[1]";
const std::string cbc_sha256 =
    "    encryption: aes-cbc-128\n    key: " + hex(16) + "\n    integrity: hmac-sha256-128\n";
const std::string ipsec_tunnel = tunnel("    type: ipsec\n");
const std::string v6_tunnel = tunnel("", "hub1", "\"2001:db8:60::2\"", "\"2001:db8:60::1\"");

// clang-format off
INSTANTIATE_TEST_SUITE_P(
    Parse, SaRule,
    testing::Values(
        Case{"SpiReserved", swap(out_sa(gcm), "0x1001", "255"),
             sa0 + ".spi", {"from 256 to 4294967295", "reserved", "got 255"}},
        Case{"SpiZero", swap(out_sa(gcm), "0x1001", "0"),
             sa0 + ".spi", {"0 is invalid"}},
        Case{"SpiTooBig", swap(out_sa(gcm), "0x1001", "0x100000000"),
             sa0 + ".spi", {"got 0x100000000"}},
        Case{"DirectionTypo", swap(out_sa(gcm), "direction: out", "direction: outt"),
             sa0 + ".direction", {"expected one of in, out", "did you mean \"out\"?"}},
        Case{"DirectionMissing", swap(out_sa(gcm), "    direction: out\n", ""),
             sa0 + ".direction", {"missing required key \"direction\""}},
        Case{"ModeUnknown", out_sa(gcm + "    mode: tunel\n"),
             sa0 + ".mode", {"did you mean \"tunnel\"?"}},
        Case{"CipherUnknown", out_sa("    encryption: aes-gcm-129\n    key: " + hex(20) + "\n"),
             sa0 + ".encryption", {"expected one of aes-gcm-128, aes-gcm-256, aes-cbc-128, aes-cbc-256, chacha20-poly1305"}},
        Case{"CipherMissing", out_sa("    key: " + hex(20) + "\n"),
             sa0 + ".encryption", {"missing required key \"encryption\""}},
        Case{"IntegrityWithAead", out_sa(gcm + "    integrity: hmac-sha1-96\n"),
             sa0 + ".integrity", {"integrity applies only to aes-cbc-*", "aes-gcm-128 is an AEAD cipher"}},
        Case{"IntegrityMissingForCbc", out_sa("    encryption: aes-cbc-128\n    key: " + hex(16) + "\n"),
             sa0 + ".integrity", {"missing required key \"integrity\"", "aes-cbc-128 needs one of hmac-sha1-96, hmac-sha256-128"}},
        Case{"IntegrityUnknown", out_sa("    encryption: aes-cbc-128\n    key: " + hex(16) +
                                        "\n    integrity: hmac-md5\n    auth_key: " + hex(16) + "\n"),
             sa0 + ".integrity", {"expected one of hmac-sha1-96, hmac-sha256-128"}},
        Case{"KeyLengthGcm128", out_sa("    encryption: aes-gcm-128\n    key: " + hex(16) + "\n"),
             sa0 + ".key", {"aes-gcm-128 needs 20 bytes of key material (16-byte key + 4-byte salt), got 16"}},
        Case{"KeyLengthGcm256", out_sa("    encryption: aes-gcm-256\n    key: " + hex(20) + "\n"),
             sa0 + ".key", {"aes-gcm-256 needs 36 bytes of key material (32-byte key + 4-byte salt), got 20"}},
        Case{"KeyLengthChacha", out_sa("    encryption: chacha20-poly1305\n    key: " + hex(32) + "\n"),
             sa0 + ".key", {"chacha20-poly1305 needs 36 bytes of key material (32-byte key + 4-byte salt), got 32"}},
        Case{"KeyLengthSaltApart", out_sa(gcm + "    salt: 0xa0a1a2a3\n"),
             sa0 + ".key", {"aes-gcm-128 needs a 16-byte key (the salt is given separately), got 20"}},
        Case{"KeyLengthCbc256", out_sa("    encryption: aes-cbc-256\n    key: " + hex(16) +
                                       "\n    integrity: hmac-sha1-96\n    auth_key: " + hex(20) + "\n"),
             sa0 + ".key", {"aes-cbc-256 needs a 32-byte key, got 16"}},
        Case{"KeyOddDigits", out_sa("    encryption: aes-gcm-128\n    key: 0x" + hex(20).substr(1) + "\n"),
             sa0 + ".key", {"odd number of hex digits (39)"}},
        Case{"KeyNotHex", out_sa("    encryption: aes-gcm-128\n    key: 0x" + hex(10) + "zz" + hex(9) + "\n"),
             sa0 + ".key", {"not a hex digit at position 21"}},
        Case{"KeyEmpty", out_sa("    encryption: aes-gcm-128\n    key: \"0x\"\n"),
             sa0 + ".key", {"is empty"}},
        Case{"KeyMissing", out_sa("    encryption: aes-gcm-128\n"),
             sa0 + ".key", {"missing required key \"key\"", "key_file"}},
        Case{"KeyAndKeyFile", out_sa(gcm + "    key_file: /nonexistent\n"),
             sa0 + ".key_file", {"either key or key_file, not both"}},
        Case{"KeyFileMissing", out_sa("    encryption: aes-gcm-128\n    key_file: /nonexistent/k\n"),
             sa0 + ".key_file", {"cannot open key file \"/nonexistent/k\""}},
        Case{"SaltOnCbc", out_sa(cbc_sha256 + "    auth_key: " + hex(32) + "\n    salt: 0xa0a1a2a3\n"),
             sa0 + ".salt", {"salt applies only to AEAD ciphers"}},
        Case{"SaltLength", out_sa("    encryption: aes-gcm-128\n    key: " + hex(16) + "\n    salt: 0xa0a1a2\n"),
             sa0 + ".salt", {"the salt must be 4 bytes (8 hex digits), got 3 bytes"}},
        Case{"AuthKeyLength", out_sa(cbc_sha256 + "    auth_key: " + hex(20) + "\n"),
             sa0 + ".auth_key", {"hmac-sha256-128 needs a 32-byte key, got 20"}},
        Case{"AuthKeyMissing", out_sa(cbc_sha256),
             sa0 + ".auth_key", {"missing required key \"auth_key\""}},
        Case{"AuthKeyOnAead", out_sa(gcm + "    auth_key: " + hex(32) + "\n"),
             sa0 + ".auth_key", {"auth_key applies only to aes-cbc-* ciphers"}},
        Case{"AuthKeyAndFile", out_sa(cbc_sha256 + "    auth_key: " + hex(32) + "\n    auth_key_file: k\n"),
             sa0 + ".auth_key_file", {"either auth_key or auth_key_file, not both"}},
        Case{"ReplayOnOut", doc("    replay_window: 64\n"),
             sa0 + ".replay_window", {"replay_window applies only to inbound SAs"}},
        Case{"ReplayTooSmall", doc("", "    replay_window: 32\n"),
             sa1 + ".replay_window", {"0 (off) or a window from 64 to 4096 packets", "got 32"}},
        Case{"ReplayTooBig", doc("", "    replay_window: 4097\n"),
             sa1 + ".replay_window", {"got 4097"}},
        Case{"EsnWithoutReplay", doc("", "    esn: true\n    replay_window: 0\n"),
             sa1 + ".replay_window", {"esn: true needs a replay window", "RFC 4303 Appendix A2"}},
        Case{"InitialSequenceOnIn", doc("", "    initial_sequence: 5\n"),
             sa1 + ".initial_sequence", {"initial_sequence applies only to outbound SAs"}},
        Case{"InitialSequenceNoEsn", doc("    initial_sequence: 4294967295\n"),
             sa0 + ".initial_sequence", {"from 0 to 4294967294", "esn: false"}},
        Case{"LifetimeSoftNotBelowHard", doc("    lifetime: {soft: {packets: 100}, hard: {packets: 100}}\n"),
             sa0 + ".lifetime.soft.packets", {"soft packets limit 100 must be below the hard limit 100"}},
        Case{"LifetimeUnknownKey", doc("    lifetime: {soft: {packet: 100}}\n"),
             sa0 + ".lifetime.soft.packet", {"unknown key \"packet\"", "did you mean \"packets\"?"}},
        Case{"NatTPort", doc("    nat_t: {local_port: 0}\n"),
             sa0 + ".nat_t.local_port", {"from 1 to 65535"}},
        Case{"NatTNotBool", doc("    nat_t: yes\n"),
             sa0 + ".nat_t", {"expected true or false"}},
        Case{"SaName", swap(doc("", "", tunnel("", "hub1", "192.0.2.2", "192.0.2.1", "{out: \"hub 1\"}")),
                            "name: hub1-out", "name: \"hub 1\""),
             sa0 + ".name", {"\"hub 1\" is not a valid name"}},
        Case{"SaUnknownKey", doc("    replay: 64\n"),
             sa0 + ".replay", {"unknown key \"replay\""}},
        Case{"TypeUnknown", doc("", "", tunnel("    type: grex\n")),
             "tunnels[0].type", {"expected one of gre, gretap, ipsec", "did you mean \"gre\"?"}},
        Case{"IpsecWithKey", doc("", "", tunnel("    type: ipsec\n    key: 5\n")),
             "tunnels[0].key", {"key applies only to GRE tunnels", "no GRE header"}},
        Case{"IpsecWithKeepalive", doc("", "", tunnel("    type: ipsec\n    keepalive: true\n")),
             "tunnels[0].keepalive", {"keepalive applies only to GRE tunnels"}},
        Case{"IpsecWithoutProtection",
             ports + "tunnels:\n  - name: hub1\n    type: ipsec\n    local: 192.0.2.1\n    remote: 192.0.2.2\n",
             "tunnels[0].protection", {"missing required key \"protection\""}},
        Case{"ProtectionTooManyIn", doc("", "", tunnel("", "hub1", "192.0.2.2", "192.0.2.1", "{in: [a, b, c, d, e]}")),
             "tunnels[0].protection.in", {"at most 4 inbound security associations", "got 5"}},
        Case{"ProtectionUnknownKey", doc("", "", tunnel("", "hub1", "192.0.2.2", "192.0.2.1", "{outt: hub1-out}")),
             "tunnels[0].protection.outt", {"unknown key \"outt\"", "did you mean \"out\"?"}}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    Validate, SaRule,
    testing::Values(
        Case{"SaNameTwice", doc("", "", tunnel(), sa("hub1-in", "in", "0x3001", gcm)),
             "security_associations[2].name", {"duplicate security association name \"hub1-in\"", "security_associations[1] already uses it"}},
        Case{"UnknownSa", doc("", "", tunnel("", "hub1", "192.0.2.2", "192.0.2.1", "{out: hub1-ot, in: [hub1-in]}")),
             "tunnels[0].protection.out", {"unknown security association \"hub1-ot\" (did you mean \"hub1-out\"?)", "security associations are: hub1-out, hub1-in"}},
        Case{"UnknownSaSingleIn", doc("", "", tunnel("", "hub1", "192.0.2.2", "192.0.2.1", "{out: hub1-out, in: hub1-i}")),
             "tunnels[0].protection.in[0]", {"unknown security association \"hub1-i\""}},
        Case{"OutSaIsInbound", doc("", "", tunnel("", "hub1", "192.0.2.2", "192.0.2.1", "{out: hub1-in}")),
             "tunnels[0].protection.out", {"\"hub1-in\" has direction: in; protection.out needs one with direction: out"}},
        Case{"InSaIsOutbound", doc("", "", tunnel("", "hub1", "192.0.2.2", "192.0.2.1", "{in: [hub1-in, hub1-out]}")),
             "tunnels[0].protection.in[1]", {"\"hub1-out\" has direction: out; protection.in needs one with direction: in"}},
        Case{"SaInTwoTunnels", doc("", "", tunnel() + tunnel("", "hub2", "192.0.2.3", "192.0.2.1", "{out: hub1-out}")),
             "tunnels[1].protection.out", {"\"hub1-out\" is already used by tunnels[0].protection.out (tunnel \"hub1\")", "one tunnel, in one slot"}},
        Case{"SaTwiceInOneTunnel", doc("", "", tunnel("", "hub1", "192.0.2.2", "192.0.2.1", "{in: [hub1-in, hub1-in]}")),
             "tunnels[0].protection.in[1]", {"already used by tunnels[0].protection.in[0]"}},
        Case{"SaLocalNotOurs", doc("    local: 192.0.2.9\n"),
             sa0 + ".local", {"192.0.2.9 is not an address of any port", "192.0.2.1"}},
        Case{"SaLocalInner", doc("    local: 10.255.0.1\n", "", tunnel("    addresses: [\"10.255.0.1/30\"]\n")),
             sa0 + ".local", {"is an inner address of tunnel \"hub1\""}},
        Case{"SaRemoteOurs", doc("    remote: 10.10.1.1\n"),
             sa0 + ".remote", {"10.10.1.1 is an address of this gateway, port \"lan\""}},
        Case{"SaFamilies", doc("    local: 192.0.2.1\n    remote: \"2001:db8::5\"\n"),
             sa0 + ".remote", {"is IPv6 but local 192.0.2.1 is IPv4", "same family"}},
        Case{"SaFamilyAgainstTunnel", doc("    local: \"2001:db8:60::1\"\n"),
             sa0 + ".local", {"2001:db8:60::1 is IPv6 but the SA's remote (from tunnel \"hub1\") is IPv4", "give both local and remote"}},
        Case{"TransportOnIpsecTunnel", doc("    mode: transport\n", "", ipsec_tunnel),
             sa0 + ".mode", {"mode: transport is only for the SAs of GRE tunnels", "needs mode: tunnel"}},
        Case{"TransportOtherEndpoints", doc("    mode: transport\n    remote: 192.0.2.9\n"),
             sa0 + ".mode", {"mode: transport protects the GRE packet in place", "local 192.0.2.1, remote 192.0.2.2"}},
        Case{"IpsecSaOtherRemote", doc("", "    remote: 192.0.2.9\n", ipsec_tunnel),
             sa1 + ".remote", {"the SAs of ipsec tunnel \"hub1\" use its own endpoints: remote must be 192.0.2.2 or left out"}},
        Case{"InboundSpiTwice", doc("", "", tunnel("", "hub1", "192.0.2.2", "192.0.2.1", "{in: [hub1-in, next]}"),
                                    sa("next", "in", "8193", gcm)),
             "security_associations[2].spi", {"SPI 8193 on local 192.0.2.1 is already used by inbound security_associations[1] (\"hub1-in\")", "RFC 4303 section 2.1"}},
        Case{"NatTOverIPv6", doc("    nat_t: true\n", "", v6_tunnel),
             sa0 + ".nat_t", {"nat_t (UDP encapsulation, RFC 3948) is defined for IPv4 only", "from tunnel \"hub1\""}},
        Case{"IpsecMixedFamilies", doc("", "", ipsec_tunnel,
                 "routes:\n  - {prefix: 10.20.0.0/16, tunnel: hub1}\n  - {prefix: \"2001:db8:20::/48\", tunnel: hub1}\n"),
             "routes[1].prefix", {"prefix 2001:db8:20::/48 is IPv6, but ipsec tunnel \"hub1\" already carries IPv4 (routes[0], 10.20.0.0/16)", "use a second ipsec tunnel for IPv6"}},
        Case{"IpsecMixedThroughGroup", doc("", "", ipsec_tunnel,
                 "groups:\n  - {name: g, members: [hub1]}\nroutes:\n  - {prefix: \"2001:db8:20::/48\", group: g}\n  - {prefix: 10.20.0.0/16, tunnel: hub1}\n"),
             "routes[1].prefix", {"is IPv4, but ipsec tunnel \"hub1\" already carries IPv6 (routes[0]"}},
        Case{"IpsecMixedAsBackup", doc("", "", ipsec_tunnel + tunnel("", "hub2", "192.0.2.3", "192.0.2.1", "{}"),
                 "routes:\n  - {prefix: 10.20.0.0/16, tunnel: hub1}\n  - {prefix: \"2001:db8:20::/48\", tunnel: hub2, backup: hub1}\n"),
             "routes[1].prefix", {"is IPv6, but ipsec tunnel \"hub1\" already carries IPv4"}},
        Case{"IpsecInnerAddressFamily", doc("", "", tunnel("    type: ipsec\n    addresses: [\"10.255.0.1/30\"]\n"),
                 "routes:\n  - {prefix: \"2001:db8:20::/48\", tunnel: hub1}\n"),
             "routes[0].prefix", {"already carries IPv4 (tunnels[0].addresses[0], 10.255.0.1/30)"}}),
    case_name);
// clang-format on

// ---- key material stays out of messages -------------------------------------------------------

// No 6-digit run of the key may appear in any finding: not the key, not a slice of it.
void expect_no_leak(const LoadResult& r, const std::string& key_hex) {
    ASSERT_FALSE(r.errors.empty());
    const std::string text = all(r);
    for (size_t i = 0; i + 6 <= key_hex.size(); i++)
        ASSERT_EQ(text.find(key_hex.substr(i, 6)), std::string::npos)
            << "key digits " << key_hex.substr(i, 6) << " leaked into:\n"
            << text;
}

TEST(SaSecrets, BadKeysAreNotEchoed) {
    const std::string k = hex(24, 99);
    for (const auto& body : {
             "    encryption: aes-gcm-128\n    key: 0x" + k + "\n",            // length
             "    encryption: aes-gcm-128\n    key: 0x" + k.substr(1) + "\n",  // odd
             "    encryption: aes-gcm-128\n    key: 0x" + k + "q" + k + "\n",  // not hex
             "    encryption: aes-cbc-128\n    key: " + k +
                 "\n    integrity: hmac-sha1-96\n"
                 "    auth_key: " +
                 hex(20) + "\n",                          // cbc length
             cbc_sha256 + "    auth_key: 0x" + k + "\n",  // auth length
             "    encryption: aes-gcm-128\n    key: " + hex(16) + "\n    salt: " + k +
                 "\n",                                            // salt
             gcm + "    auth_key: " + k + "\n",                   // not for AEAD
             "    encryption: aes-gcm-12\n    key: " + k + "\n",  // cipher typo
         }) {
        expect_no_leak(load_string(out_sa(body), "t.yaml"), k);
    }
}

// ---- key files --------------------------------------------------------------------------------

class KeyFile : public testing::Test {
protected:
    fs::path dir;
    void SetUp() override {
        dir = fs::path(testing::TempDir()) /
              ("tgw-sa-" +
               std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
        fs::remove_all(dir);
        fs::create_directories(dir / "keys");
    }
    void TearDown() override { fs::remove_all(dir); }
    fs::path write(const std::string& name, const std::string& text, fs::perms mode) {
        fs::path p = dir / name;
        std::ofstream(p) << text;
        fs::permissions(p, mode);
        return p;
    }
};

constexpr auto private_mode = fs::perms::owner_read | fs::perms::owner_write;

TEST_F(KeyFile, PrivateFileLoads) {
    const std::string k = hex(20, 5), a = hex(32, 6);
    auto kp = write("keys/out.key", "0x" + k + "\n", private_mode);
    auto ap = write("keys/out.auth", "  " + a + "\n\n", private_mode);
    auto r = load_string(out_sa("    encryption: aes-gcm-128\n    key_file: " + kp.string() + "\n"),
                         "t.yaml");
    ASSERT_TRUE(r.config) << all(r);
    auto want = bytes_of(k);
    EXPECT_EQ(r.config->sas[0].key, std::vector<uint8_t>(want.begin(), want.begin() + 16));
    EXPECT_EQ(r.config->sas[0].salt, std::vector<uint8_t>(want.begin() + 16, want.end()));
    r = load_string(
        out_sa("    encryption: aes-cbc-128\n    key: " + hex(16) +
               "\n    integrity: hmac-sha256-128\n    auth_key_file: " + ap.string() + "\n"),
        "t.yaml");
    ASSERT_TRUE(r.config) << all(r);
    EXPECT_EQ(r.config->sas[0].auth_key, bytes_of(a));
}

// A relative key_file is found next to the configuration file, wherever tunnelgw runs.
TEST_F(KeyFile, RelativeToTheConfigFile) {
    write("keys/out.key", hex(20, 5), private_mode);
    auto cfg = write("gw.yaml", out_sa("    encryption: aes-gcm-128\n    key_file: keys/out.key\n"),
                     private_mode | fs::perms::group_read | fs::perms::others_read);
    auto r = load_file(cfg.string());
    EXPECT_TRUE(r.config) << all(r);
}

TEST_F(KeyFile, GroupOrWorldAccessIsRefused) {
    const std::string k = hex(20, 5);
    for (auto extra : {fs::perms::group_read, fs::perms::others_read, fs::perms::group_write,
                       fs::perms::others_write}) {
        auto kp = write("keys/open.key", k, private_mode | extra);
        auto r = load_string(
            out_sa("    encryption: aes-gcm-128\n    key_file: " + kp.string() + "\n"), "t.yaml");
        ASSERT_EQ(r.errors.size(), 1u) << all(r);
        EXPECT_EQ(r.errors[0].loc.path, sa0 + ".key_file");
        EXPECT_NE(r.errors[0].message.find("must not be readable or writable by group or others"),
                  std::string::npos)
            << all(r);
        EXPECT_NE(r.errors[0].message.find("chmod 600 " + kp.string()), std::string::npos)
            << all(r);
        expect_no_leak(r, k);
    }
    auto kp = write("keys/open.auth", hex(32), private_mode | fs::perms::others_read);
    auto r = load_string(out_sa(cbc_sha256 + "    auth_key_file: " + kp.string() + "\n"), "t.yaml");
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors[0].loc.path, sa0 + ".auth_key_file");
    EXPECT_NE(r.errors[0].message.find("mode 0604"), std::string::npos) << all(r);
}

// A directory, and a FIFO, which must be refused without waiting for a writer.
TEST_F(KeyFile, NotARegularFile) {
    ASSERT_EQ(::mkfifo((dir / "keys/fifo").c_str(), 0600), 0);
    for (const auto& p : {dir / "keys", dir / "keys/fifo"}) {
        auto r = load_string(
            out_sa("    encryption: aes-gcm-128\n    key_file: " + p.string() + "\n"), "t.yaml");
        ASSERT_EQ(r.errors.size(), 1u) << all(r);
        EXPECT_NE(r.errors[0].message.find("is not a regular file"), std::string::npos) << all(r);
    }
}

TEST_F(KeyFile, BadContentIsNotEchoed) {
    const std::string k = hex(20, 11);
    for (const auto& text : {k.substr(1), k + "x", hex(16, 11), std::string("\n")}) {
        auto kp = write("keys/bad.key", text, private_mode);
        auto r = load_string(
            out_sa("    encryption: aes-gcm-128\n    key_file: " + kp.string() + "\n"), "t.yaml");
        ASSERT_EQ(r.errors.size(), 1u) << all(r);
        EXPECT_EQ(r.errors[0].loc.path, sa0 + ".key_file");
        expect_no_leak(r, k);
    }
}

}  // namespace
}  // namespace tgw::config
