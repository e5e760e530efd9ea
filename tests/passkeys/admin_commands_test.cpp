// What an admin meets at the two programs' own command lines (issue #11): --version, the program's name on
// every error line, and what check-config and the running helper say about the identity map. The real
// pam-passwordless-helper and pam-passwordless, the helper under nss_wrapper with the harness's accounts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "login_harness.hpp"

namespace pp::test {
namespace {

// Every line of `text` starts with `prefix` (and there is at least one).
::testing::AssertionResult every_line_starts_with(const std::string& text, const std::string& prefix) {
    std::istringstream in(text);
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) {
        ++lines;
        if (!line.starts_with(prefix))
            return ::testing::AssertionFailure() << "'" << line << "' does not start with '" << prefix << "'";
    }
    if (lines == 0) return ::testing::AssertionFailure() << "no line at all";
    return ::testing::AssertionSuccess();
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

class AdminCommands : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root: the helper trusts only root-owned files and sockets";
        const std::string key = test_key();
        dir_ = fresh_dir(short_name("adm", key));
        write_text(dir_ / "test-name", key + "\n");
    }

    // A configuration whose identity map holds `identities` with `mode`.
    fs::path configure(const std::string& identities, fs::perms mode = fs::perms(0600)) const {
        if (!identities.empty()) write_text(dir_ / "identities", identities, mode);
        const fs::path conf = dir_ / "helper.conf";
        write_text(conf,
                   "[pool]\npool_id = us-east-1_TestPool\nclient_id = x\nendpoint = https://127.0.0.1:1/\n"
                   "issuer = https://127.0.0.1:1/us-east-1_TestPool\n\n[login]\nmethods = email_otp\n\n"
                   "[binding]\nmapping_file = " +
                       (dir_ / "identities").string() +
                       "\n\n[limits]\nstate_file = " + (dir_ / "limits").string() + "\n");
        return conf;
    }

    [[nodiscard]] ChildResult run(const std::vector<std::string>& argv) const {
        ChildSpec spec;
        spec.argv = argv;
        spec.env = Env{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"} + sanitizer_env();
        spec.work = dir_;
        return run_child(spec);
    }
    // The helper's command line under the harness's account database (alice, bob, carol, ... exist).
    [[nodiscard]] ChildResult helper(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{PP_HELPER_BIN};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(with_local_accounts(argv, dir_));
    }
    [[nodiscard]] ChildResult check_config(const fs::path& conf) const {
        return helper({"check-config", "--config", conf.string()});
    }

    fs::path dir_;
};

TEST_F(AdminCommands, BothProgramsPrintThePackageVersion) {
    const auto h = run({PP_HELPER_BIN, "--version"});
    EXPECT_EQ(h.exit_code, 0) << h.describe();
    EXPECT_EQ(h.out, "pam-passwordless-helper " PP_VERSION "\n") << h.describe();
    const auto c = run({PP_CLI_BIN, "--version"});
    EXPECT_EQ(c.exit_code, 0) << c.describe();
    EXPECT_EQ(c.out, "pam-passwordless " PP_VERSION "\n") << c.describe();
}

TEST_F(AdminCommands, EveryErrorLineStartsWithTheProgramsName) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--frobnicate"}, {"--config"}, {"check-config", "extra"}, {"--foreground"}}) {
        const auto r = helper(args);
        EXPECT_EQ(r.exit_code, 2) << r.describe();
        EXPECT_TRUE(every_line_starts_with(r.err, "pam-passwordless-helper: ")) << r.describe();
    }
    const auto bad = check_config(dir_ / "no-such.conf");
    EXPECT_EQ(bad.exit_code, 1) << bad.describe();
    EXPECT_TRUE(every_line_starts_with(bad.err, "pam-passwordless-helper: ")) << bad.describe();

    for (const auto& args :
         std::vector<std::vector<std::string>>{{}, {"frobnicate"}, {"list", "--name", "x"}}) {
        std::vector<std::string> argv{PP_CLI_BIN};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = run(argv);
        EXPECT_EQ(r.exit_code, 2) << r.describe();
        EXPECT_TRUE(every_line_starts_with(r.err, "pam-passwordless: ")) << r.describe();
    }
}

// The man page says spaces (and dashes, dots, parentheses) in a phone number are ignored: they are.
TEST_F(AdminCommands, PhoneNumbersWithSpacesAreAccepted) {
    const auto r = check_config(configure("alice +1 555 555 0123\nbob +44 (20) 7946-0958\n"));
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_TRUE(contains(r.out, "identity map: 2 local account(s)")) << r.describe();
    EXPECT_TRUE(contains(r.out, "configuration OK")) << r.describe();
}

// A line for an account that does not exist here, and a map every local user can read: warned about by
// check-config and in the helper's log, once per load.
TEST_F(AdminCommands, MapProblemsAreWarnedAboutInCheckConfigAndOncePerLoadInTheLog) {
    const fs::path conf = configure("alice alice@example.com\nghost ghost@example.com\n", fs::perms(0644));
    const auto r = check_config(conf);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    const std::string ghost = "'ghost' is not a local account here; its line is never used.";
    const std::string readable = "is readable by every local user";
    EXPECT_EQ(count_of(r.out, ghost), 1u) << r.describe();
    EXPECT_EQ(count_of(r.out, readable), 1u) << r.describe();
    EXPECT_FALSE(contains(r.out, "'alice' is not")) << r.describe();

    const Helper running(dir_, conf);
    ASSERT_TRUE(wait_until([&] { return contains(running.log(), "configuration loaded"); })) << running.log();
    EXPECT_EQ(count_of(running.log(), ghost), 1u) << running.log();
    EXPECT_EQ(count_of(running.log(), readable), 1u) << running.log();
    running.reload();
    ASSERT_TRUE(wait_until([&] { return contains(running.log(), "configuration reloaded"); }))
        << running.log();
    EXPECT_EQ(count_of(running.log(), ghost), 2u) << running.log();
    EXPECT_EQ(count_of(running.log(), readable), 2u) << running.log();

    // Fixed: no warning is left.
    fs::permissions(dir_ / "identities", fs::perms(0600));
    const auto fixed = check_config(configure("alice alice@example.com\n"));
    EXPECT_EQ(fixed.exit_code, 0) << fixed.describe();
    EXPECT_FALSE(contains(fixed.out, "warning: " + (dir_ / "identities").string())) << fixed.describe();
}

// Writable by group or others: refused, as every file the helper trusts (fail closed), by check-config and
// by the helper, which then refuses every login as misconfigured.
TEST_F(AdminCommands, AMapOthersCanWriteIsRefused) {
    for (const auto mode : {fs::perms(0664), fs::perms(0646)}) {
        const auto r = check_config(configure("alice alice@example.com\n", mode));
        EXPECT_EQ(r.exit_code, 1) << r.describe();
        EXPECT_TRUE(contains(
            r.err, "mapping_file: " + (dir_ / "identities").string() + ": writable by group or others"))
            << r.describe();
        EXPECT_FALSE(contains(r.out, "configuration OK")) << r.describe();
    }
}

TEST_F(AdminCommands, AMissingMapNamesTheMappingFileKey) {
    const fs::path conf = configure("");
    const auto r = check_config(conf);
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_TRUE(contains(r.err, "pam-passwordless-helper: error: [binding] mapping_file: " +
                                    (dir_ / "identities").string() + ": No such file or directory"))
        << r.describe();
}

// Review 31c: since reviews 31a/31b, sudo -i (PAM sudo-i), su - (su-l), pkexec (polkit-1) and doas follow
// [service sudo] / [service su] "unless they have a section of their own" (config/methods.cpp,
// service_family). An admin who makes sudo key-only and gives polkit-1 a section of its own (polkit's
// prompts also serve ordinary users' own actions, so a lenient [service polkit-1] is a natural thing to
// write), or a [service sudo-i] copied from an older file, has opened a second way to the same root with
// an email code. check-config says nothing: it lists the two sections apart and no longer says "also for
// polkit-1". The secure behaviour asserted: check-config warns when a second PAM name of a program (or
// another way a sudo member becomes root) has a section of its own that lets in with a method weaker than
// every method the section it would otherwise follow accepts.
TEST_F(AdminCommands, ReviewASecondNameOfSudoWeakerThanSudoIsWarnedAbout) {
    for (const std::string other : {"sudo-i", "polkit-1", "doas"}) {
        const fs::path conf = dir_ / ("helper-" + other + ".conf");
        write_text(conf,
                   "[pool]\npool_id = us-east-1_TestPool\nclient_id = x\nendpoint = https://127.0.0.1:1/\n"
                   "issuer = https://127.0.0.1:1/us-east-1_TestPool\n\n[login]\nmethods = email_otp\n\n"
                   "[service sudo]\nmethods = security_key\n\n[service " +
                       other + "]\nmethods = email_otp\n\n[security_key]\nstore_dir = " +
                       (dir_ / "credentials").string() +
                       "\n\n[binding]\nmapping_file = " + (dir_ / "identities").string() +
                       "\n\n[limits]\nstate_file = " + (dir_ / "limits").string() + "\n");
        write_text(dir_ / "identities", "alice alice@example.com\n", fs::perms(0600));
        const auto r = check_config(conf);
        ASSERT_EQ(r.exit_code, 0) << r.describe();
        std::istringstream in(r.out);
        std::string line;
        bool warned = false;
        while (std::getline(in, line))
            warned = warned || (line.starts_with("warning: ") && contains(line, other) &&
                                contains(line, "sudo") && contains(line, "email_otp"));
        EXPECT_TRUE(warned) << "check-config is silent while [service " << other
                            << "] lets an email code through a way to root that [service sudo] holds to a "
                               "security key\n"
                            << r.out;
    }
}

}  // namespace
}  // namespace pp::test
