// SECRET_HASH, which proves knowledge of the app client's secret on every sign-in call (spec §4).
#pragma once

#include <string_view>

#include "secret.hpp"

namespace pp::cognito {

// Base64(HMAC-SHA256(key = client secret, message = username || client id)), standard alphabet with padding.
// username must be the one sent in the same request.
pp::Secret secret_hash(std::string_view username, std::string_view client_id,
                       const pp::Secret& client_secret);

}  // namespace pp::cognito
