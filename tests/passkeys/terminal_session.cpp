#include "terminal_session.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <stdexcept>

namespace pp::test {

TerminalSession::TerminalSession(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    master_ = UniqueFd(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    std::array<char, 128> name{};
    if (!master_ || ::grantpt(master_.get()) != 0 || ::unlockpt(master_.get()) != 0 ||
        ::ptsname_r(master_.get(), name.data(), name.size()) != 0)
        throw std::runtime_error("no pseudo-terminal");
    // Held open by the test too, so the terminal's modes can be read after the program has gone.
    slave_ = UniqueFd(::open(name.data(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave_) throw std::runtime_error("cannot open the pseudo-terminal's slave");

    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        // A session of its own whose controlling terminal is the pseudo-terminal: /dev/tty is this one.
        ::setsid();
        const int tty = ::open(name.data(), O_RDWR);
        if (tty < 0 || ::ioctl(tty, TIOCSCTTY, 0) != 0) ::_exit(125);
        if (::dup2(tty, 0) < 0 || ::dup2(tty, 1) < 0 || ::dup2(tty, 2) < 0) ::_exit(125);
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
}

TerminalSession::~TerminalSession() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

void TerminalSession::read_for(std::chrono::milliseconds limit) {
    pollfd p{master_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0 || (p.revents & POLLIN) == 0) return;
    std::array<char, 4096> buf{};
    const ssize_t n = ::read(master_.get(), buf.data(), buf.size());
    if (n > 0) screen_.append(buf.data(), static_cast<std::size_t>(n));
}

bool TerminalSession::wait_for(const std::string& text, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (screen_.find(text) == std::string::npos) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        read_for(left);
    }
    return true;
}

void TerminalSession::type(const std::string& text) const {
    if (::write(master_.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw std::runtime_error("cannot type into the pseudo-terminal");
}

bool TerminalSession::echo() const {
    termios t{};
    if (::tcgetattr(slave_.get(), &t) != 0) throw std::runtime_error("tcgetattr failed");
    return (t.c_lflag & ECHO) != 0;
}

void TerminalSession::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

TerminalSession::Ended TerminalSession::wait_exit(std::chrono::milliseconds limit) {
    Ended e;
    const auto end = std::chrono::steady_clock::now() + limit;
    int status = 0;
    for (;;) {
        read_for(std::chrono::milliseconds(20));
        if (::waitpid(pid_, &status, WNOHANG) == pid_) break;
        if (std::chrono::steady_clock::now() >= end) {
            e.timed_out = true;
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
    }
    pid_ = -1;
    // What it wrote just before it ended.
    for (int i = 0; i < 10; ++i) read_for(std::chrono::milliseconds(0));
    if (WIFEXITED(status)) e.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
    return e;
}

}  // namespace pp::test
