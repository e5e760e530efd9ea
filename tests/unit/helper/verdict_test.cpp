// Success is a value only a proof makes (helper/verdict.hpp), and a key's answer means one thing for the
// person whichever path asked the key (login/security_key_method.cpp).
#include "verdict.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <type_traits>

#include "login/key_status.hpp"
#include "person_texts.hpp"

namespace pp::helper {
namespace {

using wire::DeviceStatus;
using wire::Outcome;

// No code outside the checks named in verdict.hpp can make a proof: not by default, not from its parts.
static_assert(!std::is_default_constructible_v<Verified>);
static_assert(!std::is_constructible_v<Verified, std::string, Verified::By, std::optional<Method>,
                                       std::string, std::string>);

TEST(Verdict, ASuccessWrittenWithoutAProofIsAFailure) {
    const Verdict v{Outcome::Success, "Welcome.", "looked fine"};
    EXPECT_FALSE(v.granted());
    EXPECT_EQ(v.outcome(), Outcome::AuthErr);
    EXPECT_EQ(v.person_text(), kSignInFailed);
    EXPECT_EQ(v.audit_reason(), "success without proof");
}

TEST(Verdict, FailuresKeepWhatTheySay) {
    const Verdict v{Outcome::MaxTries, kTooManyWrong, "wrong code 3 times", true};
    EXPECT_FALSE(v.granted());
    EXPECT_EQ(v.outcome(), Outcome::MaxTries);
    EXPECT_EQ(v.person_text(), kTooManyWrong);
    EXPECT_EQ(v.audit_reason(), "wrong code 3 times");
    EXPECT_TRUE(v.summarised());
}

struct KeyRow {
    DeviceStatus status;
    Outcome outcome;
    const char* sign_in_text;
    const char* sign_in_reason;
    const char* enrol_text;
    const char* enrol_reason;
};

// The two mappings as they were before they became one (login.cpp key_status_finish, management.cpp
// check_credential_status), word for word.
const KeyRow kRows[] = {
    {DeviceStatus::Denied, Outcome::AuthErr, "The security key refused the touch.",
     "touch refused at the key", "The security key refused: is it enrolled already?",
     "enrol: refused or already enrolled"},
    {DeviceStatus::Timeout, Outcome::AuthErr, "Security key timed out: no touch in time.",
     "no touch before the timeout; the key was cancelled", "Security key timed out: no touch in time.",
     "enrol: no touch"},
    {DeviceStatus::PinRequired, Outcome::CredInsufficient, "This sign-in needs the security key's PIN.",
     "user verification required and no PIN given", "This key needs a PIN; set one and try again.",
     "enrol: no PIN"},
    {DeviceStatus::PinInvalid, Outcome::AuthErr, "Wrong security key PIN.", "wrong PIN",
     "Wrong security key PIN.", "enrol: wrong PIN"},
    {DeviceStatus::NoDevice, Outcome::AuthinfoUnavail,
     "No security key found. Plug in your security key and try again.", "no security key",
     "No security key found. Plug in your security key and try again.", "enrol: no key"},
    {DeviceStatus::Error, Outcome::AuthinfoUnavail, "The security key did not answer properly.", "key error",
     "The security key did not answer properly.", "enrol: key error"},
};

TEST(KeyStatus, OneMappingSaysWhatBothPathsSaid) {
    for (const auto& row : kRows) {
        const auto in = login::key_status_verdict(row.status, login::KeyUse::SignIn);
        EXPECT_EQ(in.outcome(), row.outcome) << row.sign_in_reason;
        EXPECT_EQ(in.person_text(), row.sign_in_text);
        EXPECT_EQ(in.audit_reason(), row.sign_in_reason);
        const auto enrol = login::key_status_verdict(row.status, login::KeyUse::Enrol);
        EXPECT_EQ(enrol.outcome(), row.outcome) << row.enrol_reason;
        EXPECT_EQ(enrol.person_text(), row.enrol_text);
        EXPECT_EQ(enrol.audit_reason(), row.enrol_reason);
    }
}

// A blocked PIN has its own words when signing in; enrolling always called it a key error.
TEST(KeyStatus, ABlockedPinIsNamedWhenSigningInOnly) {
    const auto in = login::key_status_verdict(DeviceStatus::PinBlocked, login::KeyUse::SignIn);
    EXPECT_EQ(in.outcome(), Outcome::AuthErr);
    EXPECT_EQ(in.person_text(), "The security key's PIN is blocked.");
    const auto enrol = login::key_status_verdict(DeviceStatus::PinBlocked, login::KeyUse::Enrol);
    EXPECT_EQ(enrol.outcome(), Outcome::AuthinfoUnavail);
    EXPECT_EQ(enrol.person_text(), kKeyError);
    EXPECT_EQ(enrol.audit_reason(), "enrol: key error");
}

}  // namespace
}  // namespace pp::helper
