#include "dp/snapshot.hpp"

#include "dp/bridge.hpp"

#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_hash.h>
#include <rte_ipsec_sad.h>

namespace tgw::dp {

Snapshot::Snapshot() = default;

Snapshot::~Snapshot() {
    rte_fib_free(fib4);
    rte_fib6_free(fib6);
    rte_hash_free(tunnel_by_key);
    if (sad4) rte_ipsec_sad_destroy(sad4);
    if (sad6) rte_ipsec_sad_destroy(sad6);
}

}  // namespace tgw::dp
