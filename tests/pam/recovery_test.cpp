// Break-glass recovery codes when the user pool cannot be reached (issue #11, outages), through the real
// module, libpam (pam_wrapper), the real helper (under nss_wrapper with the harness's accounts) and the real
// `pam-passwordless-helper recovery-codes` command. The pool is a closed port on loopback: every request to
// it fails to connect, as when the network is cut.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <security/pam_appl.h>

#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include "child_process.hpp"
#include "login_harness.hpp"
#include "process_memory.hpp"

namespace pp::test {
namespace {

constexpr const char* kRecoveryPrompt = "Recovery code";
constexpr const char* kUnreachable = "The sign-in service cannot be reached";

std::vector<std::string> codes_in(const std::string& text) {
    static const std::regex re("[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}");
    std::vector<std::string> out;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
        out.push_back(it->str());
    return out;
}

std::string without_dashes(std::string s) {
    std::erase(s, '-');
    return s;
}

class Recovery : public StandInTest {
  protected:
    [[nodiscard]] fs::path store() const { return dir_ / "recovery"; }

    // `login` and `extra` are added to [login] and after the other sections. With pool_down the user pool is
    // a closed port; otherwise the stand-in.
    // failures_before_backoff is high by default so that racing logins (each takes a try when it is armed)
    // are not refused by the backoff; the send limit too, as every login here counts a send before the pool
    // fails.
    void start_helper(const std::string& login = "", const std::string& extra = "", bool pool_down = true,
                      int failures_before_backoff = 20, int sends_per_identifier = 1000) {
        std::string conf = pool_down ? "[pool]\npool_id = us-east-1_TestPool\nclient_id = x\n"
                                       "endpoint = https://127.0.0.1:1/\n"
                                       "issuer = https://127.0.0.1:1/us-east-1_TestPool\n"
                                     : pool_section(*standin_, dir_, false);
        write_text(dir_ / "identities", "alice alice@example.com\nbob bob@example.com\n");
        conf +=
            "\n[login]\nmethods = email_otp\nrequest_timeout = 2\nlogin_timeout = 60\n" + login +
            "\n[binding]\nmapping_file = " + (dir_ / "identities").string() +
            "\n\n[limits]\nstate_file = " + (dir_ / "limits").string() +
            "\nsends_per_identifier = " + std::to_string(sends_per_identifier) +
            "\nsends_per_rhost = 1000\nfailures_before_backoff = " + std::to_string(failures_before_backoff) +
            "\n\n[recovery]\nstore_dir = " + store().string() + "\n" + extra;
        write_text(dir_ / "helper.conf", conf);
        helper_ = std::make_unique<Helper>(dir_, dir_ / "helper.conf");
    }

    // `pam-passwordless-helper ARGS --config …` to its end, standard output and error apart (the codes go to
    // one, the audit line to the other).
    [[nodiscard]] ChildResult helper_command(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{PP_HELPER_BIN};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"--config", (dir_ / "helper.conf").string()});
        return run_child({.argv = with_local_accounts(argv, dir_ / "cli-accounts"),
                          .env = Env{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"} + sanitizer_env(),
                          .input = "",
                          .work = dir_,
                          .uid = std::nullopt,
                          .late_input = {}});
    }

    // A new set for `user`, as root would make it; returns the codes printed.
    std::vector<std::string> generate(const std::string& user, int count = 10) {
        fs::create_directories(dir_ / "cli-accounts");
        const auto r = helper_command({"recovery-codes", "--user", user, "--count", std::to_string(count)});
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        const auto codes = codes_in(r.out);
        EXPECT_EQ(codes.size(), static_cast<std::size_t>(count)) << r.out << r.err;
        last_generation_ = r;
        return codes;
    }

    // Accepts the offer of a code, then answers the recovery prompt with `code` (nullopt: Enter, cancel).
    PamRun login(const std::string& user, std::optional<std::string> code,
                 const std::map<std::string, std::string>& items = {}) {
        return run_pam(
            service_, user,
            accepting_code_offers([code](int, const std::string& text) -> std::optional<std::string> {
                if (contains(text, kRecoveryPrompt)) return code.value_or("");
                return std::string("00000000");
            }),
            items);
    }

    [[nodiscard]] static bool asked_for_a_recovery_code(const PamRun& run) {
        for (const auto& p : run.prompts())
            if (contains(p, kRecoveryPrompt)) return true;
        return false;
    }

    std::unique_ptr<Helper> helper_;
    ChildResult last_generation_;
};

// The break-glass at the console: with the pool unreachable, a code of the set signs in once; the same code
// then fails, another of the set still works; each use is audited without the code.
TEST_F(Recovery, ACodeSignsInOnceAtTheConsoleWhenThePoolIsDown) {
    start_helper();
    const auto codes = generate("alice", 3);
    ASSERT_EQ(codes.size(), 3u);
    EXPECT_TRUE(contains(last_generation_.err, "audit")) << last_generation_.err;

    const auto first = login("alice", codes[1]);
    EXPECT_EQ(first.code, PAM_SUCCESS) << first.all_text() << helper_->log();
    EXPECT_TRUE(contains(first.all_text(), kUnreachable)) << first.all_text();
    EXPECT_TRUE(asked_for_a_recovery_code(first)) << first.all_text();

    const auto again = login("alice", codes[1]);
    EXPECT_EQ(again.code, PAM_AUTH_ERR) << again.all_text() << helper_->log();

    // Typed in lower case and without dashes, as a person may.
    std::string relaxed = without_dashes(codes[2]);
    for (auto& c : relaxed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto other = login("alice", relaxed);
    EXPECT_EQ(other.code, PAM_SUCCESS) << other.all_text() << helper_->log();

    const std::string log = helper_->log();
    EXPECT_TRUE(contains(log, "method=recovery_code")) << log;
    EXPECT_TRUE(contains(log, "recovery code used, 2 left")) << log;
    EXPECT_TRUE(contains(log, "recovery code used, 1 left")) << log;
    EXPECT_TRUE(contains(log, "wrong recovery code")) << log;

    const auto status = helper_command({"recovery-codes", "--user", "alice", "--left"});
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
    EXPECT_TRUE(contains(status.out, "alice: 1 recovery code(s) left")) << status.out << status.err;
    // The running helper's status says the same, and never a code.
    const auto running = helper_command({"status", "--socket", helper_->socket()});
    EXPECT_EQ(running.exit_code, 0) << running.out << running.err;
    EXPECT_TRUE(contains(running.out, "recovery codes left: alice 1")) << running.out << running.err;
    EXPECT_TRUE(codes_in(running.out).empty()) << running.out;
}

// The person who has no code presses Enter and ends as before the feature: PAM_AUTHINFO_UNAVAIL, so a stack
// with authinfo_unavail=ignore falls through to the next module.
TEST_F(Recovery, CancellingTheRecoveryPromptKeepsTheOutageCode) {
    start_helper();
    generate("alice", 1);
    const auto run = login("alice", std::nullopt);
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.all_text() << helper_->log();
    EXPECT_TRUE(asked_for_a_recovery_code(run)) << run.all_text();
}

// An attacker at the console guessing codes for someone: every wrong code is a failed login in the local
// backoff budget (failures_before_backoff = 3 here); past it even the right code waits and is not consumed.
TEST_F(Recovery, WrongCodesCountInTheLocalBackoffBudget) {
    start_helper("", "", true, 3);
    const auto codes = generate("alice", 2);
    ASSERT_EQ(codes.size(), 2u);
    for (int i = 0; i < 3; ++i) {
        const auto wrong = login("alice", "AAAA-BBBB-CCCC-DDDD");
        EXPECT_EQ(wrong.code, PAM_AUTH_ERR) << wrong.all_text() << helper_->log();
    }
    const auto blocked = login("alice", codes[0]);
    EXPECT_EQ(blocked.code, PAM_MAXTRIES) << blocked.all_text() << helper_->log();
    EXPECT_TRUE(contains(blocked.all_text(), "Too many failed sign-ins")) << blocked.all_text();
    EXPECT_FALSE(asked_for_a_recovery_code(blocked)) << blocked.all_text();
    const auto left = helper_command({"recovery-codes", "--user", "alice", "--left"});
    EXPECT_TRUE(contains(left.out, "alice: 2 recovery code(s) left")) << left.out << left.err;
}

// During an outage an attacker over SSH asks for codes to alice until her send limit is reached (the sends
// are counted though none goes out). That must not close her break-glass at the console: the pool's last
// contact failed, so the local login that meets the send limit is still offered a recovery code.
TEST_F(Recovery, SendsFloodedFromTheNetworkDoNotCloseTheBreakGlass) {
    start_helper("", "", true, 20, 2);
    const auto codes = generate("alice", 1);
    ASSERT_EQ(codes.size(), 1u);
    for (int i = 0; i < 2; ++i) {
        const auto remote = login("alice", std::nullopt, {{"PAM_RHOST", "203.0.113.9"}});
        EXPECT_EQ(remote.code, PAM_AUTHINFO_UNAVAIL) << remote.all_text() << helper_->log();
    }
    const auto remote = login("alice", std::nullopt, {{"PAM_RHOST", "203.0.113.9"}});
    EXPECT_TRUE(contains(remote.all_text(), "Too many codes requested")) << remote.all_text();
    EXPECT_FALSE(asked_for_a_recovery_code(remote)) << remote.all_text();
    const auto local = login("alice", codes[0]);
    EXPECT_EQ(local.code, PAM_SUCCESS) << local.all_text() << helper_->log();
    EXPECT_TRUE(asked_for_a_recovery_code(local)) << local.all_text();
}

// A remote login never gets the prompt, whatever it knows: not from another host, not from loopback (an SSH
// port forward) even when loopback_is_local = yes lets such logins use the keys plugged in here.
TEST_F(Recovery, ARemoteLoginCannotUseACode) {
    start_helper("loopback_is_local = yes\n");
    const auto codes = generate("alice", 2);
    ASSERT_EQ(codes.size(), 2u);
    for (const std::string rhost : {"203.0.113.7", "127.0.0.1", "localhost"}) {
        const auto run = login("alice", codes[0], {{"PAM_RHOST", rhost}});
        EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << rhost << "\n" << run.all_text() << helper_->log();
        EXPECT_FALSE(asked_for_a_recovery_code(run)) << rhost << "\n" << run.all_text();
    }
    // Not consumed by those tries: it still works at the console.
    const auto local = login("alice", codes[0]);
    EXPECT_EQ(local.code, PAM_SUCCESS) << local.all_text() << helper_->log();
}

// Two logins racing with one code: exactly one gets in.
TEST_F(Recovery, ParallelUseOfOneCodeSucceedsOnce) {
    start_helper();
    const auto codes = generate("alice", 1);
    ASSERT_EQ(codes.size(), 1u);
    constexpr int kLogins = 6;
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    std::vector<pid_t> children;
    for (int i = 0; i < kLogins; ++i) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(go[1]);
            char c;
            (void)!::read(go[0], &c, 1);  // all start when the parent closes the pipe
            const auto run = login("alice", codes[0]);
            ::_exit(run.code == PAM_SUCCESS ? 0 : run.code == PAM_AUTH_ERR ? 1 : 2);
        }
        children.push_back(pid);
    }
    ::close(go[0]);
    ::close(go[1]);
    int successes = 0, refusals = 0;
    for (const pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        successes += WEXITSTATUS(status) == 0;
        refusals += WEXITSTATUS(status) == 1;
    }
    EXPECT_EQ(successes, 1) << helper_->log();
    EXPECT_EQ(refusals, kLogins - 1) << helper_->log();
}

// A new set replaces the old one: its codes fail from then on, and the replacement is audited.
TEST_F(Recovery, GeneratingANewSetInvalidatesTheOld) {
    start_helper();
    const auto old_set = generate("alice", 2);
    const auto new_set = generate("alice", 2);
    ASSERT_EQ(old_set.size(), 2u);
    ASSERT_EQ(new_set.size(), 2u);
    EXPECT_TRUE(contains(last_generation_.err, "replacing 2 unused")) << last_generation_.err;
    const auto old_code = login("alice", old_set[0]);
    EXPECT_EQ(old_code.code, PAM_AUTH_ERR) << old_code.all_text() << helper_->log();
    const auto new_code = login("alice", new_set[0]);
    EXPECT_EQ(new_code.code, PAM_SUCCESS) << new_code.all_text() << helper_->log();
}

// A code is for its user only; a user without codes sees the same prompt and the same failure as a user
// with codes typing a wrong one, so the prompt does not tell who has a set.
TEST_F(Recovery, ACodeIsForItsUserAndAUserWithoutCodesFailsAlike) {
    start_helper();
    const auto codes = generate("alice", 1);
    ASSERT_EQ(codes.size(), 1u);
    const auto bob = login("bob", codes[0]);
    EXPECT_EQ(bob.code, PAM_AUTH_ERR) << bob.all_text() << helper_->log();
    const auto alice_wrong = login("alice", "AAAA-BBBB-CCCC-DDDD");
    EXPECT_EQ(alice_wrong.code, PAM_AUTH_ERR) << alice_wrong.all_text();
    auto screens = [](const PamRun& r) {
        std::string s;
        for (const auto& t : r.transcript) s += std::to_string(t.style) + " " + t.text + "\n";
        return s;
    };
    // The masked addresses differ by their first letter only.
    std::string bob_screens = std::regex_replace(screens(bob), std::regex("b\\*\\*\\*@"), "a***@");
    EXPECT_EQ(bob_screens, screens(alice_wrong));
    const auto alice = login("alice", codes[0]);
    EXPECT_EQ(alice.code, PAM_SUCCESS) << alice.all_text() << helper_->log();
}

// While the pool is down, the decoy (a name that is nobody's; an account without an identity) ends where an
// enrolled user's first request meets the outage, as the enrolled user's login ends: the same screens, the
// recovery prompt included, and the same codes, wrong code or Enter. It takes no recovery code, not even one
// of the account's own set: its outage is copied from real logins, not met.
TEST_F(Recovery, WhileThePoolIsDownTheDecoyEndsAtTheSameBreakGlass) {
    start_helper();
    generate("alice", 1);
    const auto carol_codes = generate("carol", 1);
    ASSERT_EQ(carol_codes.size(), 1u);
    auto screens = [](const PamRun& r) {
        std::string s;
        for (const auto& t : r.transcript) s += std::to_string(t.style) + " " + t.text + "\n";
        // The masked addresses differ (the decoy's are made up).
        return std::regex_replace(s, std::regex("[a-z]\\*\\*\\*@[a-z]\\*\\*\\*"), "?***@?***");
    };
    // The enrolled user's first: the outage is met by a real request before any decoy copies it.
    const auto enrolled = login("alice", "AAAA-BBBB-CCCC-DDDD");
    EXPECT_EQ(enrolled.code, PAM_AUTH_ERR) << enrolled.all_text() << helper_->log();
    EXPECT_TRUE(asked_for_a_recovery_code(enrolled)) << enrolled.all_text();
    EXPECT_TRUE(contains(enrolled.all_text(), kUnreachable)) << enrolled.all_text();
    for (const std::string user : {"nobody-here", "carol"}) {
        const auto decoy = login(user, user == "carol" ? carol_codes[0] : "AAAA-BBBB-CCCC-DDDD");
        EXPECT_EQ(decoy.code, enrolled.code) << user << "\n" << decoy.all_text() << helper_->log();
        EXPECT_EQ(screens(decoy), screens(enrolled)) << user;
        const auto enter = login(user, std::nullopt);
        EXPECT_EQ(enter.code, PAM_AUTHINFO_UNAVAIL) << user << "\n" << enter.all_text() << helper_->log();
        EXPECT_TRUE(asked_for_a_recovery_code(enter)) << enter.all_text();
    }
    const auto enrolled_enter = login("alice", std::nullopt);
    EXPECT_EQ(enrolled_enter.code, PAM_AUTHINFO_UNAVAIL) << enrolled_enter.all_text();
    const std::string log = helper_->log();
    EXPECT_TRUE(
        contains(log, "user=\"nobody-here\"") &&
        contains(log, "not a local account; ended as the outage a recent real request met (unreachable)"))
        << log;
    EXPECT_TRUE(contains(log, "no identity and no security key for this user; ended as the outage")) << log;
    const auto left = helper_command({"recovery-codes", "--user", "carol", "--left"});
    EXPECT_TRUE(contains(left.out, "carol: 1 recovery code(s) left")) << left.out << left.err;
}

// Only while the pool cannot be reached: with the pool answering, no recovery prompt is offered.
TEST_F(Recovery, NotOfferedWhileThePoolAnswers) {
    start_helper("max_tries = 1\n", "", false);
    const auto codes = generate("alice", 1);
    const auto run = login("alice", codes.empty() ? "" : codes[0]);
    EXPECT_EQ(run.code, PAM_MAXTRIES) << run.all_text() << helper_->log();
    EXPECT_FALSE(asked_for_a_recovery_code(run)) << run.all_text();
}

// A service the admin closed to recovery, and a machine where nobody has a set, end an outage as before.
TEST_F(Recovery, NotOfferedWhereTheAdminSaysNoOrNobodyHasASet) {
    start_helper("", "\n[service " + service_ + "]\nmethods = email_otp\nrecovery = no\n");
    const auto nobody_has_one = login("alice", "AAAA-BBBB-CCCC-DDDD");
    EXPECT_EQ(nobody_has_one.code, PAM_AUTHINFO_UNAVAIL) << nobody_has_one.all_text() << helper_->log();
    EXPECT_FALSE(asked_for_a_recovery_code(nobody_has_one)) << nobody_has_one.all_text();
    const auto codes = generate("alice", 1);
    const auto closed = login("alice", codes.empty() ? "" : codes[0]);
    EXPECT_EQ(closed.code, PAM_AUTHINFO_UNAVAIL) << closed.all_text() << helper_->log();
    EXPECT_FALSE(asked_for_a_recovery_code(closed)) << closed.all_text();
}

// Review 31c: sudo -i (PAM sudo-i), pkexec (polkit-1) and doas follow [service sudo] "unless they have a
// section of their own" (config/methods.cpp), and recovery_for then takes the own section's recovery, or
// [recovery] enabled when it says none. An admin who closed the break-glass on the way to root
// ([service sudo] recovery = no) and gave sudo -i or polkit-1 a section with the same methods (a file from
// before review 31a, when sudo-i needed one, or polkit-1's own prompts) has it open again there, and
// check-config still lists only "service sudo: no": during an outage a recovery code (or a stolen sheet)
// makes alice root with `sudo -i` or `pkexec bash`. The secure behaviour asserted: a section of a second name
// that says nothing about recovery keeps what its program's section says.
TEST_F(Recovery, ReviewASecondNameOfSudoKeepsSudosRecoveryNo) {
    start_helper("",
                 "\n[service sudo]\nmethods = email_otp\nrecovery = no\n"
                 "\n[service sudo-i]\nmethods = email_otp\n"
                 "\n[service polkit-1]\nmethods = email_otp\n");
    const auto codes = generate("alice", 3);
    ASSERT_EQ(codes.size(), 3u);
    const auto sudo = login("alice", codes[0], {{"PAM_SERVICE", "sudo"}});
    EXPECT_EQ(sudo.code, PAM_AUTHINFO_UNAVAIL) << sudo.all_text() << helper_->log();
    EXPECT_FALSE(asked_for_a_recovery_code(sudo)) << sudo.all_text();
    std::size_t next = 1;
    for (const char* service : {"sudo-i", "polkit-1"}) {
        const auto run = login("alice", codes[next++], {{"PAM_SERVICE", service}});
        EXPECT_NE(run.code, PAM_SUCCESS) << "a recovery code passed " << service
                                         << " (a way to root) while [service sudo] says recovery = no\n"
                                         << run.all_text() << helper_->log();
        EXPECT_FALSE(asked_for_a_recovery_code(run)) << service << ": asked for a recovery code\n"
                                                     << run.all_text();
    }
}

// The codes are printed once and kept only as hashes: not in the store, the helper's log, its argv or
// environment, nor (after the login) anywhere in the helper's memory.
TEST_F(Recovery, CodesAreNeverKeptInClear) {
    start_helper();
    const auto codes = generate("alice", 2);
    ASSERT_EQ(codes.size(), 2u);
    const auto run = login("alice", codes[0]);
    ASSERT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    ASSERT_TRUE(wait_until([&] { return helper_login_threads(helper_->pid()) == 0; }));
    const std::string stored = read_text(store() / "alice");
    const auto mode = fs::status(store() / "alice").permissions();
    EXPECT_EQ(mode & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
    const std::string cmdline = read_text("/proc/" + std::to_string(helper_->pid()) + "/cmdline");
    const std::string environ = read_text("/proc/" + std::to_string(helper_->pid()) + "/environ");
    for (const auto& c : codes) {
        for (const auto& form : {c, without_dashes(c)}) {
            EXPECT_FALSE(contains(stored, form));
            EXPECT_FALSE(contains(helper_->log(), form));
            EXPECT_FALSE(contains(last_generation_.err, form));
            EXPECT_FALSE(contains(cmdline, form));
            EXPECT_FALSE(contains(environ, form));
        }
    }
}

// A scan of the live helper's memory: left out of the sanitizer job with the other such scans
// (scripts/test-sanitizers.sh says why).
TEST_F(Recovery, AUsedCodeIsGoneFromTheHelpersMemory) {
    start_helper();
    const auto codes = generate("alice", 2);
    ASSERT_EQ(codes.size(), 2u);
    const auto run = login("alice", codes[0]);
    ASSERT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    ASSERT_TRUE(wait_until([&] { return helper_login_threads(helper_->pid()) == 0; }));
    // The used code, as typed and as the helper normalised it, must be gone from the helper's memory.
    const auto hits = find_in_memory(
        helper_->pid(), {{"used code", without_dashes(codes[0])}, {"used code as typed", codes[0]}});
    for (const auto& h : hits) ADD_FAILURE() << h.needle_name << " found in " << h.mapping;
}

}  // namespace
}  // namespace pp::test
