// Checking what a security key signed: assertions at login against the enrolled credentials, and the new
// credential at enrolment. Only verification: the helper never talks to a key (the module does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "credential.hpp"

namespace pp::helper {

inline constexpr std::size_t kClientDataHashBytes = 32;

struct AssertionInput {
    std::string cred_id;
    std::string auth_data;  // CBOR byte string, as fido_assert_authdata_ptr returns it
    std::string signature;
};

struct AssertionPolicy {
    std::string rp_id;
    std::string client_data_hash;  // the 32 bytes the helper issued
    bool require_uv = false;
};

enum class AssertionVerdict {
    Ok,
    UnknownCredential,
    Malformed,
    WrongRelyingParty,
    NoUserPresence,
    NoUserVerification,
    BadSignature,
    CounterRegressed,
};

struct AssertionResult {
    AssertionVerdict verdict;
    std::size_t index = 0;  // into the candidates
    std::uint32_t counter = 0;
    bool uv = false;
};

// Checks in this order, and answers with the first that fails: the cred_id is one of the candidates made for
// the policy's rp_id (UnknownCredential); authData is a CBOR byte string holding exactly the fixed fields and
// any extensions, and the signature and client data hash have plausible sizes (Malformed); rpIdHash is
// SHA-256(rp_id) (WrongRelyingParty); the UP flag (NoUserPresence); the UV flag when required
// (NoUserVerification); the signature over authData || clientDataHash with the stored key (BadSignature);
// the counter: a key that counts (stored counter > 0 or new counter > 0) must present a counter strictly
// above the stored one (CounterRegressed). A stored key that is not a valid point is Malformed.
// On Ok, `counter` and `uv` come from the authData; record them with CredentialStore::record_use.
AssertionResult verify_assertion(const AssertionPolicy& policy, const AssertionInput& input,
                                 const std::vector<StoredCredential>& candidates);
// A short fixed phrase for audit lines, e.g. "bad signature".
std::string_view verdict_text(AssertionVerdict v);

struct AttestationInput {
    std::string fmt;
    std::string auth_data;  // CBOR byte string, as fido_cred_authdata_ptr returns it
    std::string signature;
    std::string x5c;  // the attestation certificate (DER), empty for self attestation and "none"
    std::string cred_id;
    std::string public_key;  // as fido_cred_pubkey_ptr returns it
    int cose_alg = 0;
};

struct AttestationPolicy {
    std::string rp_id;
    std::string client_data_hash;
    bool require_uv = false;
};

// Verifies a new credential from enrolment. Formats: "packed" (full attestation with x5c: fido_cred_verify;
// self attestation: fido_cred_verify_self), "fido-u2f" (what a U2F-only key yields through libfido2; needs
// x5c) and "none" (no statement at all). Full attestation proves only that the certificate's key signed: the
// certificate is not checked against any vendor root. Then: rpIdHash, UP, UV when required, attested
// credential data present and equal to cred_id and public_key, algorithm ES256 or EdDSA, no extensions
// (none are asked for). Returns the credential with the policy's rp_id, alg, public_key, cred_id, uv and
// counter filled (user, nickname and created are the caller's) or throws CredentialError with a reason fit
// for the admin.
StoredCredential verify_new_credential(const AttestationPolicy& policy, const AttestationInput& input);

// Whether `key` is a usable public key of the algorithm in libfido2's layout (ES256: x||y on P-256).
bool valid_public_key(KeyAlgorithm alg, std::string_view key);

}  // namespace pp::helper
