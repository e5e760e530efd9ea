// What the user pool's answers mean once they are read, and the calls the root helper makes of the pool.
//
// Both sides of the trust boundary use these types: the network worker (pool_worker/) reads the pool's JSON
// into them, and the root helper receives them as typed messages (pool_worker/pool_protocol.hpp) and never
// parses what the network sent, but for the ID token it verifies itself (token_verifier.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "deadline.hpp"
#include "secret.hpp"
#include "service_error.hpp"
#include "webauthn_json.hpp"

namespace pp::cognito {

// UserContextData (UserContextDataType in the service model): what the pool's threat protection learns about
// the person's device. Only the source address is sent; nothing is sent when it is absent.
struct UserContext {
    std::optional<std::string> ip_address;
};

// One answer of InitiateAuth or RespondToAuthChallenge: the next challenge, or the tokens (spec §2.3, §3.5).
struct Step {
    std::string challenge;  // ChallengeName; empty when signed in
    pp::Secret session;
    // ChallengeParameters, but for CREDENTIAL_REQUEST_OPTIONS: that JSON is read where the answer is read,
    // into request_options, or request_options_error says why it could not be.
    std::map<std::string, std::string> parameters;
    std::vector<std::string> available;                // AvailableChallenges
    std::optional<pp::Secret> id_token, access_token;  // from AuthenticationResult when signed in
    std::optional<webauthn::RequestOptions> request_options;
    std::string request_options_error;
    // When the helper received this answer (the helper's pool client sets it; epoch: not known): the age of
    // the Session at the next answer, which the pool judges against its AuthSessionValidity.
    std::chrono::steady_clock::time_point received{};
};

// StartWebAuthnRegistration's answer.
struct RegistrationStart {
    webauthn::CreationOptions options;
    std::string options_json;  // the CredentialCreationOptions object as received (re-serialised compactly)
};

// One WebAuthnCredentialDescription. Text meant for people has control characters replaced by '?'.
struct WebAuthnCredential {
    std::string credential_id;  // as listed; DeleteWebAuthnCredential takes it back unchanged
    std::string friendly_name;
    std::string relying_party_id;
    std::string attachment;  // "platform", "cross-platform" or empty when not given
    std::vector<std::string> transports;
    double created_at = 0;  // seconds since the epoch, with fraction; 0 when not given
};

// The pool's OpenID Connect Discovery document, as far as check-config --online reads it.
struct OpenIdConfiguration {
    std::string issuer;
    std::optional<std::string> jwks_uri;
    // The managed login's endpoints (spec §8.4), for [browser]: they must be on its domain.
    std::optional<std::string> authorization_endpoint, token_endpoint;
};

// check-config --online's look at [browser] redirect_uri (the callback page, callback/) and the pool.json
// beside it, as typed facts: the network worker fetches both and reads them; the root side compares.
struct CallbackPageCheck {
    long page_status = 0;           // the HTTP status of GET redirect_uri
    bool page_is_callback = false;  // a 200 answer of at most kMaxCallbackBody bytes holding kCallbackMarker
    long pool_json_status = 0;  // the HTTP status of GET callback_pool_json_url(redirect_uri); 0: no answer
    // A 200 pool.json that callback.js's checkPool accepts: its values (charsets checked, see below).
    std::optional<std::string> domain, client_id;
    std::vector<std::string> scopes;
    // Why pool.json could not be had or read (no answer, too large, not JSON, a value checkPool refuses);
    // empty when it was read, or when it answered other than 200.
    std::string pool_json_error;
};

// The marker only this project's callback page holds (callback/index.html).
inline constexpr std::string_view kCallbackMarker = R"(<meta name="pam-passwordless-callback" content="1">)";
inline constexpr std::size_t kMaxCallbackBody = 64 * 1024;

// The URL the callback page reads its pool.json from: "pool.json" resolved against the page's address (its
// folder), as callback.js's fetch does.
inline std::string callback_pool_json_url(std::string_view page) {
    page = page.substr(0, page.find_first_of("?#"));
    const auto scheme = page.find("://");
    const auto path = page.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
    if (path == std::string_view::npos) return std::string(page) + "/pool.json";
    return std::string(page.substr(0, page.rfind('/') + 1)) + "pool.json";
}

// pool.json's values as callback.js's checkPool accepts them.
inline bool callback_domain_ok(std::string_view s) {
    const auto colon = s.find(':');
    const std::string_view host = s.substr(0, colon);
    if (host.empty() || host.size() > 253) return false;
    for (const char ch : host)
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '-'))
            return false;
    if (colon == std::string_view::npos) return true;
    const std::string_view port = s.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (const char ch : port)
        if (ch < '0' || ch > '9') return false;
    return true;
}
inline bool callback_client_id_ok(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    for (const char ch : s)
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '+'))
            return false;
    return true;
}
inline bool callback_scope_ok(std::string_view s) {
    if (s.empty() || s.size() > 256) return false;
    for (const char ch : s)
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              std::string_view("._:/+-").find(ch) != std::string_view::npos))
            return false;
    return true;
}
inline constexpr std::size_t kMaxCallbackScopes = 16;

// The user pool's sign-in API as the helper uses it (spec §2, §3, §6). The network worker's Client speaks it
// over HTTPS; the root helper's is the worker's client (helper/pool_client.hpp). Every call throws
// ServiceError when no usable answer arrives by the deadline, and std::invalid_argument for text that is not
// valid UTF-8.
class PoolApi {
  public:
    virtual ~PoolApi() = default;

    // context: the person's address for the pool's threat protection (see UserContext).
    virtual Step initiate_user_auth(std::string_view username,
                                    std::optional<std::string_view> preferred_challenge, Deadline deadline,
                                    const UserContext& context = {}) = 0;
    // Adds USERNAME and, when the client has a secret, SECRET_HASH over that username to the answers.
    virtual Step respond(std::string_view challenge, const pp::Secret& session, std::string_view username,
                         const std::vector<std::pair<std::string, pp::Secret>>& answers, Deadline deadline,
                         const UserContext& context = {}) = 0;
    // GET jwks_url; returns the body, which is a JSON object (the root side reads it: see TokenVerifier).
    virtual std::string fetch_jwks(Deadline deadline) = 0;
    // GET <issuer>/.well-known/openid-configuration (OpenID Connect Discovery), read. An answer without an
    // issuer, or not an object, throws ServiceError(Malformed) named kNotOpenIdConfiguration.
    virtual OpenIdConfiguration fetch_openid_configuration(Deadline deadline) = 0;

    // The passkey operations, authorised by the access token of a sign-in (Step::access_token).
    virtual RegistrationStart start_webauthn_registration(const pp::Secret& access_token,
                                                          Deadline deadline) = 0;
    // credential_json: registration_response_json's result; anything but one JSON object throws
    // std::invalid_argument and nothing is sent. The pool answers 200 with an empty body or {}.
    virtual void complete_webauthn_registration(const pp::Secret& access_token,
                                                std::string_view credential_json, Deadline deadline) = 0;
    // Follows NextToken to the end, all pages within the one deadline.
    virtual std::vector<WebAuthnCredential> list_webauthn_credentials(const pp::Secret& access_token,
                                                                      Deadline deadline) = 0;
    // credential_id as list_webauthn_credentials gave it. An unknown id is Rejected
    // (ResourceNotFoundException).
    virtual void delete_webauthn_credential(const pp::Secret& access_token, std::string_view credential_id,
                                            Deadline deadline) = 0;

    // Browser sign-in (managed login, spec §6): POSTs form_body (application/x-www-form-urlencoded, from
    // browser::Transaction::token_request_body) to https://<[browser] domain>/oauth2/token and returns the
    // id_token alone; the access and refresh tokens are wiped where they were read and never passed on.
    // A wrong, spent, expired or foreign code (or verifier) throws ServiceError(Rejected) named
    // kInvalidGrant; the endpoint's other errors are Rejected under their OAuth names (invalid_client,
    // unauthorized_client, invalid_request, ...: see is_oauth_misconfiguration), HTTP 429 is Rejected as
    // TooManyRequestsException, and the transport failures are as for every call. No [browser] domain
    // configured: ServiceError(Malformed) and nothing is sent.
    virtual pp::Secret redeem_authorization_code(const pp::Secret& form_body, Deadline deadline) = 0;

    // check-config --online: GET page_url (the callback page) and callback_pool_json_url(page_url), no
    // redirect followed, each body bounded by kMaxCallbackBody; read into facts. No answer from the page
    // throws ServiceError as for every call; pool.json's is told in pool_json_error.
    virtual CallbackPageCheck fetch_callback_page(const std::string& page_url, Deadline deadline) = 0;

    // A decoy login's pause (helper/pool_latency.hpp): returns at `until` and sends nothing to the pool. The
    // root helper's client has the network worker answer then, so that the caller's thread is woken as the
    // pool's answers wake it; this default sleeps in the caller's thread.
    virtual void wait_until(Deadline until) { std::this_thread::sleep_until(until); }
};

inline constexpr std::string_view kNotOpenIdConfiguration = "NotOpenIdConfiguration";

}  // namespace pp::cognito
