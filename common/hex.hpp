// Hex (RFC 4648 §8, base16, lower case): two digits a byte, for the login id, the recovery codes' salts and
// hashes, and a file's digest shown to an admin.
#pragma once

#include <string>
#include <string_view>

namespace pp {

inline std::string hex_encode(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

}  // namespace pp
