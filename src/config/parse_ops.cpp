// The `operations:` section: how operators reach the running gateway (metrics, telemetry,
// packet capture, logging). Nothing here touches packets, so every key has a safe default and
// the whole section may be left out.
#include <string>
#include <string_view>

#include "config/parser.hpp"

namespace tgw::config::parsing {

namespace {

constexpr std::string_view listen_expected =
    "host:port with an IP address, such as \"127.0.0.1:9469\" or \"[::1]:9469\" (port 1 to "
    "65535), or \"\" for no metrics server";

// "127.0.0.1:9469" or "[2001:db8::1]:9469". Host names are refused on purpose: resolving one
// at start would make the listening address depend on DNS at boot.
std::optional<std::pair<IpAddr, uint16_t>> parse_listen(std::string_view s, std::string& why) {
    std::string_view host, port;
    if (!s.empty() && s[0] == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos) {
            why = "has \"[\" without \"]\"";
            return std::nullopt;
        }
        host = s.substr(1, close - 1);
        if (close + 1 >= s.size() || s[close + 1] != ':') {
            why = "has no \":port\" after the IPv6 address";
            return std::nullopt;
        }
        port = s.substr(close + 2);
    } else {
        auto colon = s.rfind(':');
        if (colon == std::string_view::npos) {
            why = "has no \":port\"";
            return std::nullopt;
        }
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            why = "is an IPv6 address without brackets; write it as \"[" + std::string(host) +
                  "]:" + std::string(port) + "\"";
            return std::nullopt;
        }
    }
    auto a = IpAddr::parse(host);
    if (!a) {
        why = "has host " + quoted(host) + ", which is not an IP address" +
              (host == "localhost" ? std::string(" (write 127.0.0.1 or [::1])") : std::string());
        return std::nullopt;
    }
    if (s[0] == '[' && a->is_v4()) {
        why = "has an IPv4 address in brackets; write it as \"" + a->str() + ":" +
              std::string(port) + "\"";
        return std::nullopt;
    }
    bool digits = !port.empty() && port.size() <= 5 &&
                  port.find_first_not_of("0123456789") == std::string_view::npos;
    auto p = digits ? to_uint(port) : std::nullopt;
    if (!p || *p < 1 || *p > 65535) {
        why = "has port " + quoted(port) + ", which is not a number from 1 to 65535";
        return std::nullopt;
    }
    // Listening needs an address of this host, loopback or the wildcard (0.0.0.0, [::]); never
    // a multicast or broadcast address.
    if (auto special = detail::special_address(*a);
        special.find("multicast") != std::string::npos ||
        special.find("broadcast") != std::string::npos) {
        why = "has " + a->str() + ", which is " + special + "; expected an address of this host";
        return std::nullopt;
    }
    return std::make_pair(*a, uint16_t(*p));
}

}  // namespace

Operations Parser::operations(const YAML::Node& n, const std::string& path) {
    static constexpr std::string_view keys[] = {"metrics_listen", "telemetry", "pdump", "syslog",
                                                "log_rate", "stage_sample"};
    Operations o;
    // `operations:` with every line commented out keeps the defaults, as an emptied list does.
    if (n.IsNull()) return o;
    auto f = open_map(n, path, keys, "the operator interfaces");
    if (!f.is_map) return o;
    if (auto* v = f.find("metrics_listen")) {
        std::string kp = at_key(path, "metrics_listen");
        if (v->IsNull()) {
            // `metrics_listen:` with no value: off, like "".
        } else if (auto s = text(*v, kp, listen_expected)) {
            if (!s->empty()) {
                std::string why;
                if (auto l = parse_listen(*s, why)) {
                    o.metrics_listen = *s;
                    o.metrics_addr = l->first;
                    o.metrics_port = l->second;
                } else {
                    fail(kp, quoted(*s) + " " + why + "; expected " + std::string(listen_expected));
                }
            }
        }
    }
    if (auto* v = f.find("telemetry"))
        o.telemetry = boolean(*v, at_key(path, "telemetry")).value_or(o.telemetry);
    if (auto* v = f.find("pdump")) o.pdump = boolean(*v, at_key(path, "pdump")).value_or(o.pdump);
    if (auto* v = f.find("syslog"))
        o.syslog = boolean(*v, at_key(path, "syslog")).value_or(o.syslog);
    if (auto* v = f.find("log_rate"))
        o.log_rate = uint32_t(integer(*v, at_key(path, "log_rate"), 0, 100000,
                                      "lines per second from 1 to 100000, or 0 for no limit")
                                  .value_or(o.log_rate));
    if (auto* v = f.find("stage_sample"))
        o.stage_sample = uint32_t(integer(*v, at_key(path, "stage_sample"), 0, 1000000,
                                          "1 to 1000000 (time 1 burst in N), or 0 for off")
                                      .value_or(o.stage_sample));
    return o;
}

}  // namespace tgw::config::parsing
