// The root helper's way to the user pool: through the network worker (pam-passwordless-pool), which alone
// speaks HTTPS and reads the pool's JSON. The root helper sends typed requests and gets typed answers back
// (pool_worker/protocol/pool_protocol.hpp); it keeps the client secret (it sends SECRET_HASH) and reads no
// byte the network sent but the ID token and key set it checks itself (TokenVerifier).
//
// The trust boundary: a worker taken over by whoever controls the network path can refuse or delay every
// login (as a network outage would), see the sessions, codes and tokens that pass through it, and lie about
// what the pool said. It also sees each decoy login's pauses (pool::Op::Pause, which names nobody) and could
// delay them to set decoys apart; but who is enrolled it learns from the pool's answers anyway, and it has
// the network to tell it. Every sign-in ends in an ID token that root verifies itself, against the pool's
// keys: fetched through the worker, a compromised worker could serve its own keys and mint tokens root
// accepts for any account the identity map binds; pinned in a root-owned file ([pool] jwks_file), it cannot.
// Browser sign-in (redeem_authorization_code) is the same: the worker sees the authorization code and the
// tokens the token endpoint returns, never a secret (the browser's app client is public, PKCE protects the
// code), and hands root the ID token alone, which root verifies. It can never read or write anything of the
// machine's (credential store, limits, identity map, client secret) nor choose the local account a token
// binds to.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pool_protocol.hpp"
#include "pool_types.hpp"
#include "secret.hpp"
#include "unique_fd.hpp"

namespace pp::helper {

// How the root helper reaches the worker: a socket systemd listens on for the worker's unit
// (pam-passwordless-pool.socket), or a worker this helper starts itself and hands each connection to.
class WorkerLink {
  public:
    virtual ~WorkerLink() = default;
    // A new connection. Throws cognito::ServiceError(Unreachable) when there is no worker.
    virtual UniqueFd connect() = 0;

    // A connection for one request: one the worker kept after its last reply (keep()), else a new one. A kept
    // connection is not taken once half of the time the worker said it keeps it has passed, nor when the
    // worker hung up or sent anything on it since (a worker holds nothing over from one request to the next).
    UniqueFd take();
    // After a reply read whole that said the worker keeps the connection for `kept_for`: kept for the next
    // request (at most kMaxKept at once; the rest are closed, which frees the worker's thread on them).
    void keep(UniqueFd fd, std::chrono::milliseconds kept_for);
    // As many as the worker keeps HTTPS connections (pool_worker/http_client.cpp): at a few hundred logins in
    // flight, a new connection per request cost a socket pair, a hand-over and a worker thread's start.
    static constexpr std::size_t kMaxKept = 256;
    // Closes the kept connections whose time has passed (the worker has closed its end by then, or will);
    // true while some are still kept. The helper's main loop calls it while idle, so that a burst's
    // connections are not held until the next login.
    bool close_expired(std::chrono::steady_clock::time_point now);

    static std::shared_ptr<WorkerLink> at_socket(std::string path);
    // Started at the first connect() (and again if it dies), as the user `nobody` when this process is root,
    // with an empty environment, no descriptor but its own, no new privileges. worker_path: the program.
    static std::shared_ptr<WorkerLink> spawned(std::string worker_path);

  private:
    struct Kept {
        UniqueFd fd;
        std::chrono::steady_clock::time_point until;
    };
    std::vector<Kept> take_expired(std::chrono::steady_clock::time_point now);  // under kept_mutex_
    std::mutex kept_mutex_;
    std::vector<Kept> kept_;  // under kept_mutex_; the most recently kept last
};

// The program: beside this one (a build tree), else where the package installs it.
std::string default_worker_path();

// The one link every configuration of this process uses: --pool-socket PATH given to the helper, or a worker
// the helper spawns. Set once at start; tests and one-shot commands get the spawned one.
void use_worker_socket(std::string path);
std::shared_ptr<WorkerLink> worker_link();
// WorkerLink::close_expired on the link, if one was made; false when none is made or none is kept.
bool close_expired_worker_connections();

struct PoolSettings {
    pool::Settings wire;  // all but debugging, which is asked each time
    std::optional<Secret> client_secret;
    std::function<void(bool answered, const std::string& why)> on_contact;
    std::function<bool()> debugging;
    std::function<void(const std::string& line)> debug;
};

class PoolClient final : public cognito::PoolApi {
  public:
    PoolClient(PoolSettings settings, std::shared_ptr<WorkerLink> link);

    cognito::Step initiate_user_auth(std::string_view username,
                                     std::optional<std::string_view> preferred_challenge, Deadline deadline,
                                     const cognito::UserContext& context = {}) override;
    cognito::Step respond(std::string_view challenge, const Secret& session, std::string_view username,
                          const std::vector<std::pair<std::string, Secret>>& answers, Deadline deadline,
                          const cognito::UserContext& context = {}) override;
    std::string fetch_jwks(Deadline deadline) override;
    cognito::OpenIdConfiguration fetch_openid_configuration(Deadline deadline) override;
    cognito::RegistrationStart start_webauthn_registration(const Secret& access_token,
                                                           Deadline deadline) override;
    void complete_webauthn_registration(const Secret& access_token, std::string_view credential_json,
                                        Deadline deadline) override;
    std::vector<cognito::WebAuthnCredential> list_webauthn_credentials(const Secret& access_token,
                                                                       Deadline deadline) override;
    void delete_webauthn_credential(const Secret& access_token, std::string_view credential_id,
                                    Deadline deadline) override;
    Secret redeem_authorization_code(const Secret& form_body, Deadline deadline) override;
    cognito::CallbackPageCheck fetch_callback_page(const std::string& page_url, Deadline deadline) override;
    // Through the worker (pool::Op::Pause): the login thread is woken by the worker's answer, as after a
    // request to the pool, not by a timer of its own (after a timer alone the machine's CPUs are idle, and
    // the next wake-up, the person's prompt, took ~0.15 ms longer: enough to tell a decoy apart over 50
    // logins, bench/README.md). A time already past is asked too (a real step always waits for the worker's
    // answer). When the worker cannot answer, the thread sleeps until `until` itself.
    void wait_until(Deadline until) override;

  private:
    pool::Request request(pool::Op op, Deadline deadline) const;
    std::optional<Secret> hash_for(std::string_view username) const;
    // Sends the request, waits for the answer until the deadline, tells on_contact and debug what the worker
    // saw, and throws the pool's failure as the worker reported it.
    pool::Reply exchange(const pool::Request& request, Deadline deadline);

    const PoolSettings settings_;
    const std::shared_ptr<WorkerLink> link_;
};

}  // namespace pp::helper
