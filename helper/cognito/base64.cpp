#include "base64.hpp"

#include <array>

namespace pp::cognito {
namespace {

constexpr std::string_view standard_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int invalid = -1;

constexpr std::array<int, 256> url_values() {
    std::array<int, 256> values{};
    values.fill(invalid);
    constexpr std::string_view url_alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (std::size_t i = 0; i < url_alphabet.size(); ++i) {
        values[static_cast<unsigned char>(url_alphabet[i])] = static_cast<int>(i);
    }
    return values;
}

}  // namespace

pp::Secret base64_encode(std::span<const std::uint8_t> bytes) {
    pp::Secret out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t group =
            (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        const char quad[] = {standard_alphabet[group >> 18], standard_alphabet[(group >> 12) & 0x3F],
                             standard_alphabet[(group >> 6) & 0x3F], standard_alphabet[group & 0x3F]};
        out.append(std::string_view(quad, 4));
    }
    if (const std::size_t rest = bytes.size() - i; rest != 0) {
        const std::uint32_t group =
            (std::uint32_t{bytes[i]} << 16) | (rest == 2 ? std::uint32_t{bytes[i + 1]} << 8 : 0);
        const char quad[] = {standard_alphabet[group >> 18], standard_alphabet[(group >> 12) & 0x3F],
                             rest == 2 ? standard_alphabet[(group >> 6) & 0x3F] : '=', '='};
        out.append(std::string_view(quad, 4));
    }
    return out;
}

std::string base64url_encode(std::string_view bytes) {
    const pp::Secret standard =
        base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    std::string out(standard.view());
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    static constexpr std::array<int, 256> values = url_values();
    // A single character past a full group carries fewer than 8 bits: no encoder produces it.
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const int value = values[static_cast<unsigned char>(c)];
        if (value == invalid) return std::nullopt;
        buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
        }
    }
    if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

}  // namespace pp::cognito
