// Policies that must hold against a hostile client (issue #10, finding 6 and part of 2), through the real
// module, libpam, the real helper (under nss_wrapper with the harness's accounts) and the local user pool:
// claim binding never hands root or a system account to a pool user of the same name, and a name that is not
// a local account never reaches the pool.
#include <gtest/gtest.h>
#include <security/pam_appl.h>

#include <memory>

#include "login_harness.hpp"

namespace pp::test {
namespace {

std::string claim_config(const std::string& binding_extra = "") {
    return "\n[login]\nmethods = email_otp\nmax_tries = 3\nrequest_timeout = 2\nlogin_timeout = 60\n"
           "\n[binding]\nclaim = cognito:username\n" +
           binding_extra;
}

class PolicyLogin : public StandInTest {
  protected:
    void start_helper(const HelperFiles& files) {
        helper_ = std::make_unique<Helper>(dir_, *standin_, files);
    }

    // Accepts the offer of a code, then answers every code prompt with the newest code sent to `to` (or a
    // wrong one when none was sent).
    Answerer code_from_outbox(const std::string& to) const {
        return accepting_code_offers([this, to](int, const std::string&) -> std::optional<std::string> {
            return standin_->latest_code(to).value_or("12345678");
        });
    }

    // [login] lets in with an email code; `sections` (e.g. a key-only [service sudo]) restrict some services.
    // alice is mapped to her address, and no key is enrolled.
    void start_with_email_and(const std::string& sections) {
        start_helper(
            HelperFiles{"\n[login]\nmethods = email_otp\nmax_tries = 3\nrequest_timeout = 2\n"
                        "login_timeout = 60\n\n" +
                            sections + "\n[security_key]\nstore_dir = " + (dir_ / "credentials").string() +
                            "\ntouch_timeout = 2\n\n[binding]\n",
                        "alice alice@example.com\n"});
    }

    // alice's login under PAM service `service`, answered with her newest code: it must not get in, and no
    // code may be sent (the service asks for a key alone). `why` says what a pass would mean.
    void expect_no_code_passes(const std::string& service, const std::string& why) {
        const auto sends = standin_->outbox_lines();
        const auto run =
            run_pam(service_, "alice", code_from_outbox("alice@example.com"), {{"PAM_SERVICE", service}});
        EXPECT_NE(run.code, PAM_SUCCESS) << why << "\n" << run.all_text() << helper_->log();
        EXPECT_EQ(standin_->outbox_lines(), sends) << service << ": a code was sent\n" << run.all_text();
    }

    std::unique_ptr<Helper> helper_;
};

// A pool that lets anyone sign up lets anyone name themselves "root" or "daemon": with claim binding alone
// such a pool user must not become the local account of that name.
TEST_F(PolicyLogin, ClaimBindingRefusesRootAndSystemAccounts) {
    start_helper(HelperFiles{claim_config(), ""});
    for (const std::string user : {"root", "daemon"}) {
        const auto sends = standin_->outbox_lines();
        const auto requests = standin_->requests_log().size();
        const auto run = run_pam(service_, user, code_from_outbox(user + "@example.com"));
        EXPECT_EQ(run.code, PAM_MAXTRIES) << user << "\n" << run.all_text() << helper_->log();
        EXPECT_EQ(standin_->outbox_lines(), sends) << user << ": no code may be sent";
        EXPECT_EQ(questions_since(*standin_, requests), "") << user << ": nothing may be asked of the pool";
        EXPECT_TRUE(contains(run.all_text(), "too many wrong codes")) << run.all_text();
    }
    // An ordinary account still binds by the claim.
    const auto alice = run_pam(service_, "alice", code_from_outbox("alice@example.com"));
    EXPECT_EQ(alice.code, PAM_SUCCESS) << alice.all_text() << helper_->log();
}

// The admin may name the low accounts that claim binding may serve; root only by name too.
TEST_F(PolicyLogin, ClaimBindingServesAListedSystemAccount) {
    start_helper(HelperFiles{claim_config("claim_allow_users = backup root\n"), ""});
    const auto backup = run_pam(service_, "backup", code_from_outbox("backup@example.com"));
    EXPECT_EQ(backup.code, PAM_SUCCESS) << backup.all_text() << helper_->log();
    const auto root = run_pam(service_, "root", code_from_outbox("root@example.com"));
    EXPECT_EQ(root.code, PAM_SUCCESS) << root.all_text() << helper_->log();
    const auto daemon = run_pam(service_, "daemon", code_from_outbox("daemon@example.com"));
    EXPECT_EQ(daemon.code, PAM_MAXTRIES) << daemon.all_text() << helper_->log();
}

// claim_min_uid lowers (or raises) the line; alice (uid 1001) is below 2000.
TEST_F(PolicyLogin, ClaimBindingMinimumUidIsConfigurable) {
    start_helper(HelperFiles{claim_config("claim_min_uid = 2000\n"), ""});
    const auto run = run_pam(service_, "alice", code_from_outbox("alice@example.com"));
    EXPECT_EQ(run.code, PAM_MAXTRIES) << run.all_text() << helper_->log();
}

// "eve" is a pool user with an identity-map line, but no account on this machine: sshd would hand such a
// name to PAM all the same. Nothing may be sent or asked: the person walks the unknown-user prompts.
void expect_no_pool_contact(const StandIn& standin, const Helper& helper, const PamRun& run,
                            std::size_t sends, std::size_t requests) {
    EXPECT_EQ(run.code, PAM_MAXTRIES) << run.all_text() << helper.log();
    EXPECT_EQ(standin.outbox_lines(), sends) << "no code may be sent";
    EXPECT_EQ(questions_since(standin, requests), "") << "nothing may be asked of the pool";
    // The offer of a code, as a real user with one method sees it, then three code prompts.
    ASSERT_EQ(run.prompts().size(), 4u) << run.all_text();
    EXPECT_TRUE(run.prompts()[0].starts_with("Send a code to ")) << run.prompts()[0];
    EXPECT_TRUE(run.prompts()[1].starts_with("Code sent to ")) << run.prompts()[1];
    EXPECT_TRUE(contains(run.all_text(), "too many wrong codes")) << run.all_text();
}

TEST_F(PolicyLogin, NameWithAMapEntryButNoLocalAccountNeverReachesThePool) {
    start_helper(
        HelperFiles{"\n[login]\nmethods = email_otp\nmax_tries = 3\nrequest_timeout = 2\n\n[binding]\n",
                    "alice alice@example.com\neve eve@example.com\n"});
    const auto sends = standin_->outbox_lines();
    const auto requests = standin_->requests_log().size();
    const auto run = run_pam(service_, "eve", code_from_outbox("eve@example.com"));
    expect_no_pool_contact(*standin_, *helper_, run, sends, requests);
}

TEST_F(PolicyLogin, NameWithoutLocalAccountUnderClaimBindingNeverReachesThePool) {
    start_helper(HelperFiles{claim_config(), "eve eve@example.com\n"});
    const auto sends = standin_->outbox_lines();
    const auto requests = standin_->requests_log().size();
    const auto run = run_pam(service_, "eve", code_from_outbox("eve@example.com"));
    expect_no_pool_contact(*standin_, *helper_, run, sends, requests);
    EXPECT_TRUE(contains(helper_->log(), "not a local account")) << helper_->log();
}

// Review 31a (issue #10, item 6): a service's methods are looked up by the PAM service name exactly, and
// Debian's sudo and su authenticate under two names each: `sudo -i` runs PAM as "sudo-i" and `su -` as "su-l"
// (/etc/pam.d/sudo-i and su-l, which @include common-auth, where the package's profile puts the module).
// The README's own example, [service sudo] methods = security_key ("only for sudo"), then holds for `sudo`
// and not for `sudo -i`: a process running as alice plus her email code becomes root through sudo-i with
// the code, the downgrade the key-only policy is there to stop. The secure behaviour asserted: a login under
// the other name of a service the configuration restricts is not let in by a weaker method than that
// service's (an alias of the section, or a refusal; a check-config warning alone would leave it open).
TEST_F(PolicyLogin, ReviewTheOtherPamNamesOfSudoAndSuKeepTheirServicesMethods) {
    start_with_email_and("[service sudo]\nmethods = security_key\n\n[service su]\nmethods = security_key\n");
    // As configured: `sudo` and `su` ask for the key alone (none is enrolled), no code is sent.
    for (const char* service : {"sudo", "su"}) expect_no_code_passes(service, std::string(service));
    // `sudo -i` and `su -`: the same programs, the same root, under their other names.
    for (const std::string service : {"sudo-i", "su-l"})
        expect_no_code_passes(service, "an email code passed " + service + " while [service " +
                                           service.substr(0, service.find('-')) +
                                           "] accepts only a security key");
}

// Review 31b: Linux-PAM lowercases every service name (pam_start and pam_set_item(PAM_SERVICE): "require
// lower case"), so the module only ever sends "sudo"; the helper's config accepts [service Sudo] (letters of
// either case) and looks sections up byte for byte. An admin's key-only [service Sudo] (or SUDO) then never
// applies: it is parsed, listed by check-config, and [login]'s email code passes sudo to root. The secure
// behaviour asserted: a login under a service the configuration restricts (whatever the case it was written
// in) is not let in by a weaker method (a section matched without case, or the configuration refused).
TEST_F(PolicyLogin, ReviewAServiceSectionWrittenWithCapitalsStillHoldsItsService) {
    start_with_email_and("[service Sudo]\nmethods = security_key\n");
    for (const std::string service : {"Sudo", "sudo"})
        expect_no_code_passes(service, "an email code passed PAM service '" + service +
                                           "' while [service Sudo] accepts only a security key");
}

// Review 31b: the README's way to make root key-only is `[service sudo] methods = security_key` ("only for
// sudo"), and since review 31a it holds for sudo's other name, sudo-i. Debian 12's other programs that make
// a sudo-group member root with that member's own authentication reach the module through common-auth under
// their own PAM names: pkexec (polkit's agent helper, PAM service polkit-1, whose auth_admin asks a member
// of group sudo for their own credentials) and doas (package doas/opendoas, PAM service doas). Each falls to
// [login], so alice's email code makes her root with `pkexec bash` while `sudo` wants her key, and nothing in
// check-config says so. The secure behaviour asserted: the ways to root that authenticate the invoking admin
// are held by [service sudo] unless they have a section of their own (or the configuration is refused /
// they are refused); a check-config line alone would leave it open.
TEST_F(PolicyLogin, ReviewPkexecAndDoasKeepSudosMethods) {
    start_with_email_and("[service sudo]\nmethods = security_key\n");
    for (const std::string service : {"polkit-1", "doas"})
        expect_no_code_passes(service,
                              "an email code passed " + service +
                                  " (a way to root) while [service sudo] accepts only a security key");
}

}  // namespace
}  // namespace pp::test
