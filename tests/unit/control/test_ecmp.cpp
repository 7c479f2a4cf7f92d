// ECMP tables: weights honoured, minimal disruption, stable across runs. And tunnel liveness.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "control/ecmp.hpp"
#include "control/liveness.hpp"

namespace tgw::control {
namespace {

std::vector<EcmpMember> members(std::vector<uint32_t> weights) {
    std::vector<EcmpMember> v;
    for (size_t i = 0; i < weights.size(); i++) v.push_back({"tun" + std::to_string(i), weights[i], true});
    return v;
}

// 100 000 random flows, as the fast path hashes them: table[hash & mask].
std::vector<uint32_t> flows(unsigned seed = 7) {
    std::mt19937 rng(seed);
    std::vector<uint32_t> f(100000);
    for (auto& x : f) x = rng();
    return f;
}

struct Spread {
    std::vector<uint32_t> weights;
};
class Weights : public ::testing::TestWithParam<Spread> {};

TEST_P(Weights, WithinFivePercentOfShare) {
    auto m = members(GetParam().weights);
    auto t = ecmp_table(m);
    ASSERT_EQ(t->size(), ecmp_table_size);
    std::vector<unsigned> hits(m.size()), slots(m.size());
    for (uint8_t x : *t) slots[x]++;
    for (uint32_t h : flows()) hits[(*t)[h & (ecmp_table_size - 1)]]++;
    double total_w = 0;
    for (auto& x : m) total_w += x.weight;
    for (size_t i = 0; i < m.size(); i++) {
        double share = m[i].weight / total_w;
        // The table is what the control side decides. Rendezvous hashing balances it
        // statistically: within 3% of the share, or 4 binomial deviations for small shares
        // (a 1/40 share at 2^18 slots has sigma 1.2%).
        double want_slots = ecmp_table_size * share;
        double sd = std::sqrt(want_slots * (1 - share));
        EXPECT_NEAR(slots[i], want_slots, std::max(want_slots * 0.03, 4 * sd)) << "member " << i << " table share";
        // 100 000 random flows add sampling noise of sqrt(n) flows: 5% of the share, or four
        // standard deviations for members whose share is too small for 5% to be meaningful.
        double want = 100000.0 * share;
        EXPECT_NEAR(hits[i], want, std::max(want * 0.05, 4 * std::sqrt(want)))
            << "member " << i << " weight " << m[i].weight;
    }
}

INSTANTIATE_TEST_SUITE_P(Table, Weights,
                         ::testing::Values(Spread{{1, 1}}, Spread{{1, 3}}, Spread{{1, 1, 1, 1}},
                                           Spread{{1, 2, 3, 4}}, Spread{{5, 1, 1, 1, 1, 1, 1, 1}},
                                           Spread{std::vector<uint32_t>(16, 1)},
                                           Spread{{1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4}}));

TEST(Ecmp, RemovingAMemberMovesOnlyItsFlows) {
    for (size_t n : {2u, 4u, 16u}) {
        auto m = members(std::vector<uint32_t>(n, 1));
        auto before = ecmp_table(m);
        m[1].live = false;
        auto after = ecmp_table(m);
        size_t moved_other = 0, moved_own = 0, own = 0;
        for (uint32_t s = 0; s < ecmp_table_size; s++) {
            if ((*before)[s] == 1) {
                own++;
                moved_own += (*after)[s] != 1;
            } else {
                moved_other += (*before)[s] != (*after)[s];
            }
        }
        EXPECT_EQ(moved_other, 0u) << n << " members";
        EXPECT_EQ(moved_own, own) << "every flow of the dead member moves";
    }
}

TEST(Ecmp, AddingAMemberTakesOnlyItsShare) {
    auto m = members({1, 1, 1});
    auto before = ecmp_table(m);
    m.push_back({"tun3", 1, true});
    auto after = ecmp_table(m);
    size_t moved = 0, moved_elsewhere = 0;
    for (uint32_t s = 0; s < ecmp_table_size; s++) {
        if ((*before)[s] != (*after)[s]) {
            moved++;
            moved_elsewhere += (*after)[s] != 3;
        }
    }
    EXPECT_EQ(moved_elsewhere, 0u) << "flows move only to the new member";
    EXPECT_NEAR(double(moved) / ecmp_table_size, 0.25, 0.01) << "its fair share";
}

TEST(Ecmp, StableAcrossRunsAndOrder) {
    auto a = ecmp_table(members({1, 2, 3}));
    // Same names and weights computed afresh (memo bypassed by a different live pattern first).
    auto m = members({1, 2, 3});
    m[0].live = false;
    ecmp_table(m);
    m[0].live = true;
    auto b = ecmp_table(m);
    EXPECT_EQ(*a, *b);
    // Golden value: the table depends only on names and weights, on any machine.
    uint64_t h = 1469598103934665603ull;
    for (uint8_t x : *a) h = (h ^ x) * 1099511628211ull;
    EXPECT_EQ(h, 0xa78a71651da2e4e0ull) << std::hex << h << ": the table changed; flows would move on upgrade";
}

TEST(Ecmp, NoLiveMemberGivesEmptyTable) {
    auto m = members({1, 1});
    m[0].live = m[1].live = false;
    EXPECT_TRUE(ecmp_table(m)->empty());
}

// ---- liveness ----

config::Config ka_config(uint32_t interval, uint32_t retries, uint32_t hold) {
    config::Config c;
    config::Tunnel t;
    t.name = "hub1";
    t.keepalive = {true, interval, retries, hold};
    c.tunnels.push_back(t);
    t.name = "hub2";
    t.keepalive = {};
    c.tunnels.push_back(t);
    return c;
}

TEST(Liveness, DownAfterRetriesUpAfterHoldDown) {
    Liveness l;
    l.configure(ka_config(1, 3, 2), 0);
    std::vector<std::string> sent;
    uint64_t t = 0;
    auto step = [&](uint64_t to, bool answer) {
        std::vector<LivenessEvent> ev;
        for (; t <= to; t += 100) {
            for (auto& n : l.due(t)) {
                sent.push_back(n);
                if (answer) l.on_reply(n, t + 10);
            }
            for (auto& e : l.update(t)) ev.push_back(e);
        }
        return ev;
    };
    EXPECT_TRUE(step(5000, true).empty());
    EXPECT_TRUE(l.is_up("hub1"));
    EXPECT_EQ(sent.size(), 6u) << "one per second, only for the tunnel with keepalive";
    // Peer stops answering at 5.1 s: down when the 4th probe goes unanswered (3 retries).
    auto ev = step(8000, false);
    EXPECT_TRUE(ev.empty());
    ev = step(9000, false);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_FALSE(ev[0].up);
    EXPECT_EQ(l.down().count("hub1"), 1u);
    EXPECT_TRUE(l.is_up("hub2")) << "no keepalive, never down";
    // Answers again: up only after 2 s of replies (hold-down).
    ev = step(10000, true);
    EXPECT_TRUE(ev.empty()) << "still holding down";
    ev = step(12500, true);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_TRUE(ev[0].up);
    EXPECT_TRUE(l.down().empty());
}

TEST(Liveness, ReloadKeepsStateOfSurvivors) {
    Liveness l;
    l.configure(ka_config(1, 1, 0), 0);
    for (uint64_t t = 0; t <= 3000; t += 100) {
        l.due(t);
        l.update(t);
    }
    ASSERT_EQ(l.down().count("hub1"), 1u);
    l.configure(ka_config(1, 1, 0), 3100);
    EXPECT_EQ(l.down().count("hub1"), 1u) << "a reload does not resurrect a dead tunnel";
    config::Config none;
    l.configure(none, 3200);
    EXPECT_TRUE(l.down().empty()) << "a tunnel without keepalive is up";
}

}  // namespace
}  // namespace tgw::control
