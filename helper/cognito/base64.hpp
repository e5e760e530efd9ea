// Base64 as the user pool uses it: standard with padding for SECRET_HASH, strict base64url for JWTs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "secret.hpp"

namespace pp::cognito {

// Standard alphabet with '=' padding (RFC 4648 §4). The result is a Secret because its one use is
// SECRET_HASH.
pp::Secret base64_encode(std::span<const std::uint8_t> bytes);

// RFC 4648 §5 without padding: the form WebAuthn and JWTs use for binary fields (credential ids).
std::string base64url_encode(std::string_view bytes);

// RFC 4648 §5 without padding, as JWS compact serialisation requires. Accepts only the canonical encoding:
// no '=', no white space, no other alphabet, and zero bits in whatever the last character leaves unused,
// so each token has exactly one spelling.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace pp::cognito
