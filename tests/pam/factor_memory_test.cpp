// Issue #11 (e): the factors the user pool offered an identity at its last successful login are remembered,
// so the next login shows the menu before any request and asks InitiateAuth for the chosen factor with
// PREFERRED_CHALLENGE: a code login in two requests instead of three. Through the real module, libpam, the
// real helper and the local stand-in, whose requests.jsonl counts the requests of each login.
#include <gtest/gtest.h>
#include <security/pam_appl.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include "login_harness.hpp"

namespace pp::test {
namespace {

constexpr const char* kAliceEmail = "alice@example.com";
constexpr const char* kAlicePhone = "+15555550123";
constexpr const char* kIdentities =
    "alice alice@example.com\n"
    "alice +15555550123\n"
    "bob   bob@example.com\n"
    "bob   +15555550199\n";  // a number the pool does not hold for bob: it offers him the email code only
constexpr const char* kMenu =
    "Choose how to sign in:\n  1) Email code to a***@e***\n  2) Text message code to +*******0123\n"
    "Choice [1-2]: ";

// A test here logs alice in several times: the send limit per identifier is raised out of the way.
std::string login_section(const std::string& extra) {
    return "\n[login]\nmethods = email_otp sms_otp\nmax_tries = 3\nrequest_timeout = 2\nlogin_timeout = "
           "60\n" +
           extra + "\n[limits]\nstate_file = " + (test_dir() / "limits").string() +
           "\nsends_per_identifier = 50\n\n[binding]\n";
}

// The sign-in requests (InitiateAuth, RespondToAuthChallenge) the stand-in logged after `before` bytes.
std::vector<std::string> sign_in_requests(const std::string& log, std::size_t before) {
    std::vector<std::string> lines;
    std::istringstream in(log.substr(before));
    for (std::string line; std::getline(in, line);)
        if (contains(line, "\"op\": \"InitiateAuth\"") ||
            contains(line, "\"op\": \"RespondToAuthChallenge\""))
            lines.push_back(line);
    return lines;
}

std::size_t count_of(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
    return n;
}

struct Login {
    PamRun run;
    std::vector<std::string> requests;    // the sign-in requests the login made
    std::size_t before_first_prompt = 0;  // ... of which before the person saw anything
};

class FactorMemory : public StandInTest {
  protected:
    void TearDown() override { standin_->clear_control(); }

    void start_helper(const std::string& extra = "") {
        helper_ = std::make_unique<Helper>(dir_, *standin_, HelperFiles{login_section(extra), kIdentities});
    }

    // Rewrites the [login] extra lines and waits until the helper has loaded them.
    void reload_with(const std::string& extra) {
        const auto reloads = count_of(helper_->log(), "configuration reloaded");
        std::string conf = read_text(helper_->config_path());
        const auto from = conf.find("login_timeout = 60\n") + 19;
        conf.replace(from, conf.find("\n[limits]") - from, extra);
        write_text(helper_->config_path(), conf);
        helper_->reload();
        ASSERT_TRUE(wait_until([&] { return count_of(helper_->log(), "configuration reloaded") > reloads; }))
            << helper_->log();
    }

    // One login of `user`: `choice` at the menu, Enter at an offer, each code prompt the newest code sent to
    // `to` (or `code` when given: a wrong one).
    Login login(const std::string& user, const std::string& choice, const std::string& to,
                const std::string& code = "") {
        Login l;
        const auto before = standin_->requests_log().size();
        bool first = true;
        l.run = run_pam(service_, user, [&](int, const std::string& prompt) -> std::optional<std::string> {
            if (first) l.before_first_prompt = sign_in_requests(standin_->requests_log(), before).size();
            first = false;
            if (prompt.ends_with("? [Y/n] ")) return std::string();
            if (prompt.ends_with("Choice [1-2]: ")) return choice;
            if (!code.empty()) return code;
            return standin_->latest_code(to).value_or("no-code");
        });
        l.requests = sign_in_requests(standin_->requests_log(), before);
        return l;
    }

    std::unique_ptr<Helper> helper_;
};

// The first login asks the pool what alice has (InitiateAuth), then the menu's answer sends the code
// (SELECT_CHALLENGE), then the code: 3 requests. Every later one shows the same menu before any request and
// sends the chosen factor as PREFERRED_CHALLENGE: InitiateAuth sends the code, then the code: 2 requests.
TEST_F(FactorMemory, SecondLoginShowsTheMenuFirstAndAsksThePoolTwice) {
    start_helper();
    const auto first = login("alice", "1", kAliceEmail);
    ASSERT_EQ(first.run.code, PAM_SUCCESS) << first.run.all_text() << helper_->log();
    EXPECT_EQ(first.requests.size(), 3u) << standin_->requests_log();
    EXPECT_EQ(first.before_first_prompt, 1u) << "the first login asks the pool before its menu";

    for (const auto& [choice, to, prompt] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"1", kAliceEmail, "Code sent to a***@e***: "},
             {"2", kAlicePhone, "Code sent to +*******0123: "}}) {
        const auto again = login("alice", choice, to);
        ASSERT_EQ(again.run.code, PAM_SUCCESS) << again.run.all_text() << helper_->log();
        ASSERT_EQ(again.requests.size(), 2u) << choice << "\n" << standin_->requests_log();
        EXPECT_EQ(again.before_first_prompt, 0u) << "the menu comes before any request";
        EXPECT_TRUE(contains(again.requests[0], "\"op\": \"InitiateAuth\"")) << again.requests[0];
        EXPECT_TRUE(contains(again.requests[1], "\"op\": \"RespondToAuthChallenge\"")) << again.requests[1];
        for (const auto& r : again.requests) EXPECT_TRUE(contains(r, "\"status\": 200")) << r;
        ASSERT_EQ(again.run.prompts().size(), 2u) << again.run.all_text();
        EXPECT_EQ(again.run.prompts()[0], kMenu);
        EXPECT_EQ(again.run.prompts()[1], prompt);
    }
    EXPECT_NE(helper_->log().find("method=sms_otp outcome=success"), std::string::npos) << helper_->log();

    // One factor (the pool has no phone for bob, though the map names one): the offer of the code comes first
    // either way; the second login's offer is shown before any request.
    const auto bob1 = login("bob", "", "bob@example.com");
    ASSERT_EQ(bob1.run.code, PAM_SUCCESS) << bob1.run.all_text() << helper_->log();
    EXPECT_EQ(bob1.requests.size(), 3u);
    const auto bob2 = login("bob", "", "bob@example.com");
    ASSERT_EQ(bob2.run.code, PAM_SUCCESS) << bob2.run.all_text() << helper_->log();
    EXPECT_EQ(bob2.requests.size(), 2u);
    EXPECT_EQ(bob2.before_first_prompt, 0u);
    EXPECT_EQ(bob2.run.prompts(), bob1.run.prompts());
}

// A login that fails remembers nothing (since session 16; before, a login remembered once the pool had sent
// its code): after a wrong code, and after a login abandoned at the code prompt, the next login still asks
// the pool before its menu. Only a successful login makes the one after it show the menu first.
TEST_F(FactorMemory, AFailedLoginRemembersNothing) {
    start_helper();
    const auto wrong = login("alice", "1", kAliceEmail, "00000000");
    ASSERT_EQ(wrong.run.code, PAM_MAXTRIES) << wrong.run.all_text() << helper_->log();
    ASSERT_EQ(wrong.requests.size(), 5u) << "the pool sent a code: " << standin_->requests_log();

    const auto before = standin_->requests_log().size();
    const PamRun abandoned =
        run_pam(service_, "alice", [](int, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.ends_with("Choice [1-2]: ")) return std::string("2");
            return std::nullopt;  // gone at the code prompt, after the pool sent the text message
        });
    ASSERT_NE(abandoned.code, PAM_SUCCESS) << abandoned.all_text();
    ASSERT_EQ(sign_in_requests(standin_->requests_log(), before).size(), 2u) << standin_->requests_log();

    const auto next = login("alice", "1", kAliceEmail);
    ASSERT_EQ(next.run.code, PAM_SUCCESS) << next.run.all_text() << helper_->log();
    EXPECT_EQ(next.before_first_prompt, 1u) << "a failed login made the next one show the menu first";
    EXPECT_EQ(next.requests.size(), 3u) << standin_->requests_log();

    const auto remembered = login("alice", "1", kAliceEmail);
    ASSERT_EQ(remembered.run.code, PAM_SUCCESS) << remembered.run.all_text() << helper_->log();
    EXPECT_EQ(remembered.before_first_prompt, 0u) << "a successful login is remembered";
    EXPECT_EQ(remembered.requests.size(), 2u) << standin_->requests_log();
}

// The attack (issue #10, "a decoy that cannot be told apart"): someone probing a list of names sends a code
// to each real user on it. When a failed login was remembered, every real user probed turned "remembered",
// and with them every decoy copying one (the decoy follows the memory of the real user whose shape it
// walks): from then on a name that is nobody showed its menu at once, where a real name not yet probed still
// waited a round trip for it. With the pool 800 ms away: after alice and bob (the only real users, so every
// decoy copies one of them) are probed, carol (an account without identity) and nosuch (no account) must
// still wait as an unremembered real user waits; once alice and bob have logged in themselves, the decoys
// show the menu first, as those two now do.
TEST_F(FactorMemory, ProbingRealUsersDoesNotMakeTheDecoyShowItsMenuFirst) {
    start_helper();
    constexpr auto kDelay = std::chrono::milliseconds(800);
    standin_->set_control(R"({"delay_ms": 800})");
    // A login left at its first code prompt: the time from its start to its first prompt.
    const auto probe = [&](const std::string& user) {
        const auto began = std::chrono::steady_clock::now();
        std::optional<std::chrono::steady_clock::duration> first;
        const PamRun run =
            run_pam(service_, user, [&](int, const std::string& prompt) -> std::optional<std::string> {
                if (!first) first = std::chrono::steady_clock::now() - began;
                if (prompt.ends_with("? [Y/n] ")) return std::string();
                if (prompt.ends_with("Choice [1-2]: ")) return std::string("1");
                return std::nullopt;
            });
        EXPECT_NE(run.code, PAM_SUCCESS) << user << "\n" << run.all_text();
        EXPECT_TRUE(first.has_value()) << user << "\n" << run.all_text() << helper_->log();
        return first.value_or(std::chrono::steady_clock::duration::zero());
    };
    for (const std::string user : {"alice", "bob"}) {
        const auto before = standin_->requests_log().size();
        probe(user);
        ASSERT_GE(sign_in_requests(standin_->requests_log(), before).size(), 2u)
            << user << ": the probe must reach the send\n"
            << standin_->requests_log();
    }
    // Not remembered: the first prompt comes after the pause that copies the pool's first answer. (Load
    // only makes a login slower, so this bound cannot fail by the machine being busy.)
    for (const std::string user : {"carol", "nosuch"}) {
        const auto first = probe(user);
        EXPECT_GE(first, kDelay * 2 / 3)
            << user
            << " showed its menu at once after only failed logins of "
               "the users it copies: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(first).count() << " ms\n"
            << helper_->log();
    }

    standin_->clear_control();
    for (const std::string user : {"alice", "bob"}) {
        const auto in = login(user, "1", user == "alice" ? kAliceEmail : "bob@example.com");
        ASSERT_EQ(in.run.code, PAM_SUCCESS) << user << "\n" << in.run.all_text() << helper_->log();
        EXPECT_EQ(in.before_first_prompt, 1u) << user << ": the probe made the login remembered";
    }
    standin_->set_control(R"({"delay_ms": 800})");
    // Remembered now, as alice and bob are: the menu before the pause.
    for (const std::string user : {"carol", "nosuch"}) {
        const auto first = probe(user);
        EXPECT_LT(first, kDelay * 2 / 3)
            << user << " waited as if the user it copies were not remembered: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(first).count() << " ms\n"
            << helper_->log();
    }
}

// A factor taken away at the pool since the last login: the pool answers the preferred challenge with
// SELECT_CHALLENGE (spec §2.4). The person reads that the chosen method is gone and is offered what the pool
// offers now; nothing is sent the wrong way. The memory then holds what the pool offers now, and is refreshed
// when the factor comes back.
TEST_F(FactorMemory, AFactorGoneAtThePoolFallsBackToWhatThePoolOffers) {
    start_helper();
    ASSERT_EQ(login("alice", "1", kAliceEmail).run.code, PAM_SUCCESS) << helper_->log();
    standin_->set_control(R"({"withdrawn_factors": {"alice": ["SMS_OTP"]}})");
    const auto sms_lines = standin_->outbox_lines();

    const auto gone = login("alice", "2", kAliceEmail);
    ASSERT_EQ(gone.run.code, PAM_SUCCESS) << gone.run.all_text() << helper_->log();
    ASSERT_EQ(gone.run.prompts().size(), 3u) << gone.run.all_text();
    EXPECT_EQ(gone.run.prompts()[0], kMenu);
    EXPECT_EQ(gone.run.prompts()[1],
              "Text message code is no longer available for this account.\nSend a code to a***@e***? [Y/n] ");
    EXPECT_EQ(gone.run.prompts()[2], "Code sent to a***@e***: ");
    EXPECT_EQ(gone.requests.size(), 3u)
        << "InitiateAuth with the preferred challenge, the menu's answer, the code";
    EXPECT_EQ(standin_->outbox_lines(), sms_lines + 1) << "one code, by email";
    EXPECT_NE(helper_->log().find("method=email_otp outcome=success"), std::string::npos) << helper_->log();

    // Now only the email is remembered: its offer, before any request.
    const auto email_only = login("alice", "", kAliceEmail);
    ASSERT_EQ(email_only.run.code, PAM_SUCCESS) << email_only.run.all_text() << helper_->log();
    EXPECT_EQ(email_only.requests.size(), 2u);
    EXPECT_EQ(email_only.before_first_prompt, 0u);
    ASSERT_FALSE(email_only.run.prompts().empty());
    EXPECT_EQ(email_only.run.prompts()[0], "Send a code to a***@e***? [Y/n] ");

    // The phone is back: the next code-sending answer announces both again, and the login after shows both.
    standin_->clear_control();
    ASSERT_EQ(login("alice", "", kAliceEmail).run.code, PAM_SUCCESS) << helper_->log();
    const auto both = login("alice", "2", kAlicePhone);
    ASSERT_EQ(both.run.code, PAM_SUCCESS) << both.run.all_text() << helper_->log();
    EXPECT_EQ(both.requests.size(), 2u);
    EXPECT_EQ(both.run.prompts().at(0), kMenu);
}

// The other answer the spec allows for an ineligible preferred challenge: an error. The helper forgets what
// it remembered and asks again without a preference, as a login with nothing remembered does.
TEST_F(FactorMemory, AnErrorForTheRememberedFactorFallsBackToo) {
    start_helper();
    ASSERT_EQ(login("alice", "1", kAliceEmail).run.code, PAM_SUCCESS) << helper_->log();
    standin_->set_control(R"({"withdrawn_factors": {"alice": ["SMS_OTP"]},
        "ineligible_preferred_error": {"name": "InvalidParameterException", "message": "not eligible"}})");
    const auto gone = login("alice", "2", kAliceEmail);
    ASSERT_EQ(gone.run.code, PAM_SUCCESS) << gone.run.all_text() << helper_->log();
    EXPECT_EQ(gone.run.prompts().at(1),
              "Text message code is no longer available for this account.\nSend a code to a***@e***? [Y/n] ");
    ASSERT_EQ(gone.requests.size(), 4u) << standin_->requests_log();
    EXPECT_TRUE(contains(gone.requests[0], "\"status\": 400")) << gone.requests[0];
    EXPECT_TRUE(contains(gone.requests[1], "\"op\": \"InitiateAuth\"")) << gone.requests[1];
}

// The pool refusing the preferred challenge for another reason (throttling) is not a factor gone: the login
// ends as any login the pool throttles, and the memory is kept.
TEST_F(FactorMemory, AThrottledPoolIsNotAFactorGone) {
    start_helper();
    ASSERT_EQ(login("alice", "1", kAliceEmail).run.code, PAM_SUCCESS) << helper_->log();
    standin_->set_control(
        R"({"error": {"name": "TooManyRequestsException", "message": "Rate exceeded"}, "ops": ["InitiateAuth"]})");
    const auto throttled = login("alice", "1", kAliceEmail);
    EXPECT_EQ(throttled.run.code, PAM_AUTHINFO_UNAVAIL) << throttled.run.all_text() << helper_->log();
    EXPECT_EQ(throttled.requests.size(), 1u);
    standin_->clear_control();
    const auto after = login("alice", "1", kAliceEmail);
    ASSERT_EQ(after.run.code, PAM_SUCCESS) << after.run.all_text() << helper_->log();
    EXPECT_EQ(after.requests.size(), 2u);
}

// remember_factors is how long a pool's answer is trusted for the menu: past it, the login asks the pool
// first again; 0 turns the memory off.
TEST_F(FactorMemory, RememberedFactorsExpire) {
    start_helper("remember_factors = 30d\n");
    ASSERT_EQ(login("alice", "1", kAliceEmail).run.code, PAM_SUCCESS) << helper_->log();
    const std::time_t remembered_by = std::time(nullptr);
    EXPECT_EQ(login("alice", "1", kAliceEmail).requests.size(), 2u);

    reload_with("remember_factors = 1s\n");
    // Waits for the clock, not for a fixed time: the last answer was remembered before `remembered_by`.
    ASSERT_TRUE(wait_until([&] { return std::time(nullptr) >= remembered_by + 2; }));
    const auto expired = login("alice", "1", kAliceEmail);
    ASSERT_EQ(expired.run.code, PAM_SUCCESS) << expired.run.all_text() << helper_->log();
    EXPECT_EQ(expired.requests.size(), 3u);
    EXPECT_EQ(expired.before_first_prompt, 1u);

    reload_with("remember_factors = 0\n");
    for (int i = 0; i < 2; ++i) {
        const auto off = login("alice", "1", kAliceEmail);
        ASSERT_EQ(off.run.code, PAM_SUCCESS) << off.run.all_text() << helper_->log();
        EXPECT_EQ(off.requests.size(), 3u) << i;
    }
}

// The decoy (carol has an account but no identity) copies a real user's shape (alice's menu or bob's offer,
// decoy.hpp) and shows, login after login, the same prompts at the same points as that user, who is
// remembered after the first login; it asks the pool nothing.
TEST_F(FactorMemory, DecoyShowsTheSamePromptsLoginAfterLogin) {
    start_helper();
    std::map<std::string, std::vector<std::vector<std::string>>> walks;
    for (int i = 0; i < 2; ++i)
        for (const std::string user : {"alice", "bob", "carol"}) {
            const auto l = login(user, "1", "", "00000000");
            EXPECT_EQ(l.run.code, PAM_MAXTRIES) << user << "\n" << l.run.all_text() << helper_->log();
            if (user == "carol") {
                EXPECT_TRUE(l.requests.empty()) << "nothing may be asked of the pool";
            }
            walks[user].push_back(l.run.prompts());
        }
    for (const auto& [user, w] : walks) EXPECT_EQ(w[0], w[1]) << user;
    const auto& decoy = walks["carol"][0];
    ASSERT_FALSE(decoy.empty());
    const auto& model = walks[decoy[0].starts_with("Choose how to sign in:") ? "alice" : "bob"][0];
    ASSERT_EQ(decoy.size(), model.size());
    for (std::size_t i = 0; i < decoy.size(); ++i) {
        // The same text but for the masked addresses made up for carol.
        static const std::regex masked(R"([a-z+]?\*+[^ \n:?]*)");
        EXPECT_EQ(std::regex_replace(decoy[i], masked, "MASK"), std::regex_replace(model[i], masked, "MASK"))
            << decoy[i] << " against " << model[i];
    }
}

}  // namespace
}  // namespace pp::test
