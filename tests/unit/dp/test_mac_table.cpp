// The bridge MAC table: learning, moves, limits, epochs and ageing, on the writer's API and
// the worker's bulk lookup.
#include <gtest/gtest.h>

#include "dp/mac_table.hpp"

namespace tgw::dp {
namespace {

MacKey key(uint8_t last, uint16_t bd = 0) { return MacKey{{2, 0, 0, 0, 0, last}, bd}; }

class MacTableTest : public ::testing::Test {
protected:
    void SetUp() override {
        static int n = 0;
        t = std::make_unique<MacTable>(("mt" + std::to_string(n++)).c_str(), 1024);
        ASSERT_TRUE(t->ok());
    }
    std::unique_ptr<MacTable> t;
};

TEST_F(MacTableTest, LearnThenLookup) {
    EXPECT_EQ(t->lookup(key(1)), 0u);
    EXPECT_EQ(t->learn(key(1), 3, 1, 100, 10), MacTable::Learned::added);
    uint64_t w = t->lookup(key(1));
    ASSERT_TRUE(w & MacEntry::valid);
    EXPECT_EQ(MacEntry::member(w), 3);
    EXPECT_EQ(MacEntry::epoch(w), 1);
    EXPECT_EQ(MacEntry::stamp(w), 100u);
    EXPECT_EQ(t->lookup(key(1, 1)), 0u) << "another domain's table is separate";
    EXPECT_EQ(t->count(0), 1u);
}

TEST_F(MacTableTest, RefreshAndMove) {
    t->learn(key(1), 3, 1, 100, 10);
    EXPECT_EQ(t->learn(key(1), 3, 1, 150, 10), MacTable::Learned::refreshed);
    EXPECT_EQ(MacEntry::stamp(t->lookup(key(1))), 150u);
    EXPECT_EQ(t->learn(key(1), 4, 1, 160, 10), MacTable::Learned::moved);
    EXPECT_EQ(MacEntry::member(t->lookup(key(1))), 4);
    EXPECT_EQ(t->count(0), 1u);
}

TEST_F(MacTableTest, LimitPerDomain) {
    for (uint8_t i = 0; i < 3; i++) EXPECT_EQ(t->learn(key(i), 0, 1, 1, 3), MacTable::Learned::added);
    EXPECT_EQ(t->learn(key(9), 0, 1, 1, 3), MacTable::Learned::limit);
    EXPECT_EQ(t->lookup(key(9)), 0u);
    EXPECT_EQ(t->learn(key(9, 1), 0, 1, 1, 3), MacTable::Learned::added) << "limits are per domain";
    EXPECT_EQ(t->learn(key(0), 1, 1, 2, 3), MacTable::Learned::moved) << "known MACs still move";
}

TEST_F(MacTableTest, AgeingRemovesOnlyOldEntries) {
    t->learn(key(1), 0, 1, 100, 10);
    t->learn(key(2), 0, 1, 105, 10);
    t->learn(key(3, 1), 0, 1, 100, 10);
    auto ageing = [](uint16_t bd) { return bd == 0 ? 5u : 100u; };
    EXPECT_EQ(t->age(1, 104, ageing), 0u);
    EXPECT_EQ(t->age(1, 105, ageing), 1u);  // key 1: 105 - 100 >= 5
    EXPECT_EQ(t->lookup(key(1)), 0u);
    EXPECT_NE(t->lookup(key(2)), 0u);
    EXPECT_NE(t->lookup(key(3, 1)), 0u);
    EXPECT_EQ(t->count(0), 1u);
    EXPECT_EQ(t->learn(key(1), 0, 1, 106, 10), MacTable::Learned::added) << "slot reusable";
}

TEST_F(MacTableTest, OtherEpochIsSweptAndRelearned) {
    t->learn(key(1), 0, 1, 100, 10);
    t->learn(key(2), 0, 2, 100, 10);  // a new epoch: member numbers changed
    EXPECT_EQ(t->age(2, 100, [](uint16_t) { return 300u; }), 1u);
    EXPECT_EQ(t->lookup(key(1)), 0u);
    EXPECT_EQ(MacEntry::epoch(t->lookup(key(2))), 2);
}

TEST_F(MacTableTest, DomainGoneMeansEntriesGo) {
    t->learn(key(1, 5), 0, 1, 100, 10);
    EXPECT_EQ(t->age(1, 100, [](uint16_t bd) { return bd == 5 ? 0u : 300u; }), 1u);
    EXPECT_EQ(t->size(), 0u);
}

TEST_F(MacTableTest, BulkLookupMatchesSingle) {
    MacKey keys[MacTable::max_bulk];
    for (unsigned i = 0; i < MacTable::max_bulk; i++) {
        keys[i] = key(uint8_t(i));
        if (i % 3 == 0) t->learn(keys[i], uint16_t(i), 1, 7, 1000);
    }
    uint64_t w[MacTable::max_bulk];
    t->lookup_bulk(keys, MacTable::max_bulk, w);
    for (unsigned i = 0; i < MacTable::max_bulk; i++) {
        EXPECT_EQ(w[i], t->lookup(keys[i])) << i;
        EXPECT_EQ(w[i] != 0, i % 3 == 0) << i;
    }
}

TEST_F(MacTableTest, FlushEmptiesEverything) {
    for (uint8_t i = 0; i < 200; i++) t->learn(key(i, i % 4), 0, 1, 1, 1000);  // > one age() round
    EXPECT_EQ(t->size(), 200u);
    t->flush();
    EXPECT_EQ(t->size(), 0u);
    EXPECT_EQ(t->count(1), 0u);
    unsigned seen = 0;
    t->for_each([&](const MacKey&, uint64_t) { seen++; });
    EXPECT_EQ(seen, 0u);
}

}  // namespace
}  // namespace tgw::dp
