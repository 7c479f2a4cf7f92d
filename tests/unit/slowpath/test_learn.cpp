// The MAC learner: epochs across reloads, stale events, mac_limit, ageing, fed through a
// real learn ring as the workers feed it.
#include <gtest/gtest.h>
#include <rte_malloc.h>
#include <rte_ring_elem.h>

#include "dp/bridge.hpp"
#include "slowpath/learn.hpp"

namespace tgw::slowpath {
namespace {

std::unique_ptr<dp::Snapshot> snap_with(const char* signature, uint32_t limit, uint32_t ageing) {
    auto s = std::make_unique<dp::Snapshot>();
    s->l2 = std::make_unique<dp::BridgeTables>();
    s->l2->signature = signature;
    dp::Bd d;
    d.n = 2;
    d.mac_limit = limit;
    d.ageing_s = ageing;
    d.name = "d";
    s->l2->domains.push_back(d);
    return s;
}

dp::LearnEvent ev(uint8_t last, uint16_t member, uint16_t epoch) {
    return dp::LearnEvent{dp::MacKey{{2, 0, 0, 0, 0, last}, 0}, member, epoch, 0};
}

class LearnTest : public ::testing::Test {
protected:
    void SetUp() override {
        static int n = 0;
        std::string name = "lt" + std::to_string(n++);
        table = std::make_unique<dp::MacTable>(name.c_str(), 1024);
        ring = rte_ring_create_elem((name + "r").c_str(), sizeof(dp::LearnEvent), 64, 0,
                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
        ctr = static_cast<dp::LcoreCounters*>(rte_zmalloc("lc", sizeof(dp::LcoreCounters), 64));
        ASSERT_TRUE(table->ok() && ring && ctr);
        learner = std::make_unique<Learner>(*table, std::vector<rte_ring*>{ring}, ctr, 1000);
    }
    void TearDown() override {
        learner.reset();
        rte_ring_free(ring);
        rte_free(ctr);
    }
    std::unique_ptr<dp::MacTable> table;
    rte_ring* ring = nullptr;
    dp::LcoreCounters* ctr = nullptr;
    std::unique_ptr<Learner> learner;
};

TEST_F(LearnTest, SameDomainsKeepTheEpochChangedOnesStartANewOne) {
    auto a = snap_with("d{lan,tap}", 10, 300), b = snap_with("d{lan,tap}", 10, 300);
    auto c = snap_with("d{lan,tap,tap2}", 10, 300);
    learner->prepare(*a->l2);
    learner->prepare(*b->l2);
    EXPECT_EQ(a->l2->epoch, b->l2->epoch) << "a liveness recompile must not forget MACs";
    learner->prepare(*c->l2);
    EXPECT_NE(c->l2->epoch, b->l2->epoch);
    learner->learn(*c, ev(1, 0, b->l2->epoch), 5);
    EXPECT_EQ(learner->counters().stale, 1u) << "an event from the old members is ignored";
    EXPECT_EQ(table->size(), 0u);
}

TEST_F(LearnTest, EventsThroughTheRingLimitAndAgeing) {
    auto s = snap_with("x", 2, 3);
    learner->prepare(*s->l2);
    const uint16_t e = s->l2->epoch;
    for (uint8_t i = 0; i < 3; i++) {
        dp::LearnEvent x = ev(i, 1, e);
        ASSERT_EQ(rte_ring_sp_enqueue_elem(ring, &x, sizeof x), 0);
    }
    EXPECT_EQ(learner->poll(*s, 10 * 1000), 3u);  // hz 1000: now = 10 s
    EXPECT_EQ(learner->counters().added, 2u);
    EXPECT_EQ(ctr->drops[unsigned(dp::Drop::bd_mac_limit)], 1u);
    EXPECT_EQ(dp::MacEntry::member(table->lookup(ev(0, 1, e).key)), 1);
    learner->learn(*s, ev(0, 0, e), 11);  // the station moved to member 0
    EXPECT_EQ(learner->counters().moved, 1u);
    learner->age(*s, 13);  // entry 1 learned at 10: 3 s old = ageing
    EXPECT_EQ(learner->counters().aged, 1u);
    EXPECT_EQ(table->lookup(ev(1, 1, e).key), 0u);
    EXPECT_NE(table->lookup(ev(0, 0, e).key), 0u);
}

}  // namespace
}  // namespace tgw::slowpath
