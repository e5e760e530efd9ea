#include "terminal_asker.hpp"

#include <fcntl.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string_view>

#include "secret.hpp"

namespace pp::cli {
namespace {

// Longer than any PIN (63 bytes), nickname or menu answer the helper accepts.
constexpr std::size_t kMaxAnswer = 1024;

// What a signal handler needs to put the terminal back: written before g_echo_fd is set, read only after.
volatile sig_atomic_t g_echo_fd = -1;
termios g_saved{};
termios g_hidden{};

// Signals that end or stop the process while a secret is being typed. Stopping (^Z, background reads)
// restores the echo and hides it again after SIGCONT, as readpassphrase(3) does.
constexpr std::array kSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU};

extern "C" void restore_terminal_and_reraise(int sig) {
    const int saved_errno = errno;
    const int fd = g_echo_fd;
    if (fd >= 0) ::tcsetattr(fd, TCSAFLUSH, &g_saved);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    struct sigaction mine {};
    ::sigaction(sig, &dfl, &mine);
    sigset_t just;
    sigemptyset(&just);
    sigaddset(&just, sig);
    ::sigprocmask(SIG_UNBLOCK, &just, nullptr);
    ::raise(sig);
    // Only a stop signal comes back here, after SIGCONT: the person is typing a secret again.
    ::sigaction(sig, &mine, nullptr);
    if (fd >= 0 && g_echo_fd >= 0) ::tcsetattr(fd, TCSAFLUSH, &g_hidden);
    errno = saved_errno;
}

// Echo off on a terminal for as long as it lives; nothing at all when `fd` is not a terminal.
class EchoOff {
  public:
    explicit EchoOff(int fd) : fd_(fd) {
        termios saved{};
        if (::tcgetattr(fd, &saved) != 0) return;
        g_saved = saved;
        g_hidden = saved;
        g_hidden.c_lflag &= static_cast<tcflag_t>(~(ECHO | ECHOE | ECHOK | ECHONL));
        g_echo_fd = fd;
        struct sigaction handler {};
        handler.sa_handler = restore_terminal_and_reraise;
        sigemptyset(&handler.sa_mask);
        for (std::size_t i = 0; i < kSignals.size(); ++i) {
            ::sigaction(kSignals[i], nullptr, &old_[i]);
            // A signal the caller chose to ignore (nohup, a background job) stays ignored.
            if (old_[i].sa_handler != SIG_IGN) ::sigaction(kSignals[i], &handler, nullptr);
        }
        active_ = ::tcsetattr(fd, TCSAFLUSH, &g_hidden) == 0;
        if (!active_) restore_handlers();
    }
    ~EchoOff() {
        if (!active_) return;
        ::tcsetattr(fd_, TCSAFLUSH, &g_saved);
        restore_handlers();
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

    [[nodiscard]] bool active() const { return active_; }

  private:
    void restore_handlers() {
        g_echo_fd = -1;
        for (std::size_t i = 0; i < kSignals.size(); ++i)
            if (old_[i].sa_handler != SIG_IGN) ::sigaction(kSignals[i], &old_[i], nullptr);
    }

    int fd_;
    bool active_ = false;
    std::array<struct sigaction, kSignals.size()> old_{};
};

void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

// One line, without its end of line. The bytes pass through a buffer that is wiped, never a growing
// string that would leave copies of a PIN in freed memory.
client::Asker::Reply read_line(int fd) {
    std::array<char, kMaxAnswer> buf{};
    std::size_t len = 0;
    bool too_long = false;
    bool ended = false;
    for (;;) {
        char c = 0;
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            wipe(buf.data(), buf.size());
            return {client::Asker::Status::Failed, {}};
        }
        if (n == 0) {
            ended = len == 0 && !too_long;
            break;
        }
        if (c == '\n') break;
        if (len < buf.size())
            buf[len++] = c;
        else
            too_long = true;
        wipe(&c, 1);
    }
    if (len > 0 && buf[len - 1] == '\r') --len;
    client::Asker::Reply reply{client::Asker::Status::Ok, Secret(std::string_view(buf.data(), len))};
    wipe(buf.data(), buf.size());
    // End of input before any answer: the person (^D) or the script has nothing more to say.
    if (ended) reply.status = client::Asker::Status::Cancelled;
    if (too_long) {
        reply.text.clear();
        reply.status = client::Asker::Status::Failed;
    }
    return reply;
}

}  // namespace

TerminalAsker::TerminalAsker() : tty_(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) {}

client::Asker::Reply TerminalAsker::ask(const std::string& text, bool echo) {
    if (echo) {
        write_all(out(), printable(text));
        return read_line(in());
    }
    Reply reply;
    bool hidden = false;
    {
        // Echo goes off before the prompt shows, so nothing typed after it can appear.
        EchoOff guard(in());
        hidden = guard.active();
        write_all(out(), printable(text));
        reply = read_line(in());
    }
    // The Enter the person typed was not echoed either.
    if (hidden) write_all(out(), "\n");
    return reply;
}

void TerminalAsker::error(const std::string& text) {
    write_all(out(), printable(text) + "\n");
}

void TerminalAsker::info(const std::string& text) {
    write_all(out(), printable(text) + "\n");
}

}  // namespace pp::cli
