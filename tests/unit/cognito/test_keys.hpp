// RSA keys made inside the tests, published as JWKs and used to sign JWTs, so no fixture comes from
// elsewhere.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace pp::cognito::test {

std::string base64url(std::span<const std::uint8_t> bytes);
std::string base64url(std::string_view text);

// A JSON object whose members are raw JSON texts, so a test can put any type in any member.
using Members = std::map<std::string, std::string>;
std::string to_json(const Members& members);
std::string json_string(std::string_view text);

class TestKey {
  public:
    explicit TestKey(int bits = 2048);

    // One JWK entry (an object) for a JWKS "keys" array; its members, for a test to alter.
    Members jwk_members(std::string_view kid) const;
    std::string jwk(std::string_view kid) const;
    // The public key as PEM text: what a confused verifier would use as an HMAC key.
    std::string public_pem() const;
    // base64url(header) "." base64url(payload) "." base64url(RS256 signature).
    std::string sign(std::string_view header_json, std::string_view payload_json) const;

  private:
    struct Free {
        void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
    };
    std::unique_ptr<EVP_PKEY, Free> key_;
};

// A JWT signed with HS256 under an arbitrary key.
std::string sign_hs256(std::string_view header_json, std::string_view payload_json, std::string_view key);

}  // namespace pp::cognito::test
