#include "text.hpp"

#include <algorithm>

namespace pp::text {

bool has_control_characters(std::string_view s) {
    return std::any_of(s.begin(), s.end(), is_control);
}

bool printable_bounded(std::string_view s, std::size_t max) {
    return s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) {
               const auto u = static_cast<unsigned char>(c);
               return u >= 0x20 && u < 0x7f;
           });
}

bool printable_utf8(std::string_view s, std::size_t max) {
    if (s.size() > max) return false;
    std::size_t i = 0;
    while (i < s.size()) {
        const auto lead = static_cast<unsigned char>(s[i]);
        if (lead < 0x80) {
            if (is_control(s[i])) return false;
            ++i;
            continue;
        }
        // The sequence's continuation bytes, and the least code point that needs that many.
        std::size_t extra = 0;
        char32_t least = 0;
        if (lead >= 0xc2 && lead <= 0xdf) {
            extra = 1;
            least = 0x80;
        } else if (lead >= 0xe0 && lead <= 0xef) {
            extra = 2;
            least = 0x800;
        } else if (lead >= 0xf0 && lead <= 0xf4) {
            extra = 3;
            least = 0x10000;
        } else {
            return false;
        }
        char32_t cp = lead & (0x3fu >> extra);
        if (s.size() - i <= extra) return false;
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xc0u) != 0x80) return false;
            cp = (cp << 6) | (b & 0x3fu);
        }
        if (cp < least || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        // C1 controls; the bidirectional embeddings and overrides; the isolates.
        if (cp <= 0x9f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return false;
        i += extra + 1;
    }
    return true;
}

bool https_url(std::string_view s, std::size_t max) {
    constexpr std::string_view scheme = "https://";
    return s.size() > scheme.size() && s.size() <= max && s.substr(0, scheme.size()) == scheme &&
           std::all_of(s.begin(), s.end(), [](char c) {
               const auto u = static_cast<unsigned char>(c);
               return u > 0x20 && u < 0x7f;
           });
}

std::string loggable(std::string_view s, std::size_t max) {
    std::string out;
    for (char c : s.substr(0, max)) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u >= 0x20 && u < 0x7f && c != '"' ? c : '?');
    }
    if (s.size() > max) out += "...";
    return out.empty() ? "-" : out;
}

std::string controls_replaced(std::string_view s, std::size_t max, LineBreaks breaks) {
    std::string out(s.substr(0, max));
    std::replace_if(
        out.begin(), out.end(),
        [breaks](char c) {
            return is_control(c) && !(breaks == LineBreaks::Keep && (c == '\n' || c == '\t'));
        },
        '?');
    return out;
}

}  // namespace pp::text
