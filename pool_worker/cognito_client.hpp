// The user pool's sign-in API as the helper uses it: InitiateAuth (USER_AUTH), RespondToAuthChallenge, the
// JWKS download, and the signed-in user's passkey management (spec §6).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth_requests.hpp"
#include "auth_step.hpp"
#include "deadline.hpp"
#include "endpoint.hpp"
#include "http_client.hpp"
#include "pool_types.hpp"
#include "secret.hpp"
#include "service_error.hpp"
#include "webauthn_management.hpp"

namespace pp::cognito {

// Thread-safe; one instance serves every request with the same settings, so their TLS connections are reused.
// The SECRET_HASH comes with each call when the root side computed it (the client secret stays with root), or
// from Endpoint::client_secret when one was given.
class Client final : public PoolApi {
  public:
    explicit Client(Endpoint ep);

    Step initiate_user_auth(std::string_view username, std::optional<std::string_view> preferred_challenge,
                            Deadline deadline, const UserContext& context = {}) override;
    Step respond(std::string_view challenge, const pp::Secret& session, std::string_view username,
                 const std::vector<std::pair<std::string, pp::Secret>>& answers, Deadline deadline,
                 const UserContext& context = {}) override;
    std::string fetch_jwks(Deadline deadline) override;
    OpenIdConfiguration fetch_openid_configuration(Deadline deadline) override;
    RegistrationStart start_webauthn_registration(const pp::Secret& access_token, Deadline deadline) override;
    void complete_webauthn_registration(const pp::Secret& access_token, std::string_view credential_json,
                                        Deadline deadline) override;
    // More than max_credential_pages pages or max_listed_credentials credentials in all is a Malformed
    // answer.
    std::vector<WebAuthnCredential> list_webauthn_credentials(const pp::Secret& access_token,
                                                              Deadline deadline) override;
    void delete_webauthn_credential(const pp::Secret& access_token, std::string_view credential_id,
                                    Deadline deadline) override;
    pp::Secret redeem_authorization_code(const pp::Secret& form_body, Deadline deadline) override;
    CallbackPageCheck fetch_callback_page(const std::string& page_url, Deadline deadline) override;

    // As above, with the SECRET_HASH given rather than computed here (the worker's: root computes it).
    Step initiate_user_auth(std::string_view username, std::optional<std::string_view> preferred_challenge,
                            const std::optional<pp::Secret>& secret_hash, Deadline deadline,
                            const UserContext& context);
    Step respond(std::string_view challenge, const pp::Secret& session, std::string_view username,
                 const std::vector<std::pair<std::string, pp::Secret>>& answers,
                 const std::optional<pp::Secret>& secret_hash, Deadline deadline, const UserContext& context);

    static constexpr int max_credential_pages = 32;

    // HttpClient::close_idle_connections.
    void close_idle_connections(std::chrono::steady_clock::time_point now) {
        http_.close_idle_connections(now);
    }

  private:
    Step call(std::string_view operation, const pp::Secret& body, Deadline deadline);
    // POSTs one operation and returns the body of its successful answer.
    pp::Secret post(std::string_view operation, const pp::Secret& body, Deadline deadline,
                    bool empty_body_ok);
    std::optional<pp::Secret> hash_for(std::string_view username) const;
    // Runs one HTTP request and tells ep_.on_contact (and the debug trace, naming it `what`) how it went.
    HttpResponse observed(std::string_view what, const std::function<HttpResponse()>& request) const;
    [[nodiscard]] bool debugging() const;
    std::string fetch_document(std::string_view what, const std::string& url, Deadline deadline);

    const Endpoint ep_;
    HttpClient http_;
};

}  // namespace pp::cognito
