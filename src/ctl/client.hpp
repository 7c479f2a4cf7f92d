// A client of DPDK's telemetry socket (protocol v2, as dpdk-telemetry.py speaks it): connect
// to an AF_UNIX SOCK_SEQPACKET socket, read the greeting {"version","pid","max_output_len"},
// then send one command per message and read one JSON reply per message.
#pragma once
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace tgw::ctl {

// ordered: replies keep the column order the gateway chose, for tables and for --json.
using json = nlohmann::ordered_json;

// Everything that goes wrong talking to the gateway: what() is one line for the operator.
class CtlError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Where the EAL puts the socket for a file prefix, by the EAL's own rule (eal_create_runtime_dir):
// $RUNTIME_DIRECTORY, else /var/run for root, else $XDG_RUNTIME_DIR or /tmp; then /dpdk/PREFIX.
std::string socket_path(const std::string& file_prefix);

class Client {
public:
    // Connects and reads the greeting. Throws CtlError saying why the gateway cannot be reached.
    // `hint` names how the socket was chosen, for the error message.
    Client(const std::string& path, int timeout_s, const std::string& hint);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Sends "cmd[,params]" and returns the value of the reply's single key. A command the
    // process does not know comes back as null.
    json query(const std::string& cmd, int timeout_s);
    int pid() const { return pid_; }

private:
    std::string recv_message(int timeout_s);

    int fd_ = -1;
    std::string path_;
    size_t max_len_ = 16384;
    int pid_ = 0;
};

}  // namespace tgw::ctl
