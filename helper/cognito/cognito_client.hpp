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
#include "secret.hpp"
#include "service_error.hpp"
#include "webauthn_management.hpp"

namespace pp::cognito {

// Thread-safe; one instance is shared by all logins so their TLS connections are reused. Every call throws
// ServiceError when no usable answer arrives by the deadline (see Failure), and std::invalid_argument for
// text that is not valid UTF-8.
class Client {
  public:
    explicit Client(Endpoint ep);

    // context: the person's address for the pool's threat protection (see UserContext).
    Step initiate_user_auth(std::string_view username, std::optional<std::string_view> preferred_challenge,
                            Deadline deadline, const UserContext& context = {});
    // Adds USERNAME and, when the client has a secret, SECRET_HASH over that username to the answers.
    Step respond(std::string_view challenge, const pp::Secret& session, std::string_view username,
                 const std::vector<std::pair<std::string, pp::Secret>>& answers, Deadline deadline,
                 const UserContext& context = {});
    // GET jwks_url; returns the body, which is a JSON object.
    std::string fetch_jwks(Deadline deadline);
    // GET <issuer>/.well-known/openid-configuration (OpenID Connect Discovery): the pool's own account of its
    // issuer and key set, for check-config --online. Returns the body, which is a JSON object.
    std::string fetch_openid_configuration(Deadline deadline);

    // The passkey operations, authorised by the access token of a sign-in (Step::access_token).
    RegistrationStart start_webauthn_registration(const pp::Secret& access_token, Deadline deadline);
    // credential_json: registration_response_json's result; anything but one JSON object throws
    // std::invalid_argument and nothing is sent. The pool answers 200 with an empty body or {}.
    void complete_webauthn_registration(const pp::Secret& access_token, std::string_view credential_json,
                                        Deadline deadline);
    // Follows NextToken to the end, all pages within the one deadline. More than max_credential_pages pages
    // or max_listed_credentials credentials in all is a Malformed answer.
    std::vector<WebAuthnCredential> list_webauthn_credentials(const pp::Secret& access_token,
                                                              Deadline deadline);
    // credential_id as list_webauthn_credentials gave it. An unknown id is Rejected
    // (ResourceNotFoundException).
    void delete_webauthn_credential(const pp::Secret& access_token, std::string_view credential_id,
                                    Deadline deadline);

    static constexpr int max_credential_pages = 32;

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
