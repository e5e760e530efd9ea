// The login flow end to end inside the helper, with only the person and the user pool faked
// (flow_harness.hpp): every method (codes right, wrong and too many; the pool's passkey; a local key's
// answers), the menu, the unknown user's walk beside a real user failing the same way, the backoff and the
// send limits met mid-flow, and the pool's outage. Each test asserts how the login ended (outcome, the
// person's text from person_texts.hpp, the audit line's method and reason), what the person was shown, and
// what the pool was asked.
//
// The local accounts are Debian's fixed system accounts (daemon, bin: base-passwd), so no user database is
// faked; "nosuchuser-flowtest" is no account.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <map>
#include <regex>

#include "credential_store.hpp"
#include "flow_harness.hpp"
#include "identifiers.hpp"
#include "login/key_status.hpp"
#include "login/pool_session_memory.hpp"
#include "login_steps.hpp"
#include "person_texts.hpp"
#include "software_authenticator.hpp"

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
    // No choice before the menu: the question prefers the one method that sends nothing.
    EXPECT_EQ(h.pool().calls()[0].preferred, "WEB_AUTHN") << "the pool could send a code unasked";
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

// The person's cancel at a code prompt (the client's Cancel) ends the login as an abort; the code was sent,
// so the send stays counted and the login counts as a failed one (a code asked for and hung up on must cost
// what a wrong one costs).
TEST(LoginFlow, CancelAtTheCodePrompt) {
    FlowHarness h(kEmailOnly + "[limits]\nfailures_before_backoff = 1\nsends_per_identifier = 1\n",
                  kIdentities);
    h.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    FakeConnection person;
    person.answer("").cancel();
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::Abort);
    EXPECT_EQ(end.text, "") << "the module ends its own cancel";
    EXPECT_EQ(end.reason, "the person cancelled");
    EXPECT_THAT(person.questions(), ElementsAre(kBinOffer, kBinCode));
    const auto now = std::time(nullptr);
    EXPECT_GT(h.limits().take_send({{"email:bin@example.org"}, "", false}, h.config().limits, now).wait, 0);
    EXPECT_GT(h.limits().reserve_try("bin", true, h.config().limits, now).seconds, 0);
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

// --- The pool's passkey ------------------------------------------------------------------------------

const std::string kPasskeyOnly =
    "[login]\nmethods = passkey\nremote_methods = passkey\n[passkey]\nrp_id = auth.example.com\n";

Assertion passkey_assertion(const std::string& cred_id) {
    Assertion a;
    a.status = wire::DeviceStatus::Ok;
    a.cred_id = cred_id;
    a.auth_data = cognito::test::cbor_bytes(
        cognito::test::authenticator_data("auth.example.com", cognito::test::flag_up, 7));
    a.signature = "signature-checked-by-the-pool";
    a.user_handle = "user-handle";
    return a;
}

TEST(LoginFlow, ThePoolsPasskey) {
    FlowHarness h(kPasskeyOnly, kIdentities);
    h.pool().then(FakePool::passkey_challenge("auth.example.com", {"cred-1", "cred-2"}));
    h.pool().then(h.pool().signed_in(email_verified("bin@example.org")));
    FakeConnection person;
    person.key_answers(passkey_assertion("cred-2"));
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::Success) << end.audit;
    EXPECT_EQ(end.method, "passkey");
    EXPECT_EQ(end.reason, "verified email identity sub=" + kSub);
    ASSERT_EQ(person.shown().size(), 1u) << "no question: the key is asked at once";
    const auto& asked = person.shown()[0].assertion;
    EXPECT_EQ(asked.rp_id, "auth.example.com");
    EXPECT_EQ(asked.text, kTouchKey);
    EXPECT_THAT(asked.cred_ids, ElementsAre("cred-1", "cred-2"));
    EXPECT_TRUE(asked.cred_keys.empty()) << "the pool keeps its passkeys' public keys";
    EXPECT_EQ(asked.client_data_hash.size(), 32u);
    ASSERT_EQ(h.pool().calls().size(), 2u);
    EXPECT_EQ(h.pool().calls()[0].preferred, "WEB_AUTHN");
    EXPECT_EQ(h.pool().calls()[1].challenge, "WEB_AUTHN");
    EXPECT_THAT(h.pool().calls()[1].answers.at("CREDENTIAL"), HasSubstr("\"type\":\"public-key\""));
}

TEST(LoginFlow, ThePoolsPasskeyRefusedOrAbsent) {
    {
        FlowHarness h(kPasskeyOnly, kIdentities);
        h.pool().then(FakePool::passkey_challenge("auth.example.com", {"cred-1"}));
        h.pool().then(FakePool::rejected("NotAuthorizedException", "Incorrect credential."));
        FakeConnection person;
        person.key_answers(passkey_assertion("cred-1"));
        const Ending end = h.login(person, {"bin"});
        EXPECT_EQ(end.outcome, Outcome::AuthErr);
        EXPECT_EQ(end.text, kPoolRefusedPasskey);
        EXPECT_EQ(end.reason, "user pool refused the passkey: Incorrect credential.");
    }
    {
        FlowHarness h(kPasskeyOnly, kIdentities);
        h.pool().then(FakePool::passkey_challenge("auth.example.com", {"cred-1"}));
        FakeConnection person;
        person.key_status(wire::DeviceStatus::NoDevice);
        const Ending end = h.login(person, {"bin"});
        EXPECT_EQ(end.outcome, Outcome::AuthinfoUnavail);
        EXPECT_EQ(end.text, kNoKey);
        EXPECT_EQ(end.reason, "no security key");
    }
    {
        // The pool's relying party is not the one configured: a misconfiguration, the key is not asked.
        FlowHarness h(kPasskeyOnly, kIdentities);
        h.pool().then(FakePool::passkey_challenge("evil.example.net", {"cred-1"}));
        FakeConnection person;
        const Ending end = h.login(person, {"bin"});
        EXPECT_EQ(end.outcome, Outcome::ServiceErr);
        EXPECT_EQ(end.text, kMisconfigured);
        EXPECT_TRUE(person.shown().empty());
    }
}

// --- A local security key ---------------------------------------------------------------------------

// A key enrolled for bin, and the assertions it makes: a software P-256 key signing as an authenticator does.
class LocalKey {
  public:
    LocalKey(const FlowHarness& h, std::uint32_t stored_counter) {
        StoredCredential c{pp::RpId(h.config().security_key.rp_id)};
        c.user = "bin";
        c.cred_id = cred_id_;
        c.public_key = key_.raw_public_key();
        c.nickname = "my key";
        c.created = 1;
        c.counter = stored_counter;
        CredentialStore(h.config().security_key.store_dir).add(c);
    }
    // The key's answer with this signature counter, whatever it is asked.
    std::function<Assertion(const AssertionRequest&)> signing(std::uint32_t counter) const {
        return [this, counter](const AssertionRequest& r) { return sign(r, counter); };
    }
    Assertion sign(const AssertionRequest& r, std::uint32_t counter) const {
        const std::string auth = cognito::test::authenticator_data(r.rp_id, cognito::test::flag_up, counter);
        Assertion a;
        a.status = wire::DeviceStatus::Ok;
        a.cred_id = cred_id_;
        a.auth_data = cognito::test::cbor_bytes(auth);
        a.signature = key_.sign(auth + r.client_data_hash);
        return a;
    }

    [[nodiscard]] std::string public_key() const { return key_.raw_public_key(); }

  private:
    cognito::test::P256Key key_;
    std::string cred_id_ = std::string(32, '\x5a');
};

const std::string kKeysOnly = "[login]\nmethods = security_key\nremote_methods = security_key\n";
const std::string kKeysAndEmail =
    "[login]\nmethods = security_key email_otp\nremote_methods = security_key email_otp\n";

TEST(LoginFlow, ALocalKeyWhoseCounterWentUp) {
    FlowHarness h(kKeysOnly, kIdentities);
    const LocalKey key(h, 10);
    FakeConnection person;
    person.key_answers(key.signing(11));
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::Success) << end.audit;
    EXPECT_EQ(end.method, "security_key");
    EXPECT_EQ(end.reason, "security key 'my key' verified");
    ASSERT_EQ(person.shown().size(), 1u);
    EXPECT_EQ(person.shown()[0].assertion.rp_id, h.config().security_key.rp_id);
    EXPECT_EQ(person.shown()[0].assertion.text, kTouchKey);
    EXPECT_TRUE(h.pool().calls().empty()) << "a local key needs no pool";

    // The counter was stored: the same answer again is a clone's.
    FakeConnection replay;
    replay.key_answers(key.signing(11));
    const Ending again = h.login(replay, {"bin"});
    EXPECT_EQ(again.outcome, Outcome::AuthErr);
    EXPECT_EQ(again.text, kSignInFailed);
    EXPECT_EQ(again.reason, "signature counter did not increase for security key 'my key': possible clone");
}

TEST(LoginFlow, ALocalKeySigningAnotherChallengeIsRefused) {
    FlowHarness h(kKeysOnly, kIdentities);
    const LocalKey key(h, 0);
    FakeConnection person;
    person.key_answers([&](const AssertionRequest& r) {
        AssertionRequest other = r;
        other.client_data_hash = std::string(32, '\0');
        return key.sign(other, 1);
    });
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::AuthErr);
    EXPECT_EQ(end.text, kSignInFailed);
    EXPECT_THAT(end.reason, StartsWith("security key assertion refused: "));
}

TEST(LoginFlow, LocalKeyStatusesEndTheLogin) {
    for (const auto status : {wire::DeviceStatus::Denied, wire::DeviceStatus::Timeout,
                              wire::DeviceStatus::PinRequired, wire::DeviceStatus::Error}) {
        FlowHarness h(kKeysOnly, kIdentities);
        const LocalKey key(h, 0);
        FakeConnection person;
        person.key_status(status);
        const Ending end = h.login(person, {"bin"});
        const Verdict expected = login::key_status_verdict(status, login::KeyUse::SignIn);
        EXPECT_EQ(end.outcome, expected.outcome()) << static_cast<int>(status);
        EXPECT_EQ(end.text, expected.person_text());
        EXPECT_EQ(end.reason, expected.audit_reason());
        EXPECT_EQ(end.method, "security_key");
    }
}

// The key ask arms the login: chosen from the menu while other logins of bin hold the whole allowance, the
// key is not asked, and the login ends without a failure.
TEST(LoginFlow, AKeyAskArmedWhileOthersHoldTheTriesIsNotMade) {
    FlowHarness h(kKeysAndEmail + "[limits]\nfailures_before_backoff = 1\n", kIdentities);
    const LocalKey key(h, 0);
    h.pool().then(FakePool::select_challenge({"EMAIL_OTP"}));
    const auto now = std::time(nullptr);
    FakeConnection person;
    person.answer_after(
        [&] { ASSERT_EQ(h.limits().reserve_try("bin", true, h.config().limits, now).seconds, 0); }, "1");
    person.key_answers(key.signing(1));
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::MaxTries) << end.audit;
    EXPECT_EQ(end.text, kSignInInProgress);
    EXPECT_EQ(end.reason, "other sign-ins in progress hold the tries");
    EXPECT_EQ(person.key_answers_left(), 1u) << "the key was not asked";
    h.limits().settle_try("bin", true, RateLimits::TryEnd::Untried, false, true, h.config().limits, now);
    EXPECT_EQ(h.limits().reserve_try("bin", true, h.config().limits, now).seconds, 0)
        << "the login held no try and counted no failure";
}

// The menu lists the key and the code; no key is there, so the menu goes on without it, and with one method
// left the code is offered (with the reason in front) instead of a menu of one.
TEST(LoginFlow, NoKeyThereThenTheCode) {
    FlowHarness h(kKeysAndEmail, kIdentities);
    const LocalKey key(h, 0);
    h.pool().then(FakePool::select_challenge({"EMAIL_OTP"}));
    h.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    h.pool().then(h.pool().signed_in(email_verified("bin@example.org")));
    FakeConnection person;
    person.answer("1").key_status(wire::DeviceStatus::NoDevice).answer("").answer("123456");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::Success) << end.audit;
    EXPECT_EQ(end.method, "email_otp");
    const std::string menu = std::string(kChooseHeader) + "  1) " + menu_label(Method::SecurityKey, "") +
                             "\n  2) " + menu_label(Method::EmailOtp, "b***@e***") + "\nChoice [1-2]: ";
    EXPECT_THAT(person.questions(), ElementsAre(menu, kNoKeyAgain + kBinOffer, kBinCode));
    EXPECT_EQ(person.shown()[1].kind, Shown::Kind::Assertion);
}

// With the pool unreachable, a user with a local key still has the key.
TEST(LoginFlow, ThePoolDownLeavesTheLocalKey) {
    FlowHarness h(kKeysAndEmail, kIdentities);
    const LocalKey key(h, 0);
    h.pool().go_down(FakePool::unreachable());
    FakeConnection person;
    person.key_answers(key.signing(1));
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::Success) << end.audit;
    EXPECT_EQ(end.method, "security_key");
    ASSERT_EQ(person.shown().size(), 1u) << "no menu of one method";
}

// --- The unknown user's walk --------------------------------------------------------------------------

// The masked destinations differ (the decoy makes its own up); everything else must not.
std::vector<std::string> unmasked(std::vector<std::string> questions) {
    static const std::regex email_mask(R"([a-z0-9]\*\*\*@[a-z0-9]\*\*\*)");
    static const std::regex phone_mask(R"(\+\*+[0-9]{4})");
    for (auto& q : questions)
        q = std::regex_replace(std::regex_replace(q, email_mask, "<email>"), phone_mask, "<phone>");
    return questions;
}

// A name that is no account walks the screens of a real user (here the only one, bin) and fails as bin fails
// with three wrong codes: the same questions, the same ending; only the audit reason tells them apart.
TEST(LoginFlow, AnUnknownUserWalksAsARealUserFailing) {
    const std::string only_bin = "bin bin@example.org\n";
    FlowHarness real(kEmailOnly, only_bin);
    real.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    for (int i = 0; i < 3; ++i) real.pool().then(FakePool::rejected("CodeMismatchException"));
    FakeConnection bin;
    bin.answer("").answer("111111").answer("222222").answer("333333");
    const Ending bin_end = real.login(bin, {"bin"});

    FlowHarness fake(kEmailOnly, only_bin);
    FakeConnection nobody;
    nobody.answer("").answer("111111").answer("222222").answer("333333");
    const Ending nobody_end = fake.login(nobody, {"nosuchuser-flowtest"});

    EXPECT_EQ(nobody_end.outcome, bin_end.outcome);
    EXPECT_EQ(nobody_end.outcome, Outcome::MaxTries);
    EXPECT_EQ(nobody_end.text, bin_end.text);
    EXPECT_EQ(nobody_end.method, bin_end.method);
    EXPECT_EQ(unmasked(nobody.questions()), unmasked(bin.questions()));
    ASSERT_EQ(nobody.shown().size(), bin.shown().size());
    for (std::size_t i = 0; i < bin.shown().size(); ++i)
        EXPECT_EQ(nobody.shown()[i].echo, bin.shown()[i].echo) << i;
    EXPECT_EQ(bin_end.reason, "wrong code 3 times");
    EXPECT_EQ(nobody_end.reason, "not a local account");
    EXPECT_TRUE(fake.pool().calls().empty()) << "nothing about a name that is nobody goes to the pool";
}

// Issue #10 item 3: a login's try is reserved when it is armed, at the send, not when it starts. While bin
// waits at the offer, other logins of bin are armed and take the whole allowance: the answer to the offer
// sends nothing and ends the login with a text that claims no failure; the login held no try, and counts
// none. A name that is nobody is turned away at the same step, in the same words.
TEST(LoginFlow, ALoginArmedWhileOthersHoldTheTriesSendsNothing) {
    const std::string config = kEmailOnly + "[limits]\nfailures_before_backoff = 2\n";
    std::map<std::string, Ending> ends;
    std::map<std::string, std::vector<std::string>> questions;
    // bin the only user the decoy may copy, as above.
    for (const std::string user : {"bin", "nosuchuser-flowtest"}) {
        FlowHarness h(config, "bin bin@example.org\n");
        const auto now = std::time(nullptr);
        const auto others_armed = [&] {
            for (int i = 0; i < 2; ++i)
                ASSERT_EQ(h.limits().reserve_try(user, true, h.config().limits, now).seconds, 0);
        };
        FakeConnection person;
        person.answer_after(others_armed, "");
        ends[user] = h.login(person, {user});
        questions[user] = unmasked(person.questions());
        const Ending& end = ends[user];
        EXPECT_EQ(end.outcome, Outcome::MaxTries) << user;
        EXPECT_EQ(end.text, kSignInInProgress) << user;
        EXPECT_EQ(end.reason, "other sign-ins in progress hold the tries") << user;
        EXPECT_EQ(person.questions().size(), 1u) << user << ": the offer, and nothing after it";
        EXPECT_TRUE(h.pool().calls().empty()) << user << ": nothing sent";
        // The two others end untried: the whole allowance is back, so this login held and counted nothing.
        for (int i = 0; i < 2; ++i)
            h.limits().settle_try(user, true, RateLimits::TryEnd::Untried, false, true, h.config().limits,
                                  now);
        for (int i = 0; i < 2; ++i)
            EXPECT_EQ(h.limits().reserve_try(user, true, h.config().limits, now).seconds, 0) << user << i;
    }
    EXPECT_EQ(ends["bin"].outcome, ends["nosuchuser-flowtest"].outcome);
    EXPECT_EQ(ends["bin"].text, ends["nosuchuser-flowtest"].text);
    EXPECT_EQ(questions["bin"], questions["nosuchuser-flowtest"]);
}

// The same with a menu: daemon's shape (an address and a number), the person choosing the text message.
TEST(LoginFlow, AnUnknownUserWalksTheMenuAsARealUser) {
    const std::string only_daemon = "daemon daemon@example.com\ndaemon +15555550123\n";
    FlowHarness real(kEmailOnly, only_daemon);
    real.pool().then(FakePool::select_challenge({"EMAIL_OTP", "SMS_OTP"}));
    real.pool().then(FakePool::code_challenge("SMS_OTP", "+*******0123"));
    for (int i = 0; i < 3; ++i) real.pool().then(FakePool::rejected("CodeMismatchException"));
    FakeConnection daemon;
    daemon.answer("x").answer("2").answer("111111").answer("222222").answer("333333");
    const Ending daemon_end = real.login(daemon, {"daemon"});

    FlowHarness fake(kEmailOnly, only_daemon);
    FakeConnection nobody;
    nobody.answer("x").answer("2").answer("111111").answer("222222").answer("333333");
    const Ending nobody_end = fake.login(nobody, {"nosuchuser-flowtest"});

    EXPECT_EQ(daemon_end.outcome, Outcome::MaxTries) << daemon_end.audit;
    EXPECT_EQ(nobody_end.outcome, daemon_end.outcome);
    EXPECT_EQ(nobody_end.text, daemon_end.text);
    EXPECT_EQ(nobody_end.method, daemon_end.method);
    EXPECT_EQ(unmasked(nobody.questions()), unmasked(daemon.questions()));
    EXPECT_EQ(nobody_end.reason, "not a local account");
}

// A local account the map does not name and that holds no key: the same walk, its own reason.
TEST(LoginFlow, AnAccountWithoutIdentityWalksToo) {
    FlowHarness h(kEmailOnly, "bin bin@example.org\n");
    FakeConnection person;
    person.answer("").answer("111111").answer("222222").answer("333333");
    const Ending end = h.login(person, {"daemon"});
    EXPECT_EQ(end.outcome, Outcome::MaxTries);
    EXPECT_EQ(end.text, kTooManyWrong);
    EXPECT_EQ(end.reason, "no identity and no security key for this user");
    EXPECT_EQ(person.questions().size(), 4u);
    EXPECT_TRUE(h.pool().calls().empty());
}

// The stack's unknown_user=ignore: the module steps aside at once, nothing shown.
TEST(LoginFlow, AnUnknownUserIgnoredByTheStack) {
    FlowHarness h(kEmailOnly, kIdentities);
    FakeConnection person;
    LoginAs as("nosuchuser-flowtest");
    as.unknown_user = wire::UnknownUser::Ignore;
    const Ending end = h.login(person, as);
    EXPECT_EQ(end.outcome, Outcome::Ignore);
    EXPECT_EQ(end.reason, "not a local account (ignored by configuration)");
    EXPECT_TRUE(person.shown().empty());
}

// A name the pool does not know, reached through a mapped identity: the walk goes on as for a real user.
TEST(LoginFlow, AnIdentityUnknownToThePool) {
    FlowHarness h(kEmailOnly, "bin bin@example.org\n");
    h.pool().then(FakePool::rejected("UserNotFoundException", "User does not exist."));
    FakeConnection person;
    person.answer("").answer("111111").answer("222222").answer("333333");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::MaxTries);
    EXPECT_EQ(end.text, kTooManyWrong);
    EXPECT_EQ(end.reason, "identity unknown to the user pool");
    EXPECT_EQ(unmasked(person.questions()), unmasked({kBinOffer, kBinCode, kBinCodeAgain, kBinCodeAgain}));
    EXPECT_EQ(h.pool().calls().size(), 1u);
}

// One code asked for is one of the host's sends, for an identity the pool does not know as for a member: the
// send was counted before the pool was asked, and the walk that follows its answer counts nothing again (it
// once did, so such an identity met the host's limit after half a member's logins).
TEST(LoginFlow, AnIdentityUnknownToThePoolTakesOneSendPerCode) {
    FlowHarness h(kEmailOnly + "[limits]\nsends_per_rhost = 2\n", "bin bin@example.org\n");
    for (int i = 0; i < 2; ++i) {
        h.pool().then(FakePool::rejected("UserNotFoundException", "User does not exist."));
        FakeConnection person;
        person.answer("").cancel();
        const Ending end = h.login(person, {"bin"});
        EXPECT_EQ(end.outcome, Outcome::Abort) << i << " " << end.audit;
        EXPECT_THAT(person.questions(), ElementsAre(kBinOffer, kBinCode)) << i;
    }
    // The third code is past the host's two, for this identity as for anyone.
    FakeConnection third;
    third.answer("");
    const Ending end = h.login(third, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::AuthinfoUnavail) << end.audit;
    EXPECT_EQ(end.reason, "code send limit reached");
    EXPECT_THAT(third.questions(), ElementsAre(kBinOffer));
}

// The same with other users in the map, of other shapes: bin walks its own mapping (one address, offered at
// once, its own mask), never a shape copied from another user's, which would tell that the pool does not know
// bin. The decoy's key is new in every harness: each round is another pick of the keyed hash.
TEST(LoginFlow, AnIdentityUnknownToThePoolWalksItsOwnMapping) {
    std::string others = kIdentities;
    for (int i = 0; i < 8; ++i)
        others += "user" + std::to_string(i) + " " + std::string(1, static_cast<char>('m' + i)) +
                  "@example.net\nuser" + std::to_string(i) + " +1555555010" + std::to_string(i) + "\n";
    for (int round = 0; round < 4; ++round) {
        FlowHarness h(kEmailOnly, others);
        h.pool().then(FakePool::rejected("UserNotFoundException", "User does not exist."));
        FakeConnection person;
        person.answer("").answer("111111").answer("222222").answer("333333");
        const Ending end = h.login(person, {"bin"});
        EXPECT_EQ(end.outcome, Outcome::MaxTries) << round << end.audit;
        EXPECT_EQ(end.text, kTooManyWrong);
        EXPECT_EQ(end.reason, "identity unknown to the user pool");
        EXPECT_THAT(person.questions(), ElementsAre(kBinOffer, kBinCode, kBinCodeAgain, kBinCodeAgain))
            << round;
        EXPECT_EQ(person.answers_left(), 0u);
    }
}

// bin has a local key and a mapped address the pool does not know: the menu of a pool member with a key (the
// key and the mapped code), not the key alone. The code chosen walks on as a real one would and fails alike;
// the key chosen is a real local key and lets bin in.
TEST(LoginFlow, AnIdentityUnknownToThePoolBesideALocalKey) {
    const std::string menu = std::string(kChooseHeader) + "  1) " + menu_label(Method::SecurityKey, "") +
                             "\n  2) " + menu_label(Method::EmailOtp, "b***@e***") + "\nChoice [1-2]: ";
    FlowHarness real(kKeysAndEmail, kIdentities);
    const LocalKey real_key(real, 0);
    real.pool().then(FakePool::select_challenge({"EMAIL_OTP"}));
    real.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    for (int i = 0; i < 3; ++i) real.pool().then(FakePool::rejected("CodeMismatchException"));
    FakeConnection member;
    member.answer("2").answer("111111").answer("222222").answer("333333");
    const Ending member_end = real.login(member, {"bin"});
    EXPECT_EQ(member_end.outcome, Outcome::MaxTries) << member_end.audit;
    EXPECT_THAT(member.questions(), ElementsAre(menu, kBinCode, kBinCodeAgain, kBinCodeAgain));

    FlowHarness h(kKeysAndEmail, kIdentities);
    const LocalKey key(h, 0);
    h.pool().then(FakePool::rejected("UserNotFoundException", "User does not exist."));
    FakeConnection person;
    person.answer("2").answer("111111").answer("222222").answer("333333");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, member_end.outcome) << end.audit;
    EXPECT_EQ(end.text, member_end.text);
    EXPECT_EQ(end.method, member_end.method);
    EXPECT_EQ(end.reason, "identity unknown to the user pool");
    EXPECT_EQ(person.questions(), member.questions());
    ASSERT_EQ(person.shown().size(), member.shown().size());
    for (std::size_t i = 0; i < member.shown().size(); ++i)
        EXPECT_EQ(person.shown()[i].echo, member.shown()[i].echo) << i;

    // No key at hand: the code is offered next, as to the member.
    h.pool().then(FakePool::rejected("UserNotFoundException", "User does not exist."));
    FakeConnection absent;
    absent.answer("1")
        .key_status(wire::DeviceStatus::NoDevice)
        .answer("")
        .answer("111111")
        .answer("222222")
        .answer("333333");
    const Ending absent_end = h.login(absent, {"bin"});
    EXPECT_EQ(absent_end.outcome, Outcome::MaxTries) << absent_end.audit;
    EXPECT_THAT(absent.questions(),
                ElementsAre(menu, kNoKeyAgain + kBinOffer, kBinCode, kBinCodeAgain, kBinCodeAgain));

    // The key chosen: bin's own key still lets bin in.
    h.pool().then(FakePool::rejected("UserNotFoundException", "User does not exist."));
    FakeConnection with_key;
    with_key.answer("1").key_answers(key.signing(1));
    const Ending key_end = h.login(with_key, {"bin"});
    EXPECT_EQ(key_end.outcome, Outcome::Success) << key_end.audit;
    EXPECT_EQ(key_end.method, "security_key");
    EXPECT_THAT(with_key.questions(), ElementsAre(menu));
}

// Review 30c: a pool that goes straight to a one-factor person's code past the helper's preference (spec,
// open question 6) sends a member's code with its first answer; without the browser beside it the login asks
// for that code at once, with no menu. Once a real login here has met that answer (pool_sessions), bin's
// local key beside a mapped address the pool does not know walks the same: the code prompts, not the menu of
// the key and the code.
TEST(LoginFlow, AnIdentityUnknownToThePoolBesideALocalKeyWalksAsAPoolThatSkippedItsMenu) {
    FlowHarness h(kKeysAndEmail, kIdentities);
    const LocalKey key(h, 0);
    h.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    for (int i = 0; i < 3; ++i) h.pool().then(FakePool::rejected("CodeMismatchException"));
    FakeConnection member;
    member.answer("111111").answer("222222").answer("333333");
    const Ending member_end = h.login(member, {"bin"});
    EXPECT_EQ(member_end.outcome, Outcome::MaxTries) << member_end.audit;
    EXPECT_THAT(member.questions(), ElementsAre(kBinCode, kBinCodeAgain, kBinCodeAgain));

    h.pool().then(FakePool::rejected("UserNotFoundException", "User does not exist."));
    FakeConnection person;
    person.answer("111111").answer("222222").answer("333333");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, member_end.outcome) << end.audit;
    EXPECT_EQ(end.text, member_end.text);
    EXPECT_EQ(end.method, member_end.method);
    EXPECT_EQ(end.reason, "identity unknown to the user pool");
    EXPECT_EQ(person.questions(), member.questions());
}

// The same pool with the browser beside the code: a member's menu (the key, the browser, the code) is shown
// after the code was sent and counted, so a hang-up there is a failure (a code sent and hung up on). Where
// the pool does not know bin's identity the menu is the same, and so is the hang-up's count: the second login
// meets the backoff either way.
TEST(LoginFlow, AHangUpAtAMenuThePoolSkippedCountsAlikeForAnIdentityUnknownToThePool) {
    const std::string config =
        "[login]\nmethods = security_key browser email_otp\nremote_methods = security_key browser email_otp\n"
        "[browser]\ndomain = pamdemo.auth.eu-west-1.amazoncognito.com\nredirect_uri = "
        "https://pam.example.org/cb\n[limits]\nfailures_before_backoff = 1\n";
    FlowHarness real(config, kIdentities);
    const LocalKey real_key(real, 0);
    real.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    FakeConnection member;  // answers nothing: hangs up at the menu
    const Ending member_end = real.login(member, {"bin"});
    ASSERT_EQ(member.questions().size(), 1u) << member_end.audit;
    EXPECT_THAT(member.questions()[0], HasSubstr(kChooseHeader));
    FakeConnection member_again;
    const Ending member_again_end = real.login(member_again, {"bin"});
    EXPECT_EQ(member_again_end.outcome, Outcome::MaxTries) << member_again_end.audit;

    // What the member's login learned of the pool (pool_session_memory.hpp), as a real login in front of
    // the other helper below would have learned it. (Through the memory, not its file: the build tree is not
    // a directory the helper trusts with its state.)
    const PoolSessionMemory::Pool pool{real.config().pool_id, real.config().client_id};
    EXPECT_TRUE(pool_session_memory(real.config().limits_state_file).skips_to_one_factor(pool));
    FlowHarness h(config, kIdentities);
    const LocalKey key(h, 0);
    pool_session_memory(h.config().limits_state_file).question_skipped(pool, true);
    h.pool().then(FakePool::rejected("UserNotFoundException", "User does not exist."));
    FakeConnection person;
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, member_end.outcome) << end.audit;
    EXPECT_EQ(person.questions(), member.questions());
    FakeConnection again;
    const Ending again_end = h.login(again, {"bin"});
    EXPECT_EQ(again_end.outcome, member_again_end.outcome) << again_end.audit;
    EXPECT_EQ(again_end.text, member_again_end.text);
    EXPECT_EQ(again.questions(), member_again.questions());
}

// Bound by the claim, with the person asked for their address: an address the pool does not know walks the
// menu a pool member shows, with the mask of what was typed beside its kind (as destination_for names it).
TEST(LoginFlow, ATypedIdentifierUnknownToThePoolShowsItsMaskAsAMemberDoes) {
    const std::string claimed = kEmailOnly +
                                "[binding]\nmapping_file = /etc/pam_passwordless/identities\n"
                                "claim = custom:unix_user\nask_identifier = yes\nclaim_allow_users = bin\n";
    FlowHarness real(claimed, "");
    real.pool().then(FakePool::select_challenge({"EMAIL_OTP", "SMS_OTP"}));
    real.pool().then(FakePool::code_challenge("SMS_OTP", "+*******0123"));
    for (int i = 0; i < 3; ++i) real.pool().then(FakePool::rejected("CodeMismatchException"));
    FakeConnection member;
    member.answer("bin@example.org").answer("2").answer("111111").answer("222222").answer("333333");
    const Ending member_end = real.login(member, {"bin"});
    EXPECT_EQ(member_end.outcome, Outcome::MaxTries) << member_end.audit;

    FlowHarness h(claimed, "");
    h.pool().then(FakePool::rejected("UserNotFoundException", "User does not exist."));
    FakeConnection person;
    person.answer("zed@example.net").answer("2").answer("111111").answer("222222").answer("333333");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, member_end.outcome) << end.audit;
    EXPECT_EQ(end.text, member_end.text);
    EXPECT_EQ(end.reason, "identity unknown to the user pool");
    ASSERT_EQ(member.questions().size(), 5u);
    ASSERT_EQ(person.questions().size(), 5u);
    EXPECT_EQ(person.questions()[1],
              std::regex_replace(member.questions()[1], std::regex(R"(b\*\*\*@e)"), "z***@e"));
    EXPECT_EQ(unmasked(person.questions()), unmasked(member.questions()));
}

// --- The identifier question, and what is remembered --------------------------------------------------

// Bound by the token's claim, with the person asked for their address: the send counts on the address as the
// pool knows it, however it was typed, and only a token whose claim names the account lets them in.
TEST(LoginFlow, ATypedIdentifierCountsAsItsCanonicalForm) {
    FlowHarness h(kEmailOnly +
                      "[binding]\nmapping_file = /etc/pam_passwordless/identities\nclaim = custom:unix_user\n"
                      "ask_identifier = yes\nclaim_allow_users = bin\n"
                      "[limits]\nsends_per_identifier = 1\n",
                  "");
    h.pool().then(FakePool::select_challenge({"EMAIL_OTP"}));
    h.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    auto claims = email_verified("bin@example.org");
    claims["custom:unix_user"] = json_string("bin");
    h.pool().then(h.pool().signed_in(claims));
    FakeConnection person;
    person.answer("not an address").answer(" BIN@Example.ORG").answer("123456");
    const Ending end = h.login(person, {"bin"});
    EXPECT_EQ(end.outcome, Outcome::Success) << end.audit;
    EXPECT_THAT(person.questions(),
                ElementsAre(identifier_prompt("bin"), kNotAnIdentifier + identifier_prompt("bin"), kBinCode));
    EXPECT_TRUE(person.shown()[0].echo);
    EXPECT_EQ(h.pool().calls()[0].username, "bin@example.org");

    // The one send allowed is spent, whichever spelling comes next.
    FakeConnection again;
    again.answer("bin@EXAMPLE.org");
    h.pool().then(FakePool::select_challenge({"EMAIL_OTP"}));
    const Ending refused = h.login(again, {"bin"});
    EXPECT_EQ(refused.outcome, Outcome::AuthinfoUnavail) << refused.audit;
    EXPECT_EQ(refused.reason, "code send limit reached");
}

// The pool's offer is remembered at the first code sent: the next login shows the menu before the pool is
// asked, and the pool is asked for the chosen method at once.
TEST(LoginFlow, TheRememberedMenuComesFirst) {
    FlowHarness h(kEmailOnly, kIdentities);
    h.pool().then(FakePool::select_challenge({"EMAIL_OTP", "SMS_OTP"}));
    h.pool().then(FakePool::code_challenge("EMAIL_OTP", "d***@e***"));
    h.pool().then(h.pool().signed_in(email_verified("daemon@example.com")));
    FakeConnection first;
    first.answer("1").answer("123456");
    ASSERT_EQ(h.login(first, {"daemon"}).outcome, Outcome::Success);

    h.pool().then(FakePool::code_challenge("SMS_OTP", "+*******0123"));
    h.pool().then(h.pool().signed_in(email_verified("daemon@example.com")));
    FakeConnection second;
    second.answer("2").answer("654321");
    const Ending end = h.login(second, {"daemon"});
    EXPECT_EQ(end.outcome, Outcome::Success) << end.audit;
    EXPECT_THAT(second.questions(), ElementsAre(daemon_menu(), code_prompt("+*******0123", false)));
    ASSERT_EQ(h.pool().calls().size(), 5u);
    EXPECT_EQ(h.pool().calls()[3].op, "initiate");
    EXPECT_EQ(h.pool().calls()[3].preferred, "SMS_OTP") << "the choice goes with the first request";
}

// --- The break-glass -----------------------------------------------------------------------------------

// At the console, with the pool unreachable, a recovery code lets the person in; Enter keeps the outage's
// ending, and a remote login is never offered it.
TEST(LoginFlow, TheBreakGlassAtTheConsole) {
    FlowHarness h(kEmailOnly, kIdentities);
    const auto codes = h.recovery_codes("bin", 2);
    h.pool().go_down(FakePool::unreachable());
    const std::string outage = "user pool: unreachable: no route to the user pool (fake)";

    FakeConnection person;
    person.answer("").answer(std::string(codes[0].view()));
    const Ending end = h.login(person, {"bin", ""});
    EXPECT_EQ(end.outcome, Outcome::Success) << end.audit;
    EXPECT_EQ(end.method, "recovery_code");
    EXPECT_EQ(end.reason, "recovery code used, 1 left, while the user pool was unreachable (" + outage + ")");
    EXPECT_THAT(person.questions(), ElementsAre(kBinOffer, kRecoveryPrompt));
    EXPECT_FALSE(person.shown()[1].echo);

    FakeConnection reused;
    reused.answer("").answer(std::string(codes[0].view()));
    const Ending again = h.login(reused, {"bin", ""});
    EXPECT_EQ(again.outcome, Outcome::AuthErr);
    EXPECT_EQ(again.text, kSignInFailed);
    EXPECT_EQ(again.reason, "wrong recovery code while the user pool was unreachable (" + outage + ")");

    FakeConnection declined;
    declined.answer("").answer("");
    const Ending kept = h.login(declined, {"bin", ""});
    EXPECT_EQ(kept.outcome, Outcome::AuthinfoUnavail);
    EXPECT_EQ(kept.text, kUnavailable);
    EXPECT_EQ(kept.reason, outage);

    FakeConnection remote;
    remote.answer("");
    const Ending from_afar = h.login(remote, {"bin"});
    EXPECT_EQ(from_afar.outcome, Outcome::AuthinfoUnavail);
    EXPECT_THAT(remote.questions(), ElementsAre(kBinOffer)) << "no recovery prompt for a remote login";
}

// A name that is nobody meets the send limit as a real user does, with the same words.
TEST(LoginFlow, AnUnknownUserMeetsTheSendLimitAsARealUser) {
    const std::string only_bin = "bin bin@example.org\n";
    const std::string limits = "[limits]\nsends_per_identifier = 1\n";
    FlowHarness real(kEmailOnly + limits, only_bin);
    ASSERT_EQ(real.limits()
                  .take_send({{"email:bin@example.org"}, "", false}, real.config().limits, std::time(nullptr))
                  .wait,
              0);
    FakeConnection bin;
    bin.answer("");
    const Ending bin_end = real.login(bin, {"bin"});

    FlowHarness fake(kEmailOnly + limits, only_bin);
    FakeConnection first, second;
    first.answer("").cancel();
    ASSERT_EQ(fake.login(first, {"nosuchuser-flowtest"}).outcome, Outcome::Abort);
    second.answer("");
    const Ending nobody_end = fake.login(second, {"nosuchuser-flowtest"});

    EXPECT_EQ(bin_end.outcome, Outcome::AuthinfoUnavail);
    EXPECT_EQ(nobody_end.outcome, bin_end.outcome);
    EXPECT_EQ(nobody_end.text, bin_end.text);
    EXPECT_EQ(nobody_end.text, send_limit_text(900));
    EXPECT_EQ(unmasked(second.questions()), unmasked(bin.questions()));
}

// --- Each method's unknown mode (login/method.hpp) ------------------------------------------------------
// A name that is no account walks the chosen method's unknown mode: beside a real user of its shape failing
// the same way, the same screens (questions with their echo, key requests, links), the same ending; only
// the audit reason differs, and nothing about the name goes to the pool.

// What the person was shown, kind by kind: a question's text (masks unmasked) and echo, a key request's
// relying party, text, number of credentials and their public keys' algorithms and sizes (what the module
// checks a key's touch against), a link's presence (its text names the user).
std::vector<std::string> screens(const FakeConnection& person) {
    std::vector<std::string> out;
    for (const auto& s : person.shown()) switch (s.kind) {
            case Shown::Kind::Question:
                out.push_back("ask " + unmasked({s.text}).front() + (s.echo ? " (echoed)" : ""));
                break;
            case Shown::Kind::Assertion:
                out.push_back("key " + s.assertion.rp_id + " " + s.assertion.text + " " +
                              std::to_string(s.assertion.cred_ids.size()) + " credential(s), uv " +
                              (s.assertion.user_verification ? "yes" : "no"));
                for (const auto& k : s.assertion.cred_keys)
                    out.back() +=
                        ", key " + std::to_string(k.algorithm) + "/" + std::to_string(k.public_key.size());
                break;
            case Shown::Kind::Link:
                out.push_back("link");
                break;
            default:
                out.push_back("other");
        }
    return out;
}

// Codes: a wrong code, then Enter alone at the next prompt.
TEST(UnknownMode, CodesCancelledAfterAWrongCode) {
    const std::string only_bin = "bin bin@example.org\n";
    FlowHarness real(kEmailOnly, only_bin);
    real.pool().then(FakePool::code_challenge("EMAIL_OTP", "b***@e***"));
    real.pool().then(FakePool::rejected("CodeMismatchException"));
    FakeConnection bin;
    bin.answer("").answer("111111").answer("");
    const Ending bin_end = real.login(bin, {"bin"});

    FlowHarness fake(kEmailOnly, only_bin);
    FakeConnection nobody;
    nobody.answer("").answer("111111").answer("");
    const Ending nobody_end = fake.login(nobody, {"nosuchuser-flowtest"});

    EXPECT_EQ(bin_end.outcome, Outcome::Abort) << bin_end.audit;
    EXPECT_EQ(bin_end.reason, "no code given");
    EXPECT_EQ(nobody_end.outcome, bin_end.outcome);
    EXPECT_EQ(nobody_end.text, bin_end.text);
    EXPECT_EQ(nobody_end.text, kCancelled);
    EXPECT_EQ(nobody_end.method, bin_end.method);
    EXPECT_EQ(nobody_end.reason, "no code given (not a local account)");
    EXPECT_EQ(screens(nobody), screens(bin));
    EXPECT_EQ(screens(bin).size(), 3u);
    EXPECT_TRUE(fake.pool().calls().empty());
}

// A local key: bin's key (the only user with one) and the walk's made-up credential, each key answer.
TEST(UnknownMode, ALocalKeyAnswersAsForARealUser) {
    for (const auto status : {wire::DeviceStatus::NoDevice, wire::DeviceStatus::Denied,
                              wire::DeviceStatus::Timeout, wire::DeviceStatus::PinInvalid}) {
        FlowHarness real(kKeysOnly, "");
        const LocalKey key(real, 0);
        FakeConnection bin;
        bin.key_status(status);
        const Ending bin_end = real.login(bin, {"bin"});

        FlowHarness fake(kKeysOnly, "");
        const LocalKey bins_key(fake, 0);
        FakeConnection nobody;
        nobody.key_status(status);
        const Ending nobody_end = fake.login(nobody, {"nosuchuser-flowtest"});

        const Verdict expected = key_status_finish(status);
        EXPECT_EQ(bin_end.outcome, expected.outcome()) << bin_end.audit;
        EXPECT_EQ(bin_end.text, expected.person_text());
        EXPECT_EQ(nobody_end.outcome, bin_end.outcome) << nobody_end.audit;
        EXPECT_EQ(nobody_end.text, bin_end.text);
        EXPECT_EQ(nobody_end.method, bin_end.method);
        EXPECT_EQ(nobody_end.reason, "not a local account");
        EXPECT_EQ(screens(nobody), screens(bin));
        ASSERT_EQ(nobody.shown().size(), 1u);
        EXPECT_NE(nobody.shown()[0].assertion.cred_ids, bin.shown()[0].assertion.cred_ids);
        // bin's ask carries his key's public key; the made-up one a key of the same shape that is not his.
        ASSERT_EQ(bin.shown()[0].assertion.cred_keys.size(), 1u);
        EXPECT_EQ(bin.shown()[0].assertion.cred_keys[0].public_key, key.public_key());
        ASSERT_EQ(nobody.shown()[0].assertion.cred_keys.size(), 1u);
        EXPECT_NE(nobody.shown()[0].assertion.cred_keys[0].public_key, key.public_key());
        EXPECT_EQ(nobody.key_answers_left(), 0u);
    }
}

// Under [security_key] user_verification = required a real user's key is asked with the PIN (the module asks
// for it first when a key has one); the walk's made-up credential is asked the same way, or a person at the
// console with any key could tell a name without a key by the missing PIN prompt.
TEST(UnknownMode, ALocalKeyIsAskedForThePinWhenThePolicyRequiresIt) {
    const std::string keys_with_pin = kKeysOnly + "[security_key]\nuser_verification = required\n";
    FlowHarness real(keys_with_pin, "");
    const LocalKey key(real, 0);
    FakeConnection bin;
    bin.key_status(wire::DeviceStatus::NoDevice);
    const Ending bin_end = real.login(bin, {"bin"});

    FlowHarness fake(keys_with_pin, "");
    const LocalKey bins_key(fake, 0);
    FakeConnection nobody;
    nobody.key_status(wire::DeviceStatus::NoDevice);
    const Ending nobody_end = fake.login(nobody, {"nosuchuser-flowtest"});

    ASSERT_EQ(bin.shown().size(), 1u);
    EXPECT_TRUE(bin.shown()[0].assertion.user_verification);
    EXPECT_EQ(screens(nobody), screens(bin));
    EXPECT_EQ(nobody_end.outcome, bin_end.outcome);
    EXPECT_EQ(nobody_end.text, bin_end.text);
}

// A passkey of the user pool: bin's pool goes straight to the passkey; the walk asks a key for a made-up
// credential of the same relying party, and the key's answer ends both alike.
TEST(UnknownMode, APoolPasskeyAnswersAsForARealUser) {
    for (const auto status : {wire::DeviceStatus::NoDevice, wire::DeviceStatus::Denied,
                              wire::DeviceStatus::PinRequired, wire::DeviceStatus::Ok}) {
        const std::string only_bin = "bin bin@example.org\n";
        FlowHarness real(kPasskeyOnly, only_bin);
        real.pool().then(FakePool::passkey_challenge("auth.example.com", {"cred-1"}));
        FakeConnection bin;
        // A key that signs for a credential bin has not got: the key's own refusal.
        bin.key_status(status == wire::DeviceStatus::Ok ? wire::DeviceStatus::NoDevice : status);
        const Ending bin_end = real.login(bin, {"bin"});

        FlowHarness fake(kPasskeyOnly, only_bin);
        FakeConnection nobody;
        // A key that answers Ok to a made-up credential is taken for one that holds none.
        nobody.key_status(status);
        const Ending nobody_end = fake.login(nobody, {"nosuchuser-flowtest"});

        EXPECT_EQ(nobody_end.outcome, bin_end.outcome) << nobody_end.audit << " / " << bin_end.audit;
        EXPECT_NE(nobody_end.outcome, Outcome::Success);
        EXPECT_EQ(nobody_end.text, bin_end.text);
        EXPECT_EQ(nobody_end.method, bin_end.method);
        EXPECT_EQ(nobody_end.reason, "not a local account");
        EXPECT_EQ(screens(nobody), screens(bin));
        ASSERT_EQ(nobody.shown().size(), 1u);
        EXPECT_EQ(nobody.shown()[0].assertion.rp_id, "auth.example.com");
        EXPECT_TRUE(fake.pool().calls().empty()) << "nothing about a name that is nobody goes to the pool";
    }
}

// A pool that asks for user verification: once a real passkey login has seen its options, the walk's made-up
// credential is asked with the PIN too (by the same helper here; after a restart, method_test.cpp).
TEST(UnknownMode, APoolPasskeyIsAskedForThePinWhenThePoolAsksForIt) {
    const std::string only_bin = "bin bin@example.org\n";
    FlowHarness h(kPasskeyOnly, only_bin);
    cognito::Step uv_required = FakePool::passkey_challenge("auth.example.com", {"cred-1"});
    uv_required.request_options->user_verification = "required";
    h.pool().then(std::move(uv_required));
    FakeConnection bin;
    bin.key_status(wire::DeviceStatus::NoDevice);
    h.login(bin, {"bin"});

    FakeConnection nobody;
    nobody.key_status(wire::DeviceStatus::NoDevice);
    h.login(nobody, {"nosuchuser-flowtest"});

    ASSERT_EQ(bin.shown().size(), 1u);
    EXPECT_TRUE(bin.shown()[0].assertion.user_verification);
    EXPECT_EQ(screens(nobody), screens(bin));
}

const std::string kBrowserOnly =
    "[login]\nmethods = browser\nremote_methods = browser\n[browser]\ndomain = "
    "pamdemo.auth.eu-west-1.amazoncognito.com\nredirect_uri = https://pam.example.org/cb\n";

// The browser: a link, then codes the pool refuses (invalid_grant: the link stays), for bin and for nobody
// alike: the walk redeems what is typed as a real login does, and fails as it fails.
TEST(UnknownMode, TheBrowserWalksAsForARealUser) {
    const std::string only_bin = "bin bin@example.org\n";
    FlowHarness real(kBrowserOnly, only_bin);
    for (int i = 0; i < 3; ++i) real.pool().then(FakePool::rejected(std::string(cognito::kInvalidGrant)));
    FakeConnection bin;
    bin.answer("code-1").answer("code-2").answer("code-3");
    const Ending bin_end = real.login(bin, {"bin"});

    FlowHarness fake(kBrowserOnly, only_bin);
    for (int i = 0; i < 3; ++i) fake.pool().then(FakePool::rejected(std::string(cognito::kInvalidGrant)));
    FakeConnection nobody;
    nobody.answer("code-1").answer("code-2").answer("code-3");
    const Ending nobody_end = fake.login(nobody, {"nosuchuser-flowtest"});

    EXPECT_EQ(bin_end.outcome, Outcome::MaxTries) << bin_end.audit;
    EXPECT_EQ(nobody_end.outcome, bin_end.outcome) << nobody_end.audit;
    EXPECT_EQ(nobody_end.text, bin_end.text);
    EXPECT_EQ(nobody_end.text, kTooManyWrong);
    EXPECT_EQ(nobody_end.method, bin_end.method);
    EXPECT_THAT(nobody_end.reason, StartsWith("browser sign-in refused 3 times"));
    EXPECT_EQ(screens(nobody), screens(bin));
    // The code prompt echoes (browser_method.cpp): sshd's password conversation refuses it.
    EXPECT_THAT(screens(bin), ElementsAre("link", "ask " + std::string(kBrowserCodePrompt) + " (echoed)",
                                          StartsWith("ask " + std::string(kBrowserCodeRefused)),
                                          StartsWith("ask " + std::string(kBrowserCodeRefused))));
    EXPECT_EQ(fake.pool().calls().size(), real.pool().calls().size());
}

}  // namespace
}  // namespace pp::helper::test
