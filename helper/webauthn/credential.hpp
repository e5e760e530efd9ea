// What a locally enrolled security-key credential is, below both the store that keeps it
// (credential_store) and the checks of what a key signed (key_verification), so neither includes the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "rp_id.hpp"

namespace pp::helper {

enum class KeyAlgorithm { Es256, EdDsa };  // COSE -7 and -8

int cose_number(KeyAlgorithm a);
std::optional<KeyAlgorithm> algorithm_from_cose(int cose);
// Size of the public key as libfido2's fido_cred_pubkey_ptr gives it: x||y for ES256, the point for EdDSA.
std::size_t public_key_size(KeyAlgorithm a);

// Bounds on what a record may hold. WebAuthn caps credential ids at 1023 bytes; the per-user cap keeps a
// user's file, and the list of ids sent to the module, small.
inline constexpr std::size_t kMaxCredentialIdBytes = 1023;
inline constexpr std::size_t kMaxNicknameBytes = 64;
inline constexpr std::size_t kMaxCredentialsPerUser = 64;

// Made with its relying-party id, the one field without a valid default: a record with an invalid id cannot
// exist in memory, so whatever holds one (the store's reader, the import, enrolment) validated it once.
struct StoredCredential {
    explicit StoredCredential(RpId rp) : rp_id(std::move(rp)) {}

    std::string user;
    std::string cred_id;  // raw bytes
    KeyAlgorithm alg = KeyAlgorithm::Es256;
    std::string public_key;  // raw bytes exactly as fido_cred_pubkey_ptr gives them (ES256: x||y; EdDSA: 32)
    RpId rp_id;              // the relying-party id this credential was made for
    std::string nickname;    // printable UTF-8, 1..64 bytes
    std::int64_t created = 0, last_used = 0;  // unix seconds; 0 = never used
    std::uint32_t counter = 0;
    bool uv = false;  // the key verified the user (PIN/biometric) at enrolment
    // Every login with this credential must verify the user (PIN), whatever [security_key]
    // user_verification says: imported with pam-u2f's +pin or +verification, or enrolled while required.
    bool uv_required = false;
};

class CredentialError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A nickname is shown in listings, prompts and audit lines: valid UTF-8 of 1..64 bytes without control
// characters, line or paragraph separators, or bidirectional overrides that could make it read as another.
bool valid_nickname(std::string_view text);

}  // namespace pp::helper
