#include "telemetry_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace tgw::bench {

namespace {

// The reply is flat JSON written by DPDK ({"/tunnelgw/stats": {"packets": N, ...}}): a key
// search is enough and avoids a JSON library for two integers.
std::optional<uint64_t> field(const std::string& s, const char* key) {
    std::string k = std::string("\"") + key + "\":";
    size_t p = s.find(k);
    if (p == std::string::npos) return std::nullopt;
    const char* b = s.c_str() + p + k.size();
    char* e = nullptr;
    unsigned long long v = strtoull(b, &e, 10);
    if (e == b) return std::nullopt;
    return uint64_t(v);
}

}  // namespace

std::optional<WorkerCounters> read_gateway_stats(const std::string& path) {
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (fd < 0) return std::nullopt;
    timeval tv{2, 0};  // the gateway answers from its main loop: well under a second
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
    std::optional<WorkerCounters> out;
    char buf[16384 + 1];
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 &&
        recv(fd, buf, sizeof(buf) - 1, 0) > 0) {  // the greeting: version, pid, max length
        const char cmd[] = "/tunnelgw/stats";
        if (send(fd, cmd, sizeof(cmd) - 1, 0) == ssize_t(sizeof(cmd) - 1)) {
            ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
            if (n > 0) {
                std::string r(buf, size_t(n));
                auto p = field(r, "packets"), c = field(r, "busy_cycles");
                if (p && c) out = WorkerCounters{*p, *c};
            }
        }
    }
    close(fd);
    return out;
}

}  // namespace tgw::bench
