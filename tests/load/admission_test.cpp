// Admission under attack (issue #10, finding 1 and the refused-connection half of finding 9), through the
// real module under the real libpam and the real helper, against the local user pool:
//  - 1000 remote logins from 20 addresses parked at their first prompt, by a helper started with a soft
//    descriptor limit of 1024, while a local sudo login with a code, a local sudo login with a security key
//    and a remote login from another network all succeed; then every parked login is released and reaped;
//  - a refusal reaches the person as its text, with PAM_AUTHINFO_UNAVAIL;
//  - a local non-root user flooding the socket with refused requests gets summary lines, not a line each,
//    while a real login's audit line is still written;
//  - a helper that cannot start a thread (capped by a pids cgroup) refuses the login that needed one with
//    its text, and goes on once it can; a network worker that cannot ends the login as when the pool cannot
//    be reached, and goes on too.
//
// Each parked login is a process of its own, as sshd gives each connection: libpam does not promise that
// handles in several threads of one process are independent, and processes are what the helper really sees
// (one SO_PEERCRED peer each). As in load.two_hundred_logins, the test moves into a private mount namespace
// with its own /etc/pam.d instead of pam_wrapper, which cannot set itself up in a thousand processes.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "channel.hpp"
#include "child_process.hpp"
#include "load_rig.hpp"
#include "login_harness.hpp"
#include "messages.hpp"
#include "wire.hpp"

namespace pp::test {
namespace {

using load::LoadUser;
using load::PoolStandIn;

constexpr uid_t kNobody = 65534;
constexpr const char* kRefusalText = "Too many sign-ins at once";

// A connection to the helper's socket at `path`, as any local user may open one; -1 when it fails.
int connected_to(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof a.sun_path - 1);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
    return fd;
}

// Waits for the helper to end the connection (its Result, then its close), and closes it.
void drain(int fd) {
    char buf[4096];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 10000) == 1 && ::recv(fd, buf, sizeof buf, 0) > 0) {
    }
    ::close(fd);
}

// One management request on a connection of its own, the helper's answer awaited; false when it could not
// connect.
bool sent_and_drained(const std::string& path, const protocol::Manage& m) {
    const int fd = connected_to(path);
    if (fd < 0) return false;
    wire::send_message(fd, m.encode());
    drain(fd);
    return true;
}

// The lines of `log` about uid 65534 (audit lines, caller_uid; refusals and their summaries), and the
// requests they account for: one a line, a summary's count for a summary.
struct NobodyLines {
    std::size_t lines = 0;
    long counted = 0;
};
NobodyLines about_nobody(const std::string& log) {
    NobodyLines n;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        if (line.find("uid 65534") == std::string::npos && line.find("caller_uid=65534") == std::string::npos)
            continue;
        ++n.lines;
        // "refused N more requests from uid 65534 ..." or "answered N more ...": N requests; else one.
        const auto summary = line.find(" more requests from uid 65534");
        const auto count = line.rfind(' ', summary == std::string::npos ? 0 : summary - 1);
        if (summary != std::string::npos && count != std::string::npos)
            n.counted += std::atol(line.c_str() + count + 1);
        else
            n.counted += 1;
    }
    return n;
}

// One directory per test, its services in a private /etc/pam.d, the stand-in with two users and the
// helper's files. The namespace is entered once per process (CTest runs each test in a process of its own).
class Admission : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root: the helper trusts only root-owned files and sockets";
        dir_ = fs::path(PP_LOAD_RUN_DIR) / short_name("adm", test_key());
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "pam.d");
        fs::permissions(dir_, fs::perms(0755));
        const std::string module =
            std::string("auth required " PP_PAM_WRAPPER_MODULES "/pam_set_items.so\n") +
            "auth required " PP_MODULE_PATH " socket=" + socket() + " timeout=120\n" +
            "account required pam_permit.so\n";
        for (const char* service : {"pp-sshd", "pp-sudo", "pp-key", "pp-self", "pp-chsh", "pp-polkit"})
            write_text(dir_ / "pam.d" / service, module);
        write_text(dir_ / "pam.d" / "other", "auth required pam_deny.so\naccount required pam_deny.so\n");
        load::private_pam_dir(dir_ / "pam.d");
        // Loaded here once, so that each forked login finds the module and its libraries already mapped and
        // relocated instead of loading them again (most of a parked login's cost on 2 cores).
        for (const char* lib : {PP_MODULE_PATH, PP_PAM_WRAPPER_MODULES "/pam_set_items.so"})
            ASSERT_NE(::dlopen(lib, RTLD_NOW | RTLD_NODELETE), nullptr) << ::dlerror();
        users_ = load::load_users(3);
        write_text(dir_ / "pool.json", load::pool_json(users_));
        write_text(dir_ / "identities", load::identity_map(users_));
        write_text(dir_ / "client-secret", "s3cr3t-for-the-local-stand-in-only\n", fs::perms(0600));
        standin_.emplace(dir_ / "standin", dir_ / "pool.json");
    }

    void TearDown() override {
        if (helper_) helper_->stop();
    }

    [[nodiscard]] std::string socket() const { return (dir_ / "helper.sock").string(); }
    [[nodiscard]] std::string log() const { return read_text(dir_ / "helper.log"); }

    void start_helper(const std::string& login_extra) {
        write_text(
            dir_ / "helper.conf",
            standin_->pool_section(dir_ / "client-secret") +
                "\n[login]\nmethods = email_otp\nremote_methods = email_otp\nmax_tries = 3\n"
                "request_timeout = 30\nlogin_timeout = 300\n" +
                login_extra + "\n[binding]\nmapping_file = " + (dir_ / "identities").string() +
                "\n\n[service pp-key]\nmethods = security_key\n\n[security_key]\nrp_id = "
                "pam://pam-passwordless-test\nstore_dir = " +
                (dir_ / "credentials").string() +
                "\ntouch_timeout = 2\n\n[limits]\nsends_per_identifier = 100\nsends_per_rhost = 100000\n"
                "failures_before_backoff = 100\nstate_file = " +
                (dir_ / "limits").string() + "\n");
        // The load users are local accounts of the helper's (nss_wrapper): codes go only to local accounts.
        std::vector<std::string> accounts;
        for (const auto& u : users_) accounts.push_back(u.name);
        helper_.emplace(with_local_accounts({PP_HELPER_BIN, "--foreground", "--socket", socket(), "--config",
                                             (dir_ / "helper.conf").string()},
                                            dir_, accounts),
                        dir_ / "helper.log");
        ASSERT_TRUE(wait_until([&] { return fs::exists(socket()); })) << log();
    }

    // After a flood: root's sudo (users_[0]) signs in, then the helper stops, so that its log is whole; the
    // whole minutes since `since`, for the summaries' bound.
    long sudo_then_stop(std::chrono::steady_clock::time_point since) {
        const PamRun real = code_login("pp-sudo", 0);
        EXPECT_EQ(real.code, PAM_SUCCESS) << real.all_text();
        helper_->stop();
        helper_.reset();
        return std::chrono::duration_cast<std::chrono::minutes>(std::chrono::steady_clock::now() - since)
            .count();
    }

    // A code login of users_[i] through `service`, in this process; `rhost` set as PAM_RHOST when not empty.
    PamRun code_login(const std::string& service, int i, const std::string& rhost = "") {
        const LoadUser& u = users_.at(static_cast<std::size_t>(i));
        std::map<std::string, std::string> items;
        if (!rhost.empty()) items["PAM_RHOST"] = rhost;
        return run_pam(
            service, u.name,
            accepting_code_offers([&](int, const std::string& prompt) -> std::optional<std::string> {
                if (prompt.find("Code sent to") == std::string::npos) return std::nullopt;
                return load::latest_code(standin_->outbox(), u.email).value_or("no-code");
            }),
            items);
    }

    // As code_login, from a program that runs it for `ruser` (PAM_RUSER), as sudo does.
    PamRun code_login_as(const std::string& service, int i, const std::string& ruser) {
        const LoadUser& u = users_.at(static_cast<std::size_t>(i));
        return run_pam(
            service, u.name,
            accepting_code_offers([&](int, const std::string& prompt) -> std::optional<std::string> {
                if (prompt.find("Code sent to") == std::string::npos) return std::nullopt;
                return load::latest_code(standin_->outbox(), u.email).value_or("no-code");
            }),
            {{"PAM_RUSER", ruser}});
    }

    fs::path dir_;
    std::vector<LoadUser> users_;
    std::optional<PoolStandIn> standin_;
    std::optional<Process> helper_;
};

// Logins parked at their first prompt, each in a process of its own, until release().
class ParkedLogins {
  public:
    ParkedLogins() {
        if (::pipe2(parked_, O_CLOEXEC) != 0 || ::pipe2(release_, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
    }
    ~ParkedLogins() {
        release();
        for (int fd : {parked_[0], parked_[1], release_[0]})
            if (fd >= 0) ::close(fd);
    }
    ParkedLogins(const ParkedLogins&) = delete;
    ParkedLogins& operator=(const ParkedLogins&) = delete;

    // Starts a login of `user` (an unknown name walks the same first prompt as a real one) from `rhost` as
    // `uid`. The child writes 'p' once it sits at a prompt, then waits for release; a login that ends before
    // any prompt writes 'r' and its text.
    // `ruser`, when not empty, is set as PAM_RUSER, as su and sudo set it to the user who runs them.
    void start(const std::string& service, const std::string& user, const std::string& rhost, uid_t uid = 0,
               const std::string& ruser = "") {
        std::fflush(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error("fork failed");
        if (pid == 0) {
            ::close(release_[1]);
            if (uid != 0) ::_exit(run_as_uid(uid, [&] { return login(service, user, rhost, ruser); }));
            ::_exit(login(service, user, rhost, ruser));
        }
        children_.push_back(pid);
    }

    // As start, from a setuid-root program run by `real_uid`: real uid `real_uid`, effective uid 0 (the
    // helper sees a root caller).
    void start_setuid(const std::string& service, const std::string& user, uid_t real_uid,
                      const std::string& ruser) {
        std::fflush(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error("fork failed");
        if (pid == 0) {
            ::close(release_[1]);
            if (::setresuid(real_uid, 0, 0) != 0) ::_exit(100);
            ::_exit(login(service, user, "", ruser));
        }
        children_.push_back(pid);
    }

  private:
    int login(const std::string& service, const std::string& user, const std::string& rhost,
              const std::string& ruser) {
        bool prompted = false;
        std::map<std::string, std::string> items;
        if (!rhost.empty()) items["PAM_RHOST"] = rhost;
        if (!ruser.empty()) items["PAM_RUSER"] = ruser;
        const auto run = run_pam(
            service, user,
            [&](int, const std::string&) -> std::optional<std::string> {
                prompted = true;
                (void)!::write(parked_[1], "p", 1);
                char c;
                while (::read(release_[0], &c, 1) < 0 && errno == EINTR) {
                }
                return std::nullopt;
            },
            items);
        if (!prompted) (void)!::write(parked_[1], "r", 1);
        return run.code;
    }

  public:
    // Waits until every login started has written its byte; returns how many are parked at a prompt.
    int wait_parked(std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (seen_ < children_.size() && std::chrono::steady_clock::now() < deadline) {
            pollfd p{parked_[0], POLLIN, 0};
            if (::poll(&p, 1, 1000) <= 0) continue;
            char buf[256];
            const ssize_t n = ::read(parked_[0], buf, sizeof buf);
            for (ssize_t k = 0; k < n; ++k) {
                ++seen_;
                parked_count_ += buf[k] == 'p';
            }
        }
        return parked_count_;
    }

    // Ends every parked login (their conversations fail) and reaps every child; the number reaped.
    std::size_t release() {
        if (release_[1] >= 0) {
            ::close(release_[1]);
            release_[1] = -1;
        }
        std::size_t reaped = 0;
        for (pid_t pid : children_) {
            int status = 0;
            if (::waitpid(pid, &status, 0) == pid) ++reaped;
        }
        children_.clear();
        return reaped;
    }

  private:
    int parked_[2] = {-1, -1};
    int release_[2] = {-1, -1};
    std::vector<pid_t> children_;
    std::size_t seen_ = 0;
    int parked_count_ = 0;
};

// A pids cgroup of the test's own, into which a process is moved so that the threads it may start can be
// capped: past the cap, clone(2) fails with EAGAIN, as when a machine runs out of tasks. cgroup v1's pids
// hierarchy or v2's unified one (with the pids controller enabled below its root); why() says what is missing
// when neither can be used. The processes still in it are moved back to the hierarchy's root, and the cgroup
// removed, when it goes.
class PidsCgroup {
  public:
    explicit PidsCgroup(const std::string& name) {
        std::ifstream mounts("/proc/self/mountinfo");
        std::string v1, v2;
        for (std::string line; std::getline(mounts, line);) {
            // "... mount-point options - fstype source super-options"
            std::istringstream in(line);
            std::vector<std::string> f;
            for (std::string w; in >> w;) f.push_back(w);
            const auto dash = static_cast<std::size_t>(std::find(f.begin(), f.end(), "-") - f.begin());
            if (f.size() < 5 || dash + 3 >= f.size()) continue;
            const std::string& type = f[dash + 1];
            const std::string& super = f[dash + 3];
            if (type == "cgroup" && (super + ",").find("pids,") != std::string::npos) v1 = f[4];
            if (type == "cgroup2" && v2.empty()) v2 = f[4];
        }
        if (!v1.empty()) {
            root_ = v1;
        } else if (!v2.empty() &&
                   read_text(fs::path(v2) / "cgroup.controllers").find("pids") != std::string::npos) {
            root_ = v2;
            std::ofstream(fs::path(v2) / "cgroup.subtree_control") << "+pids";
        } else {
            why_ =
                "no pids cgroup controller here (cgroup v1 'pids' hierarchy, or cgroup v2 listing 'pids' in "
                "cgroup.controllers); the refusal when no thread can be started needs one to be tested";
            return;
        }
        dir_ = fs::path(root_) / name;
        std::error_code ec;
        fs::create_directory(dir_, ec);
        if (ec || !fs::exists(dir_ / "pids.max")) {
            why_ = "cannot make a pids cgroup at " + dir_.string() + (ec ? ": " + ec.message() : "");
            dir_.clear();
        }
    }
    ~PidsCgroup() {
        if (dir_.empty()) return;
        std::istringstream procs(read_text(dir_ / "cgroup.procs"));
        for (std::string pid; std::getline(procs, pid);)
            if (!pid.empty()) std::ofstream(fs::path(root_) / "cgroup.procs") << pid;
        std::error_code ec;
        fs::remove(dir_, ec);
    }
    PidsCgroup(const PidsCgroup&) = delete;
    PidsCgroup& operator=(const PidsCgroup&) = delete;

    [[nodiscard]] const std::string& why() const { return why_; }
    // Moves the process (all its threads) in.
    bool take(pid_t pid) { return put("cgroup.procs", std::to_string(pid)); }
    [[nodiscard]] long current() const { return std::atol(read_text(dir_ / "pids.current").c_str()); }
    // "max", or the most tasks the cgroup may hold.
    bool cap(const std::string& most) { return put("pids.max", most); }

  private:
    bool put(const char* file, const std::string& value) {
        std::ofstream out(dir_ / file);
        out << value;
        out.flush();
        return static_cast<bool>(out);
    }
    std::string root_, why_;
    fs::path dir_;
};

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

TEST_F(Admission, ThousandParkedRemoteLoginsLeaveRoomForLocalAndOtherNetworks) {
    // The helper starts with the usual soft limit of 1024 descriptors and must raise it itself to hold the
    // 1000 (each holds one; this process's pipes and the children's own are below any limit).
    rlimit nofile{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &nofile), 0);
    ASSERT_GE(nofile.rlim_max, 4096u) << "the hard descriptor limit is too low to run this test";
    nofile.rlim_cur = 1024;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &nofile), 0);
    ASSERT_NO_FATAL_FAILURE(start_helper(""));
    // A parked login holds one descriptor, so 1000 would just fit under 1024: what proves the raise is the
    // helper's own soft limit, which must now be the hard one.
    const std::string limits = read_text("/proc/" + std::to_string(helper_->pid()) + "/limits");
    const auto line = limits.substr(limits.find("Max open files"));
    EXPECT_EQ(std::strtoull(line.c_str() + 14, nullptr, 10), nofile.rlim_max)
        << line.substr(0, line.find('\n'));

    // A security key for users_[1], enrolled by root through the command line, on a virtual key.
    const Env key_env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C",
                         "VFIDO_STATE_DIR=" + (dir_ / "vfido").string(), preload_entry(PP_VIRTUAL_FIDO)};
    fs::create_directories(dir_ / "vfido");
    const auto enrolled = run_child(
        {.argv = {PP_CLI_BIN, "--socket", socket(), "enroll", "--user", users_[1].name, "--name", "desk key"},
         .env = key_env + sanitizer_env(),
         .input = "",
         .work = dir_,
         .uid = std::nullopt,
         .late_input = {}});
    ASSERT_EQ(enrolled.exit_code, 0) << enrolled.describe() << log();

    // 1000 unauthenticated SSH logins with made-up names from 20 addresses in 20 networks, parked.
    constexpr int kParked = 1000;
    ParkedLogins parked;
    const auto t_start = std::chrono::steady_clock::now();
    for (int i = 0; i < kParked; ++i)
        parked.start("pp-sshd", "ghost" + std::to_string(i), "198.51." + std::to_string(i % 20) + ".7");
    ASSERT_EQ(parked.wait_parked(std::chrono::seconds(90)), kParked)
        << "refusals: " << count_of(log(), "refused") << "\n"
        << log().substr(0, 3000);
    const auto t_parked = std::chrono::steady_clock::now();
    std::printf("helper with %d logins parked: %d threads, VmRSS %ld KiB\n", kParked,
                load::thread_count(helper_->pid()), load::vm_rss_kib(helper_->pid()));

    // Meanwhile: sudo at the console with a code, sudo with a security key, SSH from another network.
    const PamRun sudo_code = code_login("pp-sudo", 0);
    EXPECT_EQ(sudo_code.code, PAM_SUCCESS) << sudo_code.all_text();
    const auto key = run_child({.argv = {PP_LOGIN_DRIVER, "pp-key", users_[1].name},
                                .env = key_env + sanitizer_env(),
                                .input = "",
                                .work = dir_,
                                .uid = std::nullopt,
                                .late_input = {}});
    const PamRun sudo_key = parse_driver_output(key.out);
    EXPECT_EQ(sudo_key.code, PAM_SUCCESS) << key.describe();
    const PamRun other_network = code_login("pp-sshd", 2, "203.0.113.77");
    EXPECT_EQ(other_network.code, PAM_SUCCESS) << other_network.all_text();

    const auto t_release = std::chrono::steady_clock::now();
    EXPECT_EQ(parked.release(), static_cast<std::size_t>(kParked));
    const auto t_end = std::chrono::steady_clock::now();
    std::printf("parking %d logins: %.1f s; the three logins: %.1f s; release and reap: %.1f s\n", kParked,
                std::chrono::duration<double>(t_parked - t_start).count(),
                std::chrono::duration<double>(t_release - t_parked).count(),
                std::chrono::duration<double>(t_end - t_release).count());
    const std::string helper_log = log();
    for (const auto& [service, user] :
         {std::pair{"pp-sudo", users_[0].name}, std::pair{"pp-key", users_[1].name},
          std::pair{"pp-sshd", users_[2].name}}) {
        const std::string want = "user=\"" + user + "\" service=\"" + service + "\"";
        const auto at = helper_log.find(want);
        ASSERT_NE(at, std::string::npos) << "no audit line for " << want;
        EXPECT_NE(helper_log.substr(at, helper_log.find('\n', at) - at).find("outcome=success"),
                  std::string::npos)
            << helper_log.substr(at, 400);
    }
    // Every parked login ended with its audit line once released (the conversation failed), none refused.
    EXPECT_EQ(count_of(helper_log, "user=\"ghost"), static_cast<std::size_t>(kParked));
    EXPECT_EQ(count_of(helper_log, "refused"), 0u);
}

// A non-root caller at its cap (max_concurrent_per_caller) is refused: the person reads why, PAM hears
// PAM_AUTHINFO_UNAVAIL.
// An unprivileged user runs su (root, no remote host, PAM_RUSER naming them) for several accounts and leaves
// each at its first prompt, starting them again as they time out: those logins take at most a fair share of
// the local pool, and root's sudo and the console still get in. Before the share, 8 parked su logins filled
// a pool of 8 and every local login read "Too many sign-ins at once".
TEST_F(Admission, ParkedSuLoginsOfOneUserLeaveRoomForSudoAndTheConsole) {
    ASSERT_NO_FATAL_FAILURE(start_helper("max_concurrent_logins = 8\nmax_concurrent_per_caller = 16\n"));
    ParkedLogins parked;
    for (std::size_t i = 0; i < 12; ++i) parked.start("pp-sudo", users_.at(i % 3).name, "", 0, "mallory");
    const int at_prompt = parked.wait_parked(std::chrono::seconds(60));
    EXPECT_EQ(at_prompt, 4) << "fair_share(8, 1) of mallory's 12\n" << log();
    EXPECT_NE(log().find("uid 0 for mallory"), std::string::npos) << "the refusals' source\n" << log();

    // root's sudo: runs for root.
    const auto sudo = code_login_as("pp-sudo", 0, "root");
    EXPECT_EQ(sudo.code, PAM_SUCCESS) << sudo.all_text() << log();
    // The console: runs for nobody.
    const auto console = code_login("pp-sudo", 1);
    EXPECT_EQ(console.code, PAM_SUCCESS) << console.all_text() << log();
    EXPECT_EQ(parked.release(), 12u);
}

// Review (session 29): chsh and chfn (setuid root, Debian's passwd package) run pam_authenticate for the user
// who runs them, through common-auth, where the pam-auth-update profile puts the module; they call only
// pam_start, pam_authenticate and pam_acct_mgmt, so they set no PAM_RUSER (nor PAM_RHOST). To the helper
// such a login is a root caller's local login "that runs for nobody", bounded by the pool alone: one
// unprivileged, enrolled user who leaves chsh prompts open (and starts them again as they time out) fills the
// whole local pool, and root's sudo and the console read "Too many sign-ins at once".
TEST_F(Admission, ParkedChshLoginsOfOneUserLeaveRoomForSudoAndTheConsole) {
    ASSERT_NO_FATAL_FAILURE(start_helper("max_concurrent_logins = 8\nmax_concurrent_per_caller = 16\n"));
    ParkedLogins parked;
    // chsh run by users_[2] authenticates users_[2] itself: no remote host, no PAM_RUSER.
    for (std::size_t i = 0; i < 12; ++i) parked.start("pp-chsh", users_.at(2).name, "", 0, "");
    const int at_prompt = parked.wait_parked(std::chrono::seconds(60));
    EXPECT_LT(at_prompt, 8) << "one user's chsh logins hold the whole local pool of 8\n" << log();

    // root's sudo: runs for root.
    const auto sudo = code_login_as("pp-sudo", 0, "root");
    EXPECT_EQ(sudo.code, PAM_SUCCESS) << "root's sudo while chsh prompts are parked\n"
                                      << sudo.all_text() << log();
    // The console: runs for nobody.
    const auto console = code_login("pp-sudo", 1);
    EXPECT_EQ(console.code, PAM_SUCCESS) << "the console while chsh prompts are parked\n"
                                         << console.all_text();
    EXPECT_EQ(parked.release(), 12u);
}

// Review (session 29c): local logins are shared by "the person", read from PAM_RUSER, else PAM_USER. polkit's
// setuid helper (polkit-agent-helper-1, runnable by any local user with a pipe on stdin; /etc/pam.d/polkit-1
// includes common-auth) calls pam_start("polkit-1", USER) and sets PAM_RUSER to that same USER, the account
// to authenticate as, not the caller. So nobody, running it for root a dozen times and leaving the prompts
// open, fills the share of "user root", which root's own sudo (PAM_RUSER root) counts in: root's sudo reads
// "Too many sign-ins at once". The share should be keyed on who really runs the login (the caller's real uid
// or loginuid), not on text the calling program chose.
TEST_F(Admission, ParkedPolkitLoginsRunByNobodyLeaveRoomForRootsSudo) {
    ASSERT_NO_FATAL_FAILURE(start_helper("max_concurrent_logins = 8\nmax_concurrent_per_caller = 16\n"));
    ParkedLogins parked;
    for (std::size_t i = 0; i < 12; ++i) parked.start_setuid("pp-polkit", "root", kNobody, "root");
    const int at_prompt = parked.wait_parked(std::chrono::seconds(60));
    EXPECT_LT(at_prompt, 8) << "nobody's polkit logins hold the whole local pool of 8\n" << log();
    const auto sudo = code_login_as("pp-sudo", 0, "root");
    EXPECT_EQ(sudo.code, PAM_SUCCESS) << "root's sudo while nobody's polkit prompts are parked\n"
                                      << sudo.all_text() << log();
    EXPECT_EQ(parked.release(), 12u);
}

TEST_F(Admission, RefusalAtTheCallerCapReachesThePersonWithItsText) {
    ASSERT_NO_FATAL_FAILURE(start_helper("allow_unprivileged_self = yes\nmax_concurrent_per_caller = 1\n"));
    ParkedLogins parked;
    parked.start("pp-self", "nobody", "", kNobody);
    ASSERT_EQ(parked.wait_parked(std::chrono::seconds(30)), 1) << log();

    const int out = ::open((dir_ / "refused").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(out, 0);
    const int status = run_as_uid(kNobody, [&] {
        const PamRun r = run_pam("pp-self", "nobody", [](int, const std::string&) { return std::nullopt; });
        const std::string line = std::to_string(r.code) + "\n" + r.all_text();
        return ::write(out, line.data(), line.size()) == static_cast<ssize_t>(line.size()) ? 0 : 1;
    });
    ::close(out);
    ASSERT_EQ(status, 0);
    const std::string result = read_text(dir_ / "refused");
    EXPECT_EQ(std::atoi(result.c_str()), PAM_AUTHINFO_UNAVAIL) << result;
    EXPECT_NE(result.find(kRefusalText), std::string::npos) << result << "\n" << log();
    EXPECT_EQ(parked.release(), 1u);
}

// A network past its fair share of the remote pool is refused with the text; another network still gets in.
TEST_F(Admission, RemoteNetworkPastItsFairShareIsRefusedWithItsTextAndAnotherGetsIn) {
    // A pool of 4: one network alone may hold 4 / (1 + 1) = 2.
    ASSERT_NO_FATAL_FAILURE(start_helper("max_remote_logins = 4\n"));
    ParkedLogins parked;
    parked.start("pp-sshd", "ghost1", "192.0.2.10");
    parked.start("pp-sshd", "ghost2", "192.0.2.11");
    ASSERT_EQ(parked.wait_parked(std::chrono::seconds(30)), 2) << log();

    const PamRun third = run_pam("pp-sshd", "ghost3", [](int, const std::string&) { return std::nullopt; },
                                 {{"PAM_RHOST", "192.0.2.12"}});
    EXPECT_EQ(third.code, PAM_AUTHINFO_UNAVAIL) << third.all_text();
    EXPECT_NE(third.all_text().find("Too many sign-ins at once from your network"), std::string::npos)
        << third.all_text();
    const PamRun other = code_login("pp-sshd", 0, "::ffff:203.0.113.9");
    EXPECT_EQ(other.code, PAM_SUCCESS) << other.all_text() << log();
    EXPECT_EQ(parked.release(), 2u);
}

// A local user's flood of refused requests (here: asking to authenticate root, which only root may do) is
// logged as a first line and a count, not a line each; a real login's audit line is still written.
TEST_F(Admission, RefusedFloodIsSummarisedAndAuditLinesAreKept) {
    // The shipped refusal_log_interval (60 s): one summary line per interval the flood lasts.
    ASSERT_NO_FATAL_FAILURE(start_helper(""));
    constexpr int kFlood = 2000;
    const auto t0 = std::chrono::steady_clock::now();
    const int status = run_as_uid(kNobody, [&] {
        for (int i = 0; i < kFlood; ++i) {
            const PamRun r = run_pam("pp-self", "root", [](int, const std::string&) { return std::nullopt; });
            if (r.code != PAM_AUTH_ERR) return 1;
        }
        return 0;
    });
    ASSERT_EQ(status, 0) << log().substr(0, 2000);
    const long minutes = sudo_then_stop(t0);

    // Every line about the flood: the first refusal, then counts; together they account for all of it.
    const std::string helper_log = log();
    const auto [lines, counted] = about_nobody(helper_log);
    EXPECT_LE(lines, static_cast<std::size_t>(2 + minutes)) << helper_log.substr(0, 3000);
    EXPECT_EQ(counted, kFlood) << helper_log.substr(helper_log.size() > 3000 ? helper_log.size() - 3000 : 0);
    // The real login's audit line is there, once.
    const std::string audit = "user=\"" + users_[0].name + "\" service=\"pp-sudo\"";
    EXPECT_EQ(count_of(helper_log, audit), 1u);
    const auto at = helper_log.find(audit);
    ASSERT_NE(at, std::string::npos);
    EXPECT_NE(helper_log.substr(at, helper_log.find('\n', at) - at).find("outcome=success"),
              std::string::npos);
}

// Review (session 29): finding 9's flood, through the requests that end before any login. A connection that
// is closed before its first message, or whose first message is malformed or no message at all, is written
// as an audit line each (authpriv, "never summarised"; the unit turns off journald's rate limit for the
// helper), whoever the caller: any local user may connect to the socket. So one unprivileged user writes as
// many audit lines as connections it makes, thousands a second, and the journal rotates the genuine ones
// out. Refusals before any login work are to be logged once per caller and then counted.
TEST_F(Admission, RequestsThatEndBeforeAnyLoginAreSummarisedPerCaller) {
    ASSERT_NO_FATAL_FAILURE(start_helper(""));
    constexpr int kEach = 100;
    const std::string path = socket();
    const auto connected = [&path] { return connected_to(path); };
    const auto t0 = std::chrono::steady_clock::now();
    const int status = run_as_uid(kNobody, [&] {
        for (int i = 0; i < kEach; ++i) {
            // Connected, then closed with nothing sent.
            int fd = connected();
            if (fd < 0) return 1;
            ::shutdown(fd, SHUT_WR);
            drain(fd);
            // A Begin whose unknown_user is no known value.
            fd = connected();
            if (fd < 0) return 2;
            wire::Message begin =
                protocol::Begin{"root", "su", "", "pts/0", "nobody", std::nullopt, false}.encode();
            begin.add(wire::Tag::UnknownUser, std::string_view("\0\0\0\x07", 4));
            wire::send_message(fd, begin);
            drain(fd);
            // Bytes that are no message.
            fd = connected();
            if (fd < 0) return 3;
            if (::send(fd, "garbage", 7, MSG_NOSIGNAL) != 7) return 4;
            drain(fd);
        }
        return 0;
    });
    ASSERT_EQ(status, 0) << log().substr(0, 2000);
    const long minutes = sudo_then_stop(t0);

    const std::string helper_log = log();
    const std::size_t lines = about_nobody(helper_log).lines;
    EXPECT_LE(lines, static_cast<std::size_t>(2 + 2 * minutes))
        << 3 * kEach << " requests from nobody that never began a login\n"
        << helper_log.substr(0, 1500);
    // The real login's audit line is there, once.
    EXPECT_EQ(count_of(helper_log, "user=\"" + users_[0].name + "\" service=\"pp-sudo\""), 1u);
}

// Session 29: management requests a caller may not make (another account's keys or passkeys, an import,
// which is root's) each wrote an audit line, as fast as a local user could connect. Refusals of the caller
// are summarised per caller as the other refusals are; root's own sudo is audited in full meanwhile.
TEST_F(Admission, ManagementRequestsACallerMayNotMakeAreSummarisedPerCaller) {
    ASSERT_NO_FATAL_FAILURE(start_helper(""));
    constexpr int kEach = 100;
    const std::string path = socket();
    const auto t0 = std::chrono::steady_clock::now();
    const int status = run_as_uid(kNobody, [&] {
        using Op = protocol::Manage::Op;
        for (int i = 0; i < kEach; ++i)
            for (const Op op : {Op::List, Op::Remove, Op::PoolList, Op::Import}) {
                protocol::Manage m;
                m.op = op;
                m.user = "root";
                m.cred_id = "0123";
                m.rp_id = "pam://x";
                m.import_data = "root:x,y,es256,+presence\n";
                if (!sent_and_drained(path, m)) return 1;
            }
        return 0;
    });
    ASSERT_EQ(status, 0) << log().substr(0, 2000);
    const long minutes = sudo_then_stop(t0);
    const std::string helper_log = log();
    EXPECT_LE(about_nobody(helper_log).lines, static_cast<std::size_t>(2 + 2 * minutes))
        << 4 * kEach << " management requests nobody may not make\n"
        << helper_log.substr(0, 1500);
    EXPECT_NE(helper_log.find("may not manage"), std::string::npos)
        << "the refusals are named in the summary\n"
        << helper_log.substr(0, 1500);
    EXPECT_EQ(count_of(helper_log, "user=\"" + users_[0].name + "\" service=\"pp-sudo\""), 1u);
}

// Review (session 29c): only the refusals of "another account's keys" and "import" were made summarised. A
// management request a caller other than root may make still wrote a full audit line each, as fast as it
// could connect: enrol or a pool operation for a name that is no local account ("There is no local account",
// manage/management.cpp no_such_account), and listing one's own keys, which needs no proof. One local user so
// flooded authpriv again, with a user name of its choosing in every line.
TEST_F(Admission, ManagementRequestsOfAnUnprivilegedCallerDoNotFloodTheAuditLog) {
    ASSERT_NO_FATAL_FAILURE(start_helper(""));
    constexpr int kEach = 100;
    const std::string path = socket();
    const auto t0 = std::chrono::steady_clock::now();
    const int status = run_as_uid(kNobody, [&] {
        using Op = protocol::Manage::Op;
        for (int i = 0; i < kEach; ++i) {
            const std::pair<Op, std::string> asked[] = {{Op::Enroll, "nosuch" + std::to_string(i)},
                                                        {Op::PoolList, "nosuch" + std::to_string(i)},
                                                        {Op::List, "nobody"}};
            for (const auto& [op, user] : asked) {
                protocol::Manage m;
                m.op = op;
                m.user = user;
                if (!sent_and_drained(path, m)) return 1;
            }
        }
        return 0;
    });
    ASSERT_EQ(status, 0) << log().substr(0, 2000);
    const long minutes = sudo_then_stop(t0);
    const std::string helper_log = log();
    // A first line and a summary for the refusals, the same for the listings, each worded as what it was.
    const auto [lines, counted] = about_nobody(helper_log);
    EXPECT_LE(lines, static_cast<std::size_t>(4 + 4 * minutes))
        << 3 * kEach << " management requests from nobody\n"
        << helper_log.substr(0, 1500);
    EXPECT_NE(helper_log.find("answered a request from uid 65534: listed"), std::string::npos)
        << helper_log.substr(0, 1500);
    EXPECT_EQ(count_of(helper_log, "user=\"" + users_[0].name + "\" service=\"pp-sudo\""), 1u);
}

// The audit line of a login that su or sudo runs names who ran it (PAM_RUSER), bounded, with quotes and
// control characters replaced as in the other fields; a login without one has no ruser field.
TEST_F(Admission, TheAuditLineNamesTheRuserOfASuLogin) {
    ASSERT_NO_FATAL_FAILURE(start_helper(""));
    const PamRun su = code_login_as("pp-sudo", 0, "mallory");
    EXPECT_EQ(su.code, PAM_SUCCESS) << su.all_text() << log();
    // No program sets such a ruser: a quote that would end the field early, and 78 characters.
    const PamRun odd = code_login_as("pp-sudo", 1, "mal\"lory" + std::string(70, 'x'));
    EXPECT_NE(odd.code, PAM_SUCCESS) << odd.all_text();
    const PamRun console = code_login("pp-sudo", 2);
    EXPECT_EQ(console.code, PAM_SUCCESS) << console.all_text();
    helper_->stop();
    helper_.reset();

    const std::string helper_log = log();
    const auto line_of = [&helper_log](const std::string& user) {
        const auto at = helper_log.find("user=\"" + user + "\" service=\"pp-sudo\"");
        if (at == std::string::npos) return std::string("(no audit line for " + user + ")");
        return helper_log.substr(at, helper_log.find('\n', at) - at);
    };
    EXPECT_NE(line_of(users_[0].name).find(" ruser=\"mallory\" caller_uid=0 "), std::string::npos)
        << line_of(users_[0].name);
    EXPECT_NE(line_of(users_[0].name).find("outcome=success"), std::string::npos) << line_of(users_[0].name);
    EXPECT_NE(
        line_of(users_[1].name).find(" ruser=\"mal?lory" + std::string(56, 'x') + "...\" caller_uid=0 "),
        std::string::npos)
        << line_of(users_[1].name);
    EXPECT_EQ(line_of(users_[2].name).find("ruser="), std::string::npos) << line_of(users_[2].name);
}

// A connection to the helper's socket, as any local user can make one; -1 when it fails.
int connect_to(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof a.sun_path - 1);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    if (fd >= 0) ::close(fd);
    return -1;
}

// Reads until the helper ends the connection, then closes it.
void drain_and_close(int fd) {
    char buf[4096];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 10000) == 1 && ::recv(fd, buf, sizeof buf, 0) > 0) {
    }
    ::close(fd);
}

// Requests that never begin a login are summarised per caller, but a login that began is audited in full,
// whatever its reason, even the one a connection closed before its first message also has ("client
// connection:"): here a real login that succeeds and one whose client hangs up once it has begun, while
// nobody connects and hangs up as fast as it can.
TEST_F(Admission, LoginsThatBeganAreAuditedInFullDuringAFloodOfRequestsThatNeverBegan) {
    ASSERT_NO_FATAL_FAILURE(start_helper(""));
    constexpr int kFlood = 300;
    const std::string path = socket();
    const auto t0 = std::chrono::steady_clock::now();
    std::atomic<int> flood_status{-1};
    std::thread flood([&] {
        flood_status = run_as_uid(kNobody, [&] {
            for (int i = 0; i < kFlood; ++i) {
                const int fd = connect_to(path);
                if (fd < 0) return 1;
                ::shutdown(fd, SHUT_WR);
                drain_and_close(fd);
            }
            return 0;
        });
    });
    const PamRun real = code_login("pp-sudo", 0);
    // root's Begin, then a hang-up once the helper has started the login.
    bool started = false;
    if (const int fd = connect_to(path); fd >= 0) {
        wire::send_message(
            fd, protocol::Begin{users_[1].name, "pp-sudo", "", "pts/1", "", std::nullopt, false}.encode());
        started = wire::receive_message(fd, std::chrono::seconds(30)).type() == wire::Type::Started;
        ::close(fd);
    }
    flood.join();
    ASSERT_EQ(flood_status.load(), 0) << log().substr(0, 2000);
    EXPECT_EQ(real.code, PAM_SUCCESS) << real.all_text();
    EXPECT_TRUE(started) << log().substr(0, 2000);
    const std::string hung_up = "user=\"" + users_[1].name + "\" service=\"pp-sudo\"";
    ASSERT_TRUE(wait_until([&] { return log().find(hung_up) != std::string::npos; })) << log();
    helper_->stop();
    helper_.reset();
    const auto minutes =
        std::chrono::duration_cast<std::chrono::minutes>(std::chrono::steady_clock::now() - t0).count();

    const std::string helper_log = log();
    const auto line_of = [&helper_log](const std::string& what) {
        const auto at = helper_log.find(what);
        const auto start = helper_log.rfind('\n', at) + 1;
        return helper_log.substr(start, helper_log.find('\n', at) - start);
    };
    const std::string succeeded = "user=\"" + users_[0].name + "\" service=\"pp-sudo\"";
    EXPECT_EQ(count_of(helper_log, succeeded), 1u);
    EXPECT_NE(line_of(succeeded).find(" caller_uid=0 method=email_otp outcome=success reason=\"verified"),
              std::string::npos)
        << line_of(succeeded);
    EXPECT_EQ(count_of(helper_log, hung_up), 1u);
    EXPECT_NE(line_of(hung_up).find(" tty=\"pts/1\" caller_uid=0 "), std::string::npos) << line_of(hung_up);
    EXPECT_NE(line_of(hung_up).find(" reason=\"client connection: "), std::string::npos) << line_of(hung_up);
    EXPECT_NE(line_of(hung_up).find("login="), std::string::npos) << line_of(hung_up);

    // The flood: a first line and counts, which together account for every request.
    const auto [lines, counted] = about_nobody(helper_log);
    EXPECT_LE(lines, static_cast<std::size_t>(2 + minutes)) << helper_log.substr(0, 3000);
    EXPECT_EQ(counted, kFlood) << helper_log.substr(0, 3000);
}

// A helper that cannot start a thread (the machine out of tasks, or a cap on them) refuses the login that
// needed one, with its text, and goes on: the login threads already at work are untouched, and once threads
// can be started again the next login gets in. The helper is put in a pids cgroup capped at the tasks it
// holds, and remote logins are parked until every idle thread is taken.
TEST_F(Admission, NoThreadToStartRefusesTheLoginWithItsTextAndTheHelperGoesOn) {
    ASSERT_NO_FATAL_FAILURE(start_helper(""));
    // Once, so that the network worker (a process of its own) is running before the cap.
    const PamRun first = code_login("pp-sudo", 0);
    ASSERT_EQ(first.code, PAM_SUCCESS) << first.all_text() << log();

    PidsCgroup group(short_name("pp-pids", test_key()));
    ASSERT_TRUE(group.why().empty()) << group.why();
    ASSERT_TRUE(group.take(helper_->pid()));
    ASSERT_GT(group.current(), 0);
    ASSERT_TRUE(group.cap(std::to_string(group.current())));

    // Each parked login holds a thread; those idle are taken first, then a new one is needed and cannot be
    // had.
    ParkedLogins parked;
    int started = 0, held = 0;
    for (; started < 64; ++started) {
        parked.start("pp-sshd", "ghost" + std::to_string(started), "192.0.2.10");
        const int now = parked.wait_parked(std::chrono::seconds(30));
        if (now == held) break;  // this one ended before any prompt: refused
        held = now;
    }
    ASSERT_LT(started, 64) << "no login was refused with the helper's threads capped at " << group.current()
                           << "\n"
                           << log();
    EXPECT_GE(held, 1);
    EXPECT_NE(log().find("no thread available for another login"), std::string::npos) << log();

    // The person reads why, PAM hears PAM_AUTHINFO_UNAVAIL: a login from another network is refused alike.
    const PamRun refused = code_login("pp-sshd", 1, "198.51.100.7");
    EXPECT_EQ(refused.code, PAM_AUTHINFO_UNAVAIL) << refused.all_text();
    EXPECT_NE(refused.all_text().find(kRefusalText), std::string::npos) << refused.all_text() << "\n"
                                                                        << log();
    EXPECT_EQ(refused.all_text().find("Code sent to"), std::string::npos) << refused.all_text();
    // The parked logins are still being served, each on its thread (the refusing thread goes back to accept
    // once the refused module has hung up).
    EXPECT_TRUE(wait_until([&] { return helper_login_threads(helper_->pid()) == held; }))
        << helper_login_threads(helper_->pid()) << " login threads for " << held << " parked logins\n"
        << log();

    // Threads again: the helper went on, and the next login gets in while the parked ones still wait.
    ASSERT_TRUE(group.cap("max"));
    const PamRun after = code_login("pp-sudo", 2);
    EXPECT_EQ(after.code, PAM_SUCCESS) << after.all_text() << "\n" << log();
    EXPECT_EQ(parked.release(), static_cast<std::size_t>(started + 1));
    EXPECT_EQ(helper_->stop_within(std::chrono::seconds(10)).value_or(-1), 0) << log();
    helper_.reset();
}

// The network worker alike: a worker that cannot start a thread for a connection the helper hands it closes
// that connection, and the login that needed it ends as when the pool cannot be reached (its text,
// PAM_AUTHINFO_UNAVAIL), before any code is asked for; the same worker goes on, and serves the next login
// once it can start threads again. The worker is capped at its tasks while the pool answers slowly, so that
// logins started together each need a connection, and a thread, of their own.
TEST_F(Admission, NoThreadToStartInTheWorkerEndsTheLoginAsUnreachableAndTheWorkerGoesOn) {
    ASSERT_NO_FATAL_FAILURE(start_helper(""));
    const PamRun first = code_login("pp-sudo", 0);
    ASSERT_EQ(first.code, PAM_SUCCESS) << first.all_text() << log();
    pid_t worker = -1;
    for (pid_t child : children_of(helper_->pid()))
        if (read_text(fs::path("/proc") / std::to_string(child) / "cmdline").find("pam-passwordless-pool") !=
            std::string::npos)
            worker = child;
    ASSERT_GT(worker, 0) << "the helper's network worker is not running";

    PidsCgroup group(short_name("pp-pids", test_key()));
    ASSERT_TRUE(group.why().empty()) << group.why();
    ASSERT_TRUE(group.take(worker));
    ASSERT_TRUE(group.cap(std::to_string(group.current())));
    // Every request waits 6 s at the pool: the logins below, started within it, overlap at the worker.
    write_text(dir_ / "standin" / "control.json.new", R"({"delay_ms": 6000})");
    fs::rename(dir_ / "standin" / "control.json.new", dir_ / "standin" / "control.json");

    // Each login in a process of its own, as sshd's; each writes its PAM code and text to its file. None
    // answers a code prompt: a login that reached one had its requests served.
    constexpr int kLogins = 8;
    std::vector<pid_t> children;
    std::fflush(nullptr);
    for (int i = 0; i < kLogins; ++i) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            const PamRun r =
                run_pam("pp-sudo", users_.at(static_cast<std::size_t>(i % 3)).name,
                        accepting_code_offers([](int, const std::string&) { return std::nullopt; }));
            std::ofstream(dir_ / ("worker-capped-" + std::to_string(i))) << r.code << "\n" << r.all_text();
            ::_exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    }
    int unreachable = 0, served = 0;
    std::string all;
    for (int i = 0; i < kLogins; ++i) {
        const std::string result = read_text(dir_ / ("worker-capped-" + std::to_string(i)));
        all += result + "\n----\n";
        if (result.find("Code sent to") != std::string::npos) {
            ++served;
        } else {
            EXPECT_EQ(std::atoi(result.c_str()), PAM_AUTHINFO_UNAVAIL) << result;
            EXPECT_NE(result.find("The sign-in service cannot be reached; try again later."),
                      std::string::npos)
                << result;
            ++unreachable;
        }
    }
    EXPECT_NE(log().find("closed unserved (no thread could be started"), std::string::npos) << log();
    EXPECT_GE(unreachable, 1) << "every login was served with the worker's threads capped at "
                              << group.current() << "\n"
                              << all << log();

    // Threads again, the pool quick again: the same worker serves the next login.
    ASSERT_TRUE(group.cap("max"));
    fs::remove(dir_ / "standin" / "control.json");
    const PamRun after = code_login("pp-sudo", 1);
    EXPECT_EQ(after.code, PAM_SUCCESS) << after.all_text() << "\n" << log();
    EXPECT_EQ(::kill(worker, 0), 0) << "the worker ended";
    bool same = false;
    for (pid_t child : children_of(helper_->pid())) same = same || child == worker;
    EXPECT_TRUE(same) << "the worker was replaced";
    helper_->stop();
    helper_.reset();
}

}  // namespace
}  // namespace pp::test
