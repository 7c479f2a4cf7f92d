#include "runtime/ports.hpp"

#include <rte_ethdev.h>

#include <regex>
#include <stdexcept>

#include "runtime/log.hpp"

namespace tgw::runtime {

bool is_pci_address(const std::string& dev) {
    static const std::regex re("^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]$");
    return std::regex_match(dev, re);
}

std::string device_name(const std::string& dev) {
    if (is_pci_address(dev)) return dev.size() == 7 ? "0000:" + dev : dev;
    return dev.substr(0, dev.find(','));
}

std::vector<std::string> device_eal_args(const config::Config& cfg) {
    std::vector<std::string> a;
    for (auto& p : cfg.ports) {
        if (is_pci_address(p.device)) {
            a.push_back("-a");
            a.push_back(device_name(p.device));
        } else {
            a.push_back("--vdev=" + p.device);
        }
    }
    return a;
}

std::vector<PortSetup> start_ports(const config::Config& cfg, unsigned n_workers, rte_mempool* pool) {
    std::vector<PortSetup> out;
    for (auto& pc : cfg.ports) {
        auto fail = [&](const std::string& why) {
            throw std::runtime_error("port " + pc.name + " (" + pc.device + "): " + why);
        };
        PortSetup ps;
        if (rte_eth_dev_get_port_by_name(device_name(pc.device).c_str(), &ps.port_id) != 0)
            fail("device not found (is the PCI device bound to a DPDK driver, or the vdev valid?)");
        rte_eth_dev_info info{};
        if (int rc = rte_eth_dev_info_get(ps.port_id, &info); rc != 0)
            fail(std::string("cannot read device info: ") + rte_strerror(-rc));
        ps.driver = info.driver_name ? info.driver_name : "?";
        // One TX queue per worker: no TX queue is ever shared, so no lock on TX.
        if (info.max_tx_queues < n_workers)
            fail("supports " + std::to_string(info.max_tx_queues) + " TX queue(s) but " +
                 std::to_string(n_workers) + " workers are configured; each worker needs its own");
        ps.nb_txq = uint16_t(n_workers);
        unsigned want_rx = pc.rx_queues ? pc.rx_queues : n_workers;
        ps.nb_rxq = uint16_t(std::min<unsigned>(want_rx, info.max_rx_queues));
        if (ps.nb_rxq == 0) fail("has no RX queue");

        rte_eth_conf conf{};
        if (ps.nb_rxq > 1 && info.flow_type_rss_offloads) {
            conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf =
                info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP);
        }
        if (int rc = rte_eth_dev_configure(ps.port_id, ps.nb_rxq, ps.nb_txq, &conf); rc != 0)
            fail(std::string("configure failed: ") + rte_strerror(-rc));
        uint16_t nrx = 1024, ntx = 1024;
        rte_eth_dev_adjust_nb_rx_tx_desc(ps.port_id, &nrx, &ntx);
        int socket = rte_eth_dev_socket_id(ps.port_id);
        if (socket < 0) socket = int(rte_socket_id());
        for (uint16_t q = 0; q < ps.nb_rxq; q++)
            if (int rc = rte_eth_rx_queue_setup(ps.port_id, q, nrx, unsigned(socket), nullptr, pool); rc != 0)
                fail("RX queue setup failed: " + std::string(rte_strerror(-rc)));
        for (uint16_t q = 0; q < ps.nb_txq; q++)
            if (int rc = rte_eth_tx_queue_setup(ps.port_id, q, ntx, unsigned(socket), nullptr); rc != 0)
                fail("TX queue setup failed: " + std::string(rte_strerror(-rc)));
        if (int rc = rte_eth_dev_set_mtu(ps.port_id, pc.mtu); rc != 0 && rc != -ENOTSUP)
            TGW_LOG(WARNING, "port %s: cannot set MTU %u: %s", pc.name.c_str(), pc.mtu, rte_strerror(-rc));
        if (pc.mac) {
            rte_ether_addr a;
            std::memcpy(a.addr_bytes, pc.mac->b.data(), 6);
            if (int rc = rte_eth_dev_default_mac_addr_set(ps.port_id, &a); rc != 0)
                TGW_LOG(WARNING, "port %s: cannot set MAC %s (%s); frames to it are still accepted",
                        pc.name.c_str(), pc.mac->str().c_str(), rte_strerror(-rc));
        }
        // Promiscuous: a MAC override the PMD could not program must still reach us; the
        // ingress stage filters unicast for other stations in software (counted).
        rte_eth_promiscuous_enable(ps.port_id);
        if (int rc = rte_eth_dev_start(ps.port_id); rc != 0)
            fail(std::string("start failed: ") + rte_strerror(-rc));
        if (pc.mac) {
            std::memcpy(ps.mac, pc.mac->b.data(), 6);
        } else {
            rte_ether_addr a;
            rte_eth_macaddr_get(ps.port_id, &a);
            std::memcpy(ps.mac, a.addr_bytes, 6);
        }
        out.push_back(ps);
    }
    return out;
}

void stop_ports(const std::vector<PortSetup>& ports) {
    for (auto& p : ports) {
        rte_eth_dev_stop(p.port_id);
        rte_eth_dev_close(p.port_id);
    }
}

std::vector<control::PortInfo> port_infos(const std::vector<PortSetup>& ports) {
    std::vector<control::PortInfo> v;
    for (auto& p : ports) {
        control::PortInfo i;
        i.port_id = p.port_id;
        std::memcpy(i.mac, p.mac, 6);
        v.push_back(i);
    }
    return v;
}

}  // namespace tgw::runtime
