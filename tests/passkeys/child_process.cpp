#include "child_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "login_harness.hpp"
#include "unique_fd.hpp"

namespace pp::test {
namespace {

// Drops to `uid` but keeps CAP_DAC_READ_SEARCH across execve (as an ambient capability), so a build tree
// below a private directory stays reachable; SO_PEERCRED still shows `uid`, which is what the helper judges.
// Runs in the forked child: system calls only.
bool become(uid_t uid) {
    if (::prctl(PR_SET_KEEPCAPS, 1) != 0 || ::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 ||
        ::setuid(uid) != 0)
        return false;
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    data[0].effective = data[0].permitted = data[0].inheritable = 1u << CAP_DAC_READ_SEARCH;
    return ::syscall(SYS_capset, &hdr, data) == 0 &&
           ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_DAC_READ_SEARCH, 0, 0) == 0;
}

std::vector<char*> pointers(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

UniqueFd open_file(const fs::path& p, int flags) {
    UniqueFd fd(::open(p.c_str(), flags | O_CLOEXEC, 0644));
    if (!fd) throw std::runtime_error("cannot open " + p.string());
    return fd;
}

}  // namespace

std::string ChildResult::describe() const {
    std::string s = "exit=" + std::to_string(exit_code);
    if (signal != 0) s += " signal=" + std::to_string(signal);
    if (timed_out) s += " (timed out, killed)";
    s += " after " + std::to_string(elapsed.count()) + " ms\n--- stdout\n" + out + "--- stderr\n" + err;
    return s;
}

ChildResult run_child(const ChildSpec& spec) {
    static int runs = 0;
    const std::string stem = "run-" + std::to_string(++runs);
    const fs::path in_path = spec.work / (stem + ".in");
    const fs::path out_path = spec.work / (stem + ".out");
    const fs::path err_path = spec.work / (stem + ".err");
    write_text(in_path, spec.input);
    // Everything the child needs is prepared before fork: after it, only system calls.
    UniqueFd in, feed;
    if (spec.late_input) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        in = UniqueFd(fds[0]);
        feed = UniqueFd(fds[1]);
    } else {
        in = open_file(in_path, O_RDONLY);
    }
    const UniqueFd out = open_file(out_path, O_WRONLY | O_CREAT | O_TRUNC);
    const UniqueFd err = open_file(err_path, O_WRONLY | O_CREAT | O_TRUNC);
    const auto argv = pointers(spec.argv);
    const auto envp = pointers(spec.env);

    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        if (::dup2(in.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(err.get(), 2) < 0) ::_exit(125);
        // No controlling terminal: the command line must take its answers from standard input.
        ::setsid();
        if (spec.uid && !become(*spec.uid)) ::_exit(126);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }

    ChildResult r;
    int status = 0;
    if (spec.late_input) {
        in.reset();
        const std::string text = spec.late_input();
        // A child that has ended already closed its end: SIGPIPE is ignored here, the write just fails.
        const auto old_handler = ::signal(SIGPIPE, SIG_IGN);
        [[maybe_unused]] const auto written = ::write(feed.get(), text.data(), text.size());
        ::signal(SIGPIPE, old_handler);
        feed.reset();
    }
    const bool ended = wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, spec.limit);
    if (!ended) {
        r.timed_out = true;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    r.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    r.out = read_text(out_path);
    r.err = read_text(err_path);
    return r;
}

}  // namespace pp::test
