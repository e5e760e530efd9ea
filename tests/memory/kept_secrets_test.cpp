// Secrets do not outlive their login in the helper nor in its network worker: after code logins (right and
// wrong codes) no code, Session or token the user pool issued is anywhere in the live helper's memory or the
// worker's, and an aborted helper leaves no core file, even with its core size limit lifted from outside (it
// is not dumpable).
#include <gtest/gtest.h>
#include <security/pam_appl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <cerrno>
#include <filesystem>
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

// The network worker the helper started (pool_worker/main.cpp), its one child; -1 if none.
pid_t worker_of(pid_t helper) {
    const auto children = children_of(helper);
    return children.size() == 1 ? children.front() : -1;
}

// The worker's threads still serving a request (named so by pool_worker/main.cpp).
int requests_of(pid_t pid) {
    std::error_code ec;
    int busy = 0;
    for (const auto& task :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        if (std::getline(comm, name) && name == "pp-request") ++busy;
    }
    return ec ? -1 : busy;
}

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

    std::unique_ptr<Helper> helper_;
};

TEST_F(KeptSecrets, NoCodeSessionOrTokenOutlivesItsLogin) {
    start_helper("email_otp sms_otp");

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
    const auto failed = run_pam(
        service_, "bob", accepting_code_offers([&](int, const std::string&) -> std::optional<std::string> {
            return kTypedWrongCodes[typed++ % kTypedWrongCodes.size()];
        }));
    ASSERT_EQ(failed.code, PAM_MAXTRIES) << failed.all_text() << helper_->log();

    // The module has its answer before the login thread has ended (and wiped its stack); wait for the helper
    // to be idle again.
    ASSERT_TRUE(wait_until([&] { return helper_login_threads(helper_->pid()) == 0; }))
        << helper_login_threads(helper_->pid());

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

    // The worker carried every code, Session and token to and from the pool. Its requests are over when no
    // thread serves one (each wipes its stack after its request).
    const pid_t worker = worker_of(helper_->pid());
    ASSERT_GT(worker, 0) << "no network worker beside the helper";
    ASSERT_TRUE(wait_until([&] { return requests_of(worker) == 0; })) << requests_of(worker);
    const auto worker_hits = find_in_memory(worker, needles);
    std::set<std::string> worker_found;
    std::string worker_where;
    for (const auto& h : worker_hits) {
        worker_found.insert(h.needle_name);
        worker_where += h.needle_name + " at 0x" + (std::ostringstream() << std::hex << h.address).str() +
                        " in " + h.mapping + "\n";
    }
    EXPECT_TRUE(worker_hits.empty()) << worker_found.size() << " secret(s) still in the worker's memory:\n"
                                     << worker_where;
}

// Aborts the helper and says whether the kernel wrote a core of it (it reports that to the parent), and
// which core files appeared in `dir`; those are removed, as they hold the helper's memory.
struct Abort {
    bool dumped = false;
    std::vector<fs::path> cores;
};

Abort abort_and_look(pid_t pid, const fs::path& dir) {
    Abort result;
    ::kill(pid, SIGABRT);
    siginfo_t info{};
    // WNOWAIT: the harness still reaps it.
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0)
        throw std::runtime_error("waitid");
    if (info.si_status != SIGABRT) throw std::runtime_error("the helper did not end by SIGABRT");
    result.dumped = info.si_code == CLD_DUMPED;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().starts_with("core")) result.cores.push_back(entry.path());
    for (const auto& core : result.cores) fs::remove(core);
    return result;
}

// core_pattern stays as the machine has it; these tests run only where it names a file in the crashing
// process's working directory (Debian's default "core"), which they make the test's directory.
bool cores_land_in_working_directory(std::string& pattern) {
    pattern = read_text("/proc/sys/kernel/core_pattern");
    return !pattern.empty() && pattern[0] != '|' && pattern[0] != '/';
}

TEST_F(KeptSecrets, HelperIsNotDumpable) {
    std::string pattern;
    if (!cores_land_in_working_directory(pattern))
        GTEST_SKIP() << "core_pattern is '" << pattern << "': cores do not land in the working directory";
    ASSERT_EQ(::chdir(dir_.c_str()), 0);
    start_helper("email_otp");
    const pid_t pid = helper_->pid();
    // Whatever size limit the helper set for itself, lift it from outside (as root may): then only the
    // helper being non-dumpable keeps the kernel from writing its core.
    rlimit hard{};
    ASSERT_EQ(::prlimit(pid, RLIMIT_CORE, nullptr, &hard), 0);
    hard.rlim_cur = hard.rlim_max;
    ASSERT_GT(hard.rlim_max, 0u) << "the test cannot lift the helper's limit";
    ASSERT_EQ(::prlimit(pid, RLIMIT_CORE, &hard, nullptr), 0);
    const Abort aborted = abort_and_look(pid, dir_);
    EXPECT_FALSE(aborted.dumped) << "the kernel wrote a core of the helper: it is dumpable";
    EXPECT_TRUE(aborted.cores.empty()) << aborted.cores.front();
}

TEST_F(KeptSecrets, AnAbortedHelperLeavesNoCore) {
    std::string pattern;
    if (!cores_land_in_working_directory(pattern))
        GTEST_SKIP() << "core_pattern is '" << pattern << "': cores do not land in the working directory";
    ASSERT_EQ(::chdir(dir_.c_str()), 0);
    // The helper inherits no size limit from the test.
    rlimit unlimited{};
    ASSERT_EQ(::getrlimit(RLIMIT_CORE, &unlimited), 0);
    unlimited.rlim_cur = unlimited.rlim_max;
    ASSERT_EQ(::setrlimit(RLIMIT_CORE, &unlimited), 0);
    start_helper("email_otp");
    const Abort aborted = abort_and_look(helper_->pid(), dir_);
    EXPECT_FALSE(aborted.dumped) << "the kernel wrote a core of the helper";
    EXPECT_TRUE(aborted.cores.empty()) << aborted.cores.front();
}

}  // namespace
}  // namespace pp::test
