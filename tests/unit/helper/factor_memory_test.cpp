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

// The passkeys' lengths as kept (FactorRow::passkeys): anything but a short list of WebAuthn-sized lengths
// is nothing remembered, never a made-up ask of another shape.
TEST(FactorMemory, PasskeyLengthsAreKeptAsAListOfWebAuthnSizes) {
    using L = std::vector<std::size_t>;
    EXPECT_EQ(encode_passkey_lengths({32, 131}), "32,131");
    EXPECT_EQ(decode_passkey_lengths("32,131"), (L{32, 131}));
    EXPECT_EQ(decode_passkey_lengths("1023"), L{1023});
    EXPECT_TRUE(decode_passkey_lengths("").empty());
    for (const char* bad : {"0", "1024", "32,", ",32", "32,,64", "32 ,64", "-1", "x", "99999999999999999999"})
        EXPECT_TRUE(decode_passkey_lengths(bad).empty()) << bad;
    const L many(kMaxPasskeysKept, 16);
    EXPECT_EQ(decode_passkey_lengths(encode_passkey_lengths(many)), many);
    EXPECT_TRUE(decode_passkey_lengths(encode_passkey_lengths(many) + ",16").empty()) << "too many";
    L more(kMaxPasskeysKept + 5, 16);
    EXPECT_EQ(decode_passkey_lengths(encode_passkey_lengths(more)), many) << "encoding keeps the first ones";
}

TEST(FactorMemory, TheAnnouncedUserNameMustBeOne) {
    EXPECT_EQ(announced_user({{"USERNAME", "5f0c1e9a-1111"}}), "5f0c1e9a-1111");
    EXPECT_EQ(announced_user({{"USERNAME", "bad\nname"}}), "");
    EXPECT_EQ(announced_user({}), "");
}

}  // namespace
}  // namespace pp::helper
