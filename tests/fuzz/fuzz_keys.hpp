// The fixed keys and settings the fuzz targets verify against and seed_corpus.cpp signs with.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "credential.hpp"

namespace pp::fuzz {

// The relying party local credentials are made for, and the client data hash the helper "issued".
inline constexpr std::string_view kRpId = "pam://fuzz";
std::string client_data_hash();

// The user pool the ID tokens come from, and the moment they are checked at (so seeds never expire).
inline constexpr std::string_view kIssuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Fuzz";
inline constexpr std::string_view kClientId = "fuzzclient123";
inline constexpr std::int64_t kNow = 1'800'000'000;
inline constexpr std::string_view kKid = "fuzz-key-1";

// Process-lifetime keys: RS256 for tokens, P-256 and Ed25519 for security-key credentials.
EVP_PKEY* rsa_key();
EVP_PKEY* p256_key();
EVP_PKEY* ed25519_key();

// The RSA key as one JWK, and as a JWKS holding just it.
std::string jwk();
std::string jwks();
// A credential key in the layout the credential store keeps (libfido2's: x||y for P-256, 32 bytes Ed25519).
std::string raw_public_key(helper::KeyAlgorithm alg);

}  // namespace pp::fuzz
