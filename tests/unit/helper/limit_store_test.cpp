#include "limit_store.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "rate_limits.hpp"
#include "test_dir.hpp"

namespace pp::helper {
namespace {

using test::TestDir;
using ::testing::HasSubstr;

constexpr std::int64_t kMiB = 1024 * 1024;

class LimitStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!test::running_as_root()) GTEST_SKIP() << "the store must be owned by root";
        dir_.emplace();
    }
    std::string path() const { return dir_->file("limits"); }
    std::optional<TestDir> dir_;
};

std::vector<SendRule> one(const std::string& key, int limit, std::int64_t window = 900) {
    return {SendRule{key, limit, window, 1}};
}

TEST_F(LimitStoreTest, CountsUpToTheLimitThenSaysHowLongToWait) {
    LimitStore s(path(), kMiB);
    EXPECT_EQ(s.take(one("email:a@b.c", 2), 1000), 0);
    EXPECT_EQ(s.take(one("email:a@b.c", 2), 1010), 0);
    // Full: the oldest send leaves the window at 1000 + 900.
    EXPECT_EQ(s.take(one("email:a@b.c", 2), 1100), 800);
    EXPECT_EQ(s.take(one("email:a@b.c", 2), 1900), 0);
    // Another key has its own count.
    EXPECT_EQ(s.take(one("email:x@b.c", 2), 1100), 0);
}

TEST_F(LimitStoreTest, ARefusedRuleCountsNothingUnderTheOthers) {
    LimitStore s(path(), kMiB);
    EXPECT_EQ(s.take(one("host:h", 1), 100), 0);
    std::vector<int> counts;
    EXPECT_GT(s.take({{"email:a@b.c", 5, 900, 1}, {"host:h", 1, 900, 1}}, 200, &counts), 0);
    EXPECT_EQ(counts, (std::vector<int>{0, 1}));
    EXPECT_EQ(s.take(one("email:a@b.c", 1), 200), 0) << "the refused send must not have counted here";
}

TEST_F(LimitStoreTest, RowsExpireWithTheirWindow) {
    LimitStore s(path(), kMiB);
    for (int i = 0; i < 50; ++i) s.take(one("host:h" + std::to_string(i), 5), 1000);
    s.add_failure("remote:alice", 1000, 1000 + 86400);
    EXPECT_EQ(s.rows(), 51);
    s.sweep(1000 + 900);
    EXPECT_EQ(s.rows(), 1);
    EXPECT_EQ(s.failures("remote:alice", 2000).count, 1);
    EXPECT_EQ(s.failures("remote:alice", 1000 + 86400).count, 0) << "an expired count reads as none";
    EXPECT_TRUE(s.failures("remote:alice", 1000 + 86400).stored) << "but its row is still there";
    s.sweep(1000 + 86400);
    EXPECT_EQ(s.rows(), 0);
    EXPECT_FALSE(s.failures("remote:alice", 1000 + 86400).stored);
}

// The factor memory (factor_memory.hpp): one row per identity, replaced by each remember, read only while
// it lives, swept with the counts, and at most kMaxFactorRows of them (the newest kept).
TEST_F(LimitStoreTest, FactorRowsAreRecalledUntilTheyExpire) {
    LimitStore s(path(), kMiB);
    EXPECT_FALSE(s.recall("email:alice@example.com", 1000));
    s.remember("email:alice@example.com", {"EMAIL_OTP SMS_OTP", "alice", 1000, ""}, 1000 + 60);
    auto row = s.recall("email:alice@example.com", 1059);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->factors, "EMAIL_OTP SMS_OTP");
    EXPECT_EQ(row->pool_user, "alice");
    EXPECT_EQ(row->seen, 1000);
    s.remember("email:alice@example.com", {"EMAIL_OTP", "", 1050, ""}, 1050 + 60);
    row = s.recall("email:alice@example.com", 1100);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->factors, "EMAIL_OTP") << "replaced, with its own expiry";
    EXPECT_FALSE(s.recall("email:alice@example.com", 1110)) << "expired";
    EXPECT_FALSE(s.recall("email:bob@example.com", 1000));
    s.remember("email:bob@example.com", {"EMAIL_OTP", "bob", 1000, ""}, 5000);
    s.forget("email:bob@example.com");
    EXPECT_FALSE(s.recall("email:bob@example.com", 1000));
    EXPECT_EQ(s.rows(), 0) << "the factor rows are not counts";
}

// The passkeys a real passkey login was asked for stay with the identity's row while the pool offers
// passkeys, through logins by code that see none; they go when the pool no longer offers any.
TEST_F(LimitStoreTest, AFactorRowKeepsItsPasskeysWhileThePoolOffersThem) {
    LimitStore s(path(), kMiB);
    const std::string alice = "email:alice@example.com";
    s.remember(alice, {"EMAIL_OTP WEB_AUTHN", "alice", 1000, "32,131"}, 5000);
    EXPECT_EQ(s.recall(alice, 1000)->passkeys, "32,131");
    s.remember(alice, {"EMAIL_OTP WEB_AUTHN", "alice", 1100, ""}, 5000);
    EXPECT_EQ(s.recall(alice, 1100)->passkeys, "32,131") << "a code login saw none, and forgets none";
    s.remember(alice, {"WEB_AUTHN", "alice", 1200, "131"}, 5000);
    EXPECT_EQ(s.recall(alice, 1200)->passkeys, "131") << "a passkey login's ask replaces them";
    s.remember(alice, {"EMAIL_OTP", "alice", 1300, ""}, 5000);
    EXPECT_EQ(s.recall(alice, 1300)->passkeys, "") << "the pool offers no passkey any more";
    s.remember("email:bob@example.com", {"EMAIL_OTP WEB_AUTHN", "bob", 1000, ""}, 5000);
    EXPECT_EQ(s.recall("email:bob@example.com", 1000)->passkeys, "") << "none seen yet";
}

// A store whose factor table was made before the passkeys were kept gets their column when opened, and keeps
// its rows (every one: no passkeys seen).
TEST_F(LimitStoreTest, AnOlderFactorTableGetsThePasskeysColumn) {
    { LimitStore made(path(), kMiB); }
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
        const char* older =
            "ALTER TABLE factors DROP COLUMN passkeys; "
            "INSERT INTO factors(key, factors, pool_user, seen, expires) "
            "VALUES('email:alice@example.com', 'EMAIL_OTP WEB_AUTHN', 'alice', 1000, 5000)";
        char* error = nullptr;
        EXPECT_EQ(sqlite3_exec(db, older, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
        sqlite3_free(error);
        sqlite3_close(db);
    }
    LimitStore s(path(), kMiB);
    auto row = s.recall("email:alice@example.com", 1000);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->factors, "EMAIL_OTP WEB_AUTHN");
    EXPECT_EQ(row->passkeys, "");
    s.remember("email:alice@example.com", {"EMAIL_OTP WEB_AUTHN", "alice", 1100, "64"}, 5000);
    EXPECT_EQ(s.recall("email:alice@example.com", 1100)->passkeys, "64");
}

TEST_F(LimitStoreTest, TheFactorMemoryKeepsOnlyItsNewestRows) {
    LimitStore s("", 64 * kMiB);  // in memory: this many separate commits to a file would be slow
    const std::int64_t n = LimitStore::kMaxFactorRows + 10;
    for (std::int64_t i = 0; i < n; ++i)
        s.remember("user:u" + std::to_string(i), {"EMAIL_OTP", "", i, ""}, 1 << 30);
    s.sweep(100);
    EXPECT_FALSE(s.recall("user:u9", 100)) << "among the oldest";
    EXPECT_TRUE(s.recall("user:u10", 100));
    EXPECT_TRUE(s.recall("user:u" + std::to_string(n - 1), 100));
    s.remember("user:short", {"EMAIL_OTP", "", 100, ""}, 200);
    s.sweep(200);
    EXPECT_FALSE(s.recall("user:short", 150)) << "swept at its expiry";
}

TEST_F(LimitStoreTest, BucketsBoundTheRowsOfOneKey) {
    LimitStore s(path(), kMiB);
    for (std::int64_t t = 0; t < 3600; t += 5) s.take({{"machine", 100000, 3600, 60}}, t);
    EXPECT_EQ(s.rows(), 60);
    std::vector<int> counts;
    s.take({{"machine", 100000, 3600, 60}}, 3599, &counts, true);
    EXPECT_EQ(counts.front(), 720);
}

TEST_F(LimitStoreTest, FailuresCountClearAndRestartAfterExpiry) {
    LimitStore s(path(), kMiB);
    s.add_failure("local:bob", 10, 100);
    s.add_failure("local:bob", 20, 120);
    EXPECT_EQ(s.failures("local:bob", 30).count, 2);
    EXPECT_EQ(s.failures("local:bob", 30).last, 20);
    s.add_failure("local:bob", 500, 600);  // the old count had expired: this is the first again
    EXPECT_EQ(s.failures("local:bob", 501).count, 1);
    s.clear_failures("local:bob");
    EXPECT_EQ(s.failures("local:bob", 501).count, 0);
}

TEST_F(LimitStoreTest, CountsSurviveReopening) {
    {
        LimitStore s(path(), kMiB);
        s.take(one("phone:+15555550123", 1), 100);
        s.add_failure("remote:alice", 100, 100000);
    }
    LimitStore s(path(), kMiB);
    EXPECT_GT(s.take(one("phone:+15555550123", 1), 200), 0);
    EXPECT_EQ(s.failures("remote:alice", 200).count, 1);
    struct stat st {};
    ASSERT_EQ(::stat(path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

// A full store refuses what it cannot record and keeps everything it holds: no growth evicts or resets
// another user's counts.
TEST_F(LimitStoreTest, AFullStoreRefusesAndForgetsNothing) {
    LimitStore s(path(), 64 * 1024);
    s.take(one("email:alice@example.com", 1), 100);
    s.add_failure("remote:alice", 100, 100000);
    bool refused = false;
    int i = 0;
    for (; i < 100000 && !refused; ++i) {
        try {
            s.take(one("host:" + std::string(200, 'h') + std::to_string(i), 5), 100);
        } catch (const LimitStoreError& e) {
            EXPECT_THAT(e.what(), HasSubstr("full"));
            refused = true;
        }
    }
    ASSERT_TRUE(refused) << "64 KiB never filled";
    EXPECT_GT(s.take(one("email:alice@example.com", 1), 101), 0);
    EXPECT_EQ(s.failures("remote:alice", 101).count, 1);
    struct stat st {};
    ASSERT_EQ(::stat(path().c_str(), &st), 0);
    EXPECT_LE(st.st_size, 64 * 1024);
}

TEST_F(LimitStoreTest, RefusesAnUntrustedFile) {
    const std::string p = dir_->write("limits", "", 0644);
    try {
        LimitStore s(p, kMiB);
        FAIL() << "a store readable by others was opened";
    } catch (const LimitStoreError& e) {
        EXPECT_THAT(e.what(), HasSubstr("readable by group or others"));
    }
    ASSERT_EQ(::unlink(p.c_str()), 0);
    ASSERT_EQ(::symlink("/etc/passwd", p.c_str()), 0);
    EXPECT_THROW(LimitStore(p, kMiB), LimitStoreError);
}

// A damaged file is not replaced by an empty store, which would reset every limit.
TEST_F(LimitStoreTest, RefusesADamagedOrForeignFile) {
    const std::string damaged =
        dir_->write("limits", std::string("SQLite format 3") + '\0' + std::string(5000, 'x'), 0600);
    EXPECT_THROW(LimitStore(damaged, kMiB), LimitStoreError);
    const std::string text = dir_->write("old", "# pam_passwordless rate-limit state\nsend id:a 1\n", 0600);
    EXPECT_THROW(LimitStore(text, kMiB), LimitStoreError);
    { LimitStore ours(dir_->file("foreign"), kMiB); }
    // Another application's database at the path.
    std::string cmd = "sqlite3 " + dir_->file("other") + " 'CREATE TABLE t(x)' 2>/dev/null";
    if (std::system(cmd.c_str()) == 0) {
        ::chmod(dir_->file("other").c_str(), 0600);
        EXPECT_THROW(LimitStore(dir_->file("other"), kMiB), LimitStoreError);
    }
}

// The backoff's budgets through RateLimits: tries in flight count, remote and local are apart.
TEST_F(LimitStoreTest, ReservedTriesShareTheAllowanceAndBudgetsAreApart) {
    RateLimits limits(path(), kMiB);
    LimitPolicy p;
    p.failures_before_backoff = 2;
    EXPECT_EQ(limits.reserve_try("alice", true, p, 100).seconds, 0);
    EXPECT_EQ(limits.reserve_try("alice", true, p, 100).seconds, 0);
    EXPECT_GT(limits.reserve_try("alice", true, p, 100).seconds, 0) << "two tries are in flight";
    EXPECT_EQ(limits.reserve_try("alice", false, p, 100).seconds, 0) << "the console has its own budget";
    limits.settle_try("alice", false, RateLimits::TryEnd::Success, false, true, p, 100);
    limits.settle_try("alice", true, RateLimits::TryEnd::Untried, false, true, p, 101);
    EXPECT_EQ(limits.reserve_try("alice", true, p, 101).seconds, 0)
        << "a try that tried nothing is given back";
    limits.settle_try("alice", true, RateLimits::TryEnd::Failure, false, true, p, 102);
    limits.settle_try("alice", true, RateLimits::TryEnd::Failure, false, true, p, 102);
    EXPECT_EQ(limits.reserve_try("alice", true, p, 103).seconds, 60 - 1);
    EXPECT_EQ(limits.reserve_try("alice", false, p, 103).seconds, 0);
}

TEST_F(LimitStoreTest, UnknownUsersAreCountedInMemoryOnly) {
    {
        RateLimits limits(path(), kMiB);
        LimitPolicy p;
        p.failures_before_backoff = 1;
        p.sends_per_identifier = 1;
        EXPECT_EQ(limits.take_send({{"user:nobody"}, "192.0.2.1", true}, p, 100).wait, 0);
        EXPECT_GT(limits.take_send({{"user:nobody"}, "192.0.2.2", true}, p, 100).wait, 0);
        EXPECT_EQ(limits.reserve_try("nobody", true, p, 100).seconds, 0);
        limits.settle_try("nobody", true, RateLimits::TryEnd::Failure, true, true, p, 100);
        EXPECT_GT(limits.reserve_try("nobody", true, p, 101).seconds, 0);
    }
    std::ifstream in(path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("nobody"), std::string::npos);
}

TEST_F(LimitStoreTest, TheMachineCeilingRefusesWhateverTheDestination) {
    RateLimits limits(path(), kMiB);
    LimitPolicy p;
    p.sends_per_hour = 3;
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(limits.take_send({{"email:u" + std::to_string(i) + "@x.y"}, "", false}, p, 100).wait, 0);
    const auto v = limits.take_send({{"email:fresh@x.y"}, "", false}, p, 100);
    EXPECT_TRUE(v.machine);
    EXPECT_GT(v.wait, 0);
    const auto u = limits.take_send({{"user:nobody"}, "", true}, p, 100);
    EXPECT_TRUE(u.machine) << "an unknown user meets the same ceiling";
}

// An upgrade finds the text file of earlier versions: its counts are taken over, not reset or refused.
TEST_F(LimitStoreTest, TakesOverTheOldTextFile) {
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    dir_->write("limits",
                "# pam_passwordless rate-limit state; rewritten by the helper\n"
                "send id:Alice@Example.com " +
                    std::to_string(now - 10) +
                    "\n"
                    "send id:unknown:zed " +
                    std::to_string(now - 10) +
                    "\n"
                    "fail alice 7 " +
                    std::to_string(now - 10) + "\n",
                0600);
    RateLimits limits(path(), kMiB);
    LimitPolicy p;
    p.sends_per_identifier = 1;
    EXPECT_GT(limits.take_send({{"email:alice@example.com"}, "", false}, p, now).wait, 0);
    EXPECT_GT(limits.reserve_try("alice", true, p, now).seconds, 0);
    EXPECT_GT(limits.reserve_try("alice", false, p, now).seconds, 0);
    EXPECT_EQ(limits.reserve_try("bob", false, p, now).seconds, 0);
    struct stat st {};
    EXPECT_EQ(::stat((path() + ".old").c_str(), &st), 0);
}

TEST(LimitStoreMemory, ShedsTheOldestRows) {
    LimitStore s("", kMiB);
    for (int i = 0; i < 10; ++i) {
        s.take(one("user:n" + std::to_string(i), 5), 100 + i);
        s.add_failure("remote:n" + std::to_string(i), 100 + i, 100000);
    }
    s.shed(4);
    EXPECT_EQ(s.rows(), 12);
    EXPECT_EQ(s.failures("remote:n0", 200).count, 0);
    EXPECT_EQ(s.failures("remote:n9", 200).count, 1);
}

TEST(LimitStoreMemory, WorksWithoutAFile) {
    LimitStore s("", kMiB);
    EXPECT_EQ(s.take(one("k", 1), 1), 0);
    EXPECT_GT(s.take(one("k", 1), 2), 0);
}

}  // namespace
}  // namespace pp::helper
