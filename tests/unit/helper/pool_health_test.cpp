#include "pool_health.hpp"

#include <gtest/gtest.h>

#include "login/login.hpp"

namespace pp::helper {
namespace {

using cognito::Failure;
using cognito::ServiceError;
using std::chrono::microseconds;
using std::chrono::seconds;
using Clock = PoolHealth::Clock;

const ServiceError kThrottled(Failure::Rejected, "TooManyRequestsException", "Rate exceeded", 400);

TEST(PoolHealth, NothingRecordedIsNoOutage) {
    const PoolHealth h;
    EXPECT_FALSE(h.draw(Clock::now(), 0));
    EXPECT_EQ(h.outage_fraction(Clock::now()), 0);
}

TEST(PoolHealth, EveryDrawOfAWindowOfOutagesIsTheOutageAsItWasMet) {
    PoolHealth h;
    const auto t = Clock::now();
    h.failed(kThrottled, microseconds(1234), true, t);
    for (std::uint64_t pick : {0ULL, 1ULL, 99ULL, ~0ULL}) {
        const auto outage = h.draw(t + seconds(1), pick);
        ASSERT_TRUE(outage);
        EXPECT_EQ(outage->failure, Failure::Rejected);
        EXPECT_EQ(outage->name, "TooManyRequestsException");
        EXPECT_EQ(outage->took, microseconds(1234));
    }
}

// The chance of an outage is the window's share of them: each request is drawn as often as any other.
TEST(PoolHealth, ADrawIsOneOfTheWindowsRequestsUniformly) {
    PoolHealth h;
    const auto t = Clock::now();
    h.answered(t);
    h.failed(ServiceError(Failure::Unreachable, "", "connection refused"), microseconds(5), true, t);
    h.answered(t);
    h.answered(t);
    EXPECT_DOUBLE_EQ(h.outage_fraction(t), 0.25);
    int outages = 0;
    for (std::uint64_t pick = 0; pick < 400; ++pick) outages += h.draw(t, pick) ? 1 : 0;
    EXPECT_EQ(outages, 100);
}

// Old requests leave the window; with none left, the last one kept stands for the pool (the last known
// state).
TEST(PoolHealth, WithNothingRecentTheLastKnownStateStands) {
    PoolHealth h;
    const auto t = Clock::now();
    h.answered(t);
    h.failed(kThrottled, microseconds(7), true, t + seconds(1));
    const auto later = t + PoolHealth::kWindow + seconds(30);
    EXPECT_DOUBLE_EQ(h.outage_fraction(later), 1.0);
    for (std::uint64_t pick = 0; pick < 8; ++pick) EXPECT_TRUE(h.draw(later, pick));
    h.answered(later);
    EXPECT_DOUBLE_EQ(h.outage_fraction(later), 0.0);
    for (std::uint64_t pick = 0; pick < 8; ++pick) EXPECT_FALSE(h.draw(later, pick));
    // An answer alone in the window after a long quiet: the pool is taken as healthy again.
    EXPECT_DOUBLE_EQ(h.outage_fraction(later + PoolHealth::kWindow + seconds(1)), 0.0);
}

// Bounded: only the last kCapacity requests are kept.
TEST(PoolHealth, KeepsOnlyTheLastRequests) {
    PoolHealth h;
    const auto t = Clock::now();
    for (std::size_t i = 0; i < PoolHealth::kCapacity; ++i) h.failed(kThrottled, microseconds(1), true, t);
    EXPECT_DOUBLE_EQ(h.outage_fraction(t), 1.0);
    for (std::size_t i = 0; i < PoolHealth::kCapacity; ++i) h.answered(t);
    EXPECT_DOUBLE_EQ(h.outage_fraction(t), 0.0);
}

// A person's own refusals are answers; a timeout the login's own deadline caused is no news of the pool.
TEST(PoolHealth, APersonsOwnFailuresAreNoOutage) {
    PoolHealth h;
    const auto t = Clock::now();
    for (const char* name :
         {"CodeMismatchException", "NotAuthorizedException", "UserNotFoundException",
          "LimitExceededException", "UserLambdaValidationException", "CodeDeliveryFailureException"})
        h.failed(ServiceError(Failure::Rejected, name, "no"), microseconds(1), true, t);
    EXPECT_DOUBLE_EQ(h.outage_fraction(t), 0.0);
    PoolHealth cut_short;
    cut_short.failed(ServiceError(Failure::Timeout, "", "the login's time ran out"), microseconds(1), false,
                     t);
    EXPECT_FALSE(cut_short.draw(t, 0));
    cut_short.failed(ServiceError(Failure::Timeout, "", "request timed out"), microseconds(1), true, t);
    EXPECT_TRUE(cut_short.draw(t, 0));
}

// Every outage ends a real login as "cannot be reached" (service_failure), so the decoy's ending is that one.
TEST(PoolHealth, EveryOutageEndsARealLoginAsUnreachable) {
    for (const char* name :
         {"TooManyRequestsException", "InternalErrorException", "ForbiddenException",
          "UnexpectedLambdaException", "InvalidLambdaResponseException",
          "InvalidSmsRoleAccessPolicyException", "InvalidSmsRoleTrustRelationshipException",
          "InvalidEmailRoleAccessPolicyException"}) {
        const ServiceError e(Failure::Rejected, name, "x");
        ASSERT_TRUE(PoolHealth::outage_of(e)) << name;
        EXPECT_EQ(service_failure(e).outcome(), wire::Outcome::AuthinfoUnavail) << name;
        EXPECT_EQ(service_failure(DecoyOutage({Failure::Rejected, name, microseconds(1)}, "walk")).outcome(),
                  wire::Outcome::AuthinfoUnavail)
            << name;
    }
    for (auto f :
         {Failure::Unreachable, Failure::Timeout, Failure::Tls, Failure::ServerError, Failure::Malformed}) {
        const ServiceError e(f, "", "x");
        ASSERT_TRUE(PoolHealth::outage_of(e));
        EXPECT_EQ(service_failure(e).outcome(), wire::Outcome::AuthinfoUnavail);
    }
    EXPECT_FALSE(PoolHealth::outage_of(ServiceError(Failure::Rejected, "SomethingNewException", "x")));
}

}  // namespace
}  // namespace pp::helper
