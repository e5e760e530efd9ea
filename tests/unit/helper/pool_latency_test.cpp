#include "pool_latency.hpp"

#include <gtest/gtest.h>

#include <set>

namespace pp::helper {
namespace {

using std::chrono::milliseconds;

TEST(PoolLatency, DefaultUntilAnythingIsTimed) {
    const PoolLatency p;
    EXPECT_EQ(p.sample(PoolStep::Answer, 12345), PoolLatency::kDefault);
}

TEST(PoolLatency, DrawsFromItsOwnStepAndFromAllWhileEmpty) {
    PoolLatency p;
    p.record(PoolStep::Start, milliseconds(100));
    p.record(PoolStep::Answer, milliseconds(300));
    for (std::uint64_t r = 0; r < 10; ++r) {
        EXPECT_EQ(p.sample(PoolStep::Start, r), milliseconds(100));
        EXPECT_EQ(p.sample(PoolStep::Answer, r), milliseconds(300));
    }
    std::set<long> choose;
    for (std::uint64_t r = 0; r < 10; ++r) choose.insert(p.sample(PoolStep::Choose, r).count());
    EXPECT_EQ(choose, (std::set<long>{100, 300})) << "an empty step draws from every step's durations";
}

TEST(PoolLatency, KeepsTheRecentOnesAndDrawsEachAlike) {
    PoolLatency p;
    const std::size_t extra = 40;
    for (std::size_t i = 0; i < PoolLatency::kCapacity + extra; ++i)
        p.record(PoolStep::Answer, milliseconds(static_cast<long>(i)));
    EXPECT_EQ(p.size(PoolStep::Answer), PoolLatency::kCapacity);
    std::set<long> drawn;
    for (std::uint64_t r = 0; r < PoolLatency::kCapacity; ++r)
        drawn.insert(p.sample(PoolStep::Answer, r).count());
    EXPECT_EQ(drawn.size(), PoolLatency::kCapacity) << "every held duration can be drawn";
    EXPECT_EQ(*drawn.begin(), static_cast<long>(extra)) << "the oldest were replaced";
    EXPECT_EQ(*drawn.rbegin(), static_cast<long>(PoolLatency::kCapacity + extra - 1));
}

TEST(PoolLatency, TimedRecordsRefusalsButNotRequestsWithoutAnswer) {
    const auto before = pool_latency().size(PoolStep::Choose);
    EXPECT_EQ(timed(PoolStep::Choose, [] { return 1; }), 1);
    EXPECT_THROW(timed(PoolStep::Choose,
                       []() -> int {
                           throw cognito::ServiceError(cognito::Failure::Rejected, "CodeMismatchException",
                                                       "x");
                       }),
                 cognito::ServiceError);
    EXPECT_EQ(pool_latency().size(PoolStep::Choose), before + 2)
        << "a wrong code is an answer of the pool too";
    EXPECT_THROW(
        timed(PoolStep::Choose,
              []() -> int { throw cognito::ServiceError(cognito::Failure::Timeout, "", "no answer"); }),
        cognito::ServiceError);
    EXPECT_EQ(pool_latency().size(PoolStep::Choose), before + 2) << "no answer says nothing about the pool";
}

}  // namespace
}  // namespace pp::helper
