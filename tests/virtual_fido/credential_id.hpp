// Stateless credentials: the credential id is the credential. It seals the private key, the rpIdHash and the
// user handle under a key that only virtual key number `key_index` derives, so enrolment in one process and
// an assertion in another (sshd, another program) need no shared storage, and an id from another key is not
// ours.
#pragma once

#include <optional>

#include "bytes.hpp"
#include "crypto.hpp"

namespace vfido {

struct CredentialSecret {
    crypto::Algorithm algorithm = crypto::Algorithm::es256;
    Bytes rp_id_hash;
    Bytes private_key;
    Bytes user_id;  // may be empty
};

// WebAuthn caps user handles at 64 bytes; longer ones are refused before they get here.
inline constexpr std::size_t max_user_id_size = 64;

Bytes wrap_credential(unsigned key_index, const CredentialSecret& secret);

// nullopt: the id was not minted by this key (another key, another build's secret, or tampered with).
std::optional<CredentialSecret> unwrap_credential(unsigned key_index, ByteView id);

}  // namespace vfido
