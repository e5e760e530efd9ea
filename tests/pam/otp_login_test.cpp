// Email and SMS code logins through the real module, libpam, the real helper and the local user pool.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <security/pam_appl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <utility>

#include "login_harness.hpp"
#include "transcript.hpp"

namespace pp::test {
namespace {

constexpr const char* kAliceEmail = "alice@example.com";
constexpr const char* kAlicePhone = "+15555550123";
constexpr const char* kIdentities =
    "# local-user identifier\n"
    "alice alice@example.com\n"
    "alice +15555550123\n"
    "bob   bob@example.com\n"
    "dave  dave@example.com  # not in the user pool\n";

std::string login_section(const std::string& methods, const std::string& extra = "") {
    return "\n[login]\nmethods = " + methods + "\nmax_tries = 3\nrequest_timeout = 2\nlogin_timeout = 60\n" +
           extra + "\n[binding]\n";
}

class OtpLogin : public StandInTest {
  protected:
    void start_helper(const HelperFiles& files) {
        helper_ = std::make_unique<Helper>(dir_, *standin_, files);
    }
    void start_helper(const std::string& methods, const std::string& extra = "") {
        start_helper(HelperFiles{login_section(methods, extra), kIdentities});
    }

    // Answers a code prompt with the newest code sent to `to`, any other prompt with `other`.
    Answerer code_from_outbox(const std::string& to, const std::string& other = "") const {
        return [this, to, other](int, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.find("Code sent to") == std::string::npos) return other;
            auto code = standin_->latest_code(to);
            return code ? *code : "no-code";
        };
    }

    PamRun login(const std::string& user, const Answerer& a,
                 const std::map<std::string, std::string>& items = {}) {
        return run_pam(service_, user, a, items);
    }

    // Six logins of `user` through sshd's password conversation: each ends PAM_CONV_ERR having sent no code,
    // and none counts a failure.
    void expect_password_logins_send_nothing(const std::string& user, const std::string& password) {
        const auto before = standin_->outbox_lines();
        for (int i = 0; i < 6; ++i) {
            const auto run = run_pam(test_service("fallthrough"), user, sshd_password_conversation(password));
            EXPECT_EQ(run.code, PAM_CONV_ERR) << run.all_text() << helper_->log();
            EXPECT_EQ(standin_->outbox_lines(), before) << "password login " << i + 1 << " sent a code";
        }
        EXPECT_EQ(helper_->log().find("outcome=maxtries"), std::string::npos) << helper_->log();
    }

    std::unique_ptr<Helper> helper_;
};

TEST_F(OtpLogin, EmailCodeLogsIn) {
    start_helper("email_otp");
    std::string seen_code;
    const auto before = standin_->outbox_lines();
    const auto run = login("alice", [&](int style, const std::string& prompt) -> std::optional<std::string> {
        // One method: the first prompt offers the code (echoed, so sshd's password path refuses it).
        if (prompt == "Send a code to a***@e***? [Y/n] ") {
            EXPECT_EQ(style, PAM_PROMPT_ECHO_ON);
            EXPECT_EQ(standin_->outbox_lines(), before) << "no code may be sent before the person agrees";
            return "";
        }
        EXPECT_EQ(style, PAM_PROMPT_ECHO_OFF);
        EXPECT_EQ(prompt, "Code sent to a***@e***: ");
        seen_code = standin_->latest_code(kAliceEmail).value_or("");
        return seen_code;
    });
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    EXPECT_EQ(run.prompts().size(), 2u) << run.all_text();
    ASSERT_EQ(seen_code.size(), 8u);
    const std::string log = helper_->log();
    EXPECT_NE(log.find("user=\"alice\" service=\"" + service_ + "\""), std::string::npos) << log;
    EXPECT_NE(log.find("method=email_otp outcome=success"), std::string::npos) << log;
    // The code is a secret: it appears in no log line of the helper or the stand-in's request log.
    EXPECT_EQ(log.find(seen_code), std::string::npos);
    EXPECT_EQ(standin_->requests_log().find(seen_code), std::string::npos);
}

TEST_F(OtpLogin, SmsCodeLogsIn) {
    start_helper("sms_otp");
    const auto run = login("alice", code_from_outbox(kAlicePhone));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    ASSERT_EQ(run.prompts().size(), 2u);
    EXPECT_EQ(run.prompts()[0], "Send a code to +*******0123? [Y/n] ");
    EXPECT_EQ(run.prompts()[1], "Code sent to +*******0123: ");
}

TEST_F(OtpLogin, MenuOffersBothMethodsAndHonoursTheChoice) {
    start_helper("email_otp sms_otp");
    const auto before = standin_->outbox_lines();
    const auto run = login("alice", [&](int style, const std::string& prompt) -> std::optional<std::string> {
        if (prompt.starts_with("Choose how to sign in:")) {
            EXPECT_EQ(style, PAM_PROMPT_ECHO_ON);
            EXPECT_EQ(standin_->outbox_lines(), before) << "no code may be sent before the person chooses";
            return "2";
        }
        EXPECT_EQ(prompt, "Code sent to +*******0123: ");
        return standin_->latest_code(kAlicePhone).value_or("none");
    });
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    ASSERT_EQ(run.prompts().size(), 2u);
    EXPECT_EQ(run.prompts()[0],
              "Choose how to sign in:\n  1) Email code to a***@e***\n  2) Text message code to +*******0123\n"
              "Choice [1-2]: ");
    EXPECT_EQ(standin_->outbox_lines(), before + 1);
}

TEST_F(OtpLogin, OneOfferedMethodMeansNoMenu) {
    // bob has no phone, so the pool offers only the email code: no menu, the offer of the code instead.
    start_helper("email_otp sms_otp");
    const auto run = login("bob", code_from_outbox("bob@example.com"));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    ASSERT_EQ(run.prompts().size(), 2u);
    EXPECT_EQ(run.prompts()[0], "Send a code to b***@e***? [Y/n] ");
    EXPECT_EQ(run.prompts()[1], "Code sent to b***@e***: ");
}

TEST_F(OtpLogin, CodesGoOnlyWhereTheMapSays) {
    // alice's pool account has a verified phone too, but the admin mapped only her email: the pool's menu
    // offers a text message that would go to a number nobody vouched for. Only the email is offered, at
    // the first login as at later ones (whose menu comes from the remembered factors and the map) and as
    // the decoy of an account mapped the same way shows it.
    start_helper(HelperFiles{login_section("email_otp sms_otp"), "alice alice@example.com\n"});
    for (int round = 0; round < 2; ++round) {
        const auto before = standin_->outbox_lines();
        const auto run = login("alice", code_from_outbox(kAliceEmail));
        EXPECT_EQ(run.code, PAM_SUCCESS) << round << run.all_text() << helper_->log();
        ASSERT_EQ(run.prompts().size(), 2u) << round << run.all_text();
        EXPECT_EQ(run.prompts()[0], "Send a code to a***@e***? [Y/n] ") << round;
        EXPECT_EQ(run.prompts()[1], "Code sent to a***@e***: ") << round;
        EXPECT_EQ(standin_->outbox_lines(), before + 1) << round;
        EXPECT_FALSE(standin_->latest_code(kAlicePhone).has_value()) << round;
    }
}

TEST_F(OtpLogin, DecliningTheOfferSendsNothing) {
    start_helper("email_otp");
    const auto before = standin_->outbox_lines();
    const auto run =
        login("alice", [](int, const std::string&) -> std::optional<std::string> { return "n"; });
    EXPECT_EQ(run.code, PAM_ABORT) << run.all_text() << helper_->log();
    EXPECT_EQ(run.prompts().size(), 1u) << run.all_text();
    EXPECT_NE(run.all_text().find("Sign-in cancelled."), std::string::npos) << run.all_text();
    EXPECT_EQ(standin_->outbox_lines(), before);
}

TEST_F(OtpLogin, AnUnclearAnswerToTheOfferIsAskedAgain) {
    start_helper("email_otp");
    int offers = 0;
    const auto run = login("alice", [&](int, const std::string& prompt) -> std::optional<std::string> {
        if (prompt.find("Send a code to") != std::string::npos) {
            if (++offers == 1) return "maybe";
            EXPECT_EQ(prompt,
                      "Please press Enter to send the code, or answer n to cancel.\n"
                      "Send a code to a***@e***? [Y/n] ");
            return "Y";
        }
        return standin_->latest_code(kAliceEmail).value_or("none");
    });
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    EXPECT_EQ(offers, 2);
}

TEST_F(OtpLogin, WrongCodeThenRightCode) {
    start_helper("email_otp");
    int asked = 0;
    const auto run = login(
        "alice", accepting_code_offers([&](int, const std::string& prompt) -> std::optional<std::string> {
            if (++asked == 1) return "00000000";
            EXPECT_EQ(prompt, "Wrong code. Try again. Code sent to a***@e*** is still valid: ");
            return standin_->latest_code(kAliceEmail).value_or("none");
        }));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    EXPECT_EQ(asked, 2);
}

TEST_F(OtpLogin, TooManyWrongCodesIsMaxTries) {
    start_helper("email_otp");
    int asked = 0;
    const auto run =
        login("alice", accepting_code_offers([&](int, const std::string&) -> std::optional<std::string> {
                  ++asked;
                  return "00000000";
              }));
    EXPECT_EQ(run.code, PAM_MAXTRIES) << run.all_text() << helper_->log();
    EXPECT_EQ(asked, 3);
    EXPECT_NE(run.all_text().find("too many wrong codes"), std::string::npos) << run.all_text();
}

TEST_F(OtpLogin, ExpiredSessionIsRefused) {
    start_helper("email_otp");
    const auto run =
        login("alice", accepting_code_offers([&](int, const std::string&) -> std::optional<std::string> {
                  const auto code = standin_->latest_code(kAliceEmail);
                  standin_->set_control(R"({"clock_offset_s": 3600})");
                  return code.value_or("none");
              }));
    EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.all_text() << helper_->log();
    EXPECT_NE(run.all_text().find("expired"), std::string::npos) << run.all_text();
}

TEST_F(OtpLogin, IdentityOfAnotherAccountIsRefused) {
    // Binding by claim: the pool user name must equal the local one. mallory types bob's address and even has
    // bob's code: the token says bob, so mallory is not let in.
    start_helper(
        HelperFiles{login_section("email_otp") + "claim = cognito:username\nask_identifier = yes\n", ""});
    const auto run =
        login("mallory", [&](int style, const std::string& prompt) -> std::optional<std::string> {
            if (prompt == "Email or phone for mallory: ") {
                EXPECT_EQ(style, PAM_PROMPT_ECHO_ON);
                return "bob@example.com";
            }
            return standin_->latest_code("bob@example.com").value_or("none");
        });
    EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.all_text() << helper_->log();
    EXPECT_NE(run.all_text().find("not linked to the account mallory"), std::string::npos) << run.all_text();
    EXPECT_NE(helper_->log().find("is not bound to this user"), std::string::npos);
}

// Under ask_identifier every local account is asked for its email or phone before anything else. A name that
// is no account (the decoy at once) and an account the claim may not bind (daemon, below claim_min_uid) must
// be asked the same question, or the first screen tells who has an account.
TEST_F(OtpLogin, EveryNameIsAskedTheIdentifierQuestion) {
    start_helper(
        HelperFiles{login_section("email_otp") + "claim = cognito:username\nask_identifier = yes\n", ""});
    const auto before = standin_->outbox_lines();
    auto walk = [&](const std::string& user) {
        return login(user, [&](int style, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.starts_with("Email or phone for ")) {
                EXPECT_EQ(style, PAM_PROMPT_ECHO_ON) << prompt;
                return "nobody.at.all@example.com";
            }
            return "12345678";
        });
    };
    // carol has an account; the address she types is unknown to the pool: a real user's walk up to the pool.
    const auto real = walk("carol");
    ASSERT_FALSE(real.prompts().empty()) << real.all_text() << helper_->log();
    EXPECT_EQ(real.prompts()[0], "Email or phone for carol: ");
    for (const std::string user : {"nobody-here", "daemon"}) {
        const auto run = walk(user);
        ASSERT_FALSE(run.prompts().empty()) << user << ": " << run.all_text() << helper_->log();
        EXPECT_EQ(run.prompts()[0], "Email or phone for " + user + ": ") << user << ": " << run.all_text();
        EXPECT_EQ(run.prompts().size(), real.prompts().size()) << user << ": " << run.all_text();
        EXPECT_EQ(run.code, real.code) << user << ": " << run.all_text() << helper_->log();
    }
    EXPECT_EQ(standin_->outbox_lines(), before) << "no code may be sent";
}

TEST_F(OtpLogin, ClaimBindingLetsTheRightAccountIn) {
    start_helper(
        HelperFiles{login_section("email_otp") + "claim = cognito:username\nask_identifier = yes\n", ""});
    const auto run = login("bob", [&](int, const std::string& prompt) -> std::optional<std::string> {
        if (prompt == "Email or phone for bob: ") return "Bob@Example.com";
        return standin_->latest_code("bob@example.com").value_or("none");
    });
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
}

// An unknown person sees the same kind of prompts as a known one and no code is sent anywhere.
TEST_F(OtpLogin, UnmappedUserWalksTheSamePromptsAndFails) {
    start_helper("email_otp");
    const auto before = standin_->outbox_lines();
    const auto requests_before = standin_->requests_log().size();
    int asked = 0;
    const auto run =
        login("nobody-here",
              accepting_code_offers([&](int style, const std::string& prompt) -> std::optional<std::string> {
                  ++asked;
                  EXPECT_EQ(style, PAM_PROMPT_ECHO_OFF);
                  const std::string expected_start =
                      asked == 1 ? "Code sent to " : "Wrong code. Try again. Code sent to ";
                  const std::string expected_end = asked == 1 ? "***: " : "*** is still valid: ";
                  EXPECT_TRUE(prompt.starts_with(expected_start) && prompt.ends_with(expected_end)) << prompt;
                  return "12345678";
              }));
    // The ending of a real user typing wrong codes (PAM_MAXTRIES); only the audit line tells them apart.
    EXPECT_EQ(run.code, PAM_MAXTRIES) << run.all_text() << helper_->log();
    EXPECT_EQ(asked, 3);
    ASSERT_EQ(run.prompts().size(), 4u);
    EXPECT_TRUE(run.prompts()[0].starts_with("Send a code to ") && run.prompts()[0].ends_with("***? [Y/n] "))
        << run.prompts()[0];
    EXPECT_NE(run.all_text().find("too many wrong codes"), std::string::npos);
    EXPECT_EQ(standin_->outbox_lines(), before);
    EXPECT_EQ(questions_since(*standin_, requests_before), "") << "nothing may be asked of the pool";
}

// What sshd sends in place of every answer of a login it refuses whatever PAM says (OpenSSH auth-pam.c and
// fake_password() in auth.c: an invalid user, root when PermitRootLogin is not "yes", a user AllowUsers,
// DenyUsers, AllowGroups or DenyGroups turns away): its bad-password string, cut or repeated to the length of
// what was typed.
std::string sshd_stand_in(const std::string& typed) {
    static const std::string junk = "\b\n\r\177INCORRECT";
    std::string out;
    for (std::size_t i = 0; i < typed.size(); ++i) out += junk[i % junk.size()];
    return out;
}

// Review (session 29c): sshd stands in for every answer of a login it refuses whatever PAM says, an invalid
// user's (a name that is no account) and a DenyUsers user's alike. Under ask_identifier, a local account the
// claim may bind is asked its identifier (resolve_identity); the stand-in holds control characters, so
// ask_identifier returns no identity and the login becomes the decoy, which asks the identifier question
// again (decoy(), service_already_asked false). A name that is no account is asked once. So through sshd the
// screens tell an account (carol) from a name that is nobody's: two "Email or phone for" prompts against one.
TEST_F(OtpLogin, AnswersSshdStandsInAtTheIdentifierQuestionAskItAsOftenForEveryName) {
    start_helper(
        HelperFiles{login_section("email_otp") + "claim = cognito:username\nask_identifier = yes\n", ""});
    const Answerer refused = [](int, const std::string& prompt) -> std::optional<std::string> {
        if (prompt.starts_with("Send a code to ")) return sshd_stand_in("y");
        if (prompt.starts_with("Email or phone for ")) return sshd_stand_in("carol@example.com");
        return sshd_stand_in("12345678");
    };
    const auto asked = [](const PamRun& run) {
        const auto prompts = run.prompts();
        return std::count_if(prompts.begin(), prompts.end(), [](const std::string& p) {
            return p.find("Email or phone for ") != std::string::npos;
        });
    };
    const auto account = login("carol", refused, {{"PAM_RHOST", "198.51.100.50"}});
    const auto nobody = login("nobody-here", refused, {{"PAM_RHOST", "198.51.100.51"}});
    EXPECT_EQ(asked(account), asked(nobody)) << "carol:\n"
                                             << account.all_text() << "\n--- nobody-here:\n"
                                             << nobody.all_text();
    EXPECT_EQ(account.prompts().size(), nobody.prompts().size());
    EXPECT_EQ(account.code, nobody.code);
}

// Review (session 29): the menu read sshd's stand-in as its first entry and the offer as "send", so every
// such login of an enrolled account sent a real code (texts to root's phone for anyone at the far end of an
// sshd with the default PermitRootLogin) and walked the code prompts without the decoy's waits. Such a login
// now sends nothing and walks as the decoy does: the same screens and ending as an account without an
// identity, through the menu (alice), the offer of one method (bob), and the menu remembered from a login
// that let alice in.
TEST_F(OtpLogin, AnswersSshdStandsInForSendNoCodeAndEndAsTheDecoy) {
    start_helper("email_otp sms_otp");
    const Answerer refused = [](int, const std::string& prompt) -> std::optional<std::string> {
        if (prompt.starts_with("Choose how to sign in:")) return sshd_stand_in("1");
        if (prompt.starts_with("Send a code to ")) return sshd_stand_in("y");
        return sshd_stand_in("12345678");
    };
    const auto before = standin_->outbox_lines();
    // carol and mallory have accounts and no identity: the decoy, of alice's shape or of bob's.
    const auto decoy = login("carol", refused, {{"PAM_RHOST", "198.51.100.40"}});
    ASSERT_EQ(decoy.code, PAM_MAXTRIES) << decoy.all_text() << helper_->log();
    for (const std::string user : {"alice", "bob"}) {
        const auto run = login(user, refused, {{"PAM_RHOST", "198.51.100.41"}});
        EXPECT_EQ(standin_->outbox_lines(), before) << user << ": a code was sent for a login sshd refuses\n"
                                                    << run.all_text() << helper_->log();
        EXPECT_EQ(run.code, decoy.code) << user << ": " << run.all_text() << helper_->log();
        EXPECT_EQ(run.prompts().size(), decoy.prompts().size()) << user << ": " << run.all_text();
    }
    // alice in, with her code: her next login shows the remembered menu before the pool is asked.
    const auto in = login("alice", code_from_outbox(kAliceEmail, "1"));
    ASSERT_EQ(in.code, PAM_SUCCESS) << in.all_text() << helper_->log();
    const auto sent = standin_->outbox_lines();
    const auto again = login("alice", refused, {{"PAM_RHOST", "198.51.100.42"}});
    EXPECT_EQ(standin_->outbox_lines(), sent) << "after the remembered menu: a code was sent\n"
                                              << again.all_text() << helper_->log();
    EXPECT_EQ(again.code, decoy.code) << again.all_text() << helper_->log();
    EXPECT_EQ(again.prompts().size(), decoy.prompts().size()) << again.all_text();
    EXPECT_NE(helper_->log().find("sshd replaced the answers"), std::string::npos) << helper_->log();
}

// Review (session 29): the decoy asks the pool nothing, so it walks on while the pool refuses every request
// (throttled, TooManyRequestsException: the pool's quota is shared by every machine and every login, and a
// remote attacker's menu probes, which send nothing and count no failure, are unlimited; or simply an
// outage), whereas an enrolled user's login ends at once with "cannot be reached" and PAM_AUTHINFO_UNAVAIL.
// For as long as the pool refuses, each name tried from the network tells whether it is enrolled: the screens
// and the PAM code differ.
TEST_F(OtpLogin, WhileThePoolRefusesEveryRequestTheDecoyEndsAsAnEnrolledUserDoes) {
    start_helper("email_otp");
    standin_->set_control(
        R"({"error": {"name": "TooManyRequestsException", "message": "Rate exceeded", "status": 400}})");
    const Answerer wrong = [](int, const std::string&) -> std::optional<std::string> { return "12345678"; };
    const auto enrolled = login("alice", accepting_code_offers(wrong), {{"PAM_RHOST", "198.51.100.21"}});
    const auto unknown = login("nobody-here", accepting_code_offers(wrong), {{"PAM_RHOST", "198.51.100.22"}});
    standin_->clear_control();
    EXPECT_EQ(enrolled.code, unknown.code) << "enrolled:\n"
                                           << enrolled.all_text() << "\n--- unknown:\n"
                                           << unknown.all_text() << helper_->log();
    EXPECT_EQ(enrolled.prompts().size(), unknown.prompts().size()) << enrolled.all_text() << "\n---\n"
                                                                   << unknown.all_text();
    EXPECT_EQ(contains(enrolled.all_text(), "cannot be reached"),
              contains(unknown.all_text(), "cannot be reached"))
        << enrolled.all_text() << "\n---\n"
        << unknown.all_text();
}

// Review (session 29c): Login::note_answer takes any control character at the menu or the offer for sshd's
// stand-in, whatever the login, and from then on the login sends nothing yet shows "Code sent to ...:" and
// ends PAM_MAXTRIES. sshd always sets PAM_RHOST; a console or sudo login (no remote host) is never sshd's.
// There an honest person who presses an arrow key at "Send a code ...? [Y/n]" (the terminal sends ESC [ A)
// is told a code was sent, waits for one that never comes, and fails: the offer reads the answer as "send",
// and nothing is sent.
TEST_F(OtpLogin, AControlCharacterAtTheConsoleOfferNeverAnnouncesACodeThatWasNotSent) {
    start_helper("email_otp");
    const auto before = standin_->outbox_lines();
    bool announced = false;
    const auto run = login("alice", [&](int, const std::string& prompt) -> std::optional<std::string> {
        if (prompt.starts_with("Send a code")) return std::string("\x1b[A");
        if (prompt.find("Code sent to") != std::string::npos) {
            announced = true;
            return standin_->latest_code(kAliceEmail).value_or("00000000");
        }
        return std::string();
    });
    if (announced) {
        EXPECT_GT(standin_->outbox_lines(), before) << "the console was told a code was sent, and none was\n"
                                                    << run.all_text() << helper_->log();
    }
    EXPECT_NE(run.code, PAM_MAXTRIES) << run.all_text();
}

TEST_F(OtpLogin, IdentifierUnknownToThePoolFailsLikeAWrongCode) {
    start_helper("email_otp");
    const auto before = standin_->outbox_lines();
    const auto run = login(
        "dave", accepting_code_offers([&](int, const std::string& prompt) -> std::optional<std::string> {
            EXPECT_NE(prompt.find("Code sent to "), std::string::npos) << prompt;
            return "12345678";
        }));
    EXPECT_EQ(run.code, PAM_MAXTRIES) << run.all_text() << helper_->log();
    EXPECT_EQ(run.prompts().size(), 4u) << "the offer, then three code prompts";
    EXPECT_EQ(standin_->outbox_lines(), before);
}

// A local account whose mapped identity the user pool does not know walks its OWN mapping: text for text,
// turn for turn, the login of a pool member mapped alike, with the mask of its own address and the same
// ending. A walk copied from another user of the map (a menu where the map names one address, another made-up
// address) would tell who is in the pool. The map holds several shapes, and the decoy key is fixed, so the
// pick the keyed hash makes is the same at every run.
TEST_F(OtpLogin, AMappedIdentityUnknownToThePoolWalksItsOwnMapping) {
    write_text(dir_ / "decoy.key", std::string(32, 'k'), fs::perms(0600));
    start_helper(HelperFiles{login_section("email_otp sms_otp"),
                             "alice alice@example.com\nalice +15555550123\n"
                             "bob   bob@example.com\n"
                             "backup +15555550166  # backup is in the pool, not with this number\n"
                             "carol carol@zeta.example.org\ncarol +15555550188  # not in the pool\n"
                             "dave  dave@example.com  # not in the pool\n"});
    const auto before = standin_->outbox_lines();
    // Wrong codes to the end; the text message where there is a menu.
    auto walk = [&](const std::string& user) {
        return login(user, [](int, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.starts_with("Choose how to sign in:")) return "2";
            if (prompt.starts_with("Send a code to ")) return "";
            return "12345678";
        });
    };
    // bob and alice are in the pool: their real logins, failing with wrong codes.
    const auto bob = walk("bob");
    ASSERT_EQ(bob.code, PAM_MAXTRIES) << bob.all_text() << helper_->log();
    ASSERT_EQ(bob.prompts().size(), 4u) << bob.all_text();
    EXPECT_EQ(bob.prompts()[1], "Code sent to b***@e***: ");
    const auto alice = walk("alice");
    ASSERT_EQ(alice.code, PAM_MAXTRIES) << alice.all_text() << helper_->log();
    ASSERT_EQ(alice.prompts().size(), 4u) << alice.all_text();
    EXPECT_EQ(alice.prompts()[1], "Code sent to +*******0123: ");
    const auto sent = standin_->outbox_lines();
    EXPECT_EQ(sent, before + 2);

    // dave is mapped like bob (one address): bob's walk, with dave's own address.
    const auto dave = walk("dave");
    EXPECT_EQ(dave.code, bob.code) << dave.all_text() << helper_->log();
    EXPECT_EQ(turns(dave, {}), turns(bob, {{"b***@e***", "d***@e***"}})) << dave.all_text();
    // carol is mapped like alice (an address and a number): alice's menu, with carol's own destinations.
    const auto carol = walk("carol");
    EXPECT_EQ(carol.code, alice.code) << carol.all_text() << helper_->log();
    EXPECT_EQ(turns(carol, {}), turns(alice, {{"a***@e***", "c***@z***"}, {"+*******0123", "+*******0188"}}))
        << carol.all_text();
    // backup is mapped to a number alone: the walk of a real user with one number.
    const auto backup = walk("backup");
    EXPECT_EQ(backup.code, PAM_MAXTRIES) << backup.all_text() << helper_->log();
    EXPECT_EQ(turns(backup, {}), turns(bob, {{"b***@e***", "+*******0166"}})) << backup.all_text();
    EXPECT_EQ(standin_->outbox_lines(), sent) << "nothing is sent for an identity the pool does not know";
    const std::string log = helper_->log();
    EXPECT_NE(log.find("user=\"dave\""), std::string::npos) << log;
    EXPECT_NE(log.find("identity unknown to the user pool"), std::string::npos) << log;
}

TEST_F(OtpLogin, UnknownUserIgnoredWhenTheAdminSaysSo) {
    start_helper("email_otp", "unknown_user = ignore");
    // PAM_IGNORE is not visible from outside a stack, so the stack lets it fall through to the next module
    // (pam_permit here; a password module in real life) and the audit line shows what the module returned.
    const auto run = run_pam(test_service("fallthrough"), "nobody-here",
                             [](int, const std::string&) -> std::optional<std::string> {
                                 ADD_FAILURE() << "no prompt expected";
                                 return std::nullopt;
                             });
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text();
    EXPECT_NE(helper_->log().find("user=\"nobody-here\""), std::string::npos);
    EXPECT_NE(helper_->log().find("outcome=ignore"), std::string::npos) << helper_->log();
}

struct Fault {
    const char* name;
    const char* control;
};

void PrintTo(const Fault& f, std::ostream* os) {
    *os << f.name;
}

class OtpServiceFault : public OtpLogin, public ::testing::WithParamInterface<Fault> {};

TEST_P(OtpServiceFault, IsAuthinfoUnavailWithAMessage) {
    start_helper("email_otp");
    standin_->set_control(GetParam().control);
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.all_text() << helper_->log();
    EXPECT_NE(run.all_text().find("cannot be reached"), std::string::npos) << run.all_text();
}

INSTANTIATE_TEST_SUITE_P(
    Faults, OtpServiceFault,
    ::testing::Values(
        Fault{"slow_past_the_request_timeout", R"({"delay_ms": 4000})"},
        Fault{"http_500", R"({"fault": "http_500"})"}, Fault{"malformed_body", R"({"fault": "malformed"})"},
        Fault{"dropped_connection", R"({"fault": "drop"})"},
        Fault{"untrusted_certificate", R"({"tls": "untrusted"})"},
        Fault{"wrong_host_certificate", R"({"tls": "wrong_host"})"},
        Fault{
            "throttled",
            R"({"error": {"name": "TooManyRequestsException", "message": "Rate exceeded", "status": 400}})"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(OtpLogin, ServiceDownIsAuthinfoUnavail) {
    // A port that nothing listens on: bound, never listened on, closed.
    const int port = [] {
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t len = sizeof a;
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
        ::close(s);
        return ntohs(a.sin_port);
    }();
    HelperFiles files{login_section("email_otp"), kIdentities};
    start_helper(files);
    helper_->stop();
    std::string conf = read_text(helper_->config_path());
    const auto at = conf.find("endpoint = ");
    conf.replace(at, conf.find('\n', at) - at, "endpoint = https://127.0.0.1:" + std::to_string(port) + "/");
    write_text(helper_->config_path(), conf);
    helper_ = std::make_unique<Helper>(dir_, helper_->config_path());
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.all_text() << helper_->log();
}

TEST_F(OtpLogin, HelperNotRunningIsAuthinfoUnavail) {
    start_helper("email_otp");
    helper_->stop();
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.all_text();
    EXPECT_NE(run.all_text().find("unavailable"), std::string::npos) << run.all_text();
}

TEST_F(OtpLogin, MissingConfigurationIsServiceErr) {
    helper_ = std::make_unique<Helper>(dir_, dir_ / "does-not-exist.conf");
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_SERVICE_ERR) << run.all_text() << helper_->log();
    EXPECT_NE(run.all_text().find("misconfigured"), std::string::npos) << run.all_text();
}

TEST_F(OtpLogin, InvalidConfigurationIsServiceErr) {
    write_text(dir_ / "helper.conf", "[pool]\npool_id = us-east-1_TestPool\nclient_id = x\nbogus = 1\n");
    helper_ = std::make_unique<Helper>(dir_, dir_ / "helper.conf");
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_SERVICE_ERR) << run.all_text();
    EXPECT_NE(helper_->log().find("helper.conf:4: unknown key 'bogus'"), std::string::npos) << helper_->log();
}

TEST_F(OtpLogin, WorldWritableConfigurationIsServiceErr) {
    start_helper("email_otp");
    helper_->stop();
    fs::permissions(helper_->config_path(), fs::perms(0666));
    helper_ = std::make_unique<Helper>(dir_, helper_->config_path());
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_SERVICE_ERR) << run.all_text();
    EXPECT_NE(helper_->log().find("writable by group or others"), std::string::npos) << helper_->log();
}

TEST_F(OtpLogin, BadModuleArgumentIsServiceErr) {
    start_helper("email_otp");
    const auto run = run_pam(test_service("badarg"), "alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_SERVICE_ERR);
}

TEST_F(OtpLogin, ReloadKeepsTheOldConfigurationWhenTheNewOneIsBad) {
    start_helper("sms_otp");
    write_text(helper_->config_path(), "[pool]\nthis is not valid\n");
    helper_->reload();
    ASSERT_TRUE(
        wait_until([&] { return helper_->log().find("new configuration refused") != std::string::npos; }));
    const auto run = login("alice", code_from_outbox(kAlicePhone));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    EXPECT_EQ(run.prompts().at(1), "Code sent to +*******0123: ");
}

TEST_F(OtpLogin, ReloadAppliesAGoodNewConfiguration) {
    start_helper("sms_otp");
    std::string conf = read_text(helper_->config_path());
    conf.replace(conf.find("methods = sms_otp"), 17, "methods = email_otp");
    write_text(helper_->config_path(), conf);
    helper_->reload();
    ASSERT_TRUE(
        wait_until([&] { return helper_->log().find("configuration reloaded") != std::string::npos; }));
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    EXPECT_EQ(run.prompts().at(1), "Code sent to a***@e***: ");
}

TEST_F(OtpLogin, ClientWithoutSecretWorks) {
    start_helper(HelperFiles{login_section("email_otp"), kIdentities, false});
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
}

TEST_F(OtpLogin, RemoteLoginsUseTheRemoteMethods) {
    start_helper("email_otp sms_otp", "remote_methods = sms_otp");
    const auto run = login("alice", code_from_outbox(kAlicePhone), {{"PAM_RHOST", "198.51.100.7"}});
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    ASSERT_EQ(run.prompts().size(), 2u);
    EXPECT_EQ(run.prompts()[1], "Code sent to +*******0123: ");
    EXPECT_NE(helper_->log().find("rhost=\"198.51.100.7\""), std::string::npos);
}

TEST_F(OtpLogin, ConversationFailureIsConvErr) {
    start_helper("email_otp");
    const auto before = standin_->outbox_lines();
    const auto run =
        login("alice", [](int, const std::string&) -> std::optional<std::string> { return std::nullopt; });
    EXPECT_EQ(run.code, PAM_CONV_ERR);
    EXPECT_EQ(standin_->outbox_lines(), before)
        << "a conversation that fails at the first prompt sends nothing";
}

TEST_F(OtpLogin, NonRootCallerCannotAuthenticateAnotherUser) {
    start_helper("email_otp", "allow_unprivileged_self = yes");
    const auto before = standin_->outbox_lines();
    // Written before the fork: the child can no longer write to the root-owned service directory.
    const int code = run_as_uid(65534, [&] {
        return run_pam(service_, "alice",
                       [](int, const std::string&) -> std::optional<std::string> { return "12345678"; })
            .code;
    });
    EXPECT_EQ(code, PAM_AUTH_ERR) << helper_->log();
    EXPECT_NE(helper_->log().find("refused a request from uid 65534: caller may not authenticate this user"),
              std::string::npos)
        << helper_->log();
    EXPECT_EQ(standin_->outbox_lines(), before);
}

}  // namespace
}  // namespace pp::test

namespace pp::test {
namespace {

std::string limits_section(const fs::path& dir, const std::string& lines) {
    return "\n[limits]\nstate_file = " + (dir / "limits").string() + "\n" + lines + "\n";
}

TEST_F(OtpLogin, CodeSendsAreLimitedPerIdentifier) {
    start_helper(HelperFiles{login_section("email_otp") + limits_section(dir_, "sends_per_identifier = 2"),
                             kIdentities});
    for (int i = 0; i < 2; ++i) EXPECT_EQ(login("alice", code_from_outbox(kAliceEmail)).code, PAM_SUCCESS);
    const auto before = standin_->outbox_lines();
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.all_text();
    EXPECT_NE(run.all_text().find("Too many codes requested; try again in 15 minutes."), std::string::npos)
        << run.all_text();
    ASSERT_EQ(run.prompts().size(), 1u) << "only the offer, no code prompt";
    EXPECT_TRUE(run.prompts()[0].starts_with("Send a code to ")) << run.prompts()[0];
    EXPECT_EQ(standin_->outbox_lines(), before) << "the limit must stop the send itself";
    EXPECT_NE(helper_->log().find("code send limit reached"), std::string::npos);
}

TEST_F(OtpLogin, UnknownUsersMeetTheSameSendLimit) {
    start_helper(HelperFiles{login_section("email_otp") + limits_section(dir_, "sends_per_identifier = 1"),
                             kIdentities});
    const auto wrong = accepting_code_offers(
        [](int, const std::string&) -> std::optional<std::string> { return "12345678"; });
    EXPECT_EQ(login("nobody-here", wrong).code, PAM_MAXTRIES);
    const auto run = login("nobody-here", wrong);
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.all_text();
    EXPECT_NE(run.all_text().find("Too many codes requested"), std::string::npos) << run.all_text();
}

// A decoy's code is always wrong, so each of its code steps must wait as long as the pool takes to refuse a
// code, not to accept one. Accepting issues the tokens and takes longer (here the stand-in adds 900 ms to
// every answer that signs someone in), and most real logins are accepted: a decoy that copied every answer's
// wait waited at a wrong code as a real user waits at a right one, longer than a real user at a wrong one
// (until session 16). alice gets one code wrong and then signs in three times; carol (an account without
// identity, the decoy) then gets three codes wrong, each wait copying alice's one refusal, not her three
// acceptances.
TEST_F(OtpLogin, TheDecoyWaitsAtAWrongCodeAsThePoolRefusesOneNotAsItAcceptsOne) {
    start_helper("email_otp");
    standin_->set_control(R"({"signed_in_delay_ms": 900})");
    for (int i = 0; i < 3; ++i) {
        bool wrong_first = i == 0;
        const auto run = login("alice", [&](int, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.find("Code sent to") == std::string::npos) return std::string();
            if (std::exchange(wrong_first, false)) return std::string("00000000");
            return standin_->latest_code(kAliceEmail).value_or("no-code");
        });
        ASSERT_EQ(run.code, PAM_SUCCESS) << i << "\n" << run.all_text() << helper_->log();
    }
    std::optional<std::chrono::steady_clock::time_point> first_code_prompt;
    int code_prompts = 0;
    const auto decoy = login("carol", [&](int, const std::string& prompt) -> std::optional<std::string> {
        if (prompt.find("Code sent to") == std::string::npos) return std::string();
        if (!first_code_prompt) first_code_prompt = std::chrono::steady_clock::now();
        ++code_prompts;
        return std::string("00000000");
    });
    const auto ended = std::chrono::steady_clock::now();
    ASSERT_EQ(decoy.code, PAM_MAXTRIES) << decoy.all_text() << helper_->log();
    ASSERT_EQ(code_prompts, 3) << decoy.all_text();
    ASSERT_TRUE(first_code_prompt.has_value());
    // Three refusals copied: a few milliseconds each. One acceptance copied would be 900 ms.
    const auto codes = std::chrono::duration_cast<std::chrono::milliseconds>(ended - *first_code_prompt);
    EXPECT_LT(codes, std::chrono::milliseconds(900)) << "the decoy's three wrong codes took " << codes.count()
                                                     << " ms: it waited as the pool accepts a code\n"
                                                     << helper_->log();
}

// The same rule for the steps before the code: InitiateAuth and the menu's answer are each answered either
// with a code sent or with nothing sent (the menu), and sending may take the pool longer (here the stand-in
// adds 900 ms to every answer that sent a code). alice (two addresses) is asked to choose, so her first
// request sends nothing; bob (one address) is offered his code first and his first request sends it. A decoy
// copying alice must show its menu as soon as her first request answers, and one copying bob must wait for
// its code as long as his first request takes; until session 16 both drew from one history of first
// requests, most of them bob's. (remember_factors = 0: a remembered alice would show her menu before any
// request, and so would a decoy copying her.) The decoy key is fixed, so which names copy whom is the same
// at every run.
TEST_F(OtpLogin, TheDecoyWaitsAsTheUserItCopiesNotAsAUserOfAnotherShape) {
    write_text(dir_ / "decoy.key", std::string(32, 'k'), fs::perms(0600));
    start_helper(HelperFiles{login_section("email_otp sms_otp", "remember_factors = 0\n"),
                             "alice alice@example.com\nalice +15555550123\nbob bob@example.com\n"});
    standin_->set_control(R"({"code_sent_delay_ms": 900})");
    const auto sign_in = [&](const std::string& user, const std::string& to) {
        const auto run = login(user, [&](int, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.ends_with("Choice [1-2]: ")) return std::string("1");
            if (prompt.find("Code sent to") == std::string::npos) return std::string();
            return standin_->latest_code(to).value_or("no-code");
        });
        ASSERT_EQ(run.code, PAM_SUCCESS) << user << "\n" << run.all_text() << helper_->log();
    };
    for (int i = 0; i < 3; ++i) sign_in("bob", "bob@example.com");
    sign_in("alice", kAliceEmail);

    using Clock = std::chrono::steady_clock;
    const auto ms = [](Clock::duration d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    };
    int menus = 0;
    int offers = 0;
    for (const std::string user :
         {"carol", "nosuch1", "nosuch2", "nosuch3", "nosuch4", "nosuch5", "nosuch6"}) {
        const auto began = Clock::now();
        std::optional<Clock::time_point> first;
        std::optional<Clock::time_point> answered;  // the menu's or the offer's answer
        std::optional<Clock::time_point> code_prompt;
        bool menu = false;
        const auto run = login(user, [&](int, const std::string& prompt) -> std::optional<std::string> {
            const auto now = Clock::now();
            if (!first) {
                first = now;
                menu = prompt.ends_with("Choice [1-2]: ");
            }
            if (prompt.find("Code sent to") != std::string::npos) {
                code_prompt = now;
                return std::nullopt;  // gone at the code prompt
            }
            answered = Clock::now();
            return std::string(menu ? "1" : "");
        });
        ASSERT_NE(run.code, PAM_SUCCESS) << user;
        ASSERT_TRUE(first && answered && code_prompt) << user << "\n" << run.all_text() << helper_->log();
        if (menu) {
            ++menus;
            // alice's first request sent nothing: a few milliseconds, not bob's 900.
            EXPECT_LT(*first - began, std::chrono::milliseconds(450))
                << user << " (alice's shape) waited " << ms(*first - began) << " ms for its menu";
            // Her menu's answer sent the code.
            EXPECT_GE(*code_prompt - *answered, std::chrono::milliseconds(600))
                << user << " (alice's shape) waited " << ms(*code_prompt - *answered) << " ms for its code";
        } else {
            ++offers;
            // bob's first request, made once the offer is taken, sent the code.
            EXPECT_GE(*code_prompt - *answered, std::chrono::milliseconds(600))
                << user << " (bob's shape) waited " << ms(*code_prompt - *answered) << " ms for its code";
        }
    }
    // The names above give both shapes with this key: the check that failed before is the menu's.
    EXPECT_GT(menus, 0);
    EXPECT_GT(offers, 0);
}

TEST_F(OtpLogin, RepeatedFailuresMakeTheUserWait) {
    start_helper(HelperFiles{login_section("email_otp") + limits_section(dir_, "failures_before_backoff = 1"),
                             kIdentities});
    const auto wrong = accepting_code_offers(
        [](int, const std::string&) -> std::optional<std::string> { return "00000000"; });
    EXPECT_EQ(login("alice", wrong).code, PAM_MAXTRIES);
    const auto before = standin_->outbox_lines();
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_MAXTRIES) << run.all_text();
    EXPECT_NE(run.all_text().find("Too many failed sign-ins; try again in 1 minute."), std::string::npos)
        << run.all_text();
    EXPECT_TRUE(run.prompts().empty());
    EXPECT_EQ(standin_->outbox_lines(), before);
    // Another account is not held back by alice's failures.
    EXPECT_EQ(login("bob", code_from_outbox("bob@example.com")).code, PAM_SUCCESS);
}

// The helper's idle login threads wait for the next login in accept(2) and serve what they accept
// (helper/server.cpp): a stop must still end their wait, and the helper, at once and cleanly.
TEST_F(OtpLogin, TheHelperStopsAtOnceWhileItsThreadsWaitForLogins) {
    start_helper("email_otp");
    EXPECT_EQ(login("alice", code_from_outbox(kAliceEmail)).code, PAM_SUCCESS) << helper_->log();
    ASSERT_TRUE(wait_until([&] { return helper_login_threads(helper_->pid()) == 0; }));
    const auto status = helper_->stop_within(std::chrono::seconds(10));
    ASSERT_TRUE(status.has_value()) << "the helper did not end within 10 s of SIGTERM\n" << helper_->log();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "wait status " << *status;
    const std::string log = helper_->log();
    EXPECT_NE(log.find("stopping"), std::string::npos) << log;
    EXPECT_EQ(log.find("still in flight"), std::string::npos) << log;
}

// The signal a stop sends the threads waiting in accept(2) (SIGUSR2) interrupts nothing else: sent to the
// helper from outside, before and during logins, it neither ends the helper nor fails a login.
TEST_F(OtpLogin, TheSignalThatEndsTheWaitForLoginsFailsNoLogin) {
    start_helper("email_otp");
    for (int i = 0; i < 2; ++i) {
        helper_->signal(SIGUSR2);
        const auto run = login("alice", [&](int, const std::string& prompt) -> std::optional<std::string> {
            helper_->signal(SIGUSR2);  // while the helper waits for the person's answer
            if (prompt.find("Code sent to") == std::string::npos) return "";
            return standin_->latest_code(kAliceEmail).value_or("none");
        });
        EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    }
    const auto status = helper_->stop_within(std::chrono::seconds(10));
    ASSERT_TRUE(status.has_value()) << helper_->log();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "wait status " << *status;
}

TEST_F(OtpLogin, LimitsSurviveAHelperRestart) {
    start_helper(HelperFiles{login_section("email_otp") + limits_section(dir_, "sends_per_identifier = 1"),
                             kIdentities});
    EXPECT_EQ(login("alice", code_from_outbox(kAliceEmail)).code, PAM_SUCCESS);
    const auto state = fs::status(dir_ / "limits");
    EXPECT_EQ(state.permissions() & fs::perms::all, fs::perms(0600));
    helper_->stop();
    helper_ = std::make_unique<Helper>(dir_, helper_->config_path());
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.all_text() << helper_->log();
    EXPECT_NE(run.all_text().find("Too many codes requested"), std::string::npos);
}

// sshd with PasswordAuthentication yes runs PAM with a conversation that answers every hidden prompt with the
// typed password and refuses every prompt that echoes. Such a login must end in the module with PAM_CONV_ERR
// (the password module next in a stack then decides) having sent no code and counted no failure: six of
// them, more than the send limit and the failures before backoff allow, and a code login right after works.
TEST_F(OtpLogin, SshdPasswordLoginsSendNoCodeAndCountNoFailure) {
    start_helper(HelperFiles{login_section("email_otp") + limits_section(dir_, ""), kIdentities});
    const auto before = standin_->outbox_lines();
    expect_password_logins_send_nothing("alice", "alices-password");
    EXPECT_NE(helper_->log().find("outcome=conv_err"), std::string::npos) << helper_->log();
    // Neither the send limit (5) nor the backoff (after 5 failures) was touched.
    const auto run = login("alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    EXPECT_EQ(standin_->outbox_lines(), before + 1);
}

TEST_F(OtpLogin, SshdPasswordLoginSendsNoCodeWhenThePoolOffersOneMethod) {
    // Two methods configured, but bob has no phone: the pool offers one, so no menu is shown.
    start_helper(HelperFiles{login_section("email_otp sms_otp") + limits_section(dir_, ""), kIdentities});
    expect_password_logins_send_nothing("bob", "bobs-password");
    const auto run = login("bob", code_from_outbox("bob@example.com"));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
}

// The pool may send a code with its first answer, unasked, to a user with one way in (spec §2.4, the observed
// exception to SELECT_CHALLENGE). Under claim binding the helper used to ask it "which methods?" before any
// prompt: sshd's password conversation then cost bob a code per password login. The question now carries a
// preference that sends nothing, so the first prompt is the offer, which that conversation refuses.
TEST_F(OtpLogin, SshdPasswordLoginSendsNoCodeWhenThePoolWouldSkipItsMenu) {
    start_helper(HelperFiles{
        limits_section(dir_, "") + login_section("email_otp") + "claim = cognito:username\n", ""});
    standin_->set_control(R"({"one_factor_skips_select": true})");
    const auto before = standin_->outbox_lines();
    expect_password_logins_send_nothing("bob", "bobs-password");
    const auto run = login("bob", code_from_outbox("bob@example.com"));
    standin_->clear_control();
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    EXPECT_EQ(standin_->outbox_lines(), before + 1);
}

TEST_F(OtpLogin, ProfileLetsAUserWithoutIdentityStraightToThePassword) {
    // The helper keeps the shipped unknown_user = fail; the profile's line says ignore for its stack.
    start_helper("email_otp");
    const auto run = run_pam(test_service("profile"), "nobody-here",
                             [](int, const std::string& prompt) -> std::optional<std::string> {
                                 ADD_FAILURE() << "no prompt expected, got: " << prompt;
                                 return std::nullopt;
                             });
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text();
    EXPECT_TRUE(run.transcript.empty()) << run.all_text();
    const std::string log = helper_->log();
    EXPECT_NE(log.find("user=\"nobody-here\""), std::string::npos) << log;
    EXPECT_NE(log.find("outcome=ignore"), std::string::npos) << log;
    // A stack without the argument keeps the helper's setting: the decoy walk.
    const auto walked =
        login("nobody-here", [](int, const std::string&) -> std::optional<std::string> { return "n"; });
    EXPECT_EQ(walked.code, PAM_ABORT) << walked.all_text();
    EXPECT_EQ(walked.prompts().size(), 1u) << walked.all_text();
}

TEST_F(OtpLogin, ProfileStillLetsAnEnrolledUserInWithACode) {
    start_helper("email_otp");
    const auto run = run_pam(test_service("profile"), "alice", code_from_outbox(kAliceEmail));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text();
    EXPECT_NE(helper_->log().find("method=email_otp outcome=success"), std::string::npos) << helper_->log();
}

}  // namespace
}  // namespace pp::test
