// HelperState: what status reports and how a reload keeps or replaces the configuration in force. The whole
// path through the helper's socket is tested end to end (tests/e2e/helper_ops.py).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "helper_state.hpp"
#include "test_dir.hpp"

namespace pp::helper {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kGood =
    "[pool]\npool_id = eu-west-1_AbCdEf123\nclient_id = abc\n[binding]\nclaim = cognito:username\n";

std::string hex_sha256(const std::string& data) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
    std::string out;
    for (unsigned char c : md) {
        static const char* hex = "0123456789abcdef";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
    return out;
}

// The status line starting with `prefix`; fails the test when there is not exactly one.
std::string line(const std::vector<std::string>& status, const std::string& prefix) {
    std::vector<std::string> found;
    std::copy_if(status.begin(), status.end(), std::back_inserter(found),
                 [&](const std::string& l) { return l.starts_with(prefix); });
    EXPECT_EQ(found.size(), 1u) << prefix;
    return found.empty() ? std::string() : found.front();
}

class HelperStateTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!test::running_as_root()) GTEST_SKIP() << "the configuration must be owned by root";
        dir_.emplace();
    }
    const test::TestDir& dir() const { return *dir_; }

  private:
    std::optional<test::TestDir> dir_;
};

TEST_F(HelperStateTest, AStartWithARefusedFileHasNoConfigurationAndSaysWhy) {
    const auto path = dir().write("helper.conf", std::string(kGood) + "[login]\nmax_tries = 99\n");
    HelperState state(path);
    EXPECT_THAT(state.load(nullptr), HasSubstr("max_tries"));
    EXPECT_EQ(state.runtime(), nullptr);
    EXPECT_THAT(state.config_error(), HasSubstr("max_tries"));
    const auto status = state.status();
    EXPECT_THAT(line(status, "configuration in force:"), HasSubstr("none"));
    EXPECT_THAT(line(status, "configuration in force:"), HasSubstr("max_tries"));
    EXPECT_THAT(line(status, "limits:"), HasSubstr("none in force"));
}

TEST_F(HelperStateTest, ARefusedReloadKeepsTheFileInForceAndARightOneReplacesIt) {
    const auto path = dir().write("helper.conf", kGood);
    HelperState state(path);
    ASSERT_EQ(state.load(nullptr), "");
    const auto first = state.runtime();
    ASSERT_NE(first, nullptr);
    EXPECT_THAT(line(state.status(), "configuration in force:"), HasSubstr(hex_sha256(kGood)));
    EXPECT_EQ(line(state.status(), "last reload:"), "last reload: none since start");

    dir().write("helper.conf", std::string(kGood) + "[login]\nmax_tries = 99\n");
    EXPECT_THAT(state.load("SIGHUP"), HasSubstr("max_tries"));
    EXPECT_EQ(state.runtime(), first);
    EXPECT_EQ(state.config_error(), "");
    EXPECT_THAT(line(state.status(), "last reload:"), HasSubstr("(SIGHUP), refused"));
    EXPECT_THAT(line(state.status(), "configuration in force:"), HasSubstr(hex_sha256(kGood)));

    const std::string second = std::string(kGood) + "[login]\nmax_tries = 5\n";
    dir().write("helper.conf", second);
    EXPECT_EQ(state.load("reload request"), "");
    EXPECT_NE(state.runtime(), first);
    EXPECT_EQ(state.runtime()->config.max_tries, 5);
    EXPECT_THAT(line(state.status(), "last reload:"), HasSubstr("(reload request), loaded"));
    EXPECT_THAT(line(state.status(), "configuration in force:"), HasSubstr(hex_sha256(second)));
    EXPECT_THAT(line(state.status(), "max_tries:"), StartsWith("max_tries: 5,"));
}

TEST_F(HelperStateTest, CountsLoginsByOutcome) {
    HelperState state(dir().write("helper.conf", kGood));
    ASSERT_EQ(state.load(nullptr), "");
    EXPECT_EQ(line(state.status(), "logins since start:"),
              "logins since start: 0; refused at accept (too many at once): 0");
    state.count(wire::Outcome::Success);
    state.count(wire::Outcome::Success);
    state.count(wire::Outcome::MaxTries);
    state.count_refused_at_accept();
    EXPECT_EQ(line(state.status(), "logins since start:"),
              "logins since start: 3 (success 2, maxtries 1); refused at accept (too many at once): 1");
}

TEST_F(HelperStateTest, ShowsTheLastLoginAndWhetherItWasATestLogin) {
    HelperState state(dir().write("helper.conf", kGood));
    ASSERT_EQ(state.load(nullptr), "");
    EXPECT_EQ(line(state.status(), "last login:"), "last login: none since start");
    AuditRecord r;
    r.login_id = "0123456789abcdef";
    r.user = "alice";
    r.service = "sshd";
    r.method = "email_otp";
    r.outcome = wire::Outcome::Success;
    state.record_login(r, true);
    EXPECT_THAT(line(state.status(), "last login:"),
                HasSubstr("login=0123456789abcdef user=alice service=sshd rhost=- method=email_otp "
                          "outcome=success (test-login)"));
    r.login_id = "fedcba9876543210";
    r.user = "bad\nname";
    r.outcome = wire::Outcome::MaxTries;
    state.record_login(r, false);
    const std::string last = line(state.status(), "last login:");
    EXPECT_THAT(last, HasSubstr("login=fedcba9876543210 user=bad?name "));
    EXPECT_THAT(last, HasSubstr("outcome=maxtries"));
    EXPECT_THAT(last, Not(HasSubstr("test-login")));
}

TEST_F(HelperStateTest, SaysWhenTheRequestStartedTheHelper) {
    HelperState state(dir().write("helper.conf", kGood));
    ASSERT_EQ(state.load(nullptr), "");
    EXPECT_THAT(line(state.status(true), "helper:"), HasSubstr("started by this request"));
    EXPECT_THAT(line(state.status(false), "helper:"), Not(HasSubstr("started by this request")));
    EXPECT_EQ(state.config_sha256(), hex_sha256(kGood));
}

TEST(PoolContact, KeepsTheLastAnswerAndTheLastFailureWithItsReason) {
    PoolContact pool;
    EXPECT_EQ(pool.seen().last_answer, 0);
    EXPECT_EQ(pool.seen().last_failure, 0);
    pool.record(false, "Unreachable: Couldn't connect to server");
    pool.record(true, "");
    pool.record(false, "HTTP 503");
    const auto seen = pool.seen();
    EXPECT_NE(seen.last_answer, 0);
    EXPECT_NE(seen.last_failure, 0);
    EXPECT_EQ(seen.last_failure_reason, "HTTP 503");
    EXPECT_EQ(seen.answers, 1u);
    EXPECT_EQ(seen.failures, 2u);
}

}  // namespace
}  // namespace pp::helper
