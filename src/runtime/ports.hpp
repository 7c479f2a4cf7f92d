// Port bring-up: every configured device is found (PCI) or created (vdev) by the EAL from
// the arguments the gateway builds; here each is configured with one TX queue per worker.
#pragma once
#include <rte_mempool.h>

#include <string>
#include <vector>

#include "config/model.hpp"
#include "control/compile.hpp"

namespace tgw::runtime {

struct PortSetup {
    uint16_t port_id = 0;
    uint16_t nb_rxq = 0;
    uint16_t nb_txq = 0;
    uint8_t mac[6] = {};
    std::string driver;
};

bool is_pci_address(const std::string& dev);
// The EAL device name of a port: the vdev name before the first comma, or the PCI address.
std::string device_name(const std::string& dev);
// EAL arguments that create / allow the configured devices.
std::vector<std::string> device_eal_args(const config::Config& cfg);

// Throws std::runtime_error with an operator-readable message (startup boundary).
std::vector<PortSetup> start_ports(const config::Config& cfg, unsigned n_workers, rte_mempool* pool);
void stop_ports(const std::vector<PortSetup>& ports);

std::vector<control::PortInfo> port_infos(const std::vector<PortSetup>& ports);

}  // namespace tgw::runtime
