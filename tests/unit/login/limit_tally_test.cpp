// The one rule by which a login's end is counted in the backoff budget (login/limit_tally.hpp), as values.
#include "login/limit_tally.hpp"

#include <gtest/gtest.h>

namespace pp::helper {
namespace {

using wire::Outcome;
using TryEnd = RateLimits::TryEnd;

TEST(LimitTally, NothingReservedAndNothingTriedSettlesNothing) {
    const LimitTally tally;
    for (const Outcome o : {Outcome::AuthErr, Outcome::Abort, Outcome::MaxTries, Outcome::AuthinfoUnavail})
        EXPECT_FALSE(tally.settlement(o).has_value());
}

TEST(LimitTally, AReservedTryEndsUntriedWhenNoProofWasTried) {
    LimitTally tally;
    tally.reserved();
    const auto s = tally.settlement(Outcome::Abort);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->end, TryEnd::Untried);
    EXPECT_TRUE(s->reserved);
    EXPECT_FALSE(s->unknown);
}

TEST(LimitTally, SuccessReleasesTheTryAsASuccess) {
    LimitTally tally;
    tally.reserved();
    tally.proof_tried();
    const auto s = tally.settlement(Outcome::Success);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->end, TryEnd::Success);
}

TEST(LimitTally, AProofTriedAndRefusedCountsAsAFailure) {
    LimitTally tally;
    tally.reserved();
    tally.proof_tried();
    for (const Outcome o : {Outcome::AuthErr, Outcome::MaxTries, Outcome::Abort, Outcome::CredInsufficient}) {
        const auto s = tally.settlement(o);
        ASSERT_TRUE(s.has_value());
        EXPECT_EQ(s->end, TryEnd::Failure) << static_cast<int>(o);
    }
}

TEST(LimitTally, ACodeSentAndHungUpOnCountsAsAWrongOne) {
    LimitTally tally;
    tally.reserved();
    tally.code_sent();
    EXPECT_TRUE(tally.has_sent_code());
    const auto s = tally.settlement(Outcome::ConvErr);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->end, TryEnd::Failure);
}

TEST(LimitTally, AnOutageCountsAgainstNobody) {
    LimitTally tally;
    tally.reserved();
    tally.code_sent();
    tally.proof_tried();
    for (const Outcome o : {Outcome::AuthinfoUnavail, Outcome::ServiceErr}) {
        const auto s = tally.settlement(o);
        ASSERT_TRUE(s.has_value());
        EXPECT_EQ(s->end, TryEnd::Untried) << static_cast<int>(o);
    }
}

TEST(LimitTally, AFailureWithoutAReservationIsStillCounted) {
    LimitTally tally;
    tally.proof_tried();
    const auto s = tally.settlement(Outcome::AuthErr);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->end, TryEnd::Failure);
    EXPECT_FALSE(s->reserved);
}

TEST(LimitTally, SettledOnceTheReservationIsGone) {
    LimitTally tally;
    tally.reserved();
    ASSERT_TRUE(tally.settlement(Outcome::Abort).has_value());
    tally.settled();
    EXPECT_FALSE(tally.settlement(Outcome::Abort).has_value());
}

TEST(LimitTally, TheUnknownWalkIsCountedInMemoryOnly) {
    LimitTally tally;
    tally.reserved();
    tally.unknown_walk();
    tally.proof_tried();
    EXPECT_TRUE(tally.is_unknown_walk());
    const auto s = tally.settlement(Outcome::MaxTries);
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->unknown);
    EXPECT_EQ(s->end, TryEnd::Failure);
}

TEST(LimitTally, ARefusedSendIsKept) {
    LimitTally tally;
    EXPECT_FALSE(tally.was_send_refused());
    tally.send_refused();
    EXPECT_TRUE(tally.was_send_refused());
}

}  // namespace
}  // namespace pp::helper
