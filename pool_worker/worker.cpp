#include "worker.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cognito_client.hpp"
#include "spent_stack.hpp"

namespace pp::pool {
namespace {

// What the request on this thread collects while the shared client works for it.
thread_local Reply* current = nullptr;
thread_local bool current_debugging = false;

// The settings that make a client: all but debugging, which is asked per request. Compared as they are,
// every request: a few KiB of memcmp at most (the CA's text), where a digest of them cost a hash and
// OpenSSL's algorithm fetch each time.
bool same_client(const Settings& a, const Settings& b) {
    return a.api_url == b.api_url && a.jwks_url == b.jwks_url && a.issuer == b.issuer &&
           a.client_id == b.client_id && a.proxy == b.proxy && a.request_timeout_ms == b.request_timeout_ms &&
           a.oauth_domain == b.oauth_domain && a.ca_pem == b.ca_pem;
}

// The clients of the last few settings: a reload on the root side brings new settings, and the old ones'
// connections are given up when they fall out.
class Clients {
  public:
    std::shared_ptr<cognito::Client> for_settings(const Settings& s) {
        std::lock_guard lock(mutex_);
        for (auto it = kept_.begin(); it != kept_.end(); ++it) {
            if (!same_client(it->first, s)) continue;
            kept_.splice(kept_.begin(), kept_, it);
            return kept_.front().second;
        }
        cognito::Endpoint ep;
        ep.api_url = s.api_url;
        ep.jwks_url = s.jwks_url;
        ep.issuer = s.issuer;
        ep.client_id = s.client_id;
        ep.ca_pem = s.ca_pem;
        ep.proxy = s.proxy;
        ep.oauth_domain = s.oauth_domain;
        ep.request_timeout = std::chrono::milliseconds(s.request_timeout_ms);
        ep.on_contact = [](bool answered, const std::string& why) {
            if (current) current->contacts.push_back(Contact{answered, why});
        };
        ep.debugging = [] { return current_debugging; };
        ep.debug = [](const std::string& line) {
            if (current && current->debug_lines.size() < 64) current->debug_lines.push_back(line);
        };
        kept_.emplace_front(s, std::make_shared<cognito::Client>(std::move(ep)));
        if (kept_.size() > kMaxKept) kept_.pop_back();
        return kept_.front().second;
    }

    void close_idle_connections(std::chrono::steady_clock::time_point now) {
        std::vector<std::shared_ptr<cognito::Client>> all;
        {
            std::lock_guard lock(mutex_);
            for (const auto& [settings, client] : kept_) all.push_back(client);
        }
        for (const auto& client : all) client->close_idle_connections(now);
    }

  private:
    static constexpr std::size_t kMaxKept = 4;
    std::mutex mutex_;
    std::list<std::pair<Settings, std::shared_ptr<cognito::Client>>> kept_;
};

Clients& clients() {
    static Clients c;
    return c;
}

// A decoy login's pause: nothing is sent anywhere, the answer comes when the time asked has passed (never
// after the caller's deadline), so that the helper's thread is woken by this process as a real answer wakes
// it (helper/pool_latency.hpp, LatencyWalk).
void pause(const Request& q) {
    const auto asked = std::min<std::chrono::microseconds>(std::chrono::microseconds(q.pause_us),
                                                           std::chrono::milliseconds(q.time_left_ms));
    std::this_thread::sleep_for(asked);
}

void run(const Request& q, Reply& reply) {
    if (q.op == Op::Pause) return pause(q);
    const auto client = clients().for_settings(q.settings);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(q.time_left_ms);
    std::optional<std::string_view> preferred;
    if (q.preferred_challenge) preferred = *q.preferred_challenge;
    switch (q.op) {
        case Op::InitiateAuth:
            reply.step =
                client->initiate_user_auth(q.username, preferred, q.secret_hash, deadline, q.context);
            return;
        case Op::Respond:
            reply.step = client->respond(q.challenge, q.session, q.username, q.answers, q.secret_hash,
                                         deadline, q.context);
            return;
        case Op::FetchJwks:
            reply.document = client->fetch_jwks(deadline);
            return;
        case Op::FetchOpenIdConfiguration:
            reply.openid = client->fetch_openid_configuration(deadline);
            return;
        case Op::StartRegistration:
            reply.registration = client->start_webauthn_registration(q.access_token, deadline);
            return;
        case Op::CompleteRegistration:
            client->complete_webauthn_registration(q.access_token, q.credential_json, deadline);
            return;
        case Op::ListCredentials:
            reply.credentials = client->list_webauthn_credentials(q.access_token, deadline);
            return;
        case Op::DeleteCredential:
            client->delete_webauthn_credential(q.access_token, q.credential_id, deadline);
            return;
        case Op::RedeemAuthorizationCode:
            reply.id_token = client->redeem_authorization_code(q.form_body, deadline);
            return;
        case Op::FetchCallbackPage:
            reply.callback = client->fetch_callback_page(q.callback_url, deadline);
            return;
        case Op::Pause:  // above
            return;
    }
}

}  // namespace

void close_idle_connections() {
    clients().close_idle_connections(std::chrono::steady_clock::now());
}

Reply carry_out(const Request& q) {
    Reply reply;
    current = &reply;
    current_debugging = q.settings.debugging;
    try {
        run(q, reply);
    } catch (const cognito::ServiceError& e) {
        reply.error = e;
    } catch (const std::invalid_argument& e) {
        // Text the pool's JSON cannot carry (not UTF-8, a name it reserves): the request was never sent.
        reply.error = cognito::ServiceError(cognito::Failure::Malformed, "InvalidRequest", e.what());
    } catch (const std::exception& e) {
        reply.error = cognito::ServiceError(cognito::Failure::Unreachable, "", e.what());
    }
    current = nullptr;
    current_debugging = false;
    return reply;
}

namespace {

// One request on the connection; its own frame, so that what it left on the stack lies below the caller's.
[[gnu::noinline]] void serve_request(int fd, std::chrono::steady_clock::time_point request_by) {
    const Secret bytes = receive_frame(fd, request_by);
    const Request q = decode_request(bytes.view());
    Reply reply = carry_out(q);
    reply.kept_for_ms = kKeptForMs;
    send_frame(fd, encode_reply(reply), std::chrono::steady_clock::now() + std::chrono::seconds(5));
}

// Waits for the next request's first byte, or the peer's hang-up; false when none comes in time.
bool next_request(int fd) {
    pollfd p{fd, POLLIN, 0};
    for (;;) {
        const int r = ::poll(&p, 1, static_cast<int>(kKeptForMs));
        if (r < 0 && errno == EINTR) continue;
        // A hang-up with nothing to read is the usual end; what it still sent is read and refused below.
        return r > 0 && (p.revents & POLLIN) != 0;
    }
}

}  // namespace

void serve_connection(int fd, const std::function<void(bool waiting)>& waiting) noexcept {
    try {
        // The root side gives each request its deadline; the wait for the request itself is short, as the
        // root side writes it at once, whole.
        for (;;) {
            serve_request(fd, std::chrono::steady_clock::now() + std::chrono::seconds(5));
            // The request's codes, sessions and tokens do not wait on this thread's stack for the next one.
            wipe_spent_stack();
            waiting(true);
            if (!next_request(fd)) break;
            waiting(false);
        }
    } catch (const std::exception&) {
        // A peer that breaks the protocol or goes away gets nothing more.
    }
    ::close(fd);
}

}  // namespace pp::pool
