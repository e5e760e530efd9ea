// WebAuthn in the JSON forms the user pool speaks (spec §2.5, §3.3, §6.1, §6.2): the options it sends, the
// client data a browser would make for them, and the responses it takes back. Pure functions over bounded
// input; binary values are raw bytes in std::string, base64url (RFC 4648 §5, no padding) only on the wire.
#pragma once

#include "authenticator_data.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct json_object;

namespace pp::webauthn {

// WebAuthn L3 §4 "Credential ID": at most 1023 bytes.
inline constexpr std::size_t max_credential_id_bytes = 1023;
// WebAuthn L3 §5.4.3 user.id (the user handle): at most 64 bytes.
inline constexpr std::size_t max_user_handle_bytes = 64;
// More credentials in one list than any user can have (the pool allows 20), yet bounded.
inline constexpr std::size_t max_listed_credentials = 64;

inline constexpr std::string_view webauthn_get = "webauthn.get";
inline constexpr std::string_view webauthn_create = "webauthn.create";

// The WEB_AUTHN challenge's CREDENTIAL_REQUEST_OPTIONS (PublicKeyCredentialRequestOptionsJSON).
struct RequestOptions {
    std::string challenge;  // exactly as given: base64url text, 16 to 64 bytes once decoded
    std::string rp_id;
    std::vector<std::string> allow_credentials;  // raw credential ids, in the order given
    std::string user_verification;  // "required", "preferred" (also when absent) or "discouraged"
    std::optional<std::uint32_t> timeout_ms;
};

// credential_request_options_json is the ChallengeParameter's value: text holding one JSON object. Unknown
// members (hints, attestation, extensions, ...) are ignored. Required: challenge and rpId; allowCredentials
// entries need type "public-key" and an id; transports, when present, must be strings. Anything else, or a
// bound exceeded, throws ServiceError(Malformed).
RequestOptions parse_request_options(std::string_view credential_request_options_json);

// StartWebAuthnRegistration's CredentialCreationOptions (PublicKeyCredentialCreationOptionsJSON).
struct CreationOptions {
    std::string challenge;  // exactly as given, as in RequestOptions
    std::string rp_id;
    std::string rp_name;
    std::string user_id;  // raw bytes (the pool uses the UTF-8 of the user's sub)
    std::string user_name;
    std::string display_name;     // may be empty
    std::vector<int> algorithms;  // COSE numbers from pubKeyCredParams, in order of preference
    std::vector<std::string> exclude_credentials;  // raw credential ids
    std::string resident_key;                      // "required", "preferred" or "discouraged"
    std::string user_verification;                 // as in RequestOptions
    std::optional<std::uint32_t> timeout_ms;
};

// Required: challenge, rp {id, name}, user {id, name, displayName} and a non-empty pubKeyCredParams whose
// entries are {type "public-key", alg}. residentKey falls back to requireResidentKey (WebAuthn L3 §5.4.4).
// Names may not hold control characters (they reach the key as C strings). Throws ServiceError(Malformed).
CreationOptions parse_creation_options(json_object* credential_creation_options);
CreationOptions parse_creation_options(std::string_view credential_creation_options_json);

// {"type":…,"challenge":…,"origin":…,"crossOrigin":false} serialised as WebAuthn L3 §5.8.1.2 prescribes
// (CCDToString escaping). These bytes are both what the key signs the hash of (fido_*_set_clientdata) and
// what goes into the response, so use the one result for both. type is webauthn_get or webauthn_create;
// challenge is the options' text, unchanged. Throws std::invalid_argument for another type, a challenge that
// is not base64url, or text that is not UTF-8 or too long.
std::string client_data_json(std::string_view type, std::string_view challenge, std::string_view origin);

// The raw authenticator data inside the CBOR byte string that fido_assert_authdata_ptr and
// fido_cred_authdata_ptr return. Accepts only major type 2 with a definite, shortest-form length that covers
// exactly the rest of the input (libfido2 always writes that form), holding min_ to
// max_authenticator_data_bytes. Throws std::invalid_argument otherwise.
std::string authdata_from_cbor(std::string_view cbor_bstr);

// The CREDENTIAL answer to the WEB_AUTHN challenge: W3C AuthenticationResponseJSON (spec §3.3), compact, with
// authenticatorAttachment "cross-platform" and an empty clientExtensionResults. authenticator_data is raw
// (see authdata_from_cbor); an empty user_handle is left out. client_data must be the
// client_data_json(webauthn_get, …) text the key signed. Throws std::invalid_argument for inconsistent or
// out-of-bounds input.
std::string authentication_response_json(std::string_view cred_id, std::string_view client_data,
                                         std::string_view authenticator_data, std::string_view signature,
                                         std::string_view user_handle);

// The attestation statement as libfido2 reports it (fido_cred_fmt, fido_cred_sig_ptr, fido_cred_x5c_ptr).
struct AttestationStatement {
    int alg = 0;      // "packed" only: the COSE number of the signing key
    std::string sig;  // empty for "none"
    std::string x5c;  // DER attestation certificate; empty for self attestation and for "none"
};

// The Credential of CompleteWebAuthnRegistration: W3C RegistrationResponseJSON (spec §6.2), compact.
// response.attestationObject is canonical CBOR {"fmt", "attStmt", "authData"}; fmt is "packed" (alg and sig,
// x5c when full attestation), "fido-u2f" (sig and x5c) or "none" (nothing). auth_data is raw, with the AT
// flag and attested credential data whose id is cred_id. public_key_spki_der (see spki_from_fido_public_key)
// and alg fill the convenience members publicKey and publicKeyAlgorithm; transports is ["usb"]. client_data
// must be a client_data_json(webauthn_create, …) text. Throws std::invalid_argument for inconsistent or
// out-of-bounds input.
std::string registration_response_json(std::string_view cred_id, std::string_view client_data,
                                       std::string_view fmt, std::string_view auth_data,
                                       const AttestationStatement& att_stmt,
                                       std::string_view public_key_spki_der, int alg);

}  // namespace pp::webauthn
