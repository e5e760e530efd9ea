#include "base64.hpp"

#include <algorithm>
#include <array>

namespace pp {
namespace {

constexpr std::string_view kStandardAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr int kInvalid = -1;

constexpr std::array<int, 256> values_of(std::string_view alphabet) {
    std::array<int, 256> values{};
    values.fill(kInvalid);
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        values[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
    return values;
}

constexpr std::array<int, 256> kStandardValues = values_of(kStandardAlphabet);
constexpr std::array<int, 256> kUrlValues = values_of(kUrlAlphabet);

const std::array<int, 256>& values_of(Base64Alphabet alphabet) {
    return alphabet == Base64Alphabet::Standard ? kStandardValues : kUrlValues;
}

enum class Padding { Padded, Unpadded };

// Hands the text to `append` a quad at a time, so a Secret can take it without a copy left in an unwiped
// buffer.
template <typename Append>
void encode(std::span<const std::uint8_t> bytes, std::string_view alphabet, Padding padding,
            Append&& append) {
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t group =
            (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        const char quad[] = {alphabet[group >> 18], alphabet[(group >> 12) & 0x3F],
                             alphabet[(group >> 6) & 0x3F], alphabet[group & 0x3F]};
        append(std::string_view(quad, 4));
    }
    if (const std::size_t rest = bytes.size() - i; rest != 0) {
        const std::uint32_t group =
            (std::uint32_t{bytes[i]} << 16) | (rest == 2 ? std::uint32_t{bytes[i + 1]} << 8 : 0);
        const char quad[] = {alphabet[group >> 18], alphabet[(group >> 12) & 0x3F],
                             rest == 2 ? alphabet[(group >> 6) & 0x3F] : '=', '='};
        // One byte takes two characters, two take three; the rest of the quad is padding.
        append(std::string_view(quad, padding == Padding::Padded ? 4 : rest + 1));
    }
}

constexpr std::size_t padded_size(std::size_t bytes) {
    return (bytes + 2) / 3 * 4;
}

// Canonical: every character of the alphabet and the unused bits zero. Lenient: the unused bits are ignored.
enum class Rule { Canonical, Lenient };

std::optional<std::string> decode(std::string_view text, Base64Alphabet alphabet, Rule rule) {
    // A single character past a full quad carries fewer than 8 bits: no encoder produces it.
    if (text.size() % 4 == 1) return std::nullopt;
    const std::array<int, 256>& values = values_of(alphabet);
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const int value = values[static_cast<unsigned char>(c)];
        if (value == kInvalid) return std::nullopt;
        buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
        }
    }
    if (rule == Rule::Canonical && (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

}  // namespace

Secret base64_encode(std::span<const std::uint8_t> bytes) {
    Secret out;
    out.reserve(padded_size(bytes.size()));
    encode(bytes, kStandardAlphabet, Padding::Padded, [&out](std::string_view quad) { out.append(quad); });
    return out;
}

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve(padded_size(bytes.size()));
    encode(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), kUrlAlphabet,
           Padding::Unpadded, [&out](std::string_view quad) { out.append(quad); });
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    return decode(text, Base64Alphabet::Url, Rule::Canonical);
}

std::optional<std::string> base64_decode_lenient(std::string_view text, Base64Alphabet alphabet) {
    if (text.ends_with("==")) {
        text.remove_suffix(2);
    } else if (text.ends_with("=")) {
        text.remove_suffix(1);
    }
    return decode(text, alphabet, Rule::Lenient);
}

bool is_base64url(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return kUrlValues[static_cast<unsigned char>(c)] != kInvalid; });
}

}  // namespace pp
