#include "base64.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pp::cognito {
namespace {

std::string encode(std::string_view text) {
    return std::string(
        base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())).view());
}

TEST(Base64, EncodesRfc4648Vectors) {
    EXPECT_EQ(encode(""), "");
    EXPECT_EQ(encode("f"), "Zg==");
    EXPECT_EQ(encode("fo"), "Zm8=");
    EXPECT_EQ(encode("foo"), "Zm9v");
    EXPECT_EQ(encode("foob"), "Zm9vYg==");
    EXPECT_EQ(encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(encode("\xfb\xff"), "+/8=");
}

TEST(Base64Url, DecodesUnpaddedText) {
    EXPECT_EQ(base64url_decode(""), "");
    EXPECT_EQ(base64url_decode("Zg"), "f");
    EXPECT_EQ(base64url_decode("Zm8"), "fo");
    EXPECT_EQ(base64url_decode("Zm9v"), "foo");
    EXPECT_EQ(base64url_decode("Zm9vYmFy"), "foobar");
    EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
}

TEST(Base64Url, RejectsPadding) {
    EXPECT_FALSE(base64url_decode("Zg=="));
    EXPECT_FALSE(base64url_decode("Zm8="));
}

TEST(Base64Url, RejectsStandardAlphabetWhiteSpaceAndOtherBytes) {
    EXPECT_FALSE(base64url_decode("+/8"));
    EXPECT_FALSE(base64url_decode("Zm9v YmFy"));
    EXPECT_FALSE(base64url_decode("Zm9v\nYmFy"));
    EXPECT_FALSE(base64url_decode("Zm9v."));
    EXPECT_FALSE(base64url_decode(std::string("Zm\0v", 4)));
    EXPECT_FALSE(base64url_decode("Zm9\xc3\xa9"));
}

TEST(Base64Url, RejectsImpossibleLength) {
    EXPECT_FALSE(base64url_decode("Z"));
    EXPECT_FALSE(base64url_decode("Zm9vY"));
}

TEST(Base64Url, RejectsNonZeroUnusedBits) {
    // "Zh" and "Zm9" + 'w' would decode to the same bytes as "Zg" / "Zm8" if the spare bits were ignored.
    EXPECT_FALSE(base64url_decode("Zh"));
    EXPECT_FALSE(base64url_decode("Zm9"));
    EXPECT_EQ(base64url_decode("Zm8"), "fo");
}

TEST(Base64Url, RoundTripsAllByteValues) {
    std::vector<std::uint8_t> bytes(256);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i);
    std::string url(base64_encode(bytes).view());
    for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!url.empty() && url.back() == '=') url.pop_back();
    const auto decoded = base64url_decode(url);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, std::string(bytes.begin(), bytes.end()));
}

}  // namespace
}  // namespace pp::cognito
