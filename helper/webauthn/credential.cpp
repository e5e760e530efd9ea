#include "credential.hpp"

#include <algorithm>
#include <array>

namespace pp::helper {

int cose_number(KeyAlgorithm a) {
    return a == KeyAlgorithm::Es256 ? -7 : -8;
}

std::optional<KeyAlgorithm> algorithm_from_cose(int cose) {
    if (cose == -7) return KeyAlgorithm::Es256;
    if (cose == -8) return KeyAlgorithm::EdDsa;
    return std::nullopt;
}

std::size_t public_key_size(KeyAlgorithm a) {
    return a == KeyAlgorithm::Es256 ? 64 : 32;
}

bool valid_nickname(std::string_view text) {
    if (text.empty() || text.size() > kMaxNicknameBytes) return false;
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::uint32_t cp = 0;
        std::size_t len = 0;
        if (lead < 0x80) {
            cp = lead;
            len = 1;
        } else if (lead >= 0xC2 && lead <= 0xDF) {
            cp = lead & 0x1F;
            len = 2;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            cp = lead & 0x0F;
            len = 3;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            cp = lead & 0x07;
            len = 4;
        } else {
            return false;
        }
        if (i + len > text.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cont = static_cast<unsigned char>(text[i + k]);
            if ((cont & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cont & 0x3F);
        }
        static constexpr std::array<std::uint32_t, 5> min_for_length = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_length[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        const bool control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
        const bool separator = cp == 0x2028 || cp == 0x2029;
        const bool bidi = (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
                          cp == 0x200F || cp == 0x061C;
        if (control || separator || bidi) return false;
        i += len;
    }
    return true;
}

}  // namespace pp::helper
