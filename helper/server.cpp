#include "server.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "channel.hpp"
#include "login.hpp"
#include "runtime.hpp"

namespace pp::helper {
namespace {

class Admission {
  public:
    bool enter(uid_t uid, int max_total, int max_per_caller) {
        std::lock_guard lock(m_);
        if (total_ >= max_total || per_uid_[uid] >= max_per_caller) return false;
        ++total_;
        ++per_uid_[uid];
        return true;
    }
    // True when this was the last login in progress.
    bool leave(uid_t uid) {
        std::lock_guard lock(m_);
        --total_;
        if (--per_uid_[uid] == 0) per_uid_.erase(uid);
        cv_.notify_all();
        return total_ == 0;
    }
    bool wait_idle(std::chrono::seconds limit) {
        std::unique_lock lock(m_);
        return cv_.wait_for(lock, limit, [this] { return total_ == 0; });
    }

  private:
    std::mutex m_;
    std::condition_variable cv_;
    int total_ = 0;
    std::map<uid_t, int> per_uid_;
};

void refuse_busy(int fd) {
    try {
        wire::Message r(wire::Type::Result);
        r.add(wire::Tag::Outcome, static_cast<std::uint32_t>(wire::Outcome::AuthinfoUnavail))
            .add(wire::Tag::Text, "Too many sign-ins at once; try again in a moment.");
        wire::send_message(fd, r);
    } catch (const std::exception&) {
    }
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
    // Where the limits are kept is read once: the counts must survive reloads as well as restarts.
    auto limits = std::make_shared<RateLimits>(
        runtime.load() ? runtime.load()->config.limits_state_file : std::string(kDefaultLimitsStateFile),
        runtime.load() ? runtime.load()->config.limits.state_max_bytes : LimitPolicy{}.state_max_bytes);
    for (;;) {
        pollfd fds[2] = {{listener.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
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
                    } catch (const std::exception& e) {
                        syslog(LOG_ERR, "new configuration refused, keeping the one in force: %s", e.what());
                    }
                } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                    syslog(LOG_INFO, "stopping");
                    listener.reset();
                    if (!admission->wait_idle(std::chrono::seconds(10)))
                        syslog(LOG_WARNING, "stopping with logins still in flight");
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
            const int max_total = rt ? rt->config.max_concurrent_logins : 8;
            const int max_caller = rt ? rt->config.max_concurrent_per_caller : 8;
            if (!admission->enter(peer.uid, max_total, max_caller)) {
                syslog(LOG_WARNING, "refused a login from uid %u: too many in flight",
                       static_cast<unsigned>(peer.uid));
                refuse_busy(conn.get());
                continue;
            }
            std::string err;
            {
                std::lock_guard lock(config_error_mutex);
                err = config_error;
            }
            std::thread([fd = std::move(conn), peer, rt = std::move(rt), err = std::move(err), admission,
                         limits]() mutable {
                run_connection(LoginContext{fd.get(), peer, std::move(rt), std::move(err), limits.get()});
                fd.reset();
                // OpenSSL frees a thread's own state (its random generators, its error queue) when the thread
                // ends, which may be after a stop has seen it leave and the process is exiting: free it now.
                // (Seen as leaks at exit under LeakSanitizer, scripts/test-sanitizers.sh.)
                OPENSSL_thread_stop();
                // The last login of a burst has ended: give back to the system what glibc's per-thread
                // arenas keep of the memory the burst freed, so that the helper returns to its idle size
                // (tests/load measures it).
                if (admission->leave(peer.uid)) ::malloc_trim(0);
            }).detach();
        }
    }
}

}  // namespace pp::helper
