#include "pool_client.hpp"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "pool_health.hpp"
#include "secret_hash.hpp"

#ifndef PP_POOL_WORKER_PATH
#define PP_POOL_WORKER_PATH "/usr/libexec/pam-passwordless/pam-passwordless-pool"
#endif

namespace pp::helper {
namespace {

using cognito::Failure;
using cognito::ServiceError;

// Debian's nobody and nogroup: fixed numbers (base-passwd), so no name lookup is needed, which the tests'
// nss_wrapper would answer from its own files.
constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

[[noreturn]] void unreachable(const std::string& why) {
    throw ServiceError(Failure::Unreachable, "", "network worker: " + why);
}

class SocketLink final : public WorkerLink {
  public:
    explicit SocketLink(std::string path) : path_(std::move(path)) {}

    UniqueFd connect() override {
        sockaddr_un addr{};
        if (path_.size() >= sizeof addr.sun_path) unreachable("socket path too long: " + path_);
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd) unreachable(std::string("socket: ") + std::strerror(errno));
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
            unreachable("connect " + path_ + ": " + std::strerror(errno));
        return fd;
    }

  private:
    const std::string path_;
};

class SpawnedLink final : public WorkerLink {
  public:
    explicit SpawnedLink(std::string program) : program_(std::move(program)) {}

    ~SpawnedLink() override {
        std::lock_guard lock(mutex_);
        stop();
    }

    UniqueFd connect() override {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
            unreachable(std::string("socketpair: ") + std::strerror(errno));
        UniqueFd ours(pair[0]), theirs(pair[1]);
        std::lock_guard lock(mutex_);
        // A worker that died is started again, once per connection asked for.
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (!control_) start();
            if (hand_over(theirs.get())) return ours;
            stop();
        }
        unreachable("the worker does not take connections");
    }

  private:
    bool hand_over(int fd) {
        char byte = 'c';
        iovec iov{&byte, 1};
        alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int))]{};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = space;
        msg.msg_controllen = sizeof space;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
        for (;;) {
            if (::sendmsg(control_.get(), &msg, MSG_NOSIGNAL) == 1) return true;
            if (errno != EINTR) return false;
        }
    }

    void start() {
        if (::access(program_.c_str(), X_OK) != 0)
            unreachable("cannot run " + program_ + ": " + std::strerror(errno));
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
            unreachable(std::string("socketpair: ") + std::strerror(errno));
        UniqueFd ours(pair[0]), theirs(pair[1]);
        const bool as_root = ::geteuid() == 0;
        const char* const argv[] = {"pam-passwordless-pool", "--fd", "3", nullptr};
        // An empty environment: nothing of the helper's caller or of the helper reaches the worker. A build
        // with the sanitizers passes their settings on, so the worker's reports land where the tests look.
        std::vector<const char*> envp;
#if defined(__SANITIZE_ADDRESS__)
        for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
            for (char** e = environ; *e != nullptr; ++e)
                if (std::strncmp(*e, name, std::strlen(name)) == 0 && (*e)[std::strlen(name)] == '=')
                    envp.push_back(*e);
#endif
        envp.push_back(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0) unreachable(std::string("fork: ") + std::strerror(errno));
        if (pid == 0) {
            // Only async-signal-safe calls from here to exec: this process has other threads.
            sigset_t none;
            ::sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the helper blocks the signals it waits for
            if (::dup2(theirs.get(), 3) != 3) ::_exit(127);
            ::close_range(4, ~0U, 0);
            if (as_root) {
                if (::setgroups(0, nullptr) != 0 || ::setresgid(kNogroup, kNogroup, kNogroup) != 0 ||
                    ::setresuid(kNobody, kNobody, kNobody) != 0)
                    ::_exit(126);
                // No way back.
                if (::setuid(0) == 0) ::_exit(126);
            }
            ::execve(program_.c_str(), const_cast<char* const*>(argv), const_cast<char* const*>(envp.data()));
            ::_exit(127);
        }
        pid_ = pid;
        control_ = std::move(ours);
    }

    void stop() noexcept {
        control_.reset();  // a worker ends when it reads the end of this socket
        if (pid_ > 0) {
            // One that does not (it hangs, or it is no longer the program it was) must not hold this thread.
            ::kill(pid_, SIGKILL);
            while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
            }
            pid_ = -1;
        }
    }

    const std::string program_;
    std::mutex mutex_;
    UniqueFd control_;
    pid_t pid_ = -1;
};

std::mutex link_mutex;
std::string link_socket;  // under link_mutex
std::shared_ptr<WorkerLink> the_link;

}  // namespace

UniqueFd WorkerLink::take() {
    const auto now = std::chrono::steady_clock::now();
    for (;;) {
        UniqueFd fd;
        {
            std::lock_guard lock(kept_mutex_);
            if (kept_.empty()) break;
            Kept k = std::move(kept_.back());
            kept_.pop_back();
            if (now >= k.until) continue;  // closed here, unused
            fd = std::move(k.fd);
        }
        // Nothing may be waiting on a kept connection: the worker's end (it hung up) or bytes it sent unasked
        // (a worker that did would have its next reply read out of step). Either way it is not used.
        pollfd p{fd.get(), POLLIN, 0};
        if (::poll(&p, 1, 0) == 0) return fd;
    }
    return connect();
}

void WorkerLink::keep(UniqueFd fd, std::chrono::milliseconds kept_for) {
    if (!fd || kept_for.count() <= 0) return;
    // Half the worker's time: a request sent then is read long before the worker would give up on it.
    const auto now = std::chrono::steady_clock::now();
    const auto until = now + kept_for / 2;
    const std::vector<Kept> expired = [&] {
        std::lock_guard lock(kept_mutex_);
        auto gone = take_expired(now);
        if (kept_.size() < kMaxKept) kept_.push_back(Kept{std::move(fd), until});
        return gone;
    }();
}

// The most recent are taken first (take()), so those whose time passes are at the front. Returned to be
// closed once kept_mutex_ is released.
std::vector<WorkerLink::Kept> WorkerLink::take_expired(std::chrono::steady_clock::time_point now) {
    std::size_t n = 0;
    while (n < kept_.size() && kept_[n].until <= now) ++n;
    std::vector<Kept> expired(std::make_move_iterator(kept_.begin()),
                              std::make_move_iterator(kept_.begin() + static_cast<std::ptrdiff_t>(n)));
    kept_.erase(kept_.begin(), kept_.begin() + static_cast<std::ptrdiff_t>(n));
    return expired;
}

bool WorkerLink::close_expired(std::chrono::steady_clock::time_point now) {
    std::vector<Kept> expired;
    std::lock_guard lock(kept_mutex_);
    expired = take_expired(now);
    return !kept_.empty();
}

std::shared_ptr<WorkerLink> WorkerLink::at_socket(std::string path) {
    return std::make_shared<SocketLink>(std::move(path));
}

std::shared_ptr<WorkerLink> WorkerLink::spawned(std::string worker_path) {
    return std::make_shared<SpawnedLink>(std::move(worker_path));
}

std::string default_worker_path() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const auto beside = self.parent_path() / "pam-passwordless-pool";
        if (std::filesystem::exists(beside, ec)) return beside.string();
    }
    return PP_POOL_WORKER_PATH;
}

void use_worker_socket(std::string path) {
    std::lock_guard lock(link_mutex);
    link_socket = std::move(path);
    the_link.reset();
}

std::shared_ptr<WorkerLink> worker_link() {
    std::lock_guard lock(link_mutex);
    if (!the_link)
        the_link = link_socket.empty() ? WorkerLink::spawned(default_worker_path())
                                       : WorkerLink::at_socket(link_socket);
    return the_link;
}

bool close_expired_worker_connections() {
    std::shared_ptr<WorkerLink> link;
    {
        std::lock_guard lock(link_mutex);
        link = the_link;
    }
    return link && link->close_expired(std::chrono::steady_clock::now());
}

PoolClient::PoolClient(PoolSettings settings, std::shared_ptr<WorkerLink> link)
    : settings_(std::move(settings)), link_(std::move(link)) {}

pool::Request PoolClient::request(pool::Op op, Deadline deadline) const {
    pool::Request q;
    q.op = op;
    q.settings = settings_.wire;
    q.settings.debugging = settings_.debug && settings_.debugging && settings_.debugging();
    q.time_left_ms = static_cast<std::uint32_t>(pp::time_left(deadline).count());
    return q;
}

std::optional<Secret> PoolClient::hash_for(std::string_view username) const {
    if (!settings_.client_secret) return std::nullopt;
    return cognito::secret_hash(username, settings_.wire.client_id, *settings_.client_secret);
}

pool::Reply PoolClient::exchange(const pool::Request& q, Deadline deadline) {
    if (pp::time_left(deadline).count() == 0)
        throw ServiceError(Failure::Timeout, "", "the login's time ran out before the request");
    // What a login's own requests meet tells the decoy how the pool is (pool_health.hpp). A timeout says the
    // pool was too slow only of a request that had its whole request time.
    const bool login_request = q.op == pool::Op::InitiateAuth || q.op == pool::Op::Respond;
    const auto started = std::chrono::steady_clock::now();
    const bool full_time =
        pp::time_left(deadline) >= std::chrono::milliseconds(q.settings.request_timeout_ms);
    const auto failed = [&](const ServiceError& e) {
        if (!login_request) return;
        const auto now = std::chrono::steady_clock::now();
        pool_health().failed(e, std::chrono::duration_cast<std::chrono::microseconds>(now - started),
                             full_time, now);
    };
    pool::Reply reply;
    try {
        UniqueFd fd = link_->take();
        pool::send_frame(fd.get(), pool::encode_request(q), deadline);
        // The worker answers by the deadline it was given, and each of its HTTPS requests ends at the request
        // timeout: a worker silent past both (hung, or taken over) costs the login no more than an
        // unanswering pool would. Only a list of credentials (one per page) and the callback page (and its
        // pool.json) take several requests. A moment more for the answer to travel.
        auto wait = deadline;
        if (q.op != pool::Op::ListCredentials && q.op != pool::Op::FetchCallbackPage)
            wait = std::min(deadline, std::chrono::steady_clock::now() +
                                          std::chrono::milliseconds(q.settings.request_timeout_ms) +
                                          std::chrono::seconds(1));
        bool bytes_followed = false;
        const Secret bytes = pool::receive_frame(fd.get(), wait + std::chrono::milliseconds(500),
                                                 &bytes_followed, pool::max_reply_size(q.op));
        reply = pool::decode_reply(bytes.view(), q.op);
        // Read whole and in step: the connection may carry the next request. One on which the worker wrote
        // more than its answer is closed (the surplus is never read as the next answer).
        if (!bytes_followed) link_->keep(std::move(fd), std::chrono::milliseconds(reply.kept_for_ms));
    } catch (const pool::ProtocolError& e) {
        const bool late = std::chrono::steady_clock::now() >= deadline;
        if (settings_.on_contact) settings_.on_contact(false, std::string("network worker: ") + e.what());
        const ServiceError failure(late ? Failure::Timeout : Failure::Unreachable, "",
                                   std::string("network worker: ") + e.what());
        failed(failure);
        throw failure;
    } catch (const ServiceError& e) {
        if (settings_.on_contact) settings_.on_contact(false, e.message());
        failed(e);
        throw;
    }
    for (const auto& c : reply.contacts)
        if (settings_.on_contact) settings_.on_contact(c.answered, c.why);
    if (settings_.debug)
        for (const auto& line : reply.debug_lines) settings_.debug(line);
    if (reply.error && reply.error->name() != "InvalidRequest")
        failed(*reply.error);
    else if (!reply.error && login_request)
        pool_health().answered(std::chrono::steady_clock::now());
    if (reply.error) {
        // Text the pool's JSON cannot carry was refused before anything was sent, as the client in this
        // process did: the callers tell the person, not the pool's status.
        if (reply.error->name() == "InvalidRequest") throw std::invalid_argument(reply.error->message());
        throw *reply.error;
    }
    return reply;
}

cognito::Step PoolClient::initiate_user_auth(std::string_view username,
                                             std::optional<std::string_view> preferred_challenge,
                                             Deadline deadline, const cognito::UserContext& context) {
    auto q = request(pool::Op::InitiateAuth, deadline);
    q.username = username;
    if (preferred_challenge) q.preferred_challenge = std::string(*preferred_challenge);
    q.context = context;
    q.secret_hash = hash_for(username);
    auto step = std::move(*exchange(q, deadline).step);
    step.received = std::chrono::steady_clock::now();
    return step;
}

cognito::Step PoolClient::respond(std::string_view challenge, const Secret& session,
                                  std::string_view username,
                                  const std::vector<std::pair<std::string, Secret>>& answers,
                                  Deadline deadline, const cognito::UserContext& context) {
    auto q = request(pool::Op::Respond, deadline);
    q.challenge = challenge;
    q.session = session;
    q.username = username;
    q.answers = answers;
    q.context = context;
    q.secret_hash = hash_for(username);
    auto step = std::move(*exchange(q, deadline).step);
    step.received = std::chrono::steady_clock::now();
    return step;
}

std::string PoolClient::fetch_jwks(Deadline deadline) {
    return std::move(exchange(request(pool::Op::FetchJwks, deadline), deadline).document);
}

cognito::OpenIdConfiguration PoolClient::fetch_openid_configuration(Deadline deadline) {
    return std::move(*exchange(request(pool::Op::FetchOpenIdConfiguration, deadline), deadline).openid);
}

cognito::RegistrationStart PoolClient::start_webauthn_registration(const Secret& access_token,
                                                                   Deadline deadline) {
    auto q = request(pool::Op::StartRegistration, deadline);
    q.access_token = access_token;
    return std::move(*exchange(q, deadline).registration);
}

void PoolClient::complete_webauthn_registration(const Secret& access_token, std::string_view credential_json,
                                                Deadline deadline) {
    auto q = request(pool::Op::CompleteRegistration, deadline);
    q.access_token = access_token;
    q.credential_json = credential_json;
    exchange(q, deadline);
}

std::vector<cognito::WebAuthnCredential> PoolClient::list_webauthn_credentials(const Secret& access_token,
                                                                               Deadline deadline) {
    auto q = request(pool::Op::ListCredentials, deadline);
    q.access_token = access_token;
    return std::move(exchange(q, deadline).credentials);
}

Secret PoolClient::redeem_authorization_code(const Secret& form_body, Deadline deadline) {
    // Only a configured [browser] domain is ever the target; without one nothing is sent.
    if (settings_.wire.oauth_domain.empty())
        throw ServiceError(Failure::Malformed, "", "browser sign-in is not configured ([browser] domain)");
    auto q = request(pool::Op::RedeemAuthorizationCode, deadline);
    q.form_body = form_body;
    return std::move(*exchange(q, deadline).id_token);
}

cognito::CallbackPageCheck PoolClient::fetch_callback_page(const std::string& page_url, Deadline deadline) {
    auto q = request(pool::Op::FetchCallbackPage, deadline);
    q.callback_url = page_url;
    return std::move(*exchange(q, deadline).callback);
}

void PoolClient::wait_until(Deadline until) {
    const auto asked = std::max(
        std::chrono::microseconds(0),
        std::chrono::duration_cast<std::chrono::microseconds>(until - std::chrono::steady_clock::now()));
    try {
        // As long as a real request may take past the pause: a stalled worker holds the decoy as it holds a
        // real login.
        const Deadline deadline = until + std::chrono::milliseconds(settings_.wire.request_timeout_ms);
        auto q = request(pool::Op::Pause, deadline);
        q.pause_us = static_cast<std::uint32_t>(
            std::min<std::int64_t>(asked.count(), std::numeric_limits<std::uint32_t>::max()));
        exchange(q, deadline);
    } catch (const std::exception&) {
        // No worker (an outage the real logins report): the pause still lasts its time.
    }
    std::this_thread::sleep_until(until);
}

void PoolClient::delete_webauthn_credential(const Secret& access_token, std::string_view credential_id,
                                            Deadline deadline) {
    auto q = request(pool::Op::DeleteCredential, deadline);
    q.access_token = access_token;
    q.credential_id = credential_id;
    exchange(q, deadline);
}

}  // namespace pp::helper
