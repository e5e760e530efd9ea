// The passkey management operations on the wire (spec §6): StartWebAuthnRegistration,
// CompleteWebAuthnRegistration, ListWebAuthnCredentials and DeleteWebAuthnCredential. Each is authorised by
// the signed-in user's access token in the JSON body (spec §1.2), so the bodies are Secrets.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pool_types.hpp"
#include "secret.hpp"
#include "webauthn_json.hpp"

namespace pp::cognito {

// ListWebAuthnCredentials' MaxResults: the most the model allows, so a user's passkeys (at most 20) fit in
// one page.
inline constexpr int webauthn_credentials_page_size = 20;

// {"AccessToken":…}: the body of StartWebAuthnRegistration.
pp::Secret access_token_request(const pp::Secret& access_token);
// {"AccessToken":…,"Credential":<the object>}; credential_json must be one JSON object (see
// registration_response_json), else std::invalid_argument.
pp::Secret complete_webauthn_registration_request(const pp::Secret& access_token,
                                                  std::string_view credential_json);
pp::Secret list_webauthn_credentials_request(const pp::Secret& access_token,
                                             const std::optional<std::string>& next_token);
pp::Secret delete_webauthn_credential_request(const pp::Secret& access_token, std::string_view credential_id);

// StartWebAuthnRegistration's answer. Throws ServiceError(Malformed).
RegistrationStart parse_registration_start(std::string_view body);

struct WebAuthnCredentialPage {
    std::vector<WebAuthnCredential> credentials;
    std::optional<std::string> next_token;
};

// One answer of ListWebAuthnCredentials. Credentials is required and each entry needs a CredentialId without
// control characters; the other members are read leniently (the AWS sample itself omits some the model
// requires) but must have their type when present. Throws ServiceError(Malformed).
WebAuthnCredentialPage parse_webauthn_credential_page(std::string_view body);

}  // namespace pp::cognito
