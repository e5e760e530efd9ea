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
    std::size_t size() const noexcept { return keys_.size(); }
    // The ids of the usable keys, in order.
    std::vector<std::string> ids() const;

  private:
    std::map<std::string, ossl::PKey, std::less<>> keys_;
};

}  // namespace pp::cognito
