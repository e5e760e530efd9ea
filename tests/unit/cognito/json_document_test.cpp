#include "json_document.hpp"

#include <gtest/gtest.h>
#include <json-c/json.h>

#include <string>

namespace pp::cognito {
namespace {

std::string nested(int levels) {
    std::string text = R"({"a":)";
    for (int i = 1; i < levels; ++i) text += "[";
    text += "1";
    for (int i = 1; i < levels; ++i) text += "]";
    return text + "}";
}

TEST(JsonDocument, AcceptsAnObjectWithTrailingWhiteSpace) {
    EXPECT_TRUE(json::parse_object("{}"));
    EXPECT_TRUE(json::parse_object("{\"a\":1}\r\n "));
}

TEST(JsonDocument, RejectsWhatIsNotExactlyOneObject) {
    for (const std::string text :
         {"", " ", "[]", "1", "\"s\"", "null", "{} {}", "{}x", "{\"a\":1", "{\"a\":1,}"}) {
        EXPECT_THROW(json::parse_object(text), json::Error) << text;
    }
    EXPECT_THROW(json::parse_object(std::string("{}\0{}", 5)), json::Error);
}

TEST(JsonDocument, RejectsInvalidUtf8) {
    EXPECT_THROW(json::parse_object("{\"a\":\"\xff\"}"), json::Error);
    EXPECT_THROW(json::parse_object("{\"a\":\"\xc3\"}"), json::Error);
}

TEST(JsonDocument, LimitsDepth) {
    EXPECT_NO_THROW(json::parse_object(nested(json::max_depth - 1)));
    EXPECT_THROW(json::parse_object(nested(json::max_depth)), json::Error);
    EXPECT_THROW(json::parse_object(nested(1000)), json::Error);
}

TEST(JsonDocument, TypedMembers) {
    const json::Document doc = json::parse_object(R"({"s":"text","n":1,"o":{},"a":[],"z":null})");
    EXPECT_EQ(json::string_member(doc.get(), "s"), "text");
    EXPECT_FALSE(json::string_member(doc.get(), "missing"));
    EXPECT_FALSE(json::string_member(doc.get(), "z"));
    EXPECT_THROW(json::string_member(doc.get(), "n"), json::Error);
    EXPECT_TRUE(json::object_member(doc.get(), "o"));
    EXPECT_THROW(json::object_member(doc.get(), "a"), json::Error);
    EXPECT_TRUE(json::array_member(doc.get(), "a"));
    EXPECT_THROW(json::array_member(doc.get(), "o"), json::Error);
}

TEST(JsonDocument, StringsKeepEmbeddedNul) {
    const json::Document doc = json::parse_object(R"({"s":"a\u0000b"})");
    EXPECT_EQ(json::string_member(doc.get(), "s"), std::string_view("a\0b", 3));
}

// json-c keeps the last of duplicate members; an answer that names a member twice is refused instead, at
// every depth and however the name is spelt (escapes decode to the same name).
TEST(JsonDocument, RejectsDuplicateMembersAtEveryDepth) {
    for (const std::string text : {
             R"({"a":1,"a":2})",
             R"({"a":1,"b":2,"a":1})",
             R"({"a":{"x":1,"x":1}})",
             R"({"a":[{"x":"1"},{"y":1,"y":"2"}]})",
             R"({"a":[[[{"b":{"c":{"d":1,"d":null}}}]]]})",
             R"({"ChallengeName":"SELECT_CHALLENGE","\u0043hallengeName":"EMAIL_OTP"})",
             R"({"k\u0000a":1,"k\u0000b":2})",
         }) {
        try {
            json::parse_object(text);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const json::Error& e) {
            EXPECT_NE(std::string(e.what()).find("duplicate member"), std::string::npos) << e.what();
        }
    }
}

TEST(JsonDocument, DistinctMembersAndColonsInStringsAreNotDuplicates) {
    EXPECT_TRUE(json::parse_object(R"({"a":1,"b":{"a":1},"c":[{"a":1},{"a":2}]})"));
    EXPECT_TRUE(json::parse_object(R"({"a:b":"c:d","e":"\":\\","f":"\\\":"})"));
    EXPECT_TRUE(json::parse_object(R"({"A":1,"a":2})"));
}

}  // namespace
}  // namespace pp::cognito
