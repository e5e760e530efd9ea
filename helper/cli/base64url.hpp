// Credential ids as people copy them between commands: base64url without padding (RFC 4648 §5).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pp::cli {

std::string base64url_encode(std::string_view bytes);
// Accepts the unpadded form and, for ids pasted from elsewhere, trailing '=' padding; nullopt for anything
// else (a character outside the alphabet, an impossible length, non-zero trailing bits).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace pp::cli
