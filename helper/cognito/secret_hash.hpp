// SECRET_HASH, which proves knowledge of the app client's secret on every sign-in call (spec §4).
#pragma once

#include <string_view>

#include "secret.hpp"

namespace pp::cognito {

// Base64(HMAC-SHA256(key = client secret, message = username || client id)), standard alphabet with padding.
// username must be the one sent in the same request.
pp::Secret secret_hash(std::string_view username, std::string_view client_id,
                       const pp::Secret& client_secret);
// The raw 32 bytes of HMAC-SHA256(key, message), from the one MAC template the helper sets up; throws
// std::runtime_error when OpenSSL fails, std::invalid_argument for a key longer than INT_MAX.
pp::Secret hmac_sha256(const pp::Secret& key, std::string_view message);

}  // namespace pp::cognito
