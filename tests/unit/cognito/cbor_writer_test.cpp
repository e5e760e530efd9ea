#include "cbor_writer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>

namespace pp::webauthn::cbor {
namespace {

std::string hex(const Item& item) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    for (const char c : item.encoded()) {
        out.push_back(digits[static_cast<unsigned char>(c) >> 4]);
        out.push_back(digits[static_cast<unsigned char>(c) & 0xF]);
    }
    return out;
}

// The examples of RFC 8949 Appendix A that fall within what the writer makes.
TEST(CborWriter, IntegersInShortestForm) {
    EXPECT_EQ(hex(Item::integer(0)), "00");
    EXPECT_EQ(hex(Item::integer(1)), "01");
    EXPECT_EQ(hex(Item::integer(23)), "17");
    EXPECT_EQ(hex(Item::integer(24)), "1818");
    EXPECT_EQ(hex(Item::integer(100)), "1864");
    EXPECT_EQ(hex(Item::integer(255)), "18ff");
    EXPECT_EQ(hex(Item::integer(256)), "190100");
    EXPECT_EQ(hex(Item::integer(1000)), "1903e8");
    EXPECT_EQ(hex(Item::integer(65535)), "19ffff");
    EXPECT_EQ(hex(Item::integer(65536)), "1a00010000");
    EXPECT_EQ(hex(Item::integer(1000000)), "1a000f4240");
    EXPECT_EQ(hex(Item::integer(4294967295)), "1affffffff");
    EXPECT_EQ(hex(Item::integer(4294967296)), "1b0000000100000000");
    EXPECT_EQ(hex(Item::integer(1000000000000)), "1b000000e8d4a51000");
    EXPECT_EQ(hex(Item::integer(std::numeric_limits<std::int64_t>::max())), "1b7fffffffffffffff");
    EXPECT_EQ(hex(Item::integer(-1)), "20");
    EXPECT_EQ(hex(Item::integer(-7)), "26");  // ES256
    EXPECT_EQ(hex(Item::integer(-10)), "29");
    EXPECT_EQ(hex(Item::integer(-24)), "37");
    EXPECT_EQ(hex(Item::integer(-25)), "3818");
    EXPECT_EQ(hex(Item::integer(-100)), "3863");
    EXPECT_EQ(hex(Item::integer(-257)), "390100");  // RS256
    EXPECT_EQ(hex(Item::integer(-1000)), "3903e7");
    EXPECT_EQ(hex(Item::integer(std::numeric_limits<std::int64_t>::min())), "3b7fffffffffffffff");
}

TEST(CborWriter, StringsAndContainers) {
    EXPECT_EQ(hex(Item::bytes("")), "40");
    EXPECT_EQ(hex(Item::bytes("\x01\x02\x03\x04")), "4401020304");
    EXPECT_EQ(hex(Item::text("")), "60");
    EXPECT_EQ(hex(Item::text("a")), "6161");
    EXPECT_EQ(hex(Item::text("IETF")), "6449455446");
    EXPECT_EQ(hex(Item::text("\"\\")), "62225c");
    EXPECT_EQ(hex(Item::text("\xc3\xbc")), "62c3bc");
    EXPECT_EQ(hex(Item::text("\xe6\xb0\xb4")), "63e6b0b4");
    EXPECT_EQ(hex(Item::array({})), "80");
    EXPECT_EQ(hex(Item::array({Item::integer(1), Item::integer(2), Item::integer(3)})), "83010203");
    EXPECT_EQ(hex(Item::map({})), "a0");
    EXPECT_EQ(
        hex(Item::map({{"a", Item::integer(1)}, {"b", Item::array({Item::integer(2), Item::integer(3)})}})),
        "a26161016162820203");
}

TEST(CborWriter, LongStringsTakeWiderHeads) {
    EXPECT_EQ(Item::bytes(std::string(23, 'x')).encoded().substr(0, 1), "\x57");
    EXPECT_EQ(Item::bytes(std::string(24, 'x')).encoded().substr(0, 2), "\x58\x18");
    EXPECT_EQ(Item::bytes(std::string(255, 'x')).encoded().substr(0, 2), "\x58\xff");
    EXPECT_EQ(Item::bytes(std::string(256, 'x')).encoded().substr(0, 3), std::string("\x59\x01\x00", 3));
    EXPECT_EQ(Item::bytes(std::string(70000, 'x')).encoded().substr(0, 5),
              std::string("\x5a\x00\x01\x11\x70", 5));
    EXPECT_EQ(Item::bytes(std::string(70000, 'x')).encoded().size(), 70005u);
}

// CTAP2 canonical order: shorter encoded keys first, then bytewise; the order given does not matter.
TEST(CborWriter, MapKeysInCtap2CanonicalOrder) {
    const Item attestation_object = Item::map({
        {"authData", Item::bytes("A")},
        {"fmt", Item::text("none")},
        {"attStmt", Item::map({})},
    });
    EXPECT_EQ(attestation_object.encoded(), std::string("\xa3"
                                                        "\x63"
                                                        "fmt"
                                                        "\x64"
                                                        "none"
                                                        "\x67"
                                                        "attStmt"
                                                        "\xa0"
                                                        "\x68"
                                                        "authData"
                                                        "\x41"
                                                        "A"));
    const Item statement = Item::map({
        {"x5c", Item::array({})},
        {"sig", Item::bytes("")},
        {"alg", Item::integer(-7)},
    });
    EXPECT_EQ(hex(statement),
              "a3"
              "63616c6726"
              "6373696740"
              "6378356380");
    // Same length: bytewise, with bytes above 0x7F after ASCII.
    EXPECT_EQ(
        hex(Item::map({{"\xc3\xa9", Item::integer(1)}, {"zz", Item::integer(2)}, {"b", Item::integer(3)}})),
        "a3"
        "616203"
        "627a7a02"
        "62c3a901");
}

TEST(CborWriter, RefusesDuplicateKeysAndBadText) {
    EXPECT_THROW(Item::map({{"fmt", Item::integer(1)}, {"fmt", Item::integer(2)}}), std::invalid_argument);
    EXPECT_THROW(Item::text("\xff"), std::invalid_argument);
    EXPECT_THROW(Item::text("\xc0\x80"), std::invalid_argument) << "overlong NUL";
    EXPECT_THROW(Item::text("\xed\xa0\x80"), std::invalid_argument) << "surrogate";
    EXPECT_THROW(Item::map({{"\xe2\x82", Item::integer(1)}}), std::invalid_argument) << "truncated key";
}

}  // namespace
}  // namespace pp::webauthn::cbor
