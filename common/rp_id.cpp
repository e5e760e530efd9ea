#include "rp_id.hpp"

#include <algorithm>
#include <stdexcept>

namespace pp {
namespace {

bool alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

bool RpId::valid(std::string_view text) noexcept {
    return !text.empty() && text.size() <= kMaxBytes && std::all_of(text.begin(), text.end(), [](char c) {
        return alnum(c) || c == ':' || c == '/' || c == '.' || c == '_' || c == '-';
    });
}

RpId::RpId(std::string_view text) : text_(text) {
    if (!valid(text_)) throw std::invalid_argument("invalid relying-party id");
}

bool valid_passkey_rp_id(std::string_view text) noexcept {
    if (text.empty() || text.size() > RpId::kMaxBytes || !lower_alnum(text.front()) ||
        !lower_alnum(text.back()))
        return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '.') {
            if (label < 1 || label > 63) return false;
            label = 0;
        } else if (lower_alnum(text[i]) || text[i] == '-') {
            ++label;
        } else {
            return false;
        }
    }
    return true;
}

}  // namespace pp
