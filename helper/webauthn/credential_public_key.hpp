// A new credential's public key in the form CompleteWebAuthnRegistration's response.publicKey carries it
// (SubjectPublicKeyInfo, DER; spec §6.2), made from the raw form libfido2 hands out.
#pragma once

#include <string>
#include <string_view>

namespace pp::webauthn {

// COSE algorithm numbers of the two kinds of credential the user pool accepts (spec §6.1).
inline constexpr int cose_es256 = -7;
inline constexpr int cose_rs256 = -257;

// raw is what fido_cred_pubkey_ptr gives: for ES256 x || y (64 bytes), a point on P-256; for RS256 the
// 256-byte modulus then the 3-byte exponent (rs256_pk_t). Any other algorithm, size or a key OpenSSL finds
// invalid throws std::invalid_argument.
std::string spki_from_fido_public_key(int cose_alg, std::string_view raw);

}  // namespace pp::webauthn
