#include "base64.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pp {
namespace {

std::string encode(std::string_view text) {
    return std::string(
        base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())).view());
}

std::string all_byte_values() {
    std::string bytes(256, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i);
    return bytes;
}

std::optional<std::string> lenient(std::string_view text) {
    return base64_decode_lenient(text, Base64Alphabet::Standard);
}

std::optional<std::string> lenient_url(std::string_view text) {
    return base64_decode_lenient(text, Base64Alphabet::Url);
}

// RFC 4648 §10's vectors, with their base64url spelling (§5 alphabet, no padding).
struct Vector {
    std::string_view bytes, standard, url;
};
constexpr Vector kVectors[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    {"\xfb\xff", "+/8=", "-_8"},
};

// SECRET_HASH: the standard alphabet, padded; and pam-u2f's files, read back leniently.
TEST(Base64, EncodesAndReadsRfc4648Vectors) {
    for (const Vector& v : kVectors) {
        EXPECT_EQ(encode(v.bytes), v.standard);
        EXPECT_EQ(lenient(v.standard), v.bytes) << v.standard;
    }
}

// WebAuthn, JWTs, the credential store's records, 'list' on the command line: the URL alphabet, unpadded.
TEST(Base64Url, EncodesAndDecodesRfc4648VectorsWithoutPadding) {
    for (const Vector& v : kVectors) {
        EXPECT_EQ(base64url_encode(v.bytes), v.url);
        EXPECT_EQ(base64url_decode(v.url), v.bytes) << v.url;
        EXPECT_EQ(lenient_url(v.url), v.bytes) << v.url;
    }
}

// The two encoders are one alphabet swap and the padding apart, for every byte value at every offset.
TEST(Base64Url, IsTheStandardEncodingWithTheUrlAlphabetAndNoPadding) {
    const std::string bytes = all_byte_values();
    for (std::size_t length : {bytes.size(), bytes.size() - 1, bytes.size() - 2}) {
        std::string expected = encode(std::string_view(bytes).substr(0, length));
        for (char& c : expected) c = c == '+' ? '-' : c == '/' ? '_' : c;
        while (!expected.empty() && expected.back() == '=') expected.pop_back();
        EXPECT_EQ(base64url_encode(std::string_view(bytes).substr(0, length)), expected);
    }
}

// Each old caller's edge cases, read by each of the codec's readers: the strict one (JWTs, WebAuthn JSON, the
// credential store), the lenient one in both alphabets (pam-u2f's files: pamu2fcfg's standard base64, the old
// U2F format's base64url) and the command line's alphabet check. nullopt: refused.
constexpr std::optional<std::string_view> no;
struct Case {
    std::string_view text;
    std::optional<std::string_view> strict, lenient, lenient_url;
    bool url_alphabet;
};
constexpr Case kCases[] = {
    {"", "", "", "", true},
    {"Zg", "f", "f", "f", true},
    // Padding: refused by the strict reader; one or two '=' at the end taken by the lenient one, also where
    // the length needs none (the old pam-u2f decoder set them aside before looking at the length).
    {"Zg==", no, "f", "f", false},
    {"Zm8=", no, "fo", "fo", false},
    {"Zg=", no, "f", "f", false},
    {"Zm8==", no, "fo", "fo", false},
    {"Zm9v=", no, "foo", "foo", false},
    {"Zm9v==", no, "foo", "foo", false},
    {"=", no, "", "", false},
    {"==", no, "", "", false},
    // More than two '=', or one before the end: refused by all.
    {"===", no, no, no, false},
    {"Zg===", no, no, no, false},
    {"Zm9v====", no, no, no, false},
    {"Zg==Zg==", no, no, no, false},
    {"Z=g=", no, no, no, false},
    // Each alphabet refuses the other's two characters.
    {"+/8", no, "\xfb\xff", no, false},
    {"+/8=", no, "\xfb\xff", no, false},
    {"-_8", "\xfb\xff", no, "\xfb\xff", true},
    {"-_8=", no, no, "\xfb\xff", false},
    // A lone character past a whole quad (once the padding is set aside) carries no whole byte.
    {"Z", no, no, no, true},
    {"Zm9vY", no, no, no, true},
    {"Z==", no, no, no, false},
    {"Zm9vY=", no, no, no, false},
    // Unused bits set: "Zh" and "Zm9" would be second spellings of "Zg" and "Zm8". The strict reader refuses
    // them so each value has one spelling; OpenSSL's decoder, and so pam-u2f, ignores those bits.
    {"Zh", no, "f", "f", true},
    {"Zm9", no, "fo", "fo", true},
    {"Zh==", no, "f", "f", false},
    // White space, other bytes, text that is not base64 at all.
    {"Zm9v YmFy", no, no, no, false},
    {"Zm9v\nYmFy", no, no, no, false},
    {"Zm9vYmFy\n", no, no, no, false},
    {"Zm9v.", no, no, no, false},
    {"!!notbase64!!", no, no, no, false},
    {std::string_view("Zm\0v", 4), no, no, no, false},
    {"Zm9\xc3\xa9", no, no, no, false},
};

TEST(Base64Url, TakesOnlyTheCanonicalSpelling) {
    for (const Case& c : kCases) EXPECT_EQ(base64url_decode(c.text), c.strict) << '"' << c.text << '"';
}

TEST(Base64Lenient, ReadsAsPamU2fsOpenSslDecoderDoes) {
    for (const Case& c : kCases) {
        EXPECT_EQ(lenient(c.text), c.lenient) << '"' << c.text << '"';
        EXPECT_EQ(lenient_url(c.text), c.lenient_url) << '"' << c.text << '"';
    }
}

// The command line's check on a credential id typed whole or as its start, before the helper sees it: any
// length is a candidate.
TEST(IsBase64Url, IsTheUrlAlphabetAtAnyLength) {
    for (const Case& c : kCases) EXPECT_EQ(is_base64url(c.text), c.url_alphabet) << '"' << c.text << '"';
    EXPECT_TRUE(is_base64url("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"));
}

TEST(Base64Url, RoundTripsAllByteValues) {
    const std::string bytes = all_byte_values();
    for (std::size_t length = 0; length <= bytes.size(); ++length) {
        const std::string_view part = std::string_view(bytes).substr(0, length);
        const auto decoded = base64url_decode(base64url_encode(part));
        ASSERT_TRUE(decoded) << length;
        EXPECT_EQ(*decoded, part);
    }
}

TEST(Base64Lenient, ReadsWhatTheEncoderWrites) {
    const std::string bytes = all_byte_values();
    for (std::size_t length = 0; length <= bytes.size(); ++length) {
        const std::string_view part = std::string_view(bytes).substr(0, length);
        EXPECT_EQ(lenient(encode(part)), part) << length;
        EXPECT_EQ(lenient_url(base64url_encode(part)), part) << length;
    }
}

}  // namespace
}  // namespace pp
