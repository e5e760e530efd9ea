// The limits of issue #10 through RateLimits, one rule per test: the try reserved when a login is armed (so
// parallel logins share one budget), remote and local budgets apart, a local login another user runs on a
// budget of its own, sends counted on every canonical key of the person whatever was typed, the machine's
// ceiling and its audit lines, windows that end, and a send that counts when it is made.
// limit_store_test.cpp covers the store below.
#include "rate_limits.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "identifiers.hpp"
#include "syslog_capture.hpp"
#include "test_dir.hpp"

namespace pp::helper {
namespace {

using test::SyslogCapture;
using test::TestDir;
using ::testing::HasSubstr;
using ::testing::Not;
using TryEnd = RateLimits::TryEnd;

constexpr std::int64_t kMiB = 1024 * 1024;
// An arbitrary "now", on a minute (the machine's count is kept per minute): every time below is relative to
// it.
constexpr std::int64_t kT0 = 60 * 20'000;

std::string key_of(std::string_view typed) {
    const auto id = parse_identifier(typed, true);
    if (!id) throw std::invalid_argument("not an identifier: " + std::string(typed));
    return canonical_key(*id);
}

SendKeys to(std::vector<std::string> destinations, std::string rhost = "") {
    return SendKeys{std::move(destinations), std::move(rhost), false};
}

// The store lives in memory unless a test needs the file; the limits are the same either way.
class RateLimitsTest : public ::testing::Test {
  protected:
    RateLimits limits_{"", kMiB};
    LimitPolicy p_;
};

// --- Backoff: the try is reserved when the login is armed ---------------------------------------------

TEST_F(RateLimitsTest, TriesInFlightCountAgainstTheAllowance) {
    p_.failures_before_backoff = 3;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(limits_.reserve_try("alice", true, p_, kT0).seconds, 0) << i;
    EXPECT_EQ(limits_.reserve_try("alice", true, p_, kT0).seconds, 60)
        << "three logins in flight have taken the allowance: a fourth waits for one of them to end";
    limits_.settle_try("alice", true, TryEnd::Untried, false, true, p_, kT0);
    EXPECT_EQ(limits_.reserve_try("alice", true, p_, kT0).seconds, 0)
        << "a login that tried nothing gives its try back";
}

// A login's start only checks: logins that have spent nothing yet (left at the offer of a code) hold no try,
// and the try is reserved when the login is armed (issue #10: such logins held everyone else back).
TEST_F(RateLimitsTest, TheStartOfALoginReservesNothing) {
    p_.failures_before_backoff = 2;
    for (int i = 0; i < 10; ++i) EXPECT_EQ(limits_.check_try("alice", true, p_, kT0).seconds, 0) << i;
    EXPECT_EQ(limits_.reserve_try("alice", true, p_, kT0).seconds, 0);
    EXPECT_EQ(limits_.reserve_try("alice", true, p_, kT0).seconds, 0) << "ten starts reserved nothing";
    const auto full = limits_.check_try("alice", true, p_, kT0);
    EXPECT_EQ(full.seconds, 60) << "two armed tries in flight take the allowance: a start is told so too";
    EXPECT_TRUE(full.in_flight);
}

// A wait is told as one for tries in flight only when no failure causes it: the person is not told of
// failures that did not happen, nor spared the backoff of those that did.
TEST_F(RateLimitsTest, AWaitSaysWhetherFailuresOrTriesInFlightCauseIt) {
    p_.failures_before_backoff = 2;
    ASSERT_EQ(limits_.reserve_try("ivan", true, p_, kT0).seconds, 0);
    limits_.settle_try("ivan", true, TryEnd::Failure, false, true, p_, kT0);
    ASSERT_EQ(limits_.reserve_try("ivan", true, p_, kT0).seconds, 0);
    const auto held = limits_.reserve_try("ivan", true, p_, kT0);
    EXPECT_EQ(held.seconds, 60);
    EXPECT_TRUE(held.in_flight) << "one failure and one try in flight";
    limits_.settle_try("ivan", true, TryEnd::Failure, false, true, p_, kT0);
    const auto backoff = limits_.check_try("ivan", true, p_, kT0);
    EXPECT_EQ(backoff.seconds, 60);
    EXPECT_FALSE(backoff.in_flight) << "two failures: the backoff";
    ASSERT_EQ(limits_.reserve_try("ivan", true, p_, kT0 + 60).seconds, 0);
    const auto one_at_a_time = limits_.check_try("ivan", true, p_, kT0 + 60);
    EXPECT_EQ(one_at_a_time.seconds, 60);
    EXPECT_TRUE(one_at_a_time.in_flight) << "the wait is over and its one try is in flight";
}

// Many logins of one user started at the same instant: exactly the allowance gets through, however the
// threads interleave.
TEST_F(RateLimitsTest, ParallelLoginsShareOneBudget) {
    p_.failures_before_backoff = 4;
    constexpr int kLogins = 16;
    std::latch start(kLogins);
    std::atomic<int> admitted{0};
    std::vector<std::thread> logins;
    for (int i = 0; i < kLogins; ++i)
        logins.emplace_back([&] {
            start.arrive_and_wait();
            if (limits_.reserve_try("alice", true, p_, kT0).seconds == 0) ++admitted;
        });
    for (auto& t : logins) t.join();
    EXPECT_EQ(admitted.load(), 4);
    // They all fail: the fifth failure's wait is in force, and not one more try slips in.
    for (int i = 0; i < 4; ++i) limits_.settle_try("alice", true, TryEnd::Failure, false, true, p_, kT0);
    EXPECT_EQ(limits_.reserve_try("alice", true, p_, kT0).seconds, 60);
}

TEST_F(RateLimitsTest, BackoffDoublesFromOneMinuteUpToTheMaximum) {
    p_.failures_before_backoff = 2;
    p_.backoff_max = std::chrono::seconds(300);
    std::int64_t now = kT0;
    auto fail_once = [&] {
        ASSERT_EQ(limits_.reserve_try("bob", true, p_, now).seconds, 0);
        limits_.settle_try("bob", true, TryEnd::Failure, false, true, p_, now);
    };
    fail_once();
    EXPECT_EQ(limits_.reserve_try("bob", true, p_, now).seconds, 0) << "one failure is within the allowance";
    limits_.settle_try("bob", true, TryEnd::Failure, false, true, p_, now);
    EXPECT_EQ(limits_.reserve_try("bob", true, p_, now).seconds, 60);
    EXPECT_EQ(limits_.reserve_try("bob", true, p_, now + 59).seconds, 1);
    now += 60;
    fail_once();
    EXPECT_EQ(limits_.reserve_try("bob", true, p_, now).seconds, 120);
    now += 120;
    fail_once();
    EXPECT_EQ(limits_.reserve_try("bob", true, p_, now).seconds, 240);
    now += 240;
    fail_once();
    EXPECT_EQ(limits_.reserve_try("bob", true, p_, now).seconds, 300) << "capped at backoff_max";
}

// Once the wait is over, one try at a time: parallel logins cannot each take the try the wait allows.
TEST_F(RateLimitsTest, AfterTheWaitOneTryAtATime) {
    p_.failures_before_backoff = 1;
    ASSERT_EQ(limits_.reserve_try("carol", true, p_, kT0).seconds, 0);
    limits_.settle_try("carol", true, TryEnd::Failure, false, true, p_, kT0);
    EXPECT_EQ(limits_.reserve_try("carol", true, p_, kT0 + 60).seconds, 0);
    EXPECT_EQ(limits_.reserve_try("carol", true, p_, kT0 + 60).seconds, 60) << "the one try is in flight";
}

TEST_F(RateLimitsTest, ASuccessClearsTheFailures) {
    p_.failures_before_backoff = 2;
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(limits_.reserve_try("dave", true, p_, kT0).seconds, 0);
        limits_.settle_try("dave", true, TryEnd::Failure, false, true, p_, kT0);
    }
    ASSERT_EQ(limits_.reserve_try("dave", true, p_, kT0 + 60).seconds, 0);
    limits_.settle_try("dave", true, TryEnd::Success, false, true, p_, kT0 + 60);
    EXPECT_EQ(limits_.reserve_try("dave", true, p_, kT0 + 60).seconds, 0);
    EXPECT_EQ(limits_.reserve_try("dave", true, p_, kT0 + 60).seconds, 0) << "the whole allowance is back";
}

// A login that read no failures when it started still clears one written while it was in flight (another
// login of the same user failed): the allowance is whole again after its success.
TEST_F(RateLimitsTest, ASuccessClearsAFailureCountedWhileItWasInFlight) {
    p_.failures_before_backoff = 2;
    ASSERT_EQ(limits_.reserve_try("dora", true, p_, kT0).seconds, 0);  // finds no failures
    ASSERT_EQ(limits_.reserve_try("dora", true, p_, kT0).seconds, 0);
    limits_.settle_try("dora", true, TryEnd::Failure, false, true, p_, kT0);
    limits_.settle_try("dora", true, TryEnd::Success, false, true, p_, kT0);
    EXPECT_EQ(limits_.reserve_try("dora", true, p_, kT0).seconds, 0);
    EXPECT_EQ(limits_.reserve_try("dora", true, p_, kT0).seconds, 0)
        << "the failure counted in between is cleared";
    EXPECT_EQ(limits_.reserve_try("dora", true, p_, kT0).seconds, 60);
}

// A proof outside a login (self-enrolment) counts its failure without having reserved: it must not give
// back a try some login in flight holds.
TEST_F(RateLimitsTest, AnUnreservedFailureDoesNotReleaseAReservation) {
    p_.failures_before_backoff = 2;
    ASSERT_EQ(limits_.reserve_try("erin", true, p_, kT0).seconds, 0);
    limits_.settle_try("erin", true, TryEnd::Failure, false, /*reserved=*/false, p_, kT0);
    EXPECT_EQ(limits_.reserve_try("erin", true, p_, kT0).seconds, 60)
        << "one failure and one try in flight make the allowance of two";
}

// --- Remote and local budgets -------------------------------------------------------------------------

TEST_F(RateLimitsTest, RemoteFailuresNeverBlockALocalLogin) {
    p_.failures_before_backoff = 3;
    for (int i = 0; i < 20; ++i) {
        limits_.reserve_try("frank", true, p_, kT0 + i);
        limits_.settle_try("frank", true, TryEnd::Failure, false, true, p_, kT0 + i);
    }
    EXPECT_GT(limits_.reserve_try("frank", true, p_, kT0 + 20).seconds, 0);
    EXPECT_EQ(limits_.reserve_try("frank", false, p_, kT0 + 20).seconds, 0)
        << "the console has its own budget";
    // Nor do remote logins in flight take the local allowance.
    for (int i = 0; i < 10; ++i) limits_.reserve_try("grace", true, p_, kT0);
    EXPECT_EQ(limits_.reserve_try("grace", false, p_, kT0).seconds, 0);
}

TEST_F(RateLimitsTest, LocalFailuresBackOffTheLocalBudgetOnly) {
    p_.failures_before_backoff = 1;
    ASSERT_EQ(limits_.reserve_try("heidi", false, p_, kT0).seconds, 0);
    limits_.settle_try("heidi", false, TryEnd::Failure, false, true, p_, kT0);
    EXPECT_EQ(limits_.reserve_try("heidi", false, p_, kT0).seconds, 60);
    EXPECT_EQ(limits_.reserve_try("heidi", true, p_, kT0).seconds, 0);
    // A success on one side clears that side only.
    limits_.settle_try("heidi", true, TryEnd::Success, false, true, p_, kT0);
    EXPECT_EQ(limits_.reserve_try("heidi", false, p_, kT0).seconds, 60);
}

// Each user has budgets of their own.
TEST_F(RateLimitsTest, BudgetsArePerUser) {
    p_.failures_before_backoff = 1;
    ASSERT_EQ(limits_.reserve_try("ivan", true, p_, kT0).seconds, 0);
    limits_.settle_try("ivan", true, TryEnd::Failure, false, true, p_, kT0);
    EXPECT_GT(limits_.reserve_try("ivan", true, p_, kT0).seconds, 0);
    EXPECT_EQ(limits_.reserve_try("judy", true, p_, kT0).seconds, 0);
}

// --- Local logins other users run (issue #10, review 29) ----------------------------------------------

// mallory's `su alice` spends a budget of its own: alice's console and her own sudo (run by alice) keep
// theirs, and mallory's way in is held back.
TEST_F(RateLimitsTest, AnotherUsersFailuresSpendABudgetOfTheirOwn) {
    p_.failures_before_backoff = 1;
    ASSERT_EQ(limits_.reserve_try("alice", false, p_, kT0, "mallory").seconds, 0);
    limits_.settle_try("alice", false, TryEnd::Failure, false, true, p_, kT0, "mallory");
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0, "mallory").seconds, 60) << "mallory's su waits";
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0).seconds, 0) << "the console";
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0, "alice").seconds, 60)
        << "her sudo is her own budget";
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0, "bob").seconds, 0)
        << "bob's su has a budget of its own";
}

// The control: the user's own failures (console or own sudo: one budget) still back off both.
TEST_F(RateLimitsTest, TheUsersOwnFailuresBackOffTheirOwnWaysIn) {
    p_.failures_before_backoff = 1;
    ASSERT_EQ(limits_.reserve_try("alice", false, p_, kT0, "alice").seconds, 0);
    limits_.settle_try("alice", false, TryEnd::Failure, false, true, p_, kT0, "alice");
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0).seconds, 60);
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0, "alice").seconds, 60);
}

// `su root` run by alice is counted on "root as run by alice": root's console and another admin's logins
// are not held back by it.
TEST_F(RateLimitsTest, SuRootFailuresSpareRootsConsole) {
    p_.failures_before_backoff = 1;
    for (int i = 0; i < 10; ++i) {
        limits_.reserve_try("root", false, p_, kT0 + i, "alice");
        limits_.settle_try("root", false, TryEnd::Failure, false, true, p_, kT0 + i, "alice");
    }
    EXPECT_GT(limits_.reserve_try("root", false, p_, kT0 + 10, "alice").seconds, 0);
    EXPECT_EQ(limits_.reserve_try("root", false, p_, kT0 + 10).seconds, 0) << "root's console";
    EXPECT_EQ(limits_.reserve_try("bob", false, p_, kT0 + 10, "bob").seconds, 0) << "bob's own sudo";
}

// Guess multiplication: N local users would have N budgets against one user. Their logins are also counted
// together, with kOthersTogether times the allowance, and then back off as one; the owner's budget never.
TEST_F(RateLimitsTest, OtherUsersTogetherBackOffAsOne) {
    p_.failures_before_backoff = 2;
    const int together = 2 * RateLimits::kOthersTogether;
    for (int i = 0; i < together; ++i) {
        const std::string runner = "m" + std::to_string(i);
        ASSERT_EQ(limits_.reserve_try("alice", false, p_, kT0, runner).seconds, 0) << i;
        limits_.settle_try("alice", false, TryEnd::Failure, false, true, p_, kT0, runner);
    }
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0, "newcomer").seconds, 60)
        << "a fresh user meets the shared one";
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0).seconds, 0) << "the console";
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0, "alice").seconds, 0) << "her own sudo";
    // A success of one of them ends that one's count, not the shared one.
    ASSERT_EQ(limits_.reserve_try("alice", false, p_, kT0 + 60, "m0").seconds, 0);
    limits_.settle_try("alice", false, TryEnd::Success, false, true, p_, kT0 + 60, "m0");
    ASSERT_EQ(limits_.reserve_try("alice", false, p_, kT0 + 61, "newcomer").seconds, 0);
    limits_.settle_try("alice", false, TryEnd::Failure, false, true, p_, kT0 + 61, "newcomer");
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0 + 61, "m1").seconds, 120)
        << "the shared wait doubled";
}

// The shared budget's allowance is taken by tries in flight as a budget's is, and a try it refuses reserves
// nothing in the runner's own budget.
TEST_F(RateLimitsTest, OtherUsersTriesInFlightShareTheirBudget) {
    p_.failures_before_backoff = 1;
    for (int i = 0; i < RateLimits::kOthersTogether; ++i)
        ASSERT_EQ(limits_.reserve_try("alice", false, p_, kT0, "m" + std::to_string(i)).seconds, 0) << i;
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0, "late").seconds, 60);
    limits_.settle_try("alice", false, TryEnd::Untried, false, true, p_, kT0, "m0");
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0, "late").seconds, 0)
        << "its own budget was not taken";
}

// PAM_RUSER is text the calling program chose: keys stay apart whatever it holds, and it is bounded.
TEST_F(RateLimitsTest, RunnersNamesCannotBorrowAnotherKey) {
    p_.failures_before_backoff = 1;
    ASSERT_EQ(limits_.reserve_try("bob", false, p_, kT0, "mallory:alice").seconds, 0);
    limits_.settle_try("bob", false, TryEnd::Failure, false, true, p_, kT0, "mallory:alice");
    EXPECT_EQ(limits_.reserve_try("alice:bob", false, p_, kT0, "mallory").seconds, 0);
    EXPECT_EQ(limits_.reserve_try("bob", false, p_, kT0, "local:bob").seconds, 0);
    EXPECT_EQ(limits_.reserve_try("bob", false, p_, kT0).seconds, 0);
    EXPECT_EQ(limits_.reserve_try("bob", false, p_, kT0, "mallory:alice").seconds, 60);
    EXPECT_EQ(limits_.reserve_try("bob", false, p_, kT0, std::string(RateLimits::kMaxRunBy, 'm')).seconds, 0);
    EXPECT_THROW(
        limits_.reserve_try("bob", false, p_, kT0, std::string(RateLimits::kMaxRunBy + 1, 'm')).seconds,
        LimitStoreError);
}

// A remote login's budget is the user's remote one, whatever PAM_RUSER says.
TEST_F(RateLimitsTest, RemoteBudgetsIgnoreTheRunner) {
    p_.failures_before_backoff = 1;
    ASSERT_EQ(limits_.reserve_try("alice", true, p_, kT0, "mallory").seconds, 0);
    limits_.settle_try("alice", true, TryEnd::Failure, false, true, p_, kT0, "mallory");
    EXPECT_EQ(limits_.reserve_try("alice", true, p_, kT0).seconds, 60);
    EXPECT_EQ(limits_.reserve_try("alice", false, p_, kT0, "mallory").seconds, 0);
}

// --- Sends: what they count on --------------------------------------------------------------------------

TEST(CanonicalKeys, EverySpellingOfOnePersonIsOneKey) {
    EXPECT_EQ(key_of("Alice@Example.COM"), key_of("alice@example.com"));
    EXPECT_EQ(key_of("+1 (555) 555-0123"), key_of("+15555550123"));
    EXPECT_EQ(key_of("+1.555.555.0123"), key_of("+15555550123"));
    EXPECT_EQ(key_of("Alice-01"), key_of("alice-01")) << "pool user names compare case-insensitively";
    // A user name that is an address is the pool's email alias: it counts as the address.
    EXPECT_EQ(canonical_key(Identifier{IdentifierKind::Username, "Alice@Example.com"}),
              "email:alice@example.com");
    EXPECT_NE(key_of("alice@example.com"), key_of("alice"));
}

TEST_F(RateLimitsTest, SendsCountOnTheCanonicalDestinationWhateverWasTyped) {
    p_.sends_per_identifier = 2;
    EXPECT_EQ(limits_.take_send(to({key_of("Alice@Example.COM")}), p_, kT0).wait, 0);
    EXPECT_EQ(limits_.take_send(to({key_of("ALICE@example.com")}), p_, kT0 + 1).wait, 0);
    const auto v = limits_.take_send(to({key_of("alice@EXAMPLE.com")}), p_, kT0 + 2);
    EXPECT_EQ(v.wait, 900 - 2) << "the third spelling of one address is its third send";
    EXPECT_FALSE(v.machine);
    EXPECT_EQ(limits_.take_send(to({key_of("+1 555 555 0123")}), p_, kT0 + 2).wait, 0);
    EXPECT_EQ(limits_.take_send(to({key_of("+1-555-555-0123")}), p_, kT0 + 2).wait, 0);
    EXPECT_GT(limits_.take_send(to({key_of("+1 (555) 555.0123")}), p_, kT0 + 2).wait, 0);
}

// A send counts on the destination and on the pool's identity: reaching the same person by another
// destination (their phone after their email) still meets the person's count.
TEST_F(RateLimitsTest, SendsCountOnThePoolIdentityToo) {
    p_.sends_per_identifier = 2;
    const std::string pool_user = key_of("7f3c2a10-pool-user");
    EXPECT_EQ(limits_.take_send(to({key_of("alice@example.com"), pool_user}), p_, kT0).wait, 0);
    EXPECT_EQ(limits_.take_send(to({key_of("+15555550123"), pool_user}), p_, kT0).wait, 0);
    EXPECT_GT(limits_.take_send(to({key_of("+15555550199"), pool_user}), p_, kT0).wait, 0)
        << "a third destination of the same pool identity";
    EXPECT_GT(limits_.take_send(to({key_of("+15555550199"), key_of("7F3C2A10-POOL-USER")}), p_, kT0).wait, 0)
        << "the pool's name compares case-insensitively";
    // And the refused send counted nowhere: the fresh number still has its whole allowance.
    EXPECT_EQ(limits_.take_send(to({key_of("+15555550199")}), p_, kT0).wait, 0);
    EXPECT_EQ(limits_.take_send(to({key_of("+15555550199")}), p_, kT0).wait, 0);
}

// The caller lists every key of the person; one key listed twice (typed and resolved alike) is one send.
TEST_F(RateLimitsTest, AKeyListedTwiceCountsOnce) {
    p_.sends_per_identifier = 2;
    const std::string k = key_of("alice@example.com");
    EXPECT_EQ(limits_.take_send(to({k, k, key_of("Alice@example.com")}), p_, kT0).wait, 0);
    EXPECT_EQ(limits_.take_send(to({k}), p_, kT0).wait, 0) << "the first send counted once, not three times";
    EXPECT_GT(limits_.take_send(to({k}), p_, kT0).wait, 0);
}

TEST_F(RateLimitsTest, TheRemoteHostHasItsOwnLimit) {
    p_.sends_per_identifier = 100;
    p_.sends_per_rhost = 3;
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(limits_.take_send(to({"email:u" + std::to_string(i) + "@x.y"}, "192.0.2.7"), p_, kT0).wait,
                  0);
    const auto v = limits_.take_send(to({"email:fresh@x.y"}, "192.0.2.7"), p_, kT0);
    EXPECT_EQ(v.wait, 900);
    EXPECT_FALSE(v.machine) << "the host's limit, not the machine's";
    EXPECT_EQ(limits_.take_send(to({"email:fresh@x.y"}, "192.0.2.8"), p_, kT0).wait, 0);
    EXPECT_EQ(limits_.take_send(to({"email:fresh@x.y"}), p_, kT0).wait, 0) << "a local login has no host";
}

// Unknown users' walks meet the host's and the machine's counts that real logins meet (a limit reached
// there tells nothing about who exists) and their destinations are limited as real ones are.
TEST_F(RateLimitsTest, UnknownWalksShareTheHostCountAndAreLimitedAlike) {
    p_.sends_per_identifier = 1;
    p_.sends_per_rhost = 2;
    const SendKeys nobody{{"user:nobody"}, "192.0.2.9", true};
    EXPECT_EQ(limits_.take_send(nobody, p_, kT0).wait, 0);
    EXPECT_EQ(limits_.take_send(nobody, p_, kT0).wait, 900) << "limited like a real destination";
    EXPECT_EQ(limits_.take_send(to({"email:real@x.y"}, "192.0.2.9"), p_, kT0).wait, 0);
    EXPECT_EQ(limits_.take_send(to({"email:other@x.y"}, "192.0.2.9"), p_, kT0).wait, 900)
        << "the unknown walk's send counted on the host: two sends from it";
    // Refused by the host, an unknown walk's send counts nothing under its destination either.
    const SendKeys other{{"user:nobody-else"}, "192.0.2.9", true};
    EXPECT_EQ(limits_.take_send(other, p_, kT0).wait, 900);
    EXPECT_EQ(limits_.take_send({{"user:nobody-else"}, "192.0.2.10", true}, p_, kT0).wait, 0);
}

// --- The machine's ceiling ------------------------------------------------------------------------------

constexpr std::string_view kNear = "near the ceiling";
constexpr std::string_view kReached = "(sends_per_hour) reached";

TEST_F(RateLimitsTest, TheMachineCeilingRefusesEveryoneAndIsAuditedNearAndReached) {
    TestDir dir;
    SyslogCapture log(dir);
    p_.sends_per_hour = 10;  // near from 8 (80%, rounded up)
    auto send = [&](int i, std::int64_t at) {
        return limits_.take_send(to({"email:u" + std::to_string(i) + "@x.y"}), p_, at);
    };
    for (int i = 0; i < 7; ++i) ASSERT_EQ(send(i, kT0 + i).wait, 0);
    EXPECT_EQ(log.count(kNear), 0) << log.text();
    ASSERT_EQ(send(7, kT0 + 7).wait, 0);
    EXPECT_EQ(log.count("in the last hour: 8 of the ceiling of 10 (sends_per_hour); near the ceiling"), 1)
        << log.text();
    ASSERT_EQ(send(8, kT0 + 8).wait, 0);
    EXPECT_EQ(log.count(kNear), 1) << "the ninth send is near too, but the hour's line is written";
    EXPECT_EQ(log.count(kReached), 0) << log.text();
    ASSERT_EQ(send(9, kT0 + 9).wait, 0) << "the tenth send is allowed";
    EXPECT_EQ(log.count("ceiling of 10 codes per hour from this machine (sends_per_hour) reached"), 1)
        << log.text();

    const auto refused = limits_.take_send(to({"email:fresh@x.y"}, "192.0.2.1"), p_, kT0 + 10);
    EXPECT_TRUE(refused.machine);
    EXPECT_EQ(refused.wait, 3600 - 10) << "until the first send of the hour leaves it";
    const auto unknown = limits_.take_send({{"user:nobody"}, "192.0.2.2", true}, p_, kT0 + 11);
    EXPECT_TRUE(unknown.machine) << "an unknown user's walk meets the same ceiling";
    EXPECT_GT(unknown.wait, 0);
    EXPECT_EQ(log.count(kNear), 1) << "audited once an hour, not at every send or refusal";
    EXPECT_EQ(log.count(kReached), 1) << log.text();

    // An hour on, the ceiling is open again, and the next time it fills it is audited again.
    const std::int64_t later = kT0 + 3600 + 20;
    for (int i = 0; i < 10; ++i) ASSERT_EQ(send(100 + i, later + i).wait, 0) << i;
    EXPECT_EQ(log.count(kNear), 2) << log.text();
    EXPECT_EQ(log.count(kReached), 2) << log.text();
}

// A walk sends nothing, so it does not count on the machine's ceiling (review 30b): walks of made-up names
// from many hosts cannot refuse every code on the machine. Each still counts on its host, as a real send
// does.
TEST_F(RateLimitsTest, WalksSpendNoneOfTheMachineCeilingButTheirHosts) {
    p_.sends_per_hour = 3;
    p_.sends_per_rhost = 2;
    for (int i = 0; i < 20; ++i) {
        SendKeys walk{{"user:ghost" + std::to_string(i)}, "192.0.2." + std::to_string(i / 2), true, true};
        ASSERT_EQ(limits_.take_send(walk, p_, kT0 + i).wait, 0) << i;
    }
    SendKeys third{{"user:ghost-more"}, "192.0.2.0", true, true};
    EXPECT_GT(limits_.take_send(third, p_, kT0 + 30).wait, 0) << "the host's own count holds walks too";
    for (int i = 0; i < 3; ++i)
        ASSERT_EQ(limits_.take_send(to({"email:u" + std::to_string(i) + "@x.y"}), p_, kT0 + 40 + i).wait, 0)
            << i;
    EXPECT_TRUE(limits_.take_send(to({"email:late@x.y"}), p_, kT0 + 50).machine);
    SendKeys walk{{"user:ghost-late"}, "192.0.2.99", true, true};
    EXPECT_TRUE(limits_.take_send(walk, p_, kT0 + 51).machine) << "a ceiling real sends filled is met alike";
}

// Remote logins may take only their share of the machine's ceiling (three quarters, rounded down): the rest
// is kept for local ones, so remote requests cannot refuse the console its codes (issue #10: local logins
// always win). A local send counts on the ceiling; a remote one on both. The share's end is audited once an
// hour.
TEST_F(RateLimitsTest, RemoteLoginsTakeOnlyTheirShareOfTheMachineCeiling) {
    TestDir dir;
    SyslogCapture log(dir);
    p_.sends_per_hour = 8;  // remote share 6
    ASSERT_EQ(p_.remote_sends_per_hour(), 6);
    // A quarter rounded up is kept: even the smallest ceilings keep the console a code.
    for (const auto& [ceiling, remote] :
         std::vector<std::pair<int, int>>{{1, 0}, {2, 1}, {3, 2}, {4, 3}, {200, 150}}) {
        LimitPolicy q;
        q.sends_per_hour = ceiling;
        EXPECT_EQ(q.remote_sends_per_hour(), remote) << ceiling;
    }
    auto remote = [&](int i, std::int64_t at) {
        SendKeys k = to({"email:r" + std::to_string(i) + "@x.y"}, "192.0.2." + std::to_string(i));
        k.remote = true;
        return limits_.take_send(k, p_, at);
    };
    for (int i = 0; i < 6; ++i) ASSERT_EQ(remote(i, kT0 + i).wait, 0) << i;
    const auto refused = remote(6, kT0 + 6);
    EXPECT_TRUE(refused.machine);
    EXPECT_EQ(refused.wait, 3600 - 6) << "until the first remote send of the hour leaves it";
    SendKeys walk{{"user:ghost"}, "192.0.2.77", true, true};
    EXPECT_TRUE(limits_.take_send(walk, p_, kT0 + 7).machine) << "a walk meets the remote share alike";
    EXPECT_EQ(log.count("reached their share of 6 of the ceiling of 8"), 1) << log.text();
    ASSERT_EQ(limits_.take_send(to({"email:console@x.y"}), p_, kT0 + 8).wait, 0) << "a local send";
    ASSERT_EQ(limits_.take_send(to({"email:sudo@x.y"}), p_, kT0 + 9).wait, 0) << "a second local send";
    EXPECT_TRUE(limits_.take_send(to({"email:third@x.y"}), p_, kT0 + 10).machine) << "the ceiling holds";
    EXPECT_EQ(log.count("reached their share"), 1) << "audited once an hour";
}

// A send refused by a person's or a host's limit is not the machine's doing, even with the machine near its
// ceiling.
TEST_F(RateLimitsTest, APersonalLimitIsNotReportedAsTheMachines) {
    p_.sends_per_hour = 3;
    p_.sends_per_identifier = 1;
    ASSERT_EQ(limits_.take_send(to({"email:a@x.y"}), p_, kT0).wait, 0);
    const auto v = limits_.take_send(to({"email:a@x.y"}), p_, kT0);
    EXPECT_GT(v.wait, 0);
    EXPECT_FALSE(v.machine);
}

// --- Windows end ----------------------------------------------------------------------------------------

TEST_F(RateLimitsTest, SendWindowsExpire) {
    p_.sends_per_identifier = 1;
    p_.send_window = std::chrono::seconds(600);
    ASSERT_EQ(limits_.take_send(to({"email:a@x.y"}), p_, kT0).wait, 0);
    EXPECT_EQ(limits_.take_send(to({"email:a@x.y"}), p_, kT0 + 599).wait, 1);
    EXPECT_EQ(limits_.take_send(to({"email:a@x.y"}), p_, kT0 + 600).wait, 0)
        << "the first send left the window";
}

TEST_F(RateLimitsTest, TheMachineHourExpires) {
    p_.sends_per_hour = 2;
    ASSERT_EQ(limits_.take_send(to({"email:a@x.y"}), p_, kT0).wait, 0);
    ASSERT_EQ(limits_.take_send(to({"email:b@x.y"}), p_, kT0 + 1800).wait, 0);
    EXPECT_TRUE(limits_.take_send(to({"email:c@x.y"}), p_, kT0 + 3599).machine);
    EXPECT_EQ(limits_.take_send(to({"email:c@x.y"}), p_, kT0 + 3600).wait, 0);
}

// --- Requests to the pool that nothing else counts (take_pool_ask) --------------------------------------

TEST_F(RateLimitsTest, PoolAsksAreBoundedPerNetworkPerSiteAndForTheMachine) {
    p_.pool_asks_per_network = 2;
    p_.pool_asks_per_minute = 1000;
    const std::string site = "2001:db8:77::/48";
    // One network: its two, then a wait of half a minute (one refills every 30 s).
    EXPECT_EQ(limits_.take_pool_ask("2001:db8:77:1::/64", site, p_, kT0).seconds, 0);
    EXPECT_EQ(limits_.take_pool_ask("2001:db8:77:1::/64", site, p_, kT0).seconds, 0);
    const auto net = limits_.take_pool_ask("2001:db8:77:1::/64", site, p_, kT0);
    EXPECT_EQ(net.seconds, 30);
    EXPECT_FALSE(net.machine);
    // Other networks of the same /48 share the site's kSiteNetworks × 2 = 8: six more.
    int granted = 0;
    for (int i = 2; i < 40; ++i)
        granted +=
            limits_.take_pool_ask("2001:db8:77:" + std::to_string(i) + "::/64", site, p_, kT0).seconds == 0;
    EXPECT_EQ(granted, 2 * LimitPolicy::kSiteNetworks - 2);
    // Another site is not held back by it; a refill over the minute gives the site its asks again.
    EXPECT_EQ(limits_.take_pool_ask("2001:db8:78:1::/64", "2001:db8:78::/48", p_, kT0).seconds, 0);
    EXPECT_EQ(limits_.take_pool_ask("2001:db8:77:50::/64", site, p_, kT0 + 60).seconds, 0);
}

TEST_F(RateLimitsTest, PoolAsksOfAllRemoteLoginsMeetTheMachinesAllowanceAndARefusalTakesNothing) {
    p_.pool_asks_per_network = 30;
    p_.pool_asks_per_minute = 3;
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(limits_.take_pool_ask("192.0.2." + std::to_string(i) + ".0/24", "", p_, kT0).seconds, 0);
    const auto spent = limits_.take_pool_ask("198.51.100.0/24", "", p_, kT0);
    EXPECT_EQ(spent.seconds, 20);
    EXPECT_TRUE(spent.machine) << "the machine's allowance is what is spent, not the network's";
    // The refused network's own bucket was not spent by the refusal: its 30 are all there once the machine
    // has room again.
    p_.pool_asks_per_minute = 1000;
    for (int i = 0; i < 30; ++i)
        EXPECT_EQ(limits_.take_pool_ask("198.51.100.0/24", "", p_, kT0 + 60).seconds, 0) << i;
    EXPECT_GT(limits_.take_pool_ask("198.51.100.0/24", "", p_, kT0 + 60).seconds, 0);
}

TEST_F(RateLimitsTest, ABackoffWaitEnds) {
    p_.failures_before_backoff = 1;
    ASSERT_EQ(limits_.reserve_try("kim", true, p_, kT0).seconds, 0);
    limits_.settle_try("kim", true, TryEnd::Failure, false, true, p_, kT0);
    EXPECT_EQ(limits_.reserve_try("kim", true, p_, kT0 + 59).seconds, 1);
    EXPECT_EQ(limits_.reserve_try("kim", true, p_, kT0 + 60).seconds, 0);
}

// Failures are forgotten a day after the last one (or twice the longest wait, if that is longer).
TEST_F(RateLimitsTest, FailuresAreForgottenAfterTheirMemory) {
    p_.failures_before_backoff = 1;
    ASSERT_EQ(limits_.reserve_try("lee", true, p_, kT0).seconds, 0);
    limits_.settle_try("lee", true, TryEnd::Failure, false, true, p_, kT0);
    ASSERT_EQ(limits_.reserve_try("lee", true, p_, kT0 + 60).seconds, 0);
    limits_.settle_try("lee", true, TryEnd::Failure, false, true, p_, kT0 + 60);
    // Two failures past an allowance of one: the next wait is two minutes; without the memory's end, a third
    // failure a day on would wait four.
    const std::int64_t later = kT0 + 60 + 86400;
    ASSERT_EQ(limits_.reserve_try("lee", true, p_, later).seconds, 0);
    limits_.settle_try("lee", true, TryEnd::Failure, false, true, p_, later);
    EXPECT_EQ(limits_.reserve_try("lee", true, p_, later).seconds, 60) << "counted from one again";

    p_.backoff_max = std::chrono::seconds(100000);  // the memory is then twice that
    ASSERT_EQ(limits_.reserve_try("mia", true, p_, kT0).seconds, 0);
    limits_.settle_try("mia", true, TryEnd::Failure, false, true, p_, kT0);
    ASSERT_EQ(limits_.reserve_try("mia", true, p_, kT0 + 86400).seconds, 0);
    limits_.settle_try("mia", true, TryEnd::Failure, false, true, p_, kT0 + 86400);
    EXPECT_EQ(limits_.reserve_try("mia", true, p_, kT0 + 86400).seconds, 120)
        << "a day did not end this memory";
}

// --- A send counts when it is made ----------------------------------------------------------------------

// The count is taken by take_send itself, before the code is checked: a login that asks for a code and then
// hangs up, or types it wrong, has used a send; and a refused send uses none.
TEST_F(RateLimitsTest, ASendCountsWhenMadeAndARefusalCountsNothing) {
    p_.sends_per_identifier = 2;
    p_.sends_per_rhost = 2;
    ASSERT_EQ(limits_.take_send(to({"email:a@x.y"}, "192.0.2.1"), p_, kT0).wait, 0);
    // Nothing else happens to that login: no settle, no verification. The send stands.
    ASSERT_EQ(limits_.take_send(to({"email:a@x.y"}, "192.0.2.1"), p_, kT0 + 10).wait, 0);
    EXPECT_EQ(limits_.take_send(to({"email:a@x.y"}, "192.0.2.2"), p_, kT0 + 20).wait, 900 - 20);
    // The host refuses this one; its destination must not have counted.
    EXPECT_GT(limits_.take_send(to({"email:b@x.y"}, "192.0.2.1"), p_, kT0 + 20).wait, 0);
    EXPECT_EQ(limits_.take_send(to({"email:b@x.y"}), p_, kT0 + 20).wait, 0);
    EXPECT_EQ(limits_.take_send(to({"email:b@x.y"}), p_, kT0 + 20).wait, 0);
}

// --- State: kept across restarts, unknown users never, and a broken store refuses ------------------------

class RateLimitsFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!test::running_as_root()) GTEST_SKIP() << "the store must be owned by root";
        dir_.emplace();
    }
    std::string path() const { return dir_->file("limits"); }
    std::optional<TestDir> dir_;
    LimitPolicy p_;
};

// Unknown users' walks too, in their own store beside the file (walks_path): were they forgotten, a name
// still held back after a restart would be one that exists (issue #10).
TEST_F(RateLimitsFileTest, CountsSurviveARestartUnknownUsersInTheirOwnStore) {
    p_.failures_before_backoff = 1;
    p_.sends_per_identifier = 1;
    {
        RateLimits limits(path(), kMiB);
        ASSERT_EQ(limits.take_send(to({"email:alice@example.com"}), p_, kT0).wait, 0);
        ASSERT_EQ(limits.reserve_try("alice", true, p_, kT0).seconds, 0);
        limits.settle_try("alice", true, TryEnd::Failure, false, true, p_, kT0);
        ASSERT_EQ(limits.take_send({{"user:nobody"}, "", true}, p_, kT0).wait, 0);
        ASSERT_EQ(limits.reserve_try("nobody", true, p_, kT0).seconds, 0);
        limits.settle_try("nobody", true, TryEnd::Failure, true, true, p_, kT0);
        ASSERT_GT(limits.reserve_try("nobody", true, p_, kT0).seconds, 0);
    }
    RateLimits limits(path(), kMiB);
    EXPECT_GT(limits.take_send(to({"email:alice@example.com"}), p_, kT0 + 1).wait, 0);
    EXPECT_GT(limits.reserve_try("alice", true, p_, kT0 + 1).seconds, 0);
    EXPECT_GT(limits.take_send({{"user:nobody"}, "", true}, p_, kT0 + 1).wait, 0);
    EXPECT_GT(limits.reserve_try("nobody", true, p_, kT0 + 1).seconds, 0);
    // Neither reached the file of real counts: its rows are alice's send, her failure, the host-less
    // machine count.
    EXPECT_EQ(LimitStore(path(), kMiB).rows(), 3);
    EXPECT_EQ(LimitStore(RateLimits::walks_path(path()), RateLimits::kWalksBytes).rows(), 2);
}

// The budgets of logins other users run are kept in the file as the user's own are.
TEST_F(RateLimitsFileTest, OtherUsersBudgetsSurviveARestart) {
    p_.failures_before_backoff = 1;
    {
        RateLimits limits(path(), kMiB);
        for (int i = 0; i < RateLimits::kOthersTogether; ++i) {
            const std::string runner = "m" + std::to_string(i);
            ASSERT_EQ(limits.reserve_try("alice", false, p_, kT0, runner).seconds, 0);
            limits.settle_try("alice", false, TryEnd::Failure, false, true, p_, kT0, runner);
        }
    }
    RateLimits limits(path(), kMiB);
    EXPECT_GT(limits.reserve_try("alice", false, p_, kT0 + 1, "m0").seconds, 0);
    EXPECT_GT(limits.reserve_try("alice", false, p_, kT0 + 1, "newcomer").seconds, 0);
    EXPECT_EQ(limits.reserve_try("alice", false, p_, kT0 + 1).seconds, 0);
}

// Sends of many logins at once, through the file: exactly the limit gets through however they interleave,
// each refused one says how long to wait, and every counted one is in the file.
TEST_F(RateLimitsFileTest, SendsAtOnceAreCountedExactly) {
    p_.sends_per_identifier = 5;
    p_.sends_per_rhost = 1000;
    constexpr int kLogins = 48;
    std::atomic<int> sent{0}, refused{0};
    {
        RateLimits limits(path(), kMiB);
        std::latch start(kLogins);
        std::vector<std::thread> logins;
        for (int i = 0; i < kLogins; ++i)
            logins.emplace_back([&, i] {
                start.arrive_and_wait();
                // Half to alice's address, half each to an address of its own.
                const std::string dest =
                    i % 2 == 0 ? "email:alice@example.com" : "email:u" + std::to_string(i) + "@example.com";
                const auto verdict = limits.take_send(to({dest}, "192.0.2.1"), p_, kT0);
                if (verdict.wait == 0) {
                    ++sent;
                } else {
                    EXPECT_EQ(verdict.wait, 900) << dest;
                    EXPECT_EQ(dest, "email:alice@example.com");
                    ++refused;
                }
            });
        for (auto& t : logins) t.join();
    }
    EXPECT_EQ(sent.load(), 5 + kLogins / 2);
    EXPECT_EQ(refused.load(), kLogins / 2 - 5);
    LimitStore file(path(), kMiB);
    std::vector<int> counts;
    file.take({{"email:alice@example.com", 100, 900, 1}, {"host:192.0.2.1", 1000, 900, 1}}, kT0, &counts,
              true);
    EXPECT_EQ(counts, (std::vector<int>{5, 5 + kLogins / 2})) << "every send counted is in the file";
}

// A login of a user without failures writes nothing to the failures in the file (its one transaction there
// is its send's): while another connection holds the file's write lock, it starts and succeeds without
// waiting; a failure still needs the lock, and refuses when it cannot have it.
TEST_F(RateLimitsFileTest, ALoginWithoutFailuresWritesNoFailures) {
    RateLimits limits(path(), kMiB);
    ASSERT_EQ(limits.reserve_try("alice", true, p_, kT0).seconds, 0);
    limits.settle_try("alice", true, TryEnd::Success, false, true, p_, kT0);
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    EXPECT_EQ(limits.reserve_try("alice", true, p_, kT0 + 1).seconds, 0);
    EXPECT_NO_THROW(limits.settle_try("alice", true, TryEnd::Success, false, true, p_, kT0 + 1));
    ASSERT_EQ(limits.reserve_try("alice", true, p_, kT0 + 2).seconds, 0);
    EXPECT_THROW(limits.settle_try("alice", true, TryEnd::Failure, false, true, p_, kT0 + 2), LimitStoreError)
        << "a failure is written, and waits for the lock";
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    ASSERT_EQ(limits.reserve_try("alice", true, p_, kT0 + 3).seconds, 0);
    limits.settle_try("alice", true, TryEnd::Failure, false, true, p_, kT0 + 3);
    p_.failures_before_backoff = 1;
    EXPECT_GT(limits.reserve_try("alice", true, p_, kT0 + 4).seconds, 0) << "the failure is read back";
}

// A store that cannot be trusted is not replaced by an empty one (which would reset every limit): every
// call throws, and the caller refuses the login.
TEST_F(RateLimitsFileTest, AnUntrustedStoreRefusesEveryLimit) {
    const std::string p = dir_->write("limits", "", 0644);
    RateLimits limits(p, kMiB);
    EXPECT_THROW(limits.reserve_try("alice", true, p_, kT0).seconds, LimitStoreError);
    EXPECT_THROW(limits.take_send(to({"email:a@x.y"}), p_, kT0), LimitStoreError);
    EXPECT_THROW(limits.take_send({{"user:nobody"}, "", true}, p_, kT0), LimitStoreError)
        << "an unknown user's walk fails the same way as a real one";
    EXPECT_THROW(limits.settle_try("alice", true, TryEnd::Failure, false, true, p_, kT0), LimitStoreError);
}

}  // namespace
}  // namespace pp::helper
