// Shared main() for unit suites that need DPDK: one EAL for the whole binary, with no
// hugepages, no PCI and no telemetry so tests run anywhere and in parallel.
#pragma once
#include <gtest/gtest.h>
#include <rte_cryptodev.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace tgw::test {

inline std::string eal_prefix() { return "tgwut" + std::to_string(getpid()); }

inline bool eal_up() {
    static bool done = [] {
        std::string prefix = eal_prefix();
        std::vector<std::string> a = {"unit", "--no-huge", "-m", "256", "--no-pci",
                                      "--no-telemetry", "--log-level=lib.*:error",
                                      "--file-prefix=" + prefix, "-l", "0"};
        std::vector<char*> argv;
        for (auto& s : a) argv.push_back(s.data());
        return rte_eal_init(int(argv.size()), argv.data()) >= 0;
    }();
    return done;
}

}  // namespace tgw::test

#define TGW_EAL_TEST_MAIN                                                 \
    int main(int argc, char** argv) {                                     \
        ::testing::InitGoogleTest(&argc, argv);                           \
        if (!tgw::test::eal_up()) {                                       \
            fprintf(stderr, "rte_eal_init failed\n");                    \
            return 1;                                                     \
        }                                                                 \
        int rc = RUN_ALL_TESTS();                                         \
        for (uint8_t d = 0; d < rte_cryptodev_count(); d++) /* running */ \
            rte_cryptodev_stop(d);  /* devices are not closed by cleanup */ \
        rte_eal_cleanup();                                                \
        std::error_code ec; /* the EAL's runtime files of this process */ \
        std::filesystem::remove_all("/var/run/dpdk/" + tgw::test::eal_prefix(), ec); \
        return rc;                                                        \
    }
