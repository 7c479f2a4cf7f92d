// ECMP tables. The control side computes, per group, a table of 2^18 slots each naming a
// member; the fast path only indexes it with the flow hash (the Katran/Maglev split).
//
// Slots are filled by weighted rendezvous hashing (Thaler & Ravishankar; weights as in
// Schindelhauer's "weighted distributed hash tables"): each slot goes to the live member with
// the best score hash(slot, member name) ^ (1/weight). The table is then a pure function of
// the live member set, which gives exactly the properties an operator wants:
//   - a member that dies loses only its own slots: no other flow moves;
//   - a member that joins takes only the slots where it now scores best: its fair share;
//   - the same config always gives the same table, across restarts and machines.
// The balance is statistical: with 2^18 slots one member's share is within ~1% of its weight.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tgw::control {

inline constexpr unsigned ecmp_table_bits = 18;
inline constexpr uint32_t ecmp_table_size = 1u << ecmp_table_bits;

struct EcmpMember {
    std::string name;  // the tunnel's name: the identity that makes the table stable
    uint32_t weight = 1;
    bool live = true;
};

// slot -> index into `members`. Empty when no member is live. Memoized: recomputing the same
// member set (every reload, every liveness change of another group) costs a lookup.
std::shared_ptr<const std::vector<uint8_t>> ecmp_table(const std::vector<EcmpMember>& members);

}  // namespace tgw::control
