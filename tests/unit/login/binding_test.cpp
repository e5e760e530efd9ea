// TokenBinding: the one check that turns the pool's ID token into a proof. Tokens come from the fake pool,
// signed under its test key and checked by the real TokenVerifier over the fake pool's key set.
#include "login/binding.hpp"

#include <gtest/gtest.h>

#include "fake_pool.hpp"
#include "person_texts.hpp"

namespace pp::helper {
namespace {

using cognito::test::json_string;
using cognito::test::Members;
using test::FakePool;
using wire::Outcome;

const std::string kSub = "5b1e7a52-0000-4000-8000-00000000f10e";

class BindingTest : public ::testing::Test {
  protected:
    FakePool pool_;
    cognito::TokenVerifier verifier_{test::kIssuer, test::kClientId,
                                     [this](Deadline d) { return pool_.fetch_jwks(d); }};
    const std::string user_ = "alice";
    std::string claim_;

    std::variant<Verified, Verdict> bind(const Secret& token, const std::vector<Identifier>& known,
                                         const Identifier& used, std::optional<Method> m = Method::EmailOtp) {
        return TokenBinding::bind(verifier_, token,
                                  std::chrono::steady_clock::now() + std::chrono::seconds(10),
                                  {user_, known, used, claim_}, m);
    }
    Secret token(const Members& claims) { return *pool_.signed_in(claims).id_token; }
};

const Identifier kEmail{IdentifierKind::Email, "alice@example.com"};
const Identifier kPhone{IdentifierKind::Phone, "+15555550123"};

void expect_refused(const std::variant<Verified, Verdict>& r, Outcome outcome, const std::string& text,
                    const std::string& reason_start) {
    ASSERT_TRUE(std::holds_alternative<Verdict>(r)) << "a proof was made";
    const auto& v = std::get<Verdict>(r);
    EXPECT_EQ(v.outcome(), outcome);
    EXPECT_FALSE(v.granted());
    EXPECT_EQ(v.person_text(), text);
    EXPECT_EQ(v.audit_reason().substr(0, reason_start.size()), reason_start) << v.audit_reason();
}

TEST_F(BindingTest, AVerifiedEmailOfTheMapProvesTheAccount) {
    const auto r = bind(token({{"email", json_string("Alice@Example.com")}, {"email_verified", "true"}}),
                        {kPhone, kEmail}, kEmail);
    ASSERT_TRUE(std::holds_alternative<Verified>(r)) << std::get<Verdict>(r).audit_reason();
    const auto& proof = std::get<Verified>(r);
    EXPECT_EQ(proof.user(), "alice");
    EXPECT_EQ(proof.by(), Verified::By::IdToken);
    EXPECT_EQ(proof.method(), Method::EmailOtp);
    EXPECT_EQ(proof.audit_reason(), "verified email identity sub=" + kSub);
    const Verdict granted(proof, "");
    EXPECT_TRUE(granted.granted());
    EXPECT_EQ(granted.audit_reason(), proof.audit_reason());
}

TEST_F(BindingTest, AnUnverifiedOrOtherAddressIsNotTheAccount) {
    const std::string not_linked = "This sign-in is not linked to the account alice.";
    expect_refused(bind(token({{"email", json_string("alice@example.com")}, {"email_verified", "false"}}),
                        {kEmail}, kEmail),
                   Outcome::AuthErr, not_linked, "identity sub=" + kSub + " is not bound to this user");
    expect_refused(bind(token({{"email", json_string("mallory@example.com")}, {"email_verified", "true"}}),
                        {kEmail}, kEmail),
                   Outcome::AuthErr, not_linked, "identity sub=");
    // The map names a phone; the pool's token proves only an address.
    expect_refused(bind(token({{"email", json_string("alice@example.com")}, {"email_verified", "true"}}),
                        {kPhone}, kPhone, Method::SmsOtp),
                   Outcome::AuthErr, not_linked, "identity sub=");
}

TEST_F(BindingTest, APhoneMustBeVerifiedAndExact) {
    EXPECT_TRUE(std::holds_alternative<Verified>(
        bind(token({{"phone_number", json_string("+15555550123")}, {"phone_number_verified", "true"}}),
             {kPhone}, kPhone, Method::SmsOtp)));
    EXPECT_TRUE(std::holds_alternative<Verdict>(
        bind(token({{"phone_number", json_string("+15555550123")}, {"phone_number_verified", "false"}}),
             {kPhone}, kPhone, Method::SmsOtp)));
    EXPECT_TRUE(std::holds_alternative<Verdict>(
        bind(token({{"phone_number", json_string("+15555550124")}, {"phone_number_verified", "true"}}),
             {kPhone}, kPhone, Method::SmsOtp)));
}

// Without a map entry, the identifier the login used binds, and the configured claim must name the account:
// a pool user who picked the name "alice" is not the local alice unless the claim says so.
TEST_F(BindingTest, ClaimBindingNeedsTheClaimToNameTheAccount) {
    const Identifier used{IdentifierKind::Username, "alice"};
    claim_ = "custom:unix_user";
    EXPECT_TRUE(std::holds_alternative<Verified>(
        bind(token({{"cognito:username", json_string("alice")}, {"custom:unix_user", json_string("alice")}}),
             {}, used)));
    expect_refused(
        bind(token({{"cognito:username", json_string("alice")}, {"custom:unix_user", json_string("root")}}),
             {}, used),
        Outcome::AuthErr, "This sign-in is not linked to the account alice.", "identity sub=");
    expect_refused(bind(token({{"cognito:username", json_string("alice")}}), {}, used), Outcome::AuthErr,
                   "This sign-in is not linked to the account alice.", "identity sub=");
    claim_.clear();
    expect_refused(bind(token({{"cognito:username", json_string("alicia")}}), {}, used), Outcome::AuthErr,
                   "This sign-in is not linked to the account alice.", "identity sub=");
}

TEST_F(BindingTest, ATokenThatDoesNotVerifyIsRefused) {
    const Members good{{"email", json_string("alice@example.com")}, {"email_verified", "true"}};
    // Signed by another key under the pool's key id: a forgery.
    FakePool forger;
    expect_refused(bind(*forger.signed_in(good).id_token, {kEmail}, kEmail), Outcome::AuthErr, kSignInFailed,
                   "ID token refused: ");
    Members expired = good;
    expired["exp"] = std::to_string(std::time(nullptr) - 3600);
    expired["iat"] = std::to_string(std::time(nullptr) - 7200);
    expect_refused(bind(token(expired), {kEmail}, kEmail), Outcome::AuthErr, kSignInFailed,
                   "ID token refused: ");
    Members other_client = good;
    other_client["aud"] = json_string("another-client");
    expect_refused(bind(token(other_client), {kEmail}, kEmail), Outcome::AuthErr, kSignInFailed,
                   "ID token refused: ");
    expect_refused(bind(Secret(std::string_view("not.a.token")), {kEmail}, kEmail), Outcome::AuthErr,
                   kSignInFailed, "ID token refused: ");
}

// Without the pool's keys nothing is known about the token: that is the pool's outage, for the caller to map,
// not a wrong token counted against the person.
TEST_F(BindingTest, WithoutThePoolsKeysTheOutageIsThrown) {
    pool_.go_down(FakePool::unreachable());
    EXPECT_THROW(bind(token({{"email", json_string("alice@example.com")}, {"email_verified", "true"}}),
                      {kEmail}, kEmail),
                 cognito::ServiceError);
}

// The browser sign-in's binding: the token verified for its own app client, the login's claim check first,
// and a refusal of either kind (the check's, or claims bound to no one here) a Refused, not an ending.
class CheckedBindingTest : public BindingTest {
  protected:
    std::variant<Verified, Verdict, TokenBinding::Refused> bind_checked(
        const Secret& token, const TokenBinding::ClaimCheck& check,
        const std::string& audience = test::kClientId) {
        return TokenBinding::bind_checked(verifier_, token,
                                          std::chrono::steady_clock::now() + std::chrono::seconds(10),
                                          audience, check, {user_, known_, kEmail, claim_}, Method::Browser);
    }
    Secret alice() {
        return token({{"email", json_string("alice@example.com")}, {"email_verified", "true"}});
    }
    const std::vector<Identifier> known_{kEmail};
};

const TokenBinding::ClaimCheck kAccept = [](const cognito::IdClaims&) {
    return std::optional<std::string>();
};

TEST_F(CheckedBindingTest, BoundClaimsThatPassTheCheckProveTheAccount) {
    const auto r = bind_checked(alice(), kAccept);
    ASSERT_TRUE(std::holds_alternative<Verified>(r));
    EXPECT_EQ(std::get<Verified>(r).method(), Method::Browser);
    EXPECT_EQ(std::get<Verified>(r).audit_reason(), "verified email identity sub=" + kSub);
}

TEST_F(CheckedBindingTest, TheCheckRefusesBeforeTheBinding) {
    const auto r = bind_checked(alice(), [](const cognito::IdClaims& c) {
        EXPECT_EQ(c.sub, kSub);  // the check sees the verified claims
        return std::optional<std::string>("the ID token's nonce is not this sign-in's");
    });
    ASSERT_TRUE(std::holds_alternative<TokenBinding::Refused>(r));
    EXPECT_EQ(std::get<TokenBinding::Refused>(r).reason, "the ID token's nonce is not this sign-in's");
}

TEST_F(CheckedBindingTest, ClaimsOfAnotherPersonAreRefusedNotEnded) {
    const auto r =
        bind_checked(token({{"email", json_string("bob@example.com")}, {"email_verified", "true"}}), kAccept);
    ASSERT_TRUE(std::holds_alternative<TokenBinding::Refused>(r));
    EXPECT_EQ(std::get<TokenBinding::Refused>(r).reason,
              "identity sub=" + kSub + " is not bound to this user");
}

TEST_F(CheckedBindingTest, ATokenForAnotherAppClientEndsTheLogin) {
    const auto r = bind_checked(alice(), kAccept, "another0app0client");
    ASSERT_TRUE(std::holds_alternative<Verdict>(r));
    EXPECT_EQ(std::get<Verdict>(r).outcome(), Outcome::AuthErr);
    EXPECT_EQ(std::get<Verdict>(r).audit_reason().rfind("ID token refused: ", 0), 0u);
}

}  // namespace
}  // namespace pp::helper
