// Fidelity to the real user pool (issue #11 (a), (c), (d)), through the real module, libpam, the real helper
// and the local stand-in: the name the pool announced answers its challenges, an answer with duplicate JSON
// members is refused, and the person's address reaches the pool as UserContextData.
#include <gtest/gtest.h>
#include <security/pam_appl.h>

#include <memory>
#include <sstream>

#include "login_harness.hpp"

namespace pp::test {
namespace {

constexpr const char* kAliceEmail = "alice@example.com";
// alice is mapped to her email alias only: the pool's internal name for her is "alice"
// (tests/pam/test_pool.json).
constexpr const char* kIdentities =
    "alice alice@example.com\n"
    "alice +15555550123\n";

// A test here logs alice in up to six times: the send limit per identifier is raised out of the way.
std::string login_section(const std::string& methods) {
    return "\n[login]\nmethods = " + methods +
           "\nmax_tries = 3\nrequest_timeout = 2\nlogin_timeout = 60\n\n[limits]\nstate_file = " +
           (test_dir() / "limits").string() + "\nsends_per_identifier = 50\n\n[binding]\n";
}

// The requests.jsonl lines written after `before` bytes, for the sign-in operations only.
std::vector<std::string> sign_in_requests(const std::string& log, std::size_t before) {
    std::vector<std::string> lines;
    std::istringstream in(log.substr(before));
    for (std::string line; std::getline(in, line);)
        if (contains(line, "\"op\": \"InitiateAuth\"") ||
            contains(line, "\"op\": \"RespondToAuthChallenge\""))
            lines.push_back(line);
    return lines;
}

class Fidelity : public StandInTest {
  protected:
    void start_helper(const std::string& methods, bool with_secret = true) {
        helper_ = std::make_unique<Helper>(dir_, *standin_,
                                           HelperFiles{login_section(methods), kIdentities, with_secret});
    }

    // Picks `choice` from the menu, accepts an offer of a code, and answers the code prompt from the outbox.
    Answerer choose_then_code(const std::string& choice, const std::string& to) const {
        return accepting_code_offers(
            [this, choice, to](int, const std::string& prompt) -> std::optional<std::string> {
                if (prompt.starts_with("Choose how to sign in:")) return choice;
                return standin_->latest_code(to).value_or("no-code");
            });
    }

    // One email-code login of alice with PAM_RHOST = rhost (none when empty); returns the sign-in requests it
    // made.
    std::vector<std::string> login_from(const std::string& rhost) {
        const auto before = standin_->requests_log().size();
        std::map<std::string, std::string> items;
        if (!rhost.empty()) items["PAM_RHOST"] = rhost;
        const auto run = run_pam(service_, "alice", choose_then_code("1", kAliceEmail), items);
        EXPECT_EQ(run.code, PAM_SUCCESS) << rhost << "\n" << run.all_text() << helper_->log();
        return sign_in_requests(standin_->requests_log(), before);
    }

    std::unique_ptr<Helper> helper_;
};

// (a) The pool announces its internal name for the person (USERNAME in ChallengeParameters); with a client
// secret it checks a challenge response's SECRET_HASH over that name, not over the alias that was typed or
// mapped
// (../shared/specs/cognito-user-auth.md §4 "Which username": "Cognito verifies challenge-response hashes
// against the internal username (USER_ID_FOR_SRP/USERNAME from ChallengeParameters)"; for USER_AUTH steps "if
// ChallengeParameters supplies USERNAME …, use it for both USERNAME and the hash"). The menu's answer must do
// as the code and passkey answers already do.
TEST_F(Fidelity, MenuAnswerUsesTheNameThePoolAnnounced) {
    start_helper("email_otp sms_otp");
    const auto before = standin_->requests_log().size();
    const auto run = run_pam(service_, "alice", choose_then_code("1", kAliceEmail));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    const auto requests = sign_in_requests(standin_->requests_log(), before);
    ASSERT_EQ(requests.size(), 3u) << standin_->requests_log().substr(before);
    EXPECT_TRUE(contains(requests[0], "\"username\": \"alice@example.com\"")) << requests[0];
    for (std::size_t i = 1; i < requests.size(); ++i) {
        EXPECT_TRUE(contains(requests[i], "\"username\": \"alice\"")) << requests[i];
        EXPECT_TRUE(contains(requests[i], "\"status\": 200")) << requests[i];
    }
}

// The same through a client without a secret, where no hash could have caught the alias: the announced name
// is still what answers.
TEST_F(Fidelity, MenuAnswerUsesTheAnnouncedNameWithoutASecretToo) {
    start_helper("email_otp sms_otp", false);
    const auto before = standin_->requests_log().size();
    const auto run = run_pam(service_, "alice", choose_then_code("2", "+15555550123"));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    const auto requests = sign_in_requests(standin_->requests_log(), before);
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_TRUE(contains(requests[1], "\"username\": \"alice\"")) << requests[1];
}

// (c) An answer in which a JSON object names a member twice is not read as "the last one wins": the helper
// refuses it as malformed (PAM_AUTHINFO_UNAVAIL, as README's table says for a malformed answer) and logs why.
TEST_F(Fidelity, AnswerWithDuplicateMembersIsMalformed) {
    start_helper("email_otp sms_otp", false);  // no secret: this test stands apart from the one above
    standin_->set_control(R"({"fault": "duplicate_member", "ops": ["InitiateAuth"]})");
    const auto run = run_pam(service_, "alice", choose_then_code("1", kAliceEmail));
    standin_->clear_control();
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.all_text() << helper_->log();
    EXPECT_TRUE(contains(helper_->log(), "duplicate member")) << helper_->log();
    // After the fault the same login goes through: nothing was left half done.
    const auto again = run_pam(service_, "alice", choose_then_code("1", kAliceEmail));
    EXPECT_EQ(again.code, PAM_SUCCESS) << again.all_text() << helper_->log();
}

// (d) The person's address reaches the pool's threat protection as UserContextData.IpAddress, in InitiateAuth
// and in every RespondToAuthChallenge; in the canonical form of the address.
TEST_F(Fidelity, RemoteAddressReachesThePool) {
    start_helper("email_otp sms_otp", false);
    for (const auto& [rhost, sent] :
         std::vector<std::pair<std::string, std::string>>{{"198.51.100.7", "198.51.100.7"},
                                                          {"2001:DB8:0:0::7", "2001:db8::7"},
                                                          {"[2001:db8::8]", "2001:db8::8"},
                                                          {"::ffff:203.0.113.9", "203.0.113.9"}}) {
        // The first login asks the pool before its menu; the later ones are remembered (factor_memory.hpp).
        const auto requests = login_from(rhost);
        ASSERT_EQ(requests.size(), rhost == "198.51.100.7" ? 3u : 2u) << rhost;
        for (const auto& line : requests)
            EXPECT_TRUE(contains(line, "\"ip_address\": \"" + sent + "\"")) << rhost << ": " << line;
    }
}

// Nothing is sent for a local login (no PAM_RHOST), for a host name (it is not an address, and resolving it
// would let whoever controls its DNS choose what the pool sees), or for loopback (a tunnel's end on this
// machine, not the person's address).
TEST_F(Fidelity, NoAddressIsSentForLocalLoginsHostNamesOrLoopback) {
    start_helper("email_otp sms_otp", false);
    for (const std::string rhost :
         {"", "client.example.net", "127.0.0.1", "::1", "localhost", "198.51.100.7x"}) {
        const auto requests = login_from(rhost);
        ASSERT_EQ(requests.size(), rhost.empty() ? 3u : 2u) << rhost;
        for (const auto& line : requests) EXPECT_FALSE(contains(line, "ip_address")) << rhost << ": " << line;
    }
}

}  // namespace
}  // namespace pp::test
