#include "ctl/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace tgw::ctl {

std::string socket_path(const std::string& file_prefix) {
    const char* dir = std::getenv("RUNTIME_DIRECTORY");
    std::string base;
    if (dir && *dir) {
        base = dir;
    } else if (getuid() == 0) {
        base = "/var/run";
    } else {
        const char* x = std::getenv("XDG_RUNTIME_DIR");
        base = x && *x ? x : "/tmp";
    }
    return base + "/dpdk/" + file_prefix + "/dpdk_telemetry.v2";
}

Client::Client(const std::string& path, int timeout_s, const std::string& hint) : path_(path) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path)
        throw CtlError("socket path too long (" + std::to_string(path.size()) + " bytes): " + path);
    memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw CtlError(std::string("cannot create a socket: ") + strerror(errno));
    if (connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        int e = errno;
        close(fd_);
        fd_ = -1;
        if (e == ENOENT)
            throw CtlError("tunnelgw is not running (" + hint + ": no socket " + path +
                           "); start it, or give the right --file-prefix or --socket");
        if (e == ECONNREFUSED)
            throw CtlError("tunnelgw is not running (" + hint + ": nothing listens on " + path +
                           ", a socket left by a process that has exited)");
        if (e == EACCES || e == EPERM)
            throw CtlError("permission denied on " + path +
                           ": run tunnelgw-ctl as root (or as "
                           "the user tunnelgw runs as)");
        throw CtlError("cannot connect to " + path + ": " + strerror(e));
    }
    json hello = json::parse(recv_message(timeout_s), nullptr, false);
    if (!hello.is_object() || !hello.contains("max_output_len"))
        throw CtlError(path + " is not a DPDK telemetry v2 socket (unexpected greeting)");
    auto& m = hello["max_output_len"];
    if (m.is_number_unsigned() && m.get<uint64_t>() >= 1024 && m.get<uint64_t>() <= (64u << 20))
        max_len_ = m.get<size_t>();
    if (hello.contains("pid") && hello["pid"].is_number_integer()) pid_ = hello["pid"].get<int>();
}

Client::~Client() {
    if (fd_ >= 0) close(fd_);
}

std::string Client::recv_message(int timeout_s) {
    pollfd p{fd_, POLLIN, 0};
    int n;
    do {
        n = poll(&p, 1, timeout_s * 1000);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        throw CtlError("no reply from " + path_ + " within " + std::to_string(timeout_s) +
                       " s (is the gateway stuck? raise --timeout)");
    if (n < 0) throw CtlError(std::string("poll: ") + strerror(errno));
    std::vector<char> buf(max_len_ + 1);  // one more byte: a full buffer means cut short
    ssize_t r;
    do {
        r = recv(fd_, buf.data(), buf.size(), 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) throw CtlError("reading from " + path_ + ": " + strerror(errno));
    if (r == 0)
        throw CtlError(
            "the gateway closed the connection (it is stopping, or has too many "
            "telemetry clients)");
    return std::string(buf.data(), size_t(r));
}

json Client::query(const std::string& cmd, int timeout_s) {
    if (send(fd_, cmd.data(), cmd.size(), MSG_NOSIGNAL) < 0)
        throw CtlError("sending to " + path_ + ": " + strerror(errno));
    std::string text = recv_message(timeout_s);
    json reply = json::parse(text, nullptr, false);
    if (reply.is_discarded() || !reply.is_object() || reply.size() != 1)
        throw CtlError("malformed reply to " + cmd + " (" + std::to_string(text.size()) +
                       " bytes; cut short by DPDK's reply size limit?)");
    return reply.begin().value();
}

}  // namespace tgw::ctl
