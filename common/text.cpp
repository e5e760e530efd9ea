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
