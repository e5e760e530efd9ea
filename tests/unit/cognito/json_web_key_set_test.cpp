#include "json_web_key_set.hpp"

#include <gtest/gtest.h>

#include "json_document.hpp"
#include "test_keys.hpp"

namespace pp::cognito {
namespace {

using test::json_string;
using test::TestKey;
using test::to_json;

const TestKey& key_a() {
    static const TestKey key;
    return key;
}

std::string jwks(const std::vector<std::string>& entries) {
    std::string text = R"({"keys":[)";
    for (std::size_t i = 0; i < entries.size(); ++i) text += (i ? "," : "") + entries[i];
    return text + "]}";
}

TEST(JsonWebKeySet, FindsKeysById) {
    static const TestKey key_b;
    const auto set = JsonWebKeySet::parse(jwks({key_a().jwk("a"), key_b.jwk("b")}));
    EXPECT_EQ(set.size(), 2u);
    EXPECT_NE(set.find("a"), nullptr);
    EXPECT_NE(set.find("b"), nullptr);
    EXPECT_NE(set.find("a"), set.find("b"));
    EXPECT_EQ(set.find("c"), nullptr);
    EXPECT_EQ(set.find(""), nullptr);
}

TEST(JsonWebKeySet, AcceptsKeysWithoutUseOrAlg) {
    auto bare = key_a().jwk_members("bare");
    bare.erase("use");
    bare.erase("alg");
    EXPECT_NE(JsonWebKeySet::parse(jwks({to_json(bare)})).find("bare"), nullptr);
}

TEST(JsonWebKeySet, SkipsKeysItCannotUseForRs256) {
    auto encryption = key_a().jwk_members("enc");
    encryption["use"] = json_string("enc");
    auto other_alg = key_a().jwk_members("rs512");
    other_alg["alg"] = json_string("RS512");
    auto exponent_one = key_a().jwk_members("e1");
    exponent_one["e"] = json_string("AQ");
    auto bad_modulus = key_a().jwk_members("bad-n");
    bad_modulus["n"] = json_string("not+base64");
    auto no_exponent = key_a().jwk_members("no-e");
    no_exponent.erase("e");
    auto numeric_kid = key_a().jwk_members("");
    numeric_kid["kid"] = "5";
    auto empty_kid = key_a().jwk_members("");
    const auto set = JsonWebKeySet::parse(jwks({
        key_a().jwk("good"),
        R"({"kty":"EC","kid":"ec","crv":"P-256","x":"AA","y":"AA"})",
        to_json(encryption),
        to_json(other_alg),
        to_json(exponent_one),
        to_json(bad_modulus),
        to_json(no_exponent),
        to_json(numeric_kid),
        to_json(empty_kid),
        R"("not an object")",
    }));
    EXPECT_NE(set.find("good"), nullptr);
    EXPECT_EQ(set.size(), 1u);
}

TEST(JsonWebKeySet, SkipsWeakKeys) {
    static const TestKey weak(1024);
    EXPECT_EQ(JsonWebKeySet::parse(jwks({weak.jwk("weak")})).find("weak"), nullptr);
}

TEST(JsonWebKeySet, RejectsDocumentsThatAreNotKeySets) {
    EXPECT_THROW(JsonWebKeySet::parse(""), json::Error);
    EXPECT_THROW(JsonWebKeySet::parse("[]"), json::Error);
    EXPECT_THROW(JsonWebKeySet::parse("{}"), json::Error);
    EXPECT_THROW(JsonWebKeySet::parse(R"({"keys":{}})"), json::Error);
    EXPECT_EQ(JsonWebKeySet::parse(R"({"keys":[]})").size(), 0u);
}

}  // namespace
}  // namespace pp::cognito
