// UTF-8 as RFC 3629 defines it, for the text this library writes into JSON and CBOR itself.
#pragma once

#include <string_view>

namespace pp::cognito {

// False for overlong forms, UTF-16 surrogates, code points past U+10FFFF and truncated sequences.
bool valid_utf8(std::string_view text) noexcept;

}  // namespace pp::cognito
