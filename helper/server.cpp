#include "server.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>

#include "admission.hpp"
#include "channel.hpp"
#include "helper_state.hpp"
#include "login.hpp"
#include "messages.hpp"
#include "pool_client.hpp"
#include "reused_threads.hpp"
#include "runtime.hpp"

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

// Once per load: what check-config would warn about the identity map, for an admin who reads only the log.
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
    const sigset_t sigs = handled_signals();
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
    bool woken_by_next = ::poll(&waiting, 1, 0) == 1 && (waiting.revents & POLLIN) != 0;
    // Shared with the login threads, which may outlive this function when a stop times out. A refused file
    // does not stop the helper: every login is then refused with PAM_SERVICE_ERR and says why, instead of the
    // module seeing a helper that is not there. (The unit's ExecStartPre check-config is what fails the
    // unit.)
    auto state = std::make_shared<HelperState>(config_path);
    state->load(nullptr);

    const sigset_t sigs = handled_signals();
    UniqueFd sigfd(::signalfd(-1, &sigs, SFD_CLOEXEC));
    if (!sigfd) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));

    // Shared with the login threads, which may outlive this function when a stop times out.
    auto admission = std::make_shared<Admission>();
    // Each login is a thread that mostly waits on the person: a small stack lets the helper hold thousands.
    // What a login calls (libcurl with OpenSSL, json-c, libfido2's COSE code) needs a few tens of KiB; 512
    // KiB leaves a wide margin and still costs 1000 parked logins only address space, not memory. The
    // thread's name tells a login's thread from an idle one (/proc/PID/task/*/comm): the tests and benches
    // wait for the helper to have no login left running by it.
    auto threads = std::make_shared<ReusedThreads>(ReusedThreads::Options{
        .stack_size = 512 * 1024, .busy_name = "pp-login", .idle_name = "pp-idle", .at_exit = [] {
            // OpenSSL frees a thread's own state (its random generators, its error queue) when the thread
            // ends, which may be after a stop has seen it leave and the process is exiting: free it now.
            // (Seen as leaks at exit under LeakSanitizer, scripts/test-sanitizers.sh.)
            OPENSSL_thread_stop();
        }});
    // Set when the last login of a burst ends; the memory the burst freed is given back once the helper has
    // been idle for a poll interval (see below).
    auto trim_due = std::make_shared<std::atomic<bool>>(false);
    bool summaries_pending = false;
    // Where the limits are kept is read once: the counts must survive reloads as well as restarts.
    const auto first = state->runtime();
    auto limits = std::make_shared<RateLimits>(
        first ? first->config.limits_state_file : std::string(kDefaultLimitsStateFile),
        first ? first->config.limits.state_max_bytes : LimitPolicy{}.state_max_bytes);
    for (;;) {
        pollfd fds[2] = {{listener.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
        // While refusals are being counted, or logins (which may be refused) are open, wake once a second to
        // write the summaries that are due.
        // And while connections to the network worker are kept, to close those whose time has passed (a burst
        // leaves up to 256; the worker closes its ends after 30 s).
        const bool kept = !admission->busy() && close_expired_worker_connections();
        const int poll_ms = summaries_pending || admission->busy() || trim_due->load() || kept ? 1000 : -1;
        const int ready = ::poll(fds, 2, poll_ms);
        // A second without a connection after a burst: give back to the system what glibc's per-thread arenas
        // keep of the memory the burst freed, so that the helper returns to its idle size (tests/load
        // measures it). Not at the end of every burst: under steady load the number of logins in flight often
        // touches zero, and a trim each time was a twentieth of the helper's CPU.
        if (ready == 0 && !admission->busy() && trim_due->exchange(false)) ::malloc_trim(0);
        summaries_pending = admission->refusals().flush();
        if (ready < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo si{};
            if (::read(sigfd.get(), &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGHUP) {
                    state->load("SIGHUP");
                } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                    syslog(LOG_INFO, "stopping");
                    listener.reset();
                    if (!admission->wait_idle(std::chrono::seconds(10)))
                        syslog(LOG_WARNING, "stopping with logins still in flight");
                    admission->refusals().flush(true);
                    threads->stop(std::chrono::seconds(1));
                    return 0;
                }
            }
        }
        if (fds[0].revents & POLLIN) {
            UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!conn) continue;
            ucred peer{};
            socklen_t len = sizeof peer;
            if (::getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) continue;
            const bool woke = std::exchange(woken_by_next, false);
            // A module that stops reading must not pin a login thread forever.
            const timeval send_limit{10, 0};
            ::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &send_limit, sizeof send_limit);
            auto rt = state->runtime();
            const AdmissionLimits lim = admission_limits(rt ? &rt->config : nullptr);
            // Which pool a login belongs to is known only once its first message is read (Session::admit);
            // here only a non-root caller's own count and the ceiling on open connections are checked.
            if (!admission->open(peer.uid, lim.per_caller, 2 * lim.local + lim.remote + kPendingHeadroom)) {
                admission->refusals().refused(Admission::log_source(peer.uid, false, ""),
                                              "too many connections at once", lim.log_interval);
                summaries_pending = true;
                state->count_refused_at_accept();
                refuse_busy(conn);
                continue;
            }
            std::string err = rt ? std::string() : state->config_error();
            auto fd = std::make_shared<UniqueFd>(std::move(conn));
            const bool started = threads->start(
                [fd, peer, rt, err = std::move(err), admission, limits, trim_due, state, woke] {
                    run_connection(LoginContext{fd->get(), peer, rt, err, limits.get(), admission.get(),
                                                state.get(), woke});
                    close_after_result(*fd);
                    if (admission->close(peer.uid)) trim_due->store(true);
                });
            if (!started) {
                admission->refusals().refused(Admission::log_source(peer.uid, false, ""),
                                              "no thread available for another login", lim.log_interval);
                summaries_pending = true;
                state->count_refused_at_accept();
                refuse_busy(*fd);
                admission->close(peer.uid);
            }
        }
    }
}

}  // namespace pp::helper
