// Each login method alone (helper/login/method.hpp), against a fake of the login it serves
// (fake_method_context.hpp): its real proof and its unknown mode, what it asked the person and the pool,
// and what it told the login. The whole flow around them is login_flow_test.cpp's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_method_context.hpp"
#include "login/method.hpp"
#include "login/passkey_uv_memory.hpp"
#include "login_steps.hpp"
#include "person_texts.hpp"
#include "pool_latency.hpp"

namespace pp::helper::test {
namespace {

using cognito::test::json_string;
using ::testing::ElementsAre;
using wire::Outcome;

const std::string kEmail = "[login]\nmethods = email_otp\nremote_methods = email_otp\n";
const std::string kKeysWithPin =
    "[login]\nmethods = security_key\nremote_methods = security_key\n[security_key]\n"
    "user_verification = required\n";
const std::string kPasskey =
    "[login]\nmethods = passkey\nremote_methods = passkey\n[passkey]\nrp_id = auth.example.com\n";

cognito::test::Members email_verified(const std::string& address) {
    return {{"email", json_string(address)}, {"email_verified", "true"}};
}

const Identifier kBinEmail{IdentifierKind::Email, "bin@example.org"};

// --- The registry ---------------------------------------------------------------------------------------

TEST(LoginMethods, EveryMethodIsServedByItsOwnObject) {
    const Method all[] = {Method::EmailOtp, Method::SmsOtp, Method::SecurityKey, Method::Passkey,
                          Method::Browser};
    for (const Method a : all)
        for (const Method b : all)
            EXPECT_EQ(&login_method(a) == &login_method(b), a == b)
                << method_name(a) << " / " << method_name(b);
}

// --- A code ---------------------------------------------------------------------------------------------

TEST(LoginMethods, ACodeProvesThePersonAlone) {
    TestDir dir;
    FakeMethodContext login(kEmail, dir, "bin");
    login.known_ids = {kBinEmail};
    login.pool_script->then(login.pool_script->signed_in(email_verified("bin@example.org")));
    login.person_script.answer("abc").answer("123456");

    const auto proof =
        login_method(Method::EmailOtp)
            .prove(login, {kBinEmail, FakePool::code_challenge("EMAIL_OTP", "b***@e***"), "bin"});

    ASSERT_TRUE(proof);
    ASSERT_TRUE(std::holds_alternative<Verified>(*proof)) << ending_of(*proof)->audit_reason();
    EXPECT_EQ(std::get<Verified>(*proof).user(), "bin");
    EXPECT_EQ(std::get<Verified>(*proof).method(), Method::EmailOtp);
    EXPECT_THAT(login.person_script.questions(),
                ElementsAre(code_prompt("b***@e***", false), code_prompt("b***@e***", true)));
    EXPECT_EQ(login.proofs_tried, 2) << "each code typed is a proof tried, \"abc\" too";
    ASSERT_EQ(login.pool_script->calls().size(), 1u) << "\"abc\" is not sent to the pool";
    EXPECT_EQ(login.pool_script->calls()[0].answers.at("EMAIL_OTP_CODE"), "123456");
    EXPECT_THAT(login.access_tokens, ElementsAre("access-token-of-the-fake-pool"));
    EXPECT_THAT(login.told(), ElementsAre("method email_otp: the user pool sent a code to b***@e***",
                                          "bound bin@example.org sub=" +
                                              std::string("5b1e7a52-0000-4000-8000-00000000f10e")));
}

TEST(LoginMethods, ACodesUnknownModeRefusesEveryCodeAndAsksNoPool) {
    TestDir dir;
    FakeMethodContext login(kEmail, dir, "nosuchuser-flowtest");
    login.person_script.answer("111111").answer("222222").answer("333333");
    LatencyWalk pool;

    const auto proof =
        login_method(Method::EmailOtp).walk_unknown(login, {"not a local account", "n***@e***", pool});

    ASSERT_TRUE(proof);
    const Verdict* end = ending_of(*proof);
    ASSERT_NE(end, nullptr);
    EXPECT_EQ(end->outcome(), Outcome::MaxTries);
    EXPECT_EQ(end->person_text(), kTooManyWrong);
    EXPECT_EQ(end->audit_reason(), "not a local account");
    EXPECT_THAT(login.person_script.questions(),
                ElementsAre(code_prompt("n***@e***", false), code_prompt("n***@e***", true),
                            code_prompt("n***@e***", true)));
    EXPECT_EQ(login.proofs_tried, 3);
    EXPECT_TRUE(login.pool_script->calls().empty());
}

// --- A local key ----------------------------------------------------------------------------------------

TEST(LoginMethods, ALocalKeysUnknownModeAsksWithThePinThePolicyRequires) {
    TestDir dir;
    FakeMethodContext login(kKeysWithPin, dir, "nosuchuser-flowtest");
    login.person_script.key_status(wire::DeviceStatus::NoDevice).key_status(wire::DeviceStatus::Denied);
    LatencyWalk pool;
    const LoginMethod& key = login_method(Method::SecurityKey);

    // No key holds the made-up credential: nothing to ask here, as for a real user's absent key.
    EXPECT_FALSE(key.walk_unknown(login, {"not a local account", {}, pool}));
    const auto denied = key.walk_unknown(login, {"not a local account", {}, pool});
    ASSERT_TRUE(denied);
    EXPECT_EQ(ending_of(*denied)->person_text(), key_status_finish(wire::DeviceStatus::Denied).person_text());
    EXPECT_EQ(ending_of(*denied)->audit_reason(), "not a local account");

    ASSERT_EQ(login.person_script.shown().size(), 2u);
    for (const auto& s : login.person_script.shown()) {
        EXPECT_TRUE(s.assertion.user_verification);
        EXPECT_EQ(s.assertion.rp_id, login.config().security_key.rp_id);
        EXPECT_EQ(s.assertion.cred_ids.size(), 1u);
    }
    EXPECT_EQ(login.proofs_tried, 2);
}

// --- The pool's passkey: its PIN in the unknown mode, also after a restart --------------------------------

// The made-up passkey's ask, with nothing else shown.
bool walk_asks_with_pin(FakeMethodContext& login) {
    login.person_script.key_status(wire::DeviceStatus::NoDevice);
    LatencyWalk pool;
    const auto proof = login_method(Method::Passkey).walk_unknown(login, {"not a local account", {}, pool});
    EXPECT_TRUE(proof && ending_of(*proof));
    EXPECT_EQ(login.person_script.shown().size(), 1u);
    EXPECT_EQ(login.person_script.shown().back().assertion.rp_id, "auth.example.com");
    return login.person_script.shown().back().assertion.user_verification;
}

// Nothing was ever seen: the pool's own default, "preferred", asked without the PIN.
TEST(LoginMethods, APoolPasskeysUnknownModeWithNothingSeenAsksWithoutThePin) {
    TestDir dir;
    FakeMethodContext login(kPasskey, dir, "nosuchuser-flowtest");
    EXPECT_FALSE(walk_asks_with_pin(login));
}

// The helper restarted after a real passkey login saw the pool ask for user verification: the kept row says
// so (written as that helper wrote it), and the first walk of this one asks the made-up passkey with the PIN.
TEST(LoginMethods, APoolPasskeysUnknownModeAsksWithThePinRightAfterARestart) {
    TestDir dir;
    FakeMethodContext login(kPasskey, dir, "nosuchuser-flowtest");
    PasskeyUvMemory(login.config().limits_state_file).saw("eu-west-1_Flowtest", "auth.example.com", true);
    EXPECT_TRUE(walk_asks_with_pin(login));
}

// Nothing seen, and the configuration states the pool's setting as "required": the first walk after install
// asks with the PIN, as a real user's key is asked.
TEST(LoginMethods, APoolPasskeysUnknownModeWithNothingSeenAsksAsTheConfigurationStates) {
    TestDir dir;
    FakeMethodContext login(kPasskey + "user_verification = required\n", dir, "nosuchuser-flowtest");
    EXPECT_TRUE(walk_asks_with_pin(login));
}

// What a real login saw wins over what the configuration states, both ways (one test each: the helper's
// memory is one per limits file in the process).
TEST(LoginMethods, APoolPasskeysUnknownModeFollowsThePoolsPreferredOverTheConfiguration) {
    TestDir dir;
    FakeMethodContext login(kPasskey + "user_verification = required\n", dir, "nosuchuser-flowtest");
    PasskeyUvMemory(login.config().limits_state_file).saw("eu-west-1_Flowtest", "auth.example.com", false);
    EXPECT_FALSE(walk_asks_with_pin(login));
}

TEST(LoginMethods, APoolPasskeysUnknownModeFollowsThePoolsRequiredOverTheConfiguration) {
    TestDir dir;
    FakeMethodContext login(kPasskey + "user_verification = preferred\n", dir, "nosuchuser-flowtest");
    PasskeyUvMemory(login.config().limits_state_file).saw("eu-west-1_Flowtest", "auth.example.com", true);
    EXPECT_TRUE(walk_asks_with_pin(login));
}

// A row of another pool (the configuration changed since) is nothing seen.
TEST(LoginMethods, APoolPasskeysKeptPinOfAnotherPoolCountsForNothing) {
    TestDir dir;
    FakeMethodContext login(kPasskey, dir, "nosuchuser-flowtest");
    PasskeyUvMemory(login.config().limits_state_file).saw("eu-west-1_Other", "auth.example.com", true);
    EXPECT_FALSE(walk_asks_with_pin(login));
}

// A real passkey login whose options ask for user verification keeps it beside the limits' state, where the
// next helper reads it; when the pool stops asking, the row says so.
TEST(LoginMethods, APoolPasskeyLoginKeepsWhatThePoolAsked) {
    TestDir dir;
    for (const std::string asked : {"required", "preferred"}) {
        FakeMethodContext login(kPasskey, dir, "bin");
        cognito::Step step = FakePool::passkey_challenge("auth.example.com", {"cred-1"});
        step.request_options->user_verification = asked;
        login.person_script.key_status(wire::DeviceStatus::NoDevice);

        const auto proof = login_method(Method::Passkey).prove(login, {kBinEmail, std::move(step), "bin"});

        ASSERT_TRUE(proof && ending_of(*proof));
        EXPECT_EQ(ending_of(*proof)->person_text(),
                  key_status_finish(wire::DeviceStatus::NoDevice).person_text());
        ASSERT_EQ(login.person_script.shown().size(), 1u);
        EXPECT_EQ(login.person_script.shown()[0].assertion.user_verification, asked == "required");
        // A new helper's memory, read from the file.
        EXPECT_EQ(PasskeyUvMemory(login.config().limits_state_file)
                      .asks_uv("eu-west-1_Flowtest", "auth.example.com"),
                  asked == "required")
            << asked;
    }
}

}  // namespace
}  // namespace pp::helper::test
