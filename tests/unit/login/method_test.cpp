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
