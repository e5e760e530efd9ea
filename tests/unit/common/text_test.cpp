#include "text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pp::text {
namespace {

// Each rule pinned to what the sites it replaced did, byte for byte.
TEST(Text, ControlsAreC0AndDel) {
    EXPECT_TRUE(is_control('\0'));
    EXPECT_TRUE(is_control('\x1f'));
    EXPECT_TRUE(is_control('\x7f'));
    EXPECT_FALSE(is_control(' '));
    EXPECT_FALSE(is_control('~'));
    EXPECT_FALSE(is_control('\x80'));
    EXPECT_FALSE(is_control('\xff'));
    EXPECT_TRUE(has_control_characters("a\tb"));
    EXPECT_FALSE(has_control_characters("caf\xc3\xa9 ok"));
    EXPECT_FALSE(has_control_characters(""));
}

TEST(Text, PrintableBoundedIsAsciiWithinTheBound) {
    EXPECT_TRUE(printable_bounded("sshd", 4));
    EXPECT_FALSE(printable_bounded("sshd", 3));
    EXPECT_TRUE(printable_bounded("", 0));
    EXPECT_TRUE(printable_bounded(" ~", 2));
    EXPECT_FALSE(printable_bounded("caf\xc3\xa9", 64));
    EXPECT_FALSE(printable_bounded("a\x7f", 64));
}

TEST(Text, PrintableUtf8IsWellFormedWithoutControlsOrReordering) {
    EXPECT_TRUE(printable_utf8("Open this link.", 64));
    EXPECT_TRUE(printable_utf8("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x94\x91", 64));
    EXPECT_TRUE(printable_utf8("", 0));
    EXPECT_FALSE(printable_utf8("abcd", 3));
    EXPECT_FALSE(printable_utf8("tab\there", 64));
    EXPECT_FALSE(printable_utf8("line\n", 64));
    EXPECT_FALSE(printable_utf8("del\x7f", 64));
    EXPECT_FALSE(printable_utf8("csi \xc2\x9b", 64));      // U+009B, a C1 control
    EXPECT_TRUE(printable_utf8("nbsp \xc2\xa0", 64));      // U+00A0, the first after them
    EXPECT_FALSE(printable_utf8("rlo \xe2\x80\xae", 64));  // U+202E
    EXPECT_FALSE(printable_utf8("fsi \xe2\x81\xa8", 64));  // U+2068
    EXPECT_FALSE(printable_utf8("cut \xe2\x86", 64));
    EXPECT_FALSE(printable_utf8("lone \x80", 64));
    EXPECT_FALSE(printable_utf8("overlong \xc1\xbf", 64));
    EXPECT_FALSE(printable_utf8("overlong \xe0\x80\xaf", 64));
    EXPECT_FALSE(printable_utf8("overlong \xf0\x80\x80\xaf", 64));
    EXPECT_FALSE(printable_utf8("surrogate \xed\xb0\x80", 64));
    EXPECT_FALSE(printable_utf8("past \xf4\x90\x80\x80", 64));
    EXPECT_FALSE(printable_utf8("bad continuation \xc3\x28", 64));
}

TEST(Text, HttpsUrlIsTheSchemeThenPrintableAsciiWithoutSpaces) {
    EXPECT_TRUE(https_url("https://a.example/x?y=1&z=%20", 64));
    EXPECT_TRUE(https_url("https://a", 9));
    EXPECT_FALSE(https_url("https://a", 8));
    EXPECT_FALSE(https_url("https://", 64));
    EXPECT_FALSE(https_url("http://a", 64));
    EXPECT_FALSE(https_url("Https://a", 64));
    EXPECT_FALSE(https_url(" https://a", 64));
    EXPECT_FALSE(https_url("https://a b", 64));
    EXPECT_FALSE(https_url("https://a\tb", 64));
    EXPECT_FALSE(https_url("https://a\x7f", 64));
    EXPECT_FALSE(https_url("https://caf\xc3\xa9", 64));
}

TEST(Text, LoggableQuotesNothingAndSaysWhenCut) {
    EXPECT_EQ(loggable(""), "-");
    EXPECT_EQ(loggable("say \"hi\"\n"), "say ?hi??");
    EXPECT_EQ(loggable("caf\xc3\xa9"), "caf??");
    EXPECT_EQ(loggable("abcdef", 3), "abc...");
    EXPECT_EQ(loggable("abc", 3), "abc");
    EXPECT_EQ(loggable(std::string(250, 'x')), std::string(200, 'x') + "...");
}

TEST(Text, ControlsReplacedKeepsUtf8AndOptionallyLines) {
    EXPECT_EQ(controls_replaced("a\"b\x1b[2J\xc3\xa9"), "a\"b?[2J\xc3\xa9");
    EXPECT_EQ(controls_replaced("line\none\tx\x7f"), "line?one?x?");
    EXPECT_EQ(controls_replaced("line\none\tx\x7f\r", std::string_view::npos, LineBreaks::Keep),
              "line\none\tx??");
    EXPECT_EQ(controls_replaced("abcdef", 4), "abcd");
}

}  // namespace
}  // namespace pp::text
