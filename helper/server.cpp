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

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "admission.hpp"
#include "channel.hpp"
#include "login.hpp"
#include "runtime.hpp"

namespace pp::helper {
namespace {

// Each login is a thread that mostly waits on the person: a small stack lets the helper hold thousands.
// What a login calls (libcurl with OpenSSL, json-c, libfido2's COSE code) needs a few tens of KiB; 512 KiB
// leaves a wide margin and still costs 1000 parked logins only address space, not memory.
constexpr std::size_t kLoginStack = 512 * 1024;

// Connections open at once beyond the three pools' sum: room for those whose first message is still on its
// way, so a remote flood refused after reading cannot shut local callers out at accept.
constexpr int kPendingHeadroom = 256;

// A login's secrets pass through its thread's stack (a code on its way into a request, a token being parsed),
// and glibc keeps a finished thread's stack for the next thread it starts: wipe what this thread used. The
// pages below the last 16 KiB are given back (MADV_DONTNEED: they read as zeros afterwards and cost no
// memory, where writing zeros would make every cached stack resident); the 16 KiB just below this frame,
// where the login's own frames were, are zeroed, with explicit_bzero's frame below them.
[[gnu::noinline]] void wipe_spent_stack() {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
    void* low = nullptr;
    std::size_t size = 0;
    const bool known = pthread_attr_getstack(&attr, &low, &size) == 0;
    pthread_attr_destroy(&attr);
    if (!known) return;
    constexpr std::uintptr_t kPage = 4096, kNear = 16 * 1024, kMargin = 32 * 1024;
    const auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    const auto base = reinterpret_cast<std::uintptr_t>(low);
    if (here > base + size || here < base + kMargin + kNear + kPage) return;
    const std::uintptr_t released_from = (base + kMargin + kPage - 1) & ~(kPage - 1);
    const std::uintptr_t released_to = (here - kNear) & ~(kPage - 1);
    if (released_to > released_from)
        ::madvise(reinterpret_cast<void*>(released_from), released_to - released_from, MADV_DONTNEED);
    const std::size_t near = here - released_to - 512;
    auto* spent = static_cast<char*>(__builtin_alloca(near));
    explicit_bzero(spent, near);
}

// Starts `work` on a detached thread with a small stack; false when the system has no thread to give.
bool start_login_thread(std::function<void()> work) {
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return false;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, kLoginStack);
    auto owned = std::make_unique<std::function<void()>>(std::move(work));
    pthread_t t;
    const int r = pthread_create(
        &t, &attr,
        [](void* arg) -> void* {
            std::unique_ptr<std::function<void()>> fn(static_cast<std::function<void()>*>(arg));
            (*fn)();
            fn.reset();
            wipe_spent_stack();
            return nullptr;
        },
        owned.get());
    pthread_attr_destroy(&attr);
    // The thread owns the work from here on; when it could not start, `owned` frees it.
    if (r == 0) static_cast<void>(owned.release());
    return r == 0;
}

// Refused at accept, without a thread: take the request if it is already there (the module sends it at once)
// so that closing does not reset the connection, then answer. A client whose request arrives later finds its
// send refused and still reads this Result.
void refuse_busy(int fd) {
    char scratch[4096];
    while (::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) > 0) {
    }
    try {
        wire::Message r(wire::Type::Result);
        r.add(wire::Tag::Outcome, static_cast<std::uint32_t>(wire::Outcome::AuthinfoUnavail))
            .add(wire::Tag::Text, "Too many sign-ins at once; try again in a moment.");
        wire::send_message(fd, r);
    } catch (const std::exception&) {
    }
}

// Once per load: what check-config would warn about the identity map, for an admin who reads only the log.
void log_identity_warnings(const Runtime& rt) {
    for (const auto& w : rt.identities.warnings()) syslog(LOG_WARNING, "identity map: %s", w.c_str());
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
    std::atomic<std::shared_ptr<const Runtime>> runtime;
    std::string config_error;
    try {
        runtime.store(Runtime::load(config_path));
        syslog(LOG_INFO, "configuration loaded from %s", config_path.c_str());
        log_identity_warnings(*runtime.load());
    } catch (const std::exception& e) {
        // Keep serving: every login is then refused with PAM_SERVICE_ERR and says why, instead of the module
        // seeing a helper that is not there.
        config_error = e.what();
        syslog(LOG_ERR, "configuration refused: %s", e.what());
    }
    std::mutex config_error_mutex;

    const sigset_t sigs = handled_signals();
    UniqueFd sigfd(::signalfd(-1, &sigs, SFD_CLOEXEC));
    if (!sigfd) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));

    // Shared with the login threads, which may outlive this function when a stop times out.
    auto admission = std::make_shared<Admission>();
    bool summaries_pending = false;
    // Where the limits are kept is read once: the counts must survive reloads as well as restarts.
    auto limits = std::make_shared<RateLimits>(
        runtime.load() ? runtime.load()->config.limits_state_file : std::string(kDefaultLimitsStateFile),
        runtime.load() ? runtime.load()->config.limits.state_max_bytes : LimitPolicy{}.state_max_bytes);
    for (;;) {
        pollfd fds[2] = {{listener.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
        // While refusals are being counted, or logins (which may be refused) are open, wake once a second to
        // write the summaries that are due.
        const int poll_ms = summaries_pending || admission->busy() ? 1000 : -1;
        const int ready = ::poll(fds, 2, poll_ms);
        summaries_pending = admission->refusals().flush();
        if (ready < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo si{};
            if (::read(sigfd.get(), &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGHUP) {
                    try {
                        runtime.store(Runtime::load(config_path));
                        std::lock_guard lock(config_error_mutex);
                        config_error.clear();
                        syslog(LOG_INFO, "configuration reloaded from %s", config_path.c_str());
                        log_identity_warnings(*runtime.load());
                    } catch (const std::exception& e) {
                        syslog(LOG_ERR, "new configuration refused, keeping the one in force: %s", e.what());
                    }
                } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                    syslog(LOG_INFO, "stopping");
                    listener.reset();
                    if (!admission->wait_idle(std::chrono::seconds(10)))
                        syslog(LOG_WARNING, "stopping with logins still in flight");
                    admission->refusals().flush(true);
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
            // A module that stops reading must not pin a login thread forever.
            const timeval send_limit{10, 0};
            ::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &send_limit, sizeof send_limit);
            auto rt = runtime.load();
            const AdmissionLimits lim = admission_limits(rt ? &rt->config : nullptr);
            // Which pool a login belongs to is known only once its first message is read (Session::admit);
            // here only a non-root caller's own count and the ceiling on open connections are checked.
            if (!admission->open(peer.uid, lim.per_caller, 2 * lim.local + lim.remote + kPendingHeadroom)) {
                admission->refusals().refused(Admission::log_source(peer.uid, false, ""),
                                              "too many connections at once", lim.log_interval);
                summaries_pending = true;
                refuse_busy(conn.get());
                continue;
            }
            std::string err;
            {
                std::lock_guard lock(config_error_mutex);
                err = config_error;
            }
            auto fd = std::make_shared<UniqueFd>(std::move(conn));
            const bool started = start_login_thread([fd, peer, rt, err = std::move(err), admission, limits] {
                run_connection(LoginContext{fd->get(), peer, rt, err, limits.get(), admission.get()});
                fd->reset();
                // OpenSSL frees a thread's own state (its random generators, its error queue) when the thread
                // ends, which may be after a stop has seen it leave and the process is exiting: free it now.
                // (Seen as leaks at exit under LeakSanitizer, scripts/test-sanitizers.sh.)
                OPENSSL_thread_stop();
                // The last login of a burst has ended: give back to the system what glibc's per-thread
                // arenas keep of the memory the burst freed, so that the helper returns to its idle size
                // (tests/load measures it).
                if (admission->close(peer.uid)) ::malloc_trim(0);
            });
            if (!started) {
                admission->refusals().refused(Admission::log_source(peer.uid, false, ""),
                                              "no thread available for another login", lim.log_interval);
                summaries_pending = true;
                refuse_busy(fd->get());
                admission->close(peer.uid);
            }
        }
    }
}

}  // namespace pp::helper
