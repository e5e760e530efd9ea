// Review 30a (issue #10, item 4): who is enrolled must not leak. Each test drives a login of an enrolled name
// and one of a name that is not (no pool identity, or no account at all) through the real module, libpam,
// the real helper and the local user pool, as a hostile client would, and expects the two to look alike.
// Each fails while its hole is open.
#include <gtest/gtest.h>
#include <security/pam_appl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "login_harness.hpp"
#include "transcript.hpp"

namespace pp::test {
namespace {

// bob is in the user pool; dave is mapped alike (one address) but the pool does not know him: a local account
// without a pool identity, which must walk bob's screens (AMappedIdentityUnknownToThePoolWalksItsOwnMapping).
constexpr const char* kIdentities =
    "alice alice@example.com\n"
    "alice +15555550123\n"
    "bob   bob@example.com\n"
    "dave  dave@example.com  # not in the user pool\n";

std::string config_with(const std::string& methods, int max_tries, const std::string& binding = "") {
    return "\n[login]\nmethods = " + methods + "\nmax_tries = " + std::to_string(max_tries) +
           "\nrequest_timeout = 2\nlogin_timeout = 300\n\n[binding]\n" + binding;
}

std::string show(const std::vector<std::pair<int, std::string>>& ts) {
    std::string out;
    for (const auto& [style, text] : ts) out += "  [" + std::to_string(style) + "] " + text + "\n";
    return out;
}

// A stand-in whose sessions last kSessionSeconds, and a helper told so ([pool] session_validity), so a client
// can really wait past a session: the wait is the attack, and the decoy asks the pool nothing, so only a real
// wait reaches it. kWaitPast is the wait: one second past the session, far more than a step's jitter.
constexpr int kSessionSeconds = 1;
constexpr auto kWaitPast = std::chrono::seconds(kSessionSeconds + 1);

// alice in the pool with an email and a phone; carol mapped alike, but the pool does not know her.
constexpr const char* kAliceAndCarolNotInThePool =
    "alice alice@example.com\nalice +15555550123\n"
    "carol carol@zeta.example.org\ncarol +15555550188  # not in the pool\n";

class EnrolmentOracle : public StandInTest {
  protected:
    void TearDown() override {
        helper_.reset();
        short_pool_.reset();
    }
    void start_helper(const HelperFiles& files) {
        helper_ = std::make_unique<Helper>(dir_, *standin_, files);
    }
    // The helper in front of a stand-in of its own, whose sessions last kSessionSeconds.
    void start_helper_with_short_sessions(const std::string& config, const std::string& identities) {
        const auto pool = test_pool_with(dir_ / "short-session-pool.json", "session_validity_seconds",
                                         std::to_string(kSessionSeconds));
        fs::create_directories(dir_ / "short-session-pool");
        short_pool_ = std::make_unique<StandIn>(dir_ / "short-session-pool", pool);
        helper_ = std::make_unique<Helper>(
            dir_, *short_pool_,
            HelperFiles{"\n[pool]\nsession_validity = " + std::to_string(kSessionSeconds) + "\n" + config,
                        identities});
    }
    PamRun login(const std::string& user, const Answerer& a) { return run_pam(service_, user, a); }
    // A login that waits past the pool's session at the method menu, chooses its first entry (a code) and
    // then types a wrong code at every prompt.
    PamRun wait_at_the_menu_then_choose_a_code(const std::string& user) {
        return login(user, [&](int, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.starts_with("Choose how to sign in:")) {
                std::this_thread::sleep_for(kWaitPast);
                return "1";
            }
            return "12345678";
        });
    }
    std::unique_ptr<StandIn> short_pool_;
    std::unique_ptr<Helper> helper_;
};

// Hole 1: the user pool's session lasts AuthSessionValidity (3 minutes by default), the login login_timeout
// (300 s by default). A client that waits past it at the code prompt and then types any code meets, for an
// enrolled name, the pool's expired session: "The sign-in session has expired; please start again." and
// PAM_AUTH_ERR at once. The decoy had no session that could expire: it said "Wrong code. Try again." and
// asked again, up to max_tries, and ended PAM_MAXTRIES. Its made-up session now ends as the pool's does.
TEST_F(EnrolmentOracle, AWaitPastThePoolsSessionAtTheCodePromptEndsAlikeForEveryName) {
    start_helper_with_short_sessions(config_with("email_otp", 3), kIdentities);
    auto walk = [&](const std::string& user) {
        int codes = 0;
        return login(user, [&](int, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.starts_with("Send a code to ")) return "";
            // The client waits past the pool's session before its first code.
            if (++codes == 1) std::this_thread::sleep_for(kWaitPast);
            return "12345678";
        });
    };
    const auto bob = walk("bob");
    const auto dave = walk("dave");
    ASSERT_FALSE(bob.prompts().empty()) << bob.all_text() << helper_->log();
    ASSERT_EQ(bob.code, PAM_AUTH_ERR) << "the pool's session did not expire:\n" << show(turns(bob, {}));
    EXPECT_EQ(dave.code, bob.code) << "PAM code: enrolled bob " << bob.code << ", dave (no pool identity) "
                                   << dave.code << "\nbob:\n"
                                   << show(turns(bob, {})) << "dave:\n"
                                   << show(turns(dave, {}));
    EXPECT_EQ(show(turns(dave, {{"d***@e***", "b***@e***"}})), show(turns(bob, {})))
        << "the screens after a wait past the pool's session tell enrolled bob from dave, who has no pool "
           "identity";
}

// Hole 1, at the menu: the same expiry when the client waits at the method menu (shown after the pool's first
// answer, whose session the choice is sent on): an enrolled name ends "session expired", the decoy went on to
// its code prompts.
TEST_F(EnrolmentOracle, AWaitPastThePoolsSessionAtTheMenuEndsAlikeForEveryName) {
    start_helper_with_short_sessions(config_with("email_otp sms_otp", 3), kAliceAndCarolNotInThePool);
    const auto walk = [&](const std::string& user) { return wait_at_the_menu_then_choose_a_code(user); };
    const auto alice = walk("alice");
    const auto carol = walk("carol");
    ASSERT_FALSE(alice.prompts().empty()) << alice.all_text() << helper_->log();
    ASSERT_EQ(alice.code, PAM_AUTH_ERR) << "the pool's session did not expire:\n" << show(turns(alice, {}));
    EXPECT_EQ(carol.code, alice.code)
        << "PAM code: enrolled alice " << alice.code << ", carol (no pool identity) " << carol.code;
    EXPECT_EQ(show(turns(carol, {{"c***@z***", "a***@e***"}, {"+*******0188", "+*******0123"}})),
              show(turns(alice, {})))
        << "the screens after a wait past the pool's session at the menu tell enrolled alice from carol";
}

// Hole 1, learned: the helper states nothing ([pool] session_validity at its 3-minute default) in front of a
// pool whose sessions last a second. A real session the pool refused as expired after a wait teaches the
// helper, which keeps it beside the limits' state: after a restart, a decoy's wait as long or longer ends as
// the real one did. (The decoy's wait is a second longer than bob's: the finding is "expired at that age",
// and the same wait again lands on it within a step's jitter.)
TEST_F(EnrolmentOracle, ASessionThePoolRefusedAsExpiredTeachesTheDecoyAcrossARestart) {
    const auto pool = test_pool_with(dir_ / "short-session-pool.json", "session_validity_seconds",
                                     std::to_string(kSessionSeconds));
    fs::create_directories(dir_ / "short-session-pool");
    short_pool_ = std::make_unique<StandIn>(dir_ / "short-session-pool", pool);
    const HelperFiles files{config_with("email_otp", 3), kIdentities};
    helper_ = std::make_unique<Helper>(dir_, *short_pool_, files);
    auto walk = [&](const std::string& user, std::chrono::milliseconds wait) {
        int codes = 0;
        return login(user, [&, wait](int, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.starts_with("Send a code to ")) return "";
            if (++codes == 1) std::this_thread::sleep_for(wait);
            return "12345678";
        });
    };
    const auto bob = walk("bob", kWaitPast);
    ASSERT_EQ(bob.code, PAM_AUTH_ERR) << "the pool's session did not expire:\n" << show(turns(bob, {}));
    helper_.reset();
    helper_ = std::make_unique<Helper>(dir_, *short_pool_, files);
    const auto dave = walk("dave", kWaitPast + std::chrono::seconds(1));
    EXPECT_EQ(dave.code, bob.code);
    EXPECT_EQ(show(turns(dave, {{"d***@e***", "b***@e***"}})), show(turns(bob, {})))
        << "a longer wait than the one the pool refused, after a restart, tells bob from dave";
}

// The other bound: the helper states one second, the pool's sessions last three minutes. A real answer the
// pool took on a session older than that (bob types his code after two seconds) keeps the decoy's made-up
// session open at least as long: dave waiting as long is told "Wrong code", as bob would be.
TEST_F(EnrolmentOracle, AnAnswerThePoolTookOnAnOlderSessionKeepsTheDecoysOpenAsLong) {
    start_helper(HelperFiles{"\n[pool]\nsession_validity = 1\n" + config_with("email_otp", 2), kIdentities});
    int codes = 0;
    const auto bob = login("bob", [&](int, const std::string& prompt) -> std::optional<std::string> {
        if (prompt.starts_with("Send a code to ")) return "";
        if (++codes == 1) std::this_thread::sleep_for(kWaitPast);
        return standin_->latest_code("bob@example.com").value_or("none");
    });
    ASSERT_EQ(bob.code, PAM_SUCCESS) << bob.all_text() << helper_->log();
    codes = 0;
    const auto dave = login("dave", [&](int, const std::string& prompt) -> std::optional<std::string> {
        if (prompt.starts_with("Send a code to ")) return "";
        // Within the two seconds bob's session was taken at, past the second the helper states.
        if (++codes == 1) std::this_thread::sleep_for(kWaitPast - std::chrono::milliseconds(500));
        return "12345678";
    });
    EXPECT_EQ(dave.code, PAM_MAXTRIES) << "dave's made-up session expired sooner than bob's real one:\n"
                                       << show(turns(dave, {}));
}

// Hole 2: the user pool takes a limited number of wrong codes per session (the stand-in's max_code_attempts,
// 5; the live service's number is not documented) and then ends the session. With max_tries above it (the
// helper allows up to 10), an enrolled name is told "too many wrong codes" after one prompt past the pool's
// limit (otp_method.cpp, pool_ended_after_wrong_codes); the decoy asks max_tries times. The count of code
// prompts tells enrolled bob from dave.
TEST_F(EnrolmentOracle, ThePoolsOwnAttemptLimitEndsEveryNameAfterAsManyCodes) {
    start_helper(HelperFiles{config_with("email_otp", 8), kIdentities});
    auto walk = [&](const std::string& user) {
        return login(user, [&](int, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.starts_with("Send a code to ")) return "";
            return "12345678";
        });
    };
    const auto bob = walk("bob");
    const auto dave = walk("dave");
    ASSERT_EQ(bob.code, PAM_MAXTRIES) << bob.all_text() << helper_->log();
    EXPECT_EQ(dave.code, bob.code);
    EXPECT_EQ(dave.prompts().size(), bob.prompts().size())
        << "enrolled bob was asked " << bob.prompts().size() << " times, dave (no pool identity) "
        << dave.prompts().size() << " times\nbob:\n"
        << show(turns(bob, {})) << "dave:\n"
        << show(turns(dave, {}));
}

// Hole 2, before any real login: the pool's limit as the admin states it ([pool] code_attempts, the test
// pool's max_code_attempts) ends the decoy at the same code as the pool ends a real login, also when the
// decoy walks first.
TEST_F(EnrolmentOracle, AStatedAttemptLimitEndsTheDecoyAsThePoolEndsARealLoginBeforeAnyIsSeen) {
    start_helper(HelperFiles{"\n[pool]\ncode_attempts = 5\n" + config_with("email_otp", 8), kIdentities});
    const auto client = [](int, const std::string& prompt) -> std::optional<std::string> {
        if (prompt.starts_with("Send a code to ")) return "";
        return "12345678";
    };
    const auto dave = login("dave", client);
    const auto bob = login("bob", client);
    ASSERT_EQ(bob.code, PAM_MAXTRIES) << bob.all_text() << helper_->log();
    EXPECT_EQ(dave.code, bob.code);
    EXPECT_EQ(show(turns(dave, {{"d***@e***", "b***@e***"}})), show(turns(bob, {})))
        << "with the pool's limit stated, dave (no pool identity, first) was asked " << dave.prompts().size()
        << " times, enrolled bob " << bob.prompts().size() << " times";
}

// Hole 2, across a restart: the count at which the pool ended a real login is kept beside the limits' state
// (pool_sessions), so the decoy of the next helper ends at it too, with nothing stated.
TEST_F(EnrolmentOracle, ThePoolsAttemptLimitSeenBeforeARestartEndsTheDecoyAfterIt) {
    const HelperFiles files{config_with("email_otp", 8), kIdentities};
    start_helper(files);
    const auto client = [](int, const std::string& prompt) -> std::optional<std::string> {
        if (prompt.starts_with("Send a code to ")) return "";
        return "12345678";
    };
    const auto bob = login("bob", client);
    ASSERT_EQ(bob.code, PAM_MAXTRIES) << bob.all_text() << helper_->log();
    helper_.reset();
    start_helper(files);
    const auto dave = login("dave", client);
    EXPECT_EQ(dave.code, bob.code);
    EXPECT_EQ(show(turns(dave, {{"d***@e***", "b***@e***"}})), show(turns(bob, {})))
        << "after a restart dave (no pool identity) was asked " << dave.prompts().size()
        << " times, enrolled bob before it " << bob.prompts().size() << " times";
}

// Review 30c (e065dd2, issue #10 item 4): the spec's other answer to a preference the person cannot use is an
// error (stand-in ineligible_preferred_error); the helper then shows the menu of what the admin allows before
// the pool holds any session (choose_first), and asks the pool only for the method chosen, on a fresh
// session. A real login may wait at that menu as long as it likes: the code chosen is sent and its prompt
// shown. The decoy's made-up session starts before its menu whatever the pool does (unknown_user.cpp) and
// ends at the choice: after a wait past the pool's session at the menu, enrolled alice is sent a code and
// asked for it, and a name without an identity is told "The sign-in session has expired".
TEST_F(EnrolmentOracle, AWaitAtTheMenuShownBeforeThePoolIsAskedEndsAlikeForEveryName) {
    start_helper_with_short_sessions(config_with("email_otp sms_otp", 2), kAliceAndCarolNotInThePool);
    short_pool_->set_control(R"({"ineligible_preferred_error":
        {"name": "InvalidParameterException", "message": "not eligible"}})");
    const auto walk = [&](const std::string& user) { return wait_at_the_menu_then_choose_a_code(user); };
    const auto alice = walk("alice");
    std::vector<std::pair<std::string, PamRun>> others;
    for (const char* user : {"carol", "bob", "nobody-here"}) others.emplace_back(user, walk(user));
    short_pool_->clear_control();
    ASSERT_FALSE(alice.prompts().empty()) << alice.all_text() << helper_->log();
    for (const auto& [user, run] : others) {
        EXPECT_EQ(run.code, alice.code)
            << "PAM code: enrolled alice " << alice.code << ", " << user << " " << run.code;
        EXPECT_EQ(run.prompts().size(), alice.prompts().size()) << "alice:\n"
                                                                << show(turns(alice, {})) << user << ":\n"
                                                                << show(turns(run, {}));
    }
}

// Review 30a's holes 3, 4 and 5 (a pool member typing their own address under claim binding; sshd's stand-in
// answers for a name that is no account; a decoy following the factor memory of the real user it copies) tell
// a local account from a name that is none, or follow that user's own logins: they are documented as what
// the decoy cannot hide (README, "What the decoy cannot hide"), and their tests live on review 30a's branch.

// Review 30c (e065dd2, issue #10 item 4): a pool that goes straight to a person's one factor, past the
// helper's preference (the code is sent with its first answer: BrowserLogin.DecoyShowsTheSameScreensWhen-
// ThePoolSkipsItsMenu), with the browser offered: the menu is the helper's, shown while the pool's session is
// at the code already. A real login that waits past the session at that menu and chooses the code is shown
// its code prompt (nothing is asked of the pool then), and only the code typed meets the expired session.
// The decoy's made-up session ends at the choice itself (unknown_user.cpp: a code chosen from a menu the pool
// made is sent on the menu's session), one screen earlier: enrolled bob shows a code prompt, dave none.
TEST_F(EnrolmentOracle, AWaitPastThePoolsSessionAtAMenuThePoolSkippedEndsAlikeForEveryName) {
    const auto pool = test_pool_with(dir_ / "short-session-pool.json", "session_validity_seconds",
                                     std::to_string(kSessionSeconds));
    fs::create_directories(dir_ / "short-session-pool");
    short_pool_ = std::make_unique<StandIn>(dir_ / "short-session-pool", pool);
    const std::string ready = read_text(short_pool_->dir() / "ready.json");
    const auto key = ready.find("\"callback_page\"");
    const auto start = ready.find('"', ready.find(':', key) + 1) + 1;
    const std::string callback = ready.substr(start, ready.find('"', start) - start);
    const std::string browser = "\n[browser]\ndomain = localhost:" + std::to_string(short_pool_->port()) +
                                "\nclient_id = browserclient789\nredirect_uri = " + callback + "\n";
    helper_ = std::make_unique<Helper>(
        dir_, *short_pool_,
        HelperFiles{"\n[pool]\nsession_validity = " + std::to_string(kSessionSeconds) + "\n" +
                        config_with("email_otp browser", 3) + browser,
                    kIdentities});
    short_pool_->set_control(R"({"one_factor_skips_select": true, "one_factor_skips_preference": true})");
    auto walk = [&](const std::string& user) {
        return login(user, [&](int, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.starts_with("Choose how to sign in:")) {
                std::this_thread::sleep_for(kWaitPast);
                return "1";  // the email code
            }
            return "12345678";
        });
    };
    const auto bob = walk("bob");
    const auto dave = walk("dave");
    short_pool_->clear_control();
    ASSERT_FALSE(bob.prompts().empty()) << bob.all_text() << helper_->log();
    EXPECT_EQ(dave.code, bob.code) << "PAM code: enrolled bob " << bob.code << ", dave (no pool identity) "
                                   << dave.code;
    EXPECT_EQ(show(turns(dave, {{"d***@e***", "b***@e***"}})), show(turns(bob, {})))
        << "the screens after a wait past the pool's session at a menu the pool skipped tell bob from dave";
}

}  // namespace
}  // namespace pp::test
