#include "factor_memory.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pp::helper {
namespace {

using V = std::vector<Method>;
const V kAll{Method::SecurityKey, Method::EmailOtp, Method::SmsOtp, Method::Passkey};

Identifier email() {
    return {IdentifierKind::Email, "alice@example.com"};
}
Identifier phone() {
    return {IdentifierKind::Phone, "+15555550123"};
}

TEST(FactorMemory, OnlyThePoolMethodsAreKeptInThePoolsOrder) {
    EXPECT_EQ(factors_from({"PASSWORD_SRP", "PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"}),
              (V{Method::EmailOtp, Method::SmsOtp, Method::Passkey}));
    EXPECT_EQ(encode_factors({Method::EmailOtp, Method::Passkey}), "EMAIL_OTP WEB_AUTHN");
    EXPECT_EQ(decode_factors("EMAIL_OTP WEB_AUTHN"), (V{Method::EmailOtp, Method::Passkey}));
    EXPECT_EQ(decode_factors("SMS_OTP  NEW_FACTOR EMAIL_OTP"), (V{Method::EmailOtp, Method::SmsOtp}))
        << "unknown names are skipped";
    EXPECT_TRUE(decode_factors("").empty());
}

TEST(FactorMemory, TheMenuIsWhatTheConfigurationEnablesThePoolOfferedAndTheMapNames) {
    const V remembered{Method::EmailOtp, Method::SmsOtp, Method::Passkey};
    EXPECT_EQ(remembered_menu(kAll, remembered, {email(), phone()}, true), kAll) << "in the configured order";
    EXPECT_EQ(remembered_menu(kAll, remembered, {email(), phone()}, false),
              (V{Method::EmailOtp, Method::SmsOtp, Method::Passkey}))
        << "no key without credentials";
    EXPECT_EQ(remembered_menu({Method::SmsOtp, Method::EmailOtp}, remembered, {email(), phone()}, true),
              (V{Method::SmsOtp, Method::EmailOtp}))
        << "keys not enabled for this service";
    EXPECT_EQ(remembered_menu(kAll, {Method::EmailOtp}, {email(), phone()}, false), V{Method::EmailOtp})
        << "what the pool did not offer last time";
    EXPECT_EQ(remembered_menu(kAll, remembered, {email()}, false), (V{Method::EmailOtp, Method::Passkey}))
        << "no phone in the map: no text message";
    EXPECT_EQ(remembered_menu(kAll, remembered, {{IdentifierKind::Username, "alice"}}, false),
              (V{Method::EmailOtp, Method::SmsOtp, Method::Passkey}))
        << "a pool user name may hold either";
    EXPECT_TRUE(remembered_menu(kAll, remembered, {}, false).empty());
}

TEST(FactorMemory, TheAnnouncedUserNameMustBeOne) {
    EXPECT_EQ(announced_user({{"USERNAME", "5f0c1e9a-1111"}}), "5f0c1e9a-1111");
    EXPECT_EQ(announced_user({{"USERNAME", "bad\nname"}}), "");
    EXPECT_EQ(announced_user({}), "");
}

}  // namespace
}  // namespace pp::helper
