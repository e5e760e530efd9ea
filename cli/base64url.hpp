// Credential ids as people copy them between commands: base64url without padding (RFC 4648 §5).
#pragma once

#include <string_view>

namespace pp::cli {

// Whether every character is of the base64url alphabet. A credential id is typed whole or as a start of it,
// so any length is a candidate; the helper decides which credential it names.
bool is_base64url(std::string_view text);

}  // namespace pp::cli
