#include "piped_child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <stdexcept>

#include "login_harness.hpp"

namespace pp::test {
namespace {

std::pair<UniqueFd, UniqueFd> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace

PipedChild::PipedChild(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    // A child that goes away while the test still writes to it must show up as an error, not end the test.
    ::signal(SIGPIPE, SIG_IGN);
    auto [in_read, in_write] = make_pipe();
    auto [out_read, out_write] = make_pipe();
    auto [err_read, err_write] = make_pipe();
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        if (::dup2(in_read.get(), 0) < 0 || ::dup2(out_write.get(), 1) < 0 || ::dup2(err_write.get(), 2) < 0)
            ::_exit(125);
        ::signal(SIGPIPE, SIG_DFL);
        ::setsid();
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    in_ = std::move(in_write);
    out_fd_ = std::move(out_read);
    err_fd_ = std::move(err_read);
}

PipedChild::~PipedChild() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

bool PipedChild::pump(std::chrono::milliseconds limit) {
    std::array<pollfd, 2> p{pollfd{out_fd_.get(), POLLIN, 0}, pollfd{err_fd_.get(), POLLIN, 0}};
    if (!out_fd_ && !err_fd_) return false;
    const int n = ::poll(p.data(), p.size(), static_cast<int>(limit.count()));
    if (n < 0 && errno != EINTR) throw std::runtime_error("poll failed");
    std::array<char, 4096> buf{};
    const std::array<std::pair<UniqueFd*, std::string*>, 2> streams{std::pair{&out_fd_, &out_},
                                                                    std::pair{&err_fd_, &err_}};
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (!*streams[i].first || (p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t got = ::read(streams[i].first->get(), buf.data(), buf.size());
        if (got > 0)
            streams[i].second->append(buf.data(), static_cast<std::size_t>(got));
        else if (got == 0 || errno != EINTR)
            streams[i].first->reset();
    }
    return out_fd_ || err_fd_;
}

bool PipedChild::waiting_for_input() const {
    // "<system call number> <first argument> ...": blocked in read(0, ...) is "<SYS_read> 0x0 ...".
    std::ifstream in("/proc/" + std::to_string(pid_) + "/syscall");
    std::string number, fd;
    in >> number >> fd;
    return number == std::to_string(SYS_read) && fd == "0x0";
}

std::string PipedChild::next_prompt(std::size_t from, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (!pump(std::chrono::milliseconds(10))) return {};
        // It wrote the prompt before it began to read: what is in the pipes now holds all of it.
        if (err_.size() > from && waiting_for_input()) {
            std::size_t before = 0;
            do {
                before = out_.size() + err_.size();
            } while (pump(std::chrono::milliseconds(0)) && out_.size() + err_.size() > before);
            return err_.substr(from);
        }
    }
    return {};
}

void PipedChild::send_line(const std::string& line) const {
    std::string text = line + "\n";
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(in_.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("the program no longer reads its input");
        done += static_cast<std::size_t>(n);
    }
}

void PipedChild::close_input() {
    in_.reset();
}

PipedChild::Ended PipedChild::wait_exit(std::chrono::milliseconds limit) {
    Ended e;
    if (pid_ <= 0) return e;
    in_.reset();
    const auto end = std::chrono::steady_clock::now() + limit;
    // The outputs end when the program (and anything it left running) has closed them.
    while (
        std::chrono::steady_clock::now() < end &&
        pump(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()))) {
    }
    int status = 0;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    // Its outputs close a moment before it can be reaped.
    if (!wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; },
                    std::max(left, std::chrono::milliseconds(1000)))) {
        e.timed_out = true;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    if (WIFEXITED(status)) e.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
    return e;
}

std::string PipedChild::describe(const Ended& e) const {
    std::string s = "exit=" + std::to_string(e.exit_code);
    if (e.signal != 0) s += " signal=" + std::to_string(e.signal);
    if (e.timed_out) s += " (timed out, killed)";
    return s + "\n--- stdout\n" + out_ + "--- stderr\n" + err_;
}

}  // namespace pp::test
