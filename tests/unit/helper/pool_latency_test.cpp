#include "pool_latency.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace pp::helper {
namespace {

using std::chrono::milliseconds;

TEST(PoolLatency, DefaultUntilAnythingIsRecorded) {
    const PoolLatency p;
    std::size_t cursor = 7;
    EXPECT_EQ(p.draw(PoolStep::Answer, cursor), PoolLatency::kDefault);
}

TEST(PoolLatency, WalksForwardThroughItsStepsWaitsInOrder) {
    PoolLatency p;
    // Two real logins: start, choose, three answers each.
    for (long login : {0, 1000}) {
        p.record(PoolStep::Start, milliseconds(login + 100));
        p.record(PoolStep::Choose, milliseconds(login + 200));
        for (long a = 1; a <= 3; ++a) p.record(PoolStep::Answer, milliseconds(login + 300 + a));
    }
    std::size_t cursor = 0;
    EXPECT_EQ(p.draw(PoolStep::Start, cursor), milliseconds(100));
    EXPECT_EQ(p.draw(PoolStep::Choose, cursor), milliseconds(200));
    EXPECT_EQ(p.draw(PoolStep::Answer, cursor), milliseconds(301));
    EXPECT_EQ(p.draw(PoolStep::Answer, cursor), milliseconds(302)) << "the same moment of the pool";
    EXPECT_EQ(p.draw(PoolStep::Answer, cursor), milliseconds(303));
    // The next wait is the second login's start: an answer is then one of the six, and the walk goes on from
    // it.
    const std::set<PoolLatency::Wait> answers{milliseconds(301),  milliseconds(302),  milliseconds(303),
                                              milliseconds(1301), milliseconds(1302), milliseconds(1303)};
    const auto skipped = p.draw(PoolStep::Answer, cursor);
    EXPECT_TRUE(answers.count(skipped)) << skipped.count();
    if (skipped == milliseconds(301)) {
        EXPECT_EQ(p.draw(PoolStep::Answer, cursor), milliseconds(302));
    }
    cursor = 9;  // the newest: the walk wraps to the oldest
    EXPECT_EQ(p.draw(PoolStep::Answer, cursor), milliseconds(1303));
    const auto choose = p.draw(PoolStep::Choose, cursor);  // the oldest is a start: a choice, either one
    EXPECT_TRUE(choose == milliseconds(200) || choose == milliseconds(1200)) << choose.count();
}

// After a skip every wait of the step is as likely: the first refusal after a run of accepted logins must not
// be copied as often as that run is long (session 16: with the warm-up's accepted logins first, most decoys
// copied the helper's first refusal). Ten accepted answers, then two logins' three refusals each: from every
// place in the history that is not a refusal, 600 draws each; each refusal is drawn about 1/6 of the time.
TEST(PoolLatency, AfterASkipEachWaitOfTheStepIsAsLikely) {
    PoolLatency p;
    for (int i = 0; i < 10; ++i) p.record(PoolStep::Accepted, milliseconds(900));
    for (long login : {0, 1000}) {
        p.record(PoolStep::Start, milliseconds(login + 100));
        for (long a = 1; a <= 3; ++a) p.record(PoolStep::Answer, milliseconds(login + 300 + a));
    }
    std::map<long, int> drawn;
    int draws = 0;
    for (std::size_t start = 0; start < p.size(); ++start) {
        std::size_t probe = start;
        const auto first = p.draw(PoolStep::Answer, probe);
        if (probe == start + 1 && first != milliseconds(900)) continue;  // a refusal at the place: followed
        for (int i = 0; i < 600; ++i) {
            std::size_t cursor = start;
            ++drawn[static_cast<long>(p.draw(PoolStep::Answer, cursor).count() / 1000)];
            ++draws;
        }
    }
    ASSERT_EQ(drawn.size(), 6u);
    for (const auto& [ms, n] : drawn) {
        EXPECT_GT(n, draws / 6 * 7 / 10) << ms << " ms drawn " << n << " times of " << draws;
        EXPECT_LT(n, draws / 6 * 13 / 10) << ms << " ms drawn " << n << " times of " << draws;
    }
}

TEST(PoolLatency, AStepNeverRecordedTakesAnyWait) {
    PoolLatency p;
    p.record(PoolStep::Start, milliseconds(100));
    p.record(PoolStep::Answer, milliseconds(300));
    std::set<PoolLatency::Wait> choose;
    for (std::size_t c = 0; c < 4; ++c) {
        std::size_t cursor = c;
        choose.insert(p.draw(PoolStep::Choose, cursor));
    }
    EXPECT_EQ(choose, (std::set<PoolLatency::Wait>{milliseconds(100), milliseconds(300)}));
}

TEST(PoolLatency, KeepsTheRecentOnesAndEachCanBeDrawn) {
    PoolLatency p;
    const std::size_t extra = 40;
    for (std::size_t i = 0; i < PoolLatency::kCapacity + extra; ++i)
        p.record(PoolStep::Answer, milliseconds(static_cast<long>(i)));
    EXPECT_EQ(p.size(), PoolLatency::kCapacity);
    EXPECT_EQ(p.size(PoolStep::Answer), PoolLatency::kCapacity);
    std::set<PoolLatency::Wait> drawn;
    for (std::size_t c = 0; c < PoolLatency::kCapacity; ++c) {
        std::size_t cursor = c;
        drawn.insert(p.draw(PoolStep::Answer, cursor));
    }
    EXPECT_EQ(drawn.size(), PoolLatency::kCapacity) << "every held wait can be drawn";
    EXPECT_EQ(*drawn.begin(), milliseconds(static_cast<long>(extra))) << "the oldest were replaced";
    EXPECT_EQ(*drawn.rbegin(), milliseconds(static_cast<long>(PoolLatency::kCapacity + extra - 1)));
}

TEST(PoolLatency, TimedRecordsRefusalsButNotStepsWithoutAnswer) {
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
    EXPECT_THROW(timed(PoolStep::Choose, []() -> int { throw std::runtime_error("a limit"); }),
                 std::runtime_error);
    EXPECT_EQ(pool_latency().size(PoolStep::Choose), before + 2) << "no answer says nothing about the pool";
}

TEST(PoolLatency, TimedCountsFromTheStepsStart) {
    PoolLatency& p = pool_latency();
    const auto earlier = std::chrono::steady_clock::now() - milliseconds(5000);
    (void)timed(PoolStep::Start, earlier, [] { return 0; });
    std::size_t cursor = p.size() - 1;  // the newest
    EXPECT_GE(p.draw(PoolStep::Start, cursor), milliseconds(5000));
}

// A real step lasts its pool wait to the microsecond; a wait kept in whole milliseconds would make every
// decoy pause shorter than the real step it copies by half a millisecond on average, a difference that adds
// up over the steps of a login and over many logins.
TEST(PoolLatency, TimedKeepsTheFractionOfAMillisecond) {
    PoolLatency& p = pool_latency();
    const auto earlier = std::chrono::steady_clock::now() - std::chrono::microseconds(1900);
    (void)timed(PoolStep::Start, earlier, [] { return 0; });
    std::size_t cursor = p.size() - 1;  // the newest
    EXPECT_GE(p.draw(PoolStep::Start, cursor), std::chrono::microseconds(1900));
}

// A decoy's code is always wrong, so its pause copies the pool refusing a code (Answer), never accepting one
// (Accepted: the tokens make that answer longer). An answer the pool took is kept apart; one it refused is an
// Answer; one it never gave (an outage) is not recorded.
TEST(PoolLatency, AnAcceptedAnswerIsNotAWaitTheDecoyCopies) {
    PoolLatency& p = pool_latency();
    const auto answers = p.size(PoolStep::Answer);
    const auto accepted = p.size(PoolStep::Accepted);
    const auto earlier = std::chrono::steady_clock::now() - milliseconds(40);
    (void)timed(PoolStep::Answer, earlier, [] { return 1; });
    EXPECT_EQ(p.size(PoolStep::Accepted), accepted + 1);
    EXPECT_EQ(p.size(PoolStep::Answer), answers);
    EXPECT_THROW((void)timed(PoolStep::Answer, earlier,
                             []() -> int {
                                 throw cognito::ServiceError(cognito::Failure::Rejected,
                                                             "CodeMismatchException",
                                                             "Invalid code or auth state for the user.", 400);
                             }),
                 cognito::ServiceError);
    EXPECT_EQ(p.size(PoolStep::Answer), answers + 1);
    EXPECT_EQ(p.size(PoolStep::Accepted), accepted + 1);
    EXPECT_THROW(
        (void)timed(PoolStep::Answer, earlier,
                    []() -> int { throw cognito::ServiceError(cognito::Failure::Timeout, "", "timed out"); }),
        cognito::ServiceError);
    EXPECT_EQ(p.size(PoolStep::Answer), answers + 1);
    EXPECT_EQ(p.size(PoolStep::Accepted), accepted + 1);

    // Drawn for an Answer, the accepted wait is passed over while a refused one is there.
    PoolLatency q;
    q.record(PoolStep::Accepted, milliseconds(900));
    q.record(PoolStep::Answer, milliseconds(200));
    q.record(PoolStep::Accepted, milliseconds(900));
    for (std::size_t start = 0; start < 3; ++start) {
        std::size_t cursor = start;
        EXPECT_EQ(q.draw(PoolStep::Answer, cursor), milliseconds(200)) << start;
    }
}

// A decoy's sleep wakes a little after its deadline (timer slack, the scheduler), while the real step it
// copies holds only the one wake-up already inside its recorded wait: pauses aim earlier by the mean of how
// late the recent ones woke, a stall longer than kMax counting as kMax.
TEST(WakeLateness, AimsEarlierByTheRecentMeanLateness) {
    using std::chrono::microseconds;
    WakeLateness w;
    EXPECT_EQ(w.lead(), microseconds(0)) << "nothing learnt: no lead";
    w.record(microseconds(100));
    w.record(microseconds(300));
    EXPECT_EQ(w.lead(), microseconds(200));
    for (std::size_t i = 0; i < WakeLateness::kCapacity; ++i) w.record(microseconds(500));
    EXPECT_EQ(w.lead(), microseconds(500)) << "only the recent ones count";
    for (std::size_t i = 0; i < WakeLateness::kCapacity; ++i) w.record(std::chrono::seconds(2));
    EXPECT_EQ(w.lead(), WakeLateness::kMax) << "a stall is load, not the timer";
    w.record(microseconds(-50));
    EXPECT_LE(w.lead(), WakeLateness::kMax);
    EXPECT_GE(w.lead(), microseconds(0));
}

}  // namespace
}  // namespace pp::helper
