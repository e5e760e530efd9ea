// The user pool's signing keys, read from its JWKS document (spec §5).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "openssl_owners.hpp"

namespace pp::cognito {

// Immutable once built, so threads may verify with it concurrently.
class JsonWebKeySet {
  public:
    // Keeps the RSA keys fit to check RS256 signatures; skips others (other key types, use or alg, keys under
    // 2048 bits, unreadable members), so one odd entry does not take the pool's other keys down with it.
    // Throws json::Error when the text is not a JSON object with a "keys" array.
    static JsonWebKeySet parse(std::string_view jwks);

    // nullptr when no usable key has this id. Not const: OpenSSL takes keys it only reads by plain pointer.
    EVP_PKEY* find(std::string_view kid) const;
    // Whether `signature` is this key's RS256 signature of `signed_part`; false for an unknown id.
    bool verifies_rs256(std::string_view kid, std::string_view signed_part, std::string_view signature) const;
    std::size_t size() const noexcept { return keys_.size(); }
    // The ids of the usable keys, in order.
    std::vector<std::string> ids() const;

  private:
    struct Key {
        ossl::PKey key;
        // Set up for RS256 with this key once (EVP_DigestVerifyInit looks up the algorithms in OpenSSL's
        // providers: a quarter of a check's time) and copied for each check, never used itself.
        ossl::MdCtx verify;
    };
    std::map<std::string, Key, std::less<>> keys_;
};

}  // namespace pp::cognito
