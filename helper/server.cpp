#include "server.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "admission.hpp"
#include "channel.hpp"
#include "helper_state.hpp"
#include "login.hpp"
#include "messages.hpp"
#include "pool_client.hpp"
#include "reused_threads.hpp"
#include "runtime.hpp"
#include "spent_stack.hpp"

namespace pp::helper {
namespace {

// Connections open at once beyond the three pools' sum: room for those whose first message is still on its
// way, so a remote flood refused after reading cannot shut local callers out at accept.
constexpr int kPendingHeadroom = 256;

// Closes a connection after its last message (the Result), without waiting for the module. A unix socket
// closed with unread messages makes the peer's next receive fail with ECONNRESET before it reads what is
// queued for it: a person's answer that crossed the helper's Result (a login that timed out just as the
// answer came) would make the module lose the Result and report "unavailable". So nothing more may arrive
// first: shutting down both ways makes the module's later sends fail (EPIPE, which the module takes as "the
// helper has ended; read its verdict", client/relay.cpp), and what had arrived before is read and dropped.
// The queue is then empty at the close, so the Result stays readable. (Until session 15 the helper waited
// here for the module to hang up, up to a second: a wake-up and four system calls per login, and a thread
// held meanwhile.)
void close_after_result(UniqueFd& fd) {
    if (!fd) return;
    ::shutdown(fd.get(), SHUT_RDWR);
    char scratch[4096];
    // After the shutdown a receive returns what was queued, then 0; never waits.
    for (int i = 0; i < 1024; ++i) {
        const ssize_t n = ::recv(fd.get(), scratch, sizeof scratch, MSG_DONTWAIT);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    explicit_bzero(scratch, sizeof scratch);
    fd.reset();
}

// Refused at accept, without a thread: the Result, then the close above, so that a request already sent (the
// module sends it at once) or sent later does not reset the connection before the client reads this Result.
void refuse_busy(UniqueFd& fd) {
    try {
        wire::send_message(fd.get(), protocol::Result{wire::Outcome::AuthinfoUnavail,
                                                      "Too many sign-ins at once; try again in a moment.",
                                                      std::nullopt, std::nullopt}
                                         .encode());
    } catch (const std::exception&) {
    }
    close_after_result(fd);
}

constexpr const char* kLoginName = "pp-login";
constexpr const char* kIdleName = "pp-idle";

// Logins are accepted by the threads that serve them (leader/follower): a few idle login threads wait in
// accept(2) on the listening socket, the kernel hands each connection to one of them, and that thread serves
// it, so that a login starts without a hand-over from an accepting thread to a serving one (a wake-up and a
// context switch on the path of every login: 5% of a local key login, bench/README.md). Whenever the thread
// that accepted was the last one waiting, it first has another thread take its place, so that a login parked
// at a prompt never keeps the next one from being accepted. Two wait: the one a sequence of logins
// alternates with, and the one that serves and comes back.
constexpr int kAcceptorsWaiting = 2;

// Interrupts a thread's accept(2) for a stop (Acceptors::stop). Blocked in every thread but while one waits
// in accept, so that nothing else ever sees it interrupt a system call.
constexpr int kWakeSignal = SIGUSR2;

extern "C" void on_wake_signal(int) {}

void install_wake_handler() {
    struct sigaction action {};
    action.sa_handler = on_wake_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: accept(2) must return EINTR
    if (::sigaction(kWakeSignal, &action, nullptr) != 0)
        throw std::runtime_error(std::string("sigaction: ") + std::strerror(errno));
}

// The threads waiting in accept(2), and the stop that ends their waiting. Closing the socket would not wake
// them (a thread in accept holds the socket open), and shutting it down would shut systemd's socket, which
// must keep queueing connections for the next helper.
class Acceptors {
  public:
    explicit Acceptors(int listener) : listener_(listener) {}

    // The next connection, and how many threads are still waiting after it was taken. No connection once
    // the helper is stopping.
    UniqueFd accept(int& others_waiting) {
        sigset_t wake;
        sigemptyset(&wake);
        sigaddset(&wake, kWakeSignal);
        for (;;) {
            {
                std::lock_guard lock(m_);
                if (stopping_) return {};
                inside_.push_back(pthread_self());
            }
            sigset_t before;
            pthread_sigmask(SIG_UNBLOCK, &wake, &before);
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            const int error = errno;
            pthread_sigmask(SIG_SETMASK, &before, nullptr);
            {
                std::lock_guard lock(m_);
                inside_.erase(std::find(inside_.begin(), inside_.end(), pthread_self()));
                others_waiting = static_cast<int>(inside_.size());
                left_.notify_all();
            }
            if (fd >= 0) return UniqueFd(fd);
            if (error == EINTR || error == ECONNABORTED) continue;
            // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): logins ending free them. A
            // short wait instead of a spin on the queued connection.
            ::poll(nullptr, 0, 10);
        }
    }

    int waiting() {
        std::lock_guard lock(m_);
        return static_cast<int>(inside_.size());
    }

    // From now on accept() returns no connection; returns once no thread is inside it. A thread between
    // unblocking the signal and entering accept(2) misses it, so it is sent until each has left.
    void stop() {
        std::unique_lock lock(m_);
        stopping_ = true;
        while (!inside_.empty()) {
            for (const pthread_t t : inside_) pthread_kill(t, kWakeSignal);
            left_.wait_for(lock, std::chrono::milliseconds(10));
        }
    }

  private:
    const int listener_;
    std::mutex m_;
    std::condition_variable left_;
    std::vector<pthread_t> inside_;
    bool stopping_ = false;
};

// What the accepting threads share with the main thread, which keeps the signals and the timers.
struct Front {
    Front(int listener, std::shared_ptr<ReusedThreads> threads_, std::shared_ptr<HelperState> state_,
          const std::string& limits_file, std::int64_t limits_max_bytes, bool woken)
        : acceptors(listener),
          threads(std::move(threads_)),
          state(std::move(state_)),
          limits(limits_file, limits_max_bytes),
          woken_by_next(woken),
          nudge(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
        if (!nudge) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    }

    Acceptors acceptors;
    std::shared_ptr<ReusedThreads> threads;
    std::shared_ptr<HelperState> state;
    Admission admission;
    RateLimits limits;
    // Set when the last login of a burst ends; the memory the burst freed is given back once the helper has
    // been idle for a poll interval (serve).
    std::atomic<bool> trim_due{false};
    std::atomic<bool> woken_by_next;
    // The main thread is about to wait, or waits, for a signal alone, with no timer: a login that opens or a
    // refusal that is counted must wake it, so that the summaries and the trim are not left undone.
    std::atomic<bool> main_waits_unwoken{false};
    // The eventfd the main thread polls for that. Owned here, with everything a login thread may touch, so
    // that a login outliving a stop that timed out never writes to a descriptor number reused since.
    UniqueFd nudge;

    void nudge_main() {
        if (main_waits_unwoken.exchange(false)) (void)::eventfd_write(nudge.get(), 1);
    }
};

bool start_acceptor(const std::shared_ptr<Front>& front);

void refuse(Front& front, UniqueFd& conn, uid_t uid, std::string_view why, std::chrono::seconds interval) {
    front.admission.refusals().refused(Admission::log_source(uid, false, ""), why, interval);
    front.state->count_refused_at_accept();
    front.nudge_main();
    refuse_busy(conn);
}

// One accepted connection, served to its end on this thread.
void serve_accepted(const std::shared_ptr<Front>& self, UniqueFd conn, bool others_waiting) {
    Front& front = *self;
    ucred peer{};
    socklen_t len = sizeof peer;
    if (::getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) return;
    const bool woke = front.woken_by_next.exchange(false);
    auto rt = front.state->runtime();
    const AdmissionLimits lim = admission_limits(rt ? &rt->config : nullptr);
    // Someone must be waiting in accept while this thread serves.
    if (!others_waiting && !start_acceptor(self)) {
        refuse(front, conn, peer.uid, "no thread available for another login", lim.log_interval);
        return;
    }
    // A module that stops reading must not pin a login thread forever.
    const timeval send_limit{10, 0};
    ::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &send_limit, sizeof send_limit);
    // Which pool a login belongs to is known only once its first message is read (Session::admit); here only
    // a non-root caller's own count and the ceiling on open connections are checked.
    if (!front.admission.open(peer.uid, lim.per_caller, 2 * lim.local + lim.remote + kPendingHeadroom)) {
        refuse(front, conn, peer.uid, "too many connections at once", lim.log_interval);
        return;
    }
    front.nudge_main();
    const std::string err = rt ? std::string() : front.state->config_error();
    run_connection(
        LoginContext{conn.get(), peer, rt, err, &front.limits, &front.admission, front.state.get(), woke});
    close_after_result(conn);
    if (front.admission.close(peer.uid)) front.trim_due.store(true);
}

// A login thread's turn at the socket: accepts, serves, and comes back to accept while fewer than
// kAcceptorsWaiting wait; then it goes back to the idle threads.
void accept_logins(const std::shared_ptr<Front>& front) {
    for (;;) {
        pthread_setname_np(pthread_self(), kIdleName);
        int others = 0;
        UniqueFd conn = front->acceptors.accept(others);
        if (!conn) return;  // stopping
        pthread_setname_np(pthread_self(), kLoginName);
        serve_accepted(front, std::move(conn), others > 0);
        // Codes, sessions and tokens passed through this stack.
        wipe_spent_stack();
        if (front->acceptors.waiting() >= kAcceptorsWaiting) return;
    }
}

bool start_acceptor(const std::shared_ptr<Front>& front) {
    return front->threads->start([front] { accept_logins(front); });
}
}  // namespace

sigset_t handled_signals() {
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGPIPE);
    return sigs;
}

void block_handled_signals() {
    sigset_t sigs = handled_signals();
    sigaddset(&sigs, kWakeSignal);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
}

UniqueFd socket_from_systemd() {
    const char* pid = std::getenv("LISTEN_PID");
    const char* fds = std::getenv("LISTEN_FDS");
    if (pid == nullptr || fds == nullptr || std::to_string(::getpid()) != pid || std::string(fds) != "1")
        return {};
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    constexpr int kFirst = 3;  // SD_LISTEN_FDS_START
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(kFirst, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_SEQPACKET)
        throw std::runtime_error("the socket from systemd is not a SOCK_SEQPACKET socket");
    ::fcntl(kFirst, F_SETFD, FD_CLOEXEC);
    return UniqueFd(kFirst);
}

UniqueFd bind_socket(const std::string& path) {
    sockaddr_un addr{};
    const std::string tmp = path + ".new";
    if (tmp.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + path);
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, tmp.c_str(), tmp.size() + 1);
    struct stat st {};
    if (::lstat(tmp.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(tmp.c_str());
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("bind " + tmp + ": " + std::strerror(errno));
    if (::chmod(tmp.c_str(), 0666) != 0 || ::listen(fd.get(), 128) != 0 ||
        ::rename(tmp.c_str(), path.c_str()) != 0)
        throw std::runtime_error("socket " + path + ": " + std::strerror(errno));
    return fd;
}

int serve(UniqueFd listener, const std::string& config_path) {
    // A connection already waiting when the helper starts is one that woke it: systemd starts the
    // socket-activated helper when its idle socket turns readable. (A socket the helper binds itself has none
    // yet.) The first connection accepted is told so (control.hpp).
    pollfd waiting{listener.get(), POLLIN, 0};
    const bool woken_by_next = ::poll(&waiting, 1, 0) == 1 && (waiting.revents & POLLIN) != 0;
    // Shared with the login threads, which may outlive this function when a stop times out. A refused file
    // does not stop the helper: every login is then refused with PAM_SERVICE_ERR and says why, instead of the
    // module seeing a helper that is not there. (The unit's ExecStartPre check-config is what fails the
    // unit.)
    auto state = std::make_shared<HelperState>(config_path);
    state->load(nullptr);

    const sigset_t sigs = handled_signals();
    UniqueFd sigfd(::signalfd(-1, &sigs, SFD_CLOEXEC));
    if (!sigfd) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
    install_wake_handler();

    // Each login is a thread that mostly waits on the person: a small stack lets the helper hold thousands.
    // What a login calls (libcurl with OpenSSL, json-c, libfido2's COSE code) needs a few tens of KiB; 512
    // KiB leaves a wide margin and still costs 1000 parked logins only address space, not memory. The
    // thread's name tells a login's thread from an idle one (/proc/PID/task/*/comm): the tests and benches
    // wait for the helper to have no login left running by it.
    auto threads = std::make_shared<ReusedThreads>(ReusedThreads::Options{
        .stack_size = 512 * 1024, .busy_name = kLoginName, .idle_name = kIdleName, .at_exit = [] {
            // OpenSSL frees a thread's own state (its random generators, its error queue) when the thread
            // ends, which may be after a stop has seen it leave and the process is exiting: free it now.
            // (Seen as leaks at exit under LeakSanitizer, scripts/test-sanitizers.sh.)
            OPENSSL_thread_stop();
        }});
    // Where the limits are kept is read once: the counts must survive reloads as well as restarts.
    const auto first = state->runtime();
    auto front = std::make_shared<Front>(
        listener.get(), threads, state,
        first ? first->config.limits_state_file : std::string(kDefaultLimitsStateFile),
        first ? first->config.limits.state_max_bytes : LimitPolicy{}.state_max_bytes, woken_by_next);
    for (int i = 0; i < kAcceptorsWaiting; ++i)
        if (!start_acceptor(front)) throw std::runtime_error("no thread to accept logins with");

    Admission& admission = front->admission;
    bool summaries_pending = false;
    for (;;) {
        // While refusals are being counted, or logins (which may be refused) are open, wake once a second to
        // write the summaries that are due. And while connections to the network worker are kept, to close
        // those whose time has passed (a burst leaves up to 256; the worker closes its ends after 30 s).
        // Whether to wait without end is decided after saying so, so that a login opened meanwhile either is
        // seen here or nudges (Front::nudge_main).
        front->main_waits_unwoken.store(true);
        const bool kept = !admission.busy() && close_expired_worker_connections();
        const int poll_ms =
            summaries_pending || admission.busy() || front->trim_due.load() || kept ? 1000 : -1;
        if (poll_ms >= 0) front->main_waits_unwoken.store(false);
        pollfd fds[2] = {{sigfd.get(), POLLIN, 0}, {front->nudge.get(), POLLIN, 0}};
        const int ready = ::poll(fds, 2, poll_ms);
        front->main_waits_unwoken.store(false);
        if (fds[1].revents & POLLIN) {
            eventfd_t drained = 0;
            (void)::eventfd_read(front->nudge.get(), &drained);
        }
        // A second without a connection after a burst: give back to the system what glibc's per-thread arenas
        // keep of the memory the burst freed, so that the helper returns to its idle size (tests/load
        // measures it). Not at the end of every burst: under steady load the number of logins in flight often
        // touches zero, and a trim each time was a twentieth of the helper's CPU.
        if (ready == 0 && !admission.busy() && front->trim_due.exchange(false)) ::malloc_trim(0);
        summaries_pending = admission.refusals().flush();
        if (ready < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo si{};
            if (::read(sigfd.get(), &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGHUP) {
                    state->load("SIGHUP");
                } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                    syslog(LOG_INFO, "stopping");
                    // No thread accepts from here on; then the socket is closed (systemd's copy of it keeps
                    // what arrives for the next helper).
                    front->acceptors.stop();
                    listener.reset();
                    if (!admission.wait_idle(std::chrono::seconds(10)))
                        syslog(LOG_WARNING, "stopping with logins still in flight");
                    admission.refusals().flush(true);
                    threads->stop(std::chrono::seconds(1));
                    return 0;
                }
            }
        }
    }
}

}  // namespace pp::helper
