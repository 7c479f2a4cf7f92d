// Per-stage cycle sampling (dp/profile.hpp): which runs are sampled, and that a sampled run
// through the real stages counts each stage's packets exactly, an unsampled one nothing.
#include "dp/profile.hpp"

#include "fixture.hpp"

namespace tgw::test {
namespace {

using namespace wire;
using dp::Stage;

TEST(StageSampler, OneRunInN) {
    dp::StageSampler s;
    for (int i = 0; i < 10; i++) {
        s.next(0);
        EXPECT_FALSE(s.on) << "0 = off";
    }
    int on = 0;
    for (int i = 1; i <= 12; i++) {
        s.next(4);
        EXPECT_EQ(s.on, i % 4 == 0) << "run " << i;
        on += s.on;
    }
    EXPECT_EQ(on, 3);
    s.next(1);
    EXPECT_TRUE(s.on);
}

TEST(StageSampler, TimedRecordsOnlySampledNonEmptyCalls) {
    struct Ctx {
        dp::StageSampler sampler;
        dp::LcoreCounters* ctr;
    } c{{}, static_cast<dp::LcoreCounters*>(calloc(1, sizeof(dp::LcoreCounters)))};
    int ran = 0;
    dp::timed(c, Stage::route, 32, [&] { ran++; });
    c.sampler.on = true;
    dp::timed(c, Stage::route, 0, [&] { ran++; });
    dp::timed(c, Stage::route, 32, [&] { ran++; });
    dp::timed(c, Stage::route, 8, [&] { ran++; });
    EXPECT_EQ(ran, 4) << "the stage always runs";
    const dp::StageCycles& k = c.ctr->stages[unsigned(Stage::route)];
    EXPECT_EQ(k.calls, 2u);
    EXPECT_EQ(k.pkts, 40u);
    EXPECT_GT(k.cycles, 0u);
    EXPECT_STREQ(dp::stage_name(Stage::esp_out), "esp_out");
    EXPECT_STREQ(dp::stage_name(Stage::tx), "tx");
    free(c.ctr);
}

class StageCount : public DpTest {
protected:
    void SetUp() override {
        DpTest::SetUp();
        neigh_->set(0, ip("10.10.1.2"), host_mac, true);
        neigh_->set(1, ip("192.168.60.2"), peer_mac, true);
    }
    std::vector<Bytes> frames() {
        // 3 to encapsulate (10.20/24 -> the tunnel).
        std::vector<Bytes> v;
        for (int i = 0; i < 3; i++)
            v.push_back(Pkt::eth(lan_mac, host_mac, ethertype::ipv4,
                                 Pkt::ipv4("10.10.1.2", "10.20.0.5", ipproto::icmp, Pkt::icmp_echo())));
        return v;
    }
};

TEST_F(StageCount, SampledRunCountsEveryStageItRan) {
    build(base_config());
    ctx_.sampler.on = false;
    auto o = run_frames(frames(), 0);
    ASSERT_EQ(o.tx[1].size(), 3u);
    for (unsigned i = 0; i < dp::stage_count; i++) EXPECT_EQ(ctr_->stages[i].pkts, 0u) << i;

    ctx_.sampler.on = true;
    o = run_frames(frames(), 0);
    ASSERT_EQ(o.tx[1].size(), 3u);
    auto pk = [&](Stage s) { return ctr_->stages[unsigned(s)].pkts; };
    EXPECT_EQ(pk(Stage::ingress), 0u) << "the fixture runs ingress itself, untimed";
    EXPECT_EQ(pk(Stage::route), 3u);
    EXPECT_EQ(pk(Stage::gre_encap), 3u);
    EXPECT_EQ(pk(Stage::egress), 3u);
    EXPECT_EQ(pk(Stage::esp_out), 0u) << "no packet went there: not counted";
    EXPECT_EQ(pk(Stage::gre_decap), 0u);
    EXPECT_GT(ctr_->stages[unsigned(Stage::gre_encap)].cycles, 0u);
}

}  // namespace
}  // namespace tgw::test
