#include "rp_id.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace pp {
namespace {

TEST(RpId, TakesOriginsAndDomainsUpToTheBound) {
    for (const std::string& ok :
         std::vector<std::string>{"pam://pam-passwordless-test", "pam://Host_1", "auth.example.com",
                                  "https://auth.example.com:8443", std::string(128, 'r')}) {
        EXPECT_TRUE(RpId::valid(ok)) << ok;
        EXPECT_EQ(RpId(ok).str(), ok);
    }
}

TEST(RpId, RefusesWhatNoRuleTook) {
    for (const std::string& bad :
         std::vector<std::string>{std::string(), std::string(129, 'r'), std::string("pam://a b"),
                                  std::string("pam://a\tb"), std::string("pam://h\xc3\xa9"),
                                  std::string("a+b"), std::string("a\"b"), std::string("a\0b", 3)}) {
        EXPECT_FALSE(RpId::valid(bad)) << bad;
        EXPECT_THROW(RpId{bad}, std::invalid_argument) << bad;
    }
}

TEST(RpId, PasskeyIdIsALowerCaseDnsName) {
    EXPECT_TRUE(valid_passkey_rp_id("auth.example.com"));
    EXPECT_TRUE(valid_passkey_rp_id("a"));
    EXPECT_TRUE(valid_passkey_rp_id("x-1.example"));
    EXPECT_TRUE(valid_passkey_rp_id(std::string(63, 'a') + ".example"));
    for (const std::string& bad : std::vector<std::string>{
             std::string(), std::string("Auth.example.com"), std::string("auth..example.com"),
             std::string(".example.com"), std::string("example.com."), std::string("-a.example"),
             std::string("a.example-"), std::string("auth.example.com:443"),
             std::string(64, 'a') + ".example", std::string(63, 'a') + "." + std::string(64, 'b'),
             std::string(60, 'a') + "." + std::string(60, 'b') + "." + std::string(7, 'c')})
        EXPECT_FALSE(valid_passkey_rp_id(bad)) << bad;
}

}  // namespace
}  // namespace pp
