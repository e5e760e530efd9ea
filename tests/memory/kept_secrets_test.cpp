// Secrets do not outlive their login in the helper: after code logins (right and wrong codes) no code,
// Session or token the user pool issued is anywhere in the live helper's memory, and the helper can be
// neither read by a root process without CAP_SYS_PTRACE nor made to leave a core file.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <security/pam_appl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <cerrno>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "login_harness.hpp"
#include "process_memory.hpp"

namespace pp::test {
namespace {

constexpr const char* kIdentities =
    "alice alice@example.com\n"
    "alice +15555550123\n"
    "bob   bob@example.com\n";

// Wrong codes a person typed: secrets too (a typo of the right one is close to it). Distinct from anything
// the pool sends, which is random.
const std::vector<std::string> kTypedWrongCodes = {"73519246", "84620357", "95731468"};

class KeptSecrets : public StandInTest {
  protected:
    void start_helper(const std::string& methods) {
        helper_ = std::make_unique<Helper>(
            dir_, *standin_,
            HelperFiles{"\n[login]\nmethods = " + methods +
                            "\nmax_tries = 3\nrequest_timeout = 2\nlogin_timeout = 60\n\n[binding]\n",
                        kIdentities});
    }

    std::vector<std::string> codes_sent() const {
        std::vector<std::string> codes;
        std::istringstream in(read_text(standin_->dir() / "outbox.jsonl"));
        std::string line;
        const std::string key = "\"code\": \"";
        while (std::getline(in, line)) {
            const auto at = line.find(key);
            if (at != std::string::npos)
                codes.push_back(
                    line.substr(at + key.size(), line.find('"', at + key.size()) - at - key.size()));
        }
        return codes;
    }

    int helper_threads() const {
        std::ifstream status("/proc/" + std::to_string(helper_->pid()) + "/status");
        std::string line;
        while (std::getline(status, line))
            if (line.starts_with("Threads:")) return std::stoi(line.substr(8));
        return -1;
    }

    std::unique_ptr<Helper> helper_;
};

TEST_F(KeptSecrets, NoCodeSessionOrTokenOutlivesItsLogin) {
    start_helper("email_otp sms_otp");
    const int idle_threads = helper_threads();
    ASSERT_GT(idle_threads, 0);

    // 1. An email code login, 2. a text message code login, both after one wrong code.
    for (const std::string choice : {"1", "2"}) {
        int asked = 0;
        const auto run =
            run_pam(service_, "alice", [&](int, const std::string& prompt) -> std::optional<std::string> {
                if (prompt.starts_with("Choose how to sign in:")) return choice;
                if (++asked == 1) return kTypedWrongCodes[0];
                return standin_->latest_code(choice == "1" ? "alice@example.com" : "+15555550123")
                    .value_or("none");
            });
        ASSERT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    }
    // 3. A login that fails: only wrong codes.
    std::size_t typed = 0;
    const auto failed = run_pam(service_, "bob", [&](int, const std::string&) -> std::optional<std::string> {
        return kTypedWrongCodes[typed++ % kTypedWrongCodes.size()];
    });
    ASSERT_EQ(failed.code, PAM_MAXTRIES) << failed.all_text() << helper_->log();

    // The module has its answer before the login thread has ended; wait for the helper to be idle again.
    ASSERT_TRUE(wait_until([&] { return helper_threads() == idle_threads; })) << helper_threads();

    std::vector<Needle> needles;
    const auto codes = codes_sent();
    ASSERT_EQ(codes.size(), 3u);
    for (std::size_t i = 0; i < codes.size(); ++i)
        needles.push_back({"code sent " + std::to_string(i), codes[i]});
    for (std::size_t i = 0; i < kTypedWrongCodes.size(); ++i)
        needles.push_back({"wrong code typed " + std::to_string(i), kTypedWrongCodes[i]});
    const auto issued = standin_->issued_secrets();
    // At least one Session per login (a wrong code keeps its Session) and two sets of three tokens.
    ASSERT_GE(issued.size(), 3u + 2u * 3u);
    for (std::size_t i = 0; i < issued.size(); ++i) {
        for (auto& n : needles_for("issued secret " + std::to_string(i), issued[i])) needles.push_back(n);
    }

    const auto hits = find_in_memory(helper_->pid(), needles);
    std::set<std::string> found;
    std::string where;
    for (const auto& h : hits) {
        found.insert(h.needle_name);
        where += h.needle_name + " at 0x" + (std::ostringstream() << std::hex << h.address).str() + " in " +
                 h.mapping + "\n";
    }
    EXPECT_TRUE(hits.empty()) << found.size() << " secret(s) still in the helper's memory:\n" << where;
}

// What a process running as root but without CAP_SYS_PTRACE may read of the helper: only a dumpable process
// lets another of the same uid open its /proc/PID/environ (ptrace access mode "read").
int open_environ_without_ptrace_capability(pid_t pid) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) != 0) return 100;
    data[CAP_TO_INDEX(CAP_SYS_PTRACE)].effective &= ~CAP_TO_MASK(CAP_SYS_PTRACE);
    data[CAP_TO_INDEX(CAP_SYS_PTRACE)].permitted &= ~CAP_TO_MASK(CAP_SYS_PTRACE);
    if (::syscall(SYS_capset, &header, data) != 0) return 101;
    const int fd = ::open(("/proc/" + std::to_string(pid) + "/environ").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) return 0;
    return errno == EPERM || errno == EACCES ? 1 : 102;
}

TEST_F(KeptSecrets, HelperIsNotDumpable) {
    start_helper("email_otp");
    const pid_t pid = helper_->pid();
    // The control: this test process itself is dumpable, and a root child without the capability may read it.
    const pid_t self = ::getpid();
    const pid_t probe_self = ::fork();
    if (probe_self == 0) ::_exit(open_environ_without_ptrace_capability(self));
    int status = 0;
    ASSERT_EQ(::waitpid(probe_self, &status, 0), probe_self);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0) << "the probe cannot read even a dumpable process";

    const pid_t probe = ::fork();
    if (probe == 0) ::_exit(open_environ_without_ptrace_capability(pid));
    ASSERT_EQ(::waitpid(probe, &status, 0), probe);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1) << "the helper's /proc/PID/environ is readable: it is dumpable";
}

TEST_F(KeptSecrets, AnAbortedHelperLeavesNoCore) {
    // core_pattern stays as the machine has it; this test runs only where it names a file in the crashing
    // process's working directory (Debian's default "core"), which is then this test's directory.
    const std::string pattern = read_text("/proc/sys/kernel/core_pattern");
    if (pattern.empty() || pattern[0] == '|' || pattern[0] == '/')
        GTEST_SKIP() << "core_pattern is '" << pattern << "': cores do not land in the working directory";
    ASSERT_EQ(::chdir(dir_.c_str()), 0);
    // Lift the size limit the helper inherits, so only the helper's own set-up can keep a core from being
    // written.
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    ASSERT_EQ(::setrlimit(RLIMIT_CORE, &unlimited), 0);
    start_helper("email_otp");
    const pid_t pid = helper_->pid();
    ::kill(pid, SIGABRT);
    siginfo_t info{};
    // WNOWAIT: the harness still reaps it.
    ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
    EXPECT_EQ(info.si_status, SIGABRT);
    EXPECT_EQ(info.si_code, CLD_KILLED) << "the kernel wrote a core of the helper (CLD_DUMPED)";
    std::vector<fs::path> cores;
    for (const auto& entry : fs::directory_iterator(dir_))
        if (entry.path().filename().string().starts_with("core")) cores.push_back(entry.path());
    EXPECT_TRUE(cores.empty()) << cores.front();
    // A core holds the helper's memory: it does not stay in the build tree.
    for (const auto& core : cores) fs::remove(core);
}

}  // namespace
}  // namespace pp::test
