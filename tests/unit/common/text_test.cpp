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
