#include "webauthn_json.hpp"

#include <json-c/json.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "base64.hpp"
#include "cbor_reader.hpp"
#include "cbor_writer.hpp"
#include "json_document.hpp"
#include "json_writer.hpp"
#include "rp_id.hpp"
#include "service_error.hpp"
#include "text.hpp"

namespace pp::webauthn {

namespace json = cognito::json;
using cognito::Failure;
using cognito::JsonWriter;
using cognito::ServiceError;

namespace {

// The options arrive inside one answer of at most 1 MiB; one set of options is far smaller.
constexpr std::size_t max_options_json_bytes = 128 * 1024;
// WebAuthn L3 §13.4.3 asks for at least 16 random bytes; the pool sends 16.
constexpr std::size_t min_challenge_bytes = 16;
constexpr std::size_t max_challenge_bytes = 64;
constexpr std::size_t max_transports = 16;
constexpr std::size_t max_transport_chars = 32;
constexpr std::size_t max_algorithms = 32;
constexpr std::size_t max_name_bytes = 1024;
constexpr std::size_t max_origin_bytes = 2048;
constexpr std::size_t max_client_data_bytes = 8192;
constexpr std::size_t max_signature_bytes = 512;
constexpr std::size_t max_certificate_bytes = 8192;
constexpr std::size_t max_spki_bytes = 2048;

// authData (authenticator_data.hpp): after its fixed part, aaguid | credentialIdLength (2) | credentialId.
constexpr std::size_t credential_id_length_offset = min_authenticator_data_bytes + aaguid_bytes;
constexpr std::size_t credential_id_offset = credential_id_length_offset + 2;

// ---- reading the options (json::Error inside, ServiceError(Malformed) at the public boundary)

std::string_view required_string(json_object* object, const char* key) {
    const auto value = json::string_member(object, key);
    if (!value) throw json::Error(std::string("field ") + key + " is missing");
    return *value;
}

json_object* required_object(json_object* object, const char* key) {
    json_object* value = json::object_member(object, key);
    if (value == nullptr) throw json::Error(std::string("field ") + key + " is missing");
    return value;
}

std::string decoded(std::string_view text, const char* what, std::size_t min_bytes, std::size_t max_bytes) {
    const auto bytes = base64url_decode(text);
    if (!bytes) throw json::Error(std::string(what) + " is not base64url without padding");
    if (bytes->size() < min_bytes || bytes->size() > max_bytes) {
        throw json::Error(std::string(what) + " has an unexpected length");
    }
    return *bytes;
}

std::string challenge_of(json_object* options) {
    const std::string_view text = required_string(options, "challenge");
    decoded(text, "challenge", min_challenge_bytes, max_challenge_bytes);
    return std::string(text);
}

// The RP ID becomes part of the origin and is hashed into rpIdHash, so only a plain lower-case DNS name is
// taken: nothing that could change the meaning of either.
std::string rp_id_of(std::string_view text) {
    if (!valid_passkey_rp_id(text)) throw json::Error("rpId is not a lower-case DNS name");
    return std::string(text);
}

// Names reach libfido2 as C strings and a key's display: no NUL, no control characters.
std::string name_of(json_object* object, const char* key, bool may_be_empty) {
    const std::string_view text = required_string(object, key);
    if (text::has_control_characters(text) || text.size() > max_name_bytes ||
        (text.empty() && !may_be_empty)) {
        throw json::Error(std::string("field ") + key + " is not an acceptable name");
    }
    return std::string(text);
}

void require_public_key_type(json_object* entry, const char* what) {
    if (json::string_member(entry, "type") != "public-key") {
        throw json::Error(std::string(what) + " entry is not of type public-key");
    }
}

// allowCredentials / excludeCredentials: PublicKeyCredentialDescriptorJSON entries.
std::vector<std::string> descriptors(json_object* options, const char* key) {
    std::vector<std::string> ids;
    json_object* list = json::array_member(options, key);
    if (list == nullptr) return ids;
    if (json_object_array_length(list) > max_listed_credentials)
        throw json::Error(std::string(key) + " too long");
    json::for_each_element(list, [&](json_object* entry) {
        if (!json_object_is_type(entry, json_type_object))
            throw json::Error(std::string(key) + " entry not an object");
        require_public_key_type(entry, key);
        ids.push_back(decoded(required_string(entry, "id"), "credential id", 1, max_credential_id_bytes));
        if (json_object* transports = json::array_member(entry, "transports")) {
            if (json_object_array_length(transports) > max_transports)
                throw json::Error("too many transports");
            json::for_each_element(transports, [](json_object* transport) {
                if (json::as_string(transport, "a transport").size() > max_transport_chars) {
                    throw json::Error("transport name too long");
                }
            });
        }
    });
    return ids;
}

std::string requirement_of(json_object* object, const char* key, std::string_view fallback) {
    const std::string_view value = json::string_member(object, key).value_or(fallback);
    if (value != "required" && value != "preferred" && value != "discouraged") {
        throw json::Error(std::string("field ") + key + " has an unknown value");
    }
    return std::string(value);
}

std::optional<std::int64_t> integer_member(json_object* object, const char* key) {
    json_object* value = nullptr;
    if (!json_object_object_get_ex(object, key, &value) || value == nullptr) return std::nullopt;
    if (!json_object_is_type(value, json_type_int))
        throw json::Error(std::string("field ") + key + " is not an integer");
    return json_object_get_int64(value);
}

std::optional<std::uint32_t> timeout_of(json_object* options) {
    const auto timeout = integer_member(options, "timeout");
    if (!timeout) return std::nullopt;
    if (*timeout < 0 || *timeout > std::numeric_limits<std::uint32_t>::max()) {
        throw json::Error("field timeout is out of range");
    }
    return static_cast<std::uint32_t>(*timeout);
}

RequestOptions read_request_options(json_object* root) {
    RequestOptions options;
    options.challenge = challenge_of(root);
    options.rp_id = rp_id_of(required_string(root, "rpId"));
    options.allow_credentials = descriptors(root, "allowCredentials");
    options.user_verification = requirement_of(root, "userVerification", "preferred");
    options.timeout_ms = timeout_of(root);
    return options;
}

std::vector<int> algorithms_of(json_object* root) {
    json_object* params = json::array_member(root, "pubKeyCredParams");
    if (params == nullptr) throw json::Error("field pubKeyCredParams is missing");
    const std::size_t count = json_object_array_length(params);
    if (count == 0 || count > max_algorithms) throw json::Error("pubKeyCredParams is empty or too long");
    std::vector<int> algorithms;
    json::for_each_element(params, [&](json_object* entry) {
        if (!json_object_is_type(entry, json_type_object))
            throw json::Error("pubKeyCredParams entry not an object");
        require_public_key_type(entry, "pubKeyCredParams");
        const auto alg = integer_member(entry, "alg");
        if (!alg || *alg < std::numeric_limits<int>::min() || *alg > std::numeric_limits<int>::max()) {
            throw json::Error("pubKeyCredParams entry without a usable alg");
        }
        algorithms.push_back(static_cast<int>(*alg));
    });
    return algorithms;
}

CreationOptions read_creation_options(json_object* root) {
    CreationOptions options;
    options.challenge = challenge_of(root);
    json_object* rp = required_object(root, "rp");
    options.rp_id = rp_id_of(required_string(rp, "id"));
    options.rp_name = name_of(rp, "name", false);
    json_object* user = required_object(root, "user");
    options.user_id = decoded(required_string(user, "id"), "user.id", 1, max_user_handle_bytes);
    options.user_name = name_of(user, "name", false);
    options.display_name = name_of(user, "displayName", true);
    options.algorithms = algorithms_of(root);
    options.exclude_credentials = descriptors(root, "excludeCredentials");
    options.resident_key = "discouraged";
    options.user_verification = "preferred";
    if (json_object* selection = json::object_member(root, "authenticatorSelection")) {
        json_object* require_resident = nullptr;
        bool required = false;
        if (json_object_object_get_ex(selection, "requireResidentKey", &require_resident) &&
            require_resident != nullptr) {
            if (!json_object_is_type(require_resident, json_type_boolean)) {
                throw json::Error("field requireResidentKey is not a boolean");
            }
            required = json_object_get_boolean(require_resident) != 0;
        }
        options.resident_key =
            requirement_of(selection, "residentKey", required ? "required" : "discouraged");
        options.user_verification = requirement_of(selection, "userVerification", "preferred");
        json::string_member(selection, "authenticatorAttachment");  // type-checked only
    }
    options.timeout_ms = timeout_of(root);
    return options;
}

// ---- writing JSON

void require(bool condition, const char* what) {
    if (!condition) throw std::invalid_argument(what);
}

// The text a JsonWriter (json_writer.hpp: CCDToString escaping) finished. What is written here are public
// values, so the writer's wiped buffer is copied into an ordinary string.
std::string text_of(JsonWriter& object) {
    return std::string(object.finish().view());
}

void require_client_data(std::string_view client_data, std::string_view type) {
    require(!client_data.empty() && client_data.size() <= max_client_data_bytes, "client data size");
    try {
        const json::Document doc = json::parse_object(client_data);
        require(json::string_member(doc.get(), "type") == type, "client data is for another ceremony");
        require(json::string_member(doc.get(), "challenge").has_value(), "client data without a challenge");
        require(json::string_member(doc.get(), "origin").has_value(), "client data without an origin");
    } catch (const json::Error&) {
        throw std::invalid_argument("client data is not a JSON object of strings");
    }
}

void require_credential_id(std::string_view cred_id) {
    require(!cred_id.empty() && cred_id.size() <= max_credential_id_bytes, "credential id size");
}

bool attested(std::string_view auth_data) {
    return (static_cast<std::uint8_t>(auth_data[flags_offset]) & flag_attested) != 0;
}

// The members every PublicKeyCredential JSON shares, around its response object.
std::string credential_json(std::string_view cred_id, const std::string& response) {
    const std::string id = base64url_encode(cred_id);
    JsonWriter credential;
    credential.member("id", id)
        .member("rawId", id)
        .member("type", "public-key")
        .raw_member("response", response)
        .raw_member("clientExtensionResults", "{}")
        .member("authenticatorAttachment", "cross-platform");
    return text_of(credential);
}

cbor::Item attestation_statement(std::string_view fmt, const AttestationStatement& att_stmt) {
    require(att_stmt.sig.size() <= max_signature_bytes, "attestation signature size");
    require(att_stmt.x5c.size() <= max_certificate_bytes, "attestation certificate size");
    std::vector<std::pair<std::string_view, cbor::Item>> members;
    if (fmt == "none") {
        require(att_stmt.sig.empty() && att_stmt.x5c.empty(), "\"none\" attestation carries a statement");
    } else if (fmt == "packed") {
        require(att_stmt.alg != 0 && !att_stmt.sig.empty(), "\"packed\" attestation needs alg and sig");
        members.emplace_back("alg", cbor::Item::integer(att_stmt.alg));
        members.emplace_back("sig", cbor::Item::bytes(att_stmt.sig));
    } else if (fmt == "fido-u2f") {
        require(!att_stmt.sig.empty() && !att_stmt.x5c.empty(), "\"fido-u2f\" attestation needs sig and x5c");
        members.emplace_back("sig", cbor::Item::bytes(att_stmt.sig));
    } else {
        throw std::invalid_argument("attestation format not supported");
    }
    if (!att_stmt.x5c.empty())
        members.emplace_back("x5c", cbor::Item::array({cbor::Item::bytes(att_stmt.x5c)}));
    return cbor::Item::map(members);
}

}  // namespace

RequestOptions parse_request_options(std::string_view credential_request_options_json) {
    try {
        if (credential_request_options_json.size() > max_options_json_bytes) {
            throw json::Error("request options too large");
        }
        const json::Document doc = json::parse_object(credential_request_options_json);
        return read_request_options(doc.get());
    } catch (const json::Error& e) {
        throw ServiceError(Failure::Malformed, "", std::string("CREDENTIAL_REQUEST_OPTIONS: ") + e.what());
    }
}

CreationOptions parse_creation_options(json_object* credential_creation_options) {
    try {
        if (credential_creation_options == nullptr ||
            !json_object_is_type(credential_creation_options, json_type_object)) {
            throw json::Error("not an object");
        }
        return read_creation_options(credential_creation_options);
    } catch (const json::Error& e) {
        throw ServiceError(Failure::Malformed, "", std::string("CredentialCreationOptions: ") + e.what());
    }
}

CreationOptions parse_creation_options(std::string_view credential_creation_options_json) {
    json::Document doc;
    try {
        if (credential_creation_options_json.size() > max_options_json_bytes) {
            throw json::Error("creation options too large");
        }
        doc = json::parse_object(credential_creation_options_json);
    } catch (const json::Error& e) {
        throw ServiceError(Failure::Malformed, "", std::string("CredentialCreationOptions: ") + e.what());
    }
    return parse_creation_options(doc.get());
}

std::string client_data_json(std::string_view type, std::string_view challenge, std::string_view origin) {
    require(type == webauthn_get || type == webauthn_create, "client data type is not a WebAuthn ceremony");
    require(!challenge.empty() && challenge.size() <= max_challenge_bytes * 2 && base64url_decode(challenge),
            "challenge is not base64url");
    require(!origin.empty() && origin.size() <= max_origin_bytes, "origin size");
    JsonWriter out;
    out.member("type", type)
        .member("challenge", challenge)
        .member("origin", origin)
        .raw_member("crossOrigin", "false");
    return text_of(out);
}

std::string authdata_from_cbor(std::string_view cbor_bstr) {
    const auto bstr = cbor::read_byte_string(cbor_bstr, cbor::LengthForm::Shortest);
    if (bstr.problem != nullptr)
        throw std::invalid_argument(std::string("authenticator data ") + bstr.problem);
    require(bstr.content.size() >= min_authenticator_data_bytes &&
                bstr.content.size() <= max_authenticator_data_bytes,
            "authenticator data size");
    return std::string(bstr.content);
}

std::string authentication_response_json(std::string_view cred_id, std::string_view client_data,
                                         std::string_view authenticator_data, std::string_view signature,
                                         std::string_view user_handle) {
    require_credential_id(cred_id);
    require_client_data(client_data, webauthn_get);
    require(authenticator_data.size() >= min_authenticator_data_bytes &&
                authenticator_data.size() <= max_authenticator_data_bytes,
            "authenticator data size");
    require(!attested(authenticator_data),
            "an assertion's authenticator data carries no attested credential");
    require(!signature.empty() && signature.size() <= max_signature_bytes, "signature size");
    require(user_handle.size() <= max_user_handle_bytes, "user handle size");

    JsonWriter response;
    response.member("clientDataJSON", base64url_encode(client_data))
        .member("authenticatorData", base64url_encode(authenticator_data))
        .member("signature", base64url_encode(signature));
    if (!user_handle.empty()) response.member("userHandle", base64url_encode(user_handle));
    return credential_json(cred_id, text_of(response));
}

std::string registration_response_json(std::string_view cred_id, std::string_view client_data,
                                       std::string_view fmt, std::string_view auth_data,
                                       const AttestationStatement& att_stmt,
                                       std::string_view public_key_spki_der, int alg) {
    require_credential_id(cred_id);
    require_client_data(client_data, webauthn_create);
    require(auth_data.size() > credential_id_offset && auth_data.size() <= max_authenticator_data_bytes,
            "authenticator data size");
    require(attested(auth_data), "authenticator data carries no attested credential");
    const std::size_t id_length =
        (std::size_t{static_cast<unsigned char>(auth_data[credential_id_length_offset])} << 8) |
        static_cast<unsigned char>(auth_data[credential_id_length_offset + 1]);
    // The key's public key follows the id, so the id cannot reach the end.
    require(auth_data.size() > credential_id_offset + id_length &&
                auth_data.substr(credential_id_offset, id_length) == cred_id,
            "authenticator data holds another credential id");
    require(!public_key_spki_der.empty() && public_key_spki_der.size() <= max_spki_bytes, "public key size");
    require(alg != 0, "public key algorithm");

    const cbor::Item attestation_object = cbor::Item::map({
        {"fmt", cbor::Item::text(fmt)},
        {"attStmt", attestation_statement(fmt, att_stmt)},
        {"authData", cbor::Item::bytes(auth_data)},
    });
    JsonWriter response;
    response.member("clientDataJSON", base64url_encode(client_data))
        .member("attestationObject", base64url_encode(attestation_object.encoded()))
        .raw_member("transports", "[\"usb\"]")
        .raw_member("publicKeyAlgorithm", std::to_string(alg))
        .member("publicKey", base64url_encode(public_key_spki_der))
        .member("authenticatorData", base64url_encode(auth_data));
    return credential_json(cred_id, text_of(response));
}

}  // namespace pp::webauthn
