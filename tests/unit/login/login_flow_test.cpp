// The login flow end to end inside the helper, with only the person and the user pool faked
// (flow_harness.hpp): every method (codes right, wrong and too many; the pool's passkey; a local key's
// answers), the menu, the unknown user's walk beside a real user failing the same way, the backoff and the
// send limits met mid-flow, and the pool's outage. Each test asserts how the login ended (outcome, the
// person's text from messages.hpp, the audit line's method and reason), what the person was shown, and what
// the pool was asked.
//
// The local accounts are Debian's fixed system accounts (daemon, bin: base-passwd), so no user database is
// faked; "nosuchuser-flowtest" is no account.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "flow_harness.hpp"
#include "identifiers.hpp"
#include "messages.hpp"

namespace pp::helper::test {
namespace {

using cognito::test::json_string;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using wire::Outcome;

const std::string kSub = "5b1e7a52-0000-4000-8000-00000000f10e";
const std::string kIdentities =
    "daemon daemon@example.com\n"
    "daemon +15555550123\n"
    "bin bin@example.org\n";
const std::string kEmailOnly = "[login]\nmethods = email_otp sms_otp\nremote_methods = email_otp sms_otp\n";

cognito::test::Members email_verified(const std::string& address) {
    return {{"email", json_string(address)}, {"email_verified", "true"}};
}

const std::string kBinOffer = code_offer_prompt(Method::EmailOtp, "b***@e***");
const std::string kBinCode = code_prompt("b***@e***", false);
const std::string kBinCodeAgain = code_prompt("b***@e***", true);

// --- Codes ------------------------------------------------------------------------------------------

// bin's map names one address: the one method, offered before anything is sent, then the code.
TEST(LoginFlow, EmailCodeRight) {
    FlowHarness h(kEmailOnly, kIdentities);
    h.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    h.pool().then(h.pool().signed_in(email_verified("bin@example.org")));
    FakeConnection person;
    person.answer("").answer("123456");
    const Ending end = h.login(person, {"bin"});

    EXPECT_EQ(end.outcome, Outcome::Success) << end.audit;
    EXPECT_EQ(end.user, "bin");
    EXPECT_EQ(end.text, "");
    EXPECT_EQ(end.method, "email_otp");
    EXPECT_EQ(end.reason, "verified email identity sub=" + kSub);
    EXPECT_THAT(person.questions(), ElementsAre(kBinOffer, kBinCode));
    EXPECT_TRUE(person.shown()[0].echo) << "the offer is echoed (code_offer.hpp)";
    EXPECT_FALSE(person.shown()[1].echo) << "a code is not";

    ASSERT_EQ(h.pool().calls().size(), 2u);
    EXPECT_EQ(h.pool().calls()[0].op, "initiate");
    EXPECT_EQ(h.pool().calls()[0].username, "bin@example.org");
    EXPECT_EQ(h.pool().calls()[0].preferred, "EMAIL_OTP");
    EXPECT_EQ(h.pool().calls()[0].ip_address, "192.0.2.10");
    EXPECT_EQ(h.pool().calls()[1].challenge, "EMAIL_OTP");
    EXPECT_EQ(h.pool().calls()[1].session, "s-code");
    EXPECT_EQ(h.pool().calls()[1].answers,
              (std::map<std::string, std::string>{{"EMAIL_OTP_CODE", "123456"}}));

    // The send was counted on the address when it was made.
    LimitPolicy one;
    one.sends_per_identifier = 1;
    EXPECT_GT(h.limits().take_send({{"email:bin@example.org"}, "", false}, one, std::time(nullptr)).wait, 0);
}

TEST(LoginFlow, EmailCodeWrongThenRight) {
    FlowHarness h(kEmailOnly, kIdentities);
    h.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    h.pool().then(FakePool::rejected("CodeMismatchException", "Invalid code received for user"));
    h.pool().then(h.pool().signed_in(email_verified("bin@example.org")));
    FakeConnection person;
    // "abc" is no code: not sent to the pool, but it is one of the tries.
    person.answer("y").answer("111111").answer("123456");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::Success) << end.audit;
    EXPECT_THAT(person.questions(), ElementsAre(kBinOffer, kBinCode, kBinCodeAgain));
    EXPECT_EQ(h.pool().calls().size(), 3u);
}

TEST(LoginFlow, TooManyWrongCodes) {
    FlowHarness h(kEmailOnly, kIdentities);
    h.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    h.pool().then(FakePool::rejected("CodeMismatchException"));
    h.pool().then(FakePool::rejected("CodeMismatchException"));
    FakeConnection person;
    person.answer("").answer("111111").answer("abc").answer("222222");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::MaxTries);
    EXPECT_EQ(end.text, kTooManyWrong);
    EXPECT_EQ(end.reason, "wrong code 3 times");
    EXPECT_EQ(end.user, "");
    EXPECT_THAT(person.questions(), ElementsAre(kBinOffer, kBinCode, kBinCodeAgain, kBinCodeAgain));
    EXPECT_EQ(h.pool().calls().size(), 3u) << "\"abc\" is not sent to the pool";
}

TEST(LoginFlow, DecliningTheCodeSendsNothing) {
    FlowHarness h(kEmailOnly, kIdentities);
    FakeConnection person;
    person.answer("n");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::Abort);
    EXPECT_EQ(end.text, kCancelled);
    EXPECT_EQ(end.reason, "the person declined the code");
    EXPECT_TRUE(h.pool().calls().empty());
}

// --- The menu ---------------------------------------------------------------------------------------

std::string daemon_menu(const std::string& prefix = "") {
    return prefix + kChooseHeader + "  1) " + menu_label(Method::EmailOtp, "d***@e***") + "\n  2) " +
           menu_label(Method::SmsOtp, "+*******0123") + "\nChoice [1-2]: ";
}

// daemon's map names an address and a number: the pool is asked first, its SELECT_CHALLENGE makes the menu.
TEST(LoginFlow, TheMenuThenATextMessageCode) {
    FlowHarness h(kEmailOnly, kIdentities);
    h.pool().then(FakePool::select_challenge({"EMAIL_OTP", "SMS_OTP"}, "s-select", "pool-daemon"));
    h.pool().then(FakePool::code_challenge("SMS_OTP", "+*******0123", "s-sms"));
    h.pool().then(h.pool().signed_in(
        {{"phone_number", json_string("+15555550123")}, {"phone_number_verified", "true"}}));
    FakeConnection person;
    person.answer("9").answer("2").answer("654321");
    const Ending end = h.login(person, {"daemon"});
    EXPECT_EQ(end.outcome, Outcome::Success) << end.audit;
    EXPECT_EQ(end.method, "sms_otp");
    EXPECT_THAT(person.questions(),
                ElementsAre(daemon_menu(), kChooseAgain + daemon_menu(), code_prompt("+*******0123", false)));
    ASSERT_EQ(h.pool().calls().size(), 3u);
    EXPECT_EQ(h.pool().calls()[0].preferred, std::nullopt) << "no choice before the menu";
    EXPECT_EQ(h.pool().calls()[1].challenge, "SELECT_CHALLENGE");
    EXPECT_EQ(h.pool().calls()[1].answers.at("ANSWER"), "SMS_OTP");
    EXPECT_EQ(h.pool().calls()[1].username, "pool-daemon") << "the name the pool announced";
    EXPECT_EQ(h.pool().calls()[2].answers.at("SMS_OTP_CODE"), "654321");
    // The send counted on the number and on the pool's own name for the person.
    LimitPolicy one;
    one.sends_per_identifier = 1;
    const auto now = std::time(nullptr);
    EXPECT_GT(h.limits().take_send({{"phone:+15555550123"}, "", false}, one, now).wait, 0);
    EXPECT_GT(h.limits().take_send({{"user:pool-daemon"}, "", false}, one, now).wait, 0);
}

TEST(LoginFlow, TheMenuAnsweredBadlyOrNotAtAll) {
    {
        FlowHarness h(kEmailOnly, kIdentities);
        h.pool().then(FakePool::select_challenge({"EMAIL_OTP", "SMS_OTP"}));
        FakeConnection person;
        person.answer("0").answer("3").answer("one");
        const Ending end = h.login(person, {"daemon"});
        EXPECT_EQ(end.outcome, Outcome::AuthErr);
        EXPECT_EQ(end.text, kSignInFailed);
        EXPECT_EQ(end.reason, "no valid method chosen");
        EXPECT_EQ(person.questions().size(), 3u);
        EXPECT_EQ(h.pool().calls().size(), 1u);
    }
    {
        FlowHarness h(kEmailOnly, kIdentities);
        h.pool().then(FakePool::select_challenge({"EMAIL_OTP", "SMS_OTP"}));
        FakeConnection person;
        person.answer("");
        const Ending end = h.login(person, {"daemon"});
        EXPECT_EQ(end.outcome, Outcome::Abort);
        EXPECT_EQ(end.text, kCancelled);
        EXPECT_EQ(end.reason, "no method chosen");
    }
}

// The person's cancel at a code prompt (the client's Cancel) ends the login as an abort, counted as a
// failure: a code was sent.
TEST(LoginFlow, CancelAtTheCodePrompt) {
    FlowHarness h(kEmailOnly, kIdentities);
    h.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    FakeConnection person;
    person.answer("").cancel();
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::Abort);
    EXPECT_THAT(person.questions(), ElementsAre(kBinOffer, kBinCode));
}

// --- Backoff and limits -----------------------------------------------------------------------------

TEST(LoginFlow, BackoffRefusesBeforeAnythingIsShown) {
    FlowHarness h(kEmailOnly + "[limits]\nfailures_before_backoff = 1\n", kIdentities);
    h.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    h.pool().then(FakePool::rejected("CodeMismatchException"));
    h.pool().then(FakePool::rejected("CodeMismatchException"));
    h.pool().then(FakePool::rejected("CodeMismatchException"));
    FakeConnection first;
    first.answer("").answer("111111").answer("222222").answer("333333");
    ASSERT_EQ(h.login(first, {"bin"}).outcome, Outcome::MaxTries);

    FakeConnection second;
    const Ending end = h.login(second, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::MaxTries);
    EXPECT_EQ(end.text, backoff_text(60));
    EXPECT_EQ(end.reason, "backoff after repeated failures");
    EXPECT_TRUE(second.shown().empty());
    EXPECT_EQ(h.pool().calls().size(), 4u) << "the pool is not asked";

    // The console has its own budget.
    h.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    FakeConnection console;
    console.answer("").cancel();
    EXPECT_EQ(h.login(console, {"bin", ""}).outcome, Outcome::Abort);
}

TEST(LoginFlow, TheSendLimitMetBeforeTheCodeGoes) {
    FlowHarness h(kEmailOnly + "[limits]\nsends_per_identifier = 1\n", kIdentities);
    ASSERT_EQ(h.limits()
                  .take_send({{"email:bin@example.org"}, "", false}, h.config().limits, std::time(nullptr))
                  .wait,
              0);
    FakeConnection person;
    person.answer("");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::AuthinfoUnavail);
    EXPECT_EQ(end.text, send_limit_text(900));
    EXPECT_EQ(end.reason, "code send limit reached");
    EXPECT_THAT(person.questions(), ElementsAre(kBinOffer));
    EXPECT_TRUE(h.pool().calls().empty()) << "nothing was asked of the pool, so nothing was sent";
}

// After the menu: the pool announced its own name for the person, and that name's count is full although the
// number chosen was never used.
TEST(LoginFlow, TheSendLimitOnThePoolIdentityAfterTheMenu) {
    FlowHarness h(kEmailOnly + "[limits]\nsends_per_identifier = 1\n", kIdentities);
    ASSERT_EQ(
        h.limits().take_send({{"user:pool-daemon"}, "", false}, h.config().limits, std::time(nullptr)).wait,
        0);
    h.pool().then(FakePool::select_challenge({"EMAIL_OTP", "SMS_OTP"}, "s-select", "pool-daemon"));
    FakeConnection person;
    person.answer("2");
    const Ending end = h.login(person, {"daemon"});
    EXPECT_EQ(end.outcome, Outcome::AuthinfoUnavail);
    EXPECT_EQ(end.text, send_limit_text(900));
    EXPECT_EQ(end.reason, "code send limit reached");
    EXPECT_EQ(h.pool().calls().size(), 1u) << "the choice was not sent: no code went out";
}

TEST(LoginFlow, TheMachineCeiling) {
    FlowHarness h(kEmailOnly + "[limits]\nsends_per_hour = 1\n", kIdentities);
    ASSERT_EQ(
        h.limits()
            .take_send({{"email:someone@example.net"}, "", false}, h.config().limits, std::time(nullptr))
            .wait,
        0);
    FakeConnection person;
    person.answer("");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::AuthinfoUnavail);
    EXPECT_THAT(end.text, StartsWith("Too many codes have been sent from this machine; try again in "));
    EXPECT_EQ(end.reason, "machine send ceiling reached");
}

// --- The pool's outage ------------------------------------------------------------------------------

TEST(LoginFlow, ThePoolUnreachable) {
    FlowHarness h(kEmailOnly, kIdentities);
    h.pool().go_down(FakePool::unreachable());
    FakeConnection person;
    person.answer("");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::AuthinfoUnavail);
    EXPECT_EQ(end.text, kUnavailable);
    EXPECT_EQ(end.reason, "user pool: unreachable: no route to the user pool (fake)");
}

TEST(LoginFlow, ThePoolRefusesForItsOwnReasons) {
    FlowHarness h(kEmailOnly, kIdentities);
    h.pool().then(FakePool::rejected("TooManyRequestsException", "Rate exceeded"));
    FakeConnection person;
    person.answer("");
    Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::AuthinfoUnavail);
    EXPECT_EQ(end.text, kUnavailable);
    EXPECT_EQ(end.reason, "user pool: rejected TooManyRequestsException: Rate exceeded");

    h.pool().then(FakePool::rejected("ResourceNotFoundException", "User pool client does not exist"));
    FakeConnection again;
    again.answer("");
    end = h.login(again, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::ServiceErr);
    EXPECT_EQ(end.text, kMisconfigured);
}

}  // namespace
}  // namespace pp::helper::test
