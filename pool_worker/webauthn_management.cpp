#include "webauthn_management.hpp"

#include <json-c/json.h>

#include <algorithm>
#include <stdexcept>

#include "json_document.hpp"
#include "json_writer.hpp"
#include "service_error.hpp"
#include "text.hpp"

namespace pp::cognito {
namespace {

// PaginationKey in the model: 1 to 131072 characters, no white space.
constexpr std::size_t max_next_token_chars = 131072;
constexpr std::size_t max_credential_id_chars = 4096;
constexpr std::size_t max_text_chars = 512;
constexpr std::size_t max_transports = 16;

std::string printable(std::string_view text) {
    return text::controls_replaced(text, max_text_chars);
}

WebAuthnCredential read_credential(json_object* entry) {
    if (!json_object_is_type(entry, json_type_object))
        throw json::Error("Credentials entry is not an object");
    WebAuthnCredential credential;
    const auto id = json::string_member(entry, "CredentialId");
    if (!id || id->empty() || id->size() > max_credential_id_chars || text::has_control_characters(*id)) {
        throw json::Error("Credentials entry without a usable CredentialId");
    }
    credential.credential_id = std::string(*id);
    credential.friendly_name = printable(json::string_member(entry, "FriendlyCredentialName").value_or(""));
    credential.relying_party_id = printable(json::string_member(entry, "RelyingPartyId").value_or(""));
    credential.attachment = printable(json::string_member(entry, "AuthenticatorAttachment").value_or(""));
    if (json_object* transports = json::array_member(entry, "AuthenticatorTransports")) {
        if (json_object_array_length(transports) > max_transports) throw json::Error("too many transports");
        json::for_each_element(transports, [&](json_object* transport) {
            credential.transports.push_back(printable(json::as_string(transport, "a transport")));
        });
    }
    json_object* created = nullptr;
    if (json_object_object_get_ex(entry, "CreatedAt", &created) && created != nullptr) {
        if (!json_object_is_type(created, json_type_double) && !json_object_is_type(created, json_type_int)) {
            throw json::Error("field CreatedAt is not a number");
        }
        credential.created_at = json_object_get_double(created);
    }
    return credential;
}

}  // namespace

pp::Secret access_token_request(const pp::Secret& access_token) {
    JsonWriter body;
    body.member("AccessToken", access_token.view());
    return body.finish();
}

pp::Secret complete_webauthn_registration_request(const pp::Secret& access_token,
                                                  std::string_view credential_json) {
    // Only a well-formed object may be spliced into the body.
    try {
        json::parse_object(credential_json);
    } catch (const json::Error&) {
        throw std::invalid_argument("the credential is not one JSON object");
    }
    JsonWriter body;
    body.member("AccessToken", access_token.view()).raw_member("Credential", credential_json);
    return body.finish();
}

pp::Secret list_webauthn_credentials_request(const pp::Secret& access_token,
                                             const std::optional<std::string>& next_token) {
    JsonWriter body;
    body.member("AccessToken", access_token.view());
    if (next_token) body.member("NextToken", *next_token);
    body.raw_member("MaxResults", std::to_string(webauthn_credentials_page_size));
    return body.finish();
}

pp::Secret delete_webauthn_credential_request(const pp::Secret& access_token,
                                              std::string_view credential_id) {
    JsonWriter body;
    body.member("AccessToken", access_token.view());
    body.member("CredentialId", credential_id);
    return body.finish();
}

RegistrationStart parse_registration_start(std::string_view body) {
    json::Document doc;
    json_object* options = nullptr;
    try {
        doc = json::parse_object(body);
        options = json::object_member(doc.get(), "CredentialCreationOptions");
        if (options == nullptr) throw json::Error("field CredentialCreationOptions is missing");
    } catch (const json::Error& e) {
        throw ServiceError(Failure::Malformed, "", e.what());
    }
    RegistrationStart start;
    start.options = webauthn::parse_creation_options(options);
    start.options_json =
        json_object_to_json_string_ext(options, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    return start;
}

WebAuthnCredentialPage parse_webauthn_credential_page(std::string_view body) {
    try {
        const json::Document doc = json::parse_object(body);
        json_object* list = json::array_member(doc.get(), "Credentials");
        if (list == nullptr) throw json::Error("field Credentials is missing");
        if (json_object_array_length(list) > webauthn::max_listed_credentials)
            throw json::Error("too many credentials");
        WebAuthnCredentialPage page;
        json::for_each_element(
            list, [&](json_object* entry) { page.credentials.push_back(read_credential(entry)); });
        if (const auto token = json::string_member(doc.get(), "NextToken")) {
            if (token->empty() || token->size() > max_next_token_chars)
                throw json::Error("unusable NextToken");
            page.next_token.emplace(*token);
        }
        return page;
    } catch (const json::Error& e) {
        throw ServiceError(Failure::Malformed, "", e.what());
    }
}

}  // namespace pp::cognito
