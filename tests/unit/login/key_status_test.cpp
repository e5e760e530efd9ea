// The one reading of a key's DeviceStatus (login::key_status_verdict), for signing in and for enrolling: what
// the person reads, the PAM outcome and the audit reason of every status. An Ok never reaches it as a proof.
#include <gtest/gtest.h>

#include "login/method.hpp"
#include "messages.hpp"

namespace pp::helper::login {
namespace {

using wire::DeviceStatus;
using wire::Outcome;

struct Row {
    DeviceStatus status;
    KeyUse use;
    Outcome outcome;
    const char* text;
    const char* reason;
};

const Row kRows[] = {
    {DeviceStatus::Denied, KeyUse::SignIn, Outcome::AuthErr, kKeyDenied, "touch refused at the key"},
    {DeviceStatus::Timeout, KeyUse::SignIn, Outcome::AuthErr, kKeyTimeout,
     "no touch before the timeout; the key was cancelled"},
    {DeviceStatus::PinRequired, KeyUse::SignIn, Outcome::CredInsufficient, kKeyPinRequired,
     "user verification required and no PIN given"},
    {DeviceStatus::PinInvalid, KeyUse::SignIn, Outcome::AuthErr, kKeyPinInvalid, "wrong PIN"},
    {DeviceStatus::PinBlocked, KeyUse::SignIn, Outcome::AuthErr, kKeyPinBlocked, "PIN blocked at the key"},
    {DeviceStatus::NoDevice, KeyUse::SignIn, Outcome::AuthinfoUnavail, kNoKey, "no security key"},
    {DeviceStatus::Error, KeyUse::SignIn, Outcome::AuthinfoUnavail, kKeyError, "key error"},
    {DeviceStatus::Ok, KeyUse::SignIn, Outcome::AuthinfoUnavail, kKeyError, "key error"},
    {DeviceStatus::Denied, KeyUse::Enrol, Outcome::AuthErr, kKeyDeniedEnrol,
     "enrol: refused or already enrolled"},
    {DeviceStatus::Timeout, KeyUse::Enrol, Outcome::AuthErr, kKeyTimeout, "enrol: no touch"},
    {DeviceStatus::PinRequired, KeyUse::Enrol, Outcome::CredInsufficient, kKeyPinRequiredEnrol,
     "enrol: no PIN"},
    {DeviceStatus::PinInvalid, KeyUse::Enrol, Outcome::AuthErr, kKeyPinInvalid, "enrol: wrong PIN"},
    {DeviceStatus::PinBlocked, KeyUse::Enrol, Outcome::AuthinfoUnavail, kKeyError, "enrol: key error"},
    {DeviceStatus::NoDevice, KeyUse::Enrol, Outcome::AuthinfoUnavail, kNoKey, "enrol: no key"},
    {DeviceStatus::Error, KeyUse::Enrol, Outcome::AuthinfoUnavail, kKeyError, "enrol: key error"},
};

TEST(KeyStatusVerdict, EveryStatusHasItsTextOutcomeAndReason) {
    for (const auto& row : kRows) {
        const Verdict v = key_status_verdict(row.status, row.use);
        SCOPED_TRACE(std::string(row.use == KeyUse::Enrol ? "enrol " : "sign-in ") +
                     std::to_string(static_cast<int>(row.status)));
        EXPECT_EQ(v.outcome(), row.outcome);
        EXPECT_EQ(v.person_text(), row.text);
        EXPECT_EQ(v.audit_reason(), row.reason);
        EXPECT_FALSE(v.granted());
    }
}

// A status the protocol does not define (a newer or hostile client) reads as a key error, never as Ok.
TEST(KeyStatusVerdict, AnUndefinedStatusIsAKeyError) {
    const Verdict v = key_status_verdict(static_cast<DeviceStatus>(200), KeyUse::SignIn);
    EXPECT_EQ(v.outcome(), Outcome::AuthinfoUnavail);
    EXPECT_EQ(v.person_text(), kKeyError);
}

}  // namespace
}  // namespace pp::helper::login
