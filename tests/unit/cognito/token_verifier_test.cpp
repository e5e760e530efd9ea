#include "token_verifier.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "json_web_key_set.hpp"
#include "service_error.hpp"
#include "test_keys.hpp"

namespace pp::cognito {
namespace {

using namespace std::chrono_literals;
using test::json_string;
using test::Members;
using test::TestKey;
using test::to_json;

constexpr std::int64_t start_time = 1'750'000'000;
const std::string issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example";
const std::string client_id = "4example0client0id";

const TestKey& key_a() {
    static const TestKey key;
    return key;
}

const TestKey& key_b() {
    static const TestKey key;
    return key;
}

std::string jwks(std::initializer_list<std::pair<const TestKey*, std::string>> keys) {
    std::string text = R"({"keys":[)";
    bool first = true;
    for (const auto& [key, kid] : keys) {
        text += (first ? "" : ",") + key->jwk(kid);
        first = false;
    }
    return text + "]}";
}

std::string header(std::string_view kid, std::string_view alg = "RS256") {
    return to_json({{"alg", json_string(alg)}, {"kid", json_string(kid)}});
}

class TokenVerifierTest : public ::testing::Test {
  protected:
    std::string jwks_text = jwks({{&key_a(), "a"}});
    std::atomic<int> fetches{0};
    bool fetch_fails = false;
    std::int64_t now = start_time;
    TokenVerifier verifier{issuer, client_id,
                           [this](Deadline) {
                               ++fetches;
                               if (fetch_fails) throw ServiceError(Failure::Unreachable, "", "no route");
                               return jwks_text;
                           },
                           60s, [this] { return now; }};

    Members claims() const {
        return {{"iss", json_string(issuer)},
                {"aud", json_string(client_id)},
                {"token_use", json_string("id")},
                {"sub", json_string("3c46320b-c60e-4a21-9d64-5829bfede1c4")},
                {"cognito:username", json_string("alice")},
                {"email", json_string("alice@example.com")},
                {"email_verified", "true"},
                {"custom:tenant", json_string("blue")},
                {"cognito:groups", R"(["admins"])"},
                {"auth_time", std::to_string(now - 5)},
                {"iat", std::to_string(now - 5)},
                {"exp", std::to_string(now + 3600)}};
    }

    std::string token(const Members& payload, const TestKey& key = key_a(),
                      std::string_view kid = "a") const {
        return key.sign(header(kid), to_json(payload));
    }

    IdClaims verify(const std::string& jwt) {
        return verifier.verify_id_token(jwt, std::chrono::steady_clock::now() + 5s);
    }

    // Refused as a bad token, with a reason that does not repeat the token.
    void expect_refused(const std::string& jwt) {
        try {
            verify(jwt);
            ADD_FAILURE() << "accepted";
        } catch (const TokenError& e) {
            const std::string reason = e.what();
            EXPECT_FALSE(reason.empty());
            if (jwt.size() > 8) {
                EXPECT_EQ(reason.find(jwt.substr(0, 8)), std::string::npos) << reason;
            }
        }
    }

    void expect_refused_claims(const Members& payload) { expect_refused(token(payload)); }
};

TEST_F(TokenVerifierTest, GoodTokenYieldsItsClaims) {
    const IdClaims c = verify(token(claims()));
    EXPECT_EQ(c.sub, "3c46320b-c60e-4a21-9d64-5829bfede1c4");
    EXPECT_EQ(c.issuer, issuer);
    EXPECT_EQ(c.audience, client_id);
    EXPECT_EQ(c.token_use, "id");
    EXPECT_EQ(c.cognito_username, "alice");
    EXPECT_EQ(c.email, "alice@example.com");
    EXPECT_TRUE(c.email_verified);
    EXPECT_FALSE(c.phone_number);
    EXPECT_FALSE(c.phone_number_verified);
    EXPECT_EQ(c.iat, now - 5);
    EXPECT_EQ(c.exp, now + 3600);
    EXPECT_EQ(c.strings.at("custom:tenant"), "blue");
    EXPECT_EQ(c.strings.at("email"), "alice@example.com");
    EXPECT_EQ(c.strings.count("cognito:groups"), 0u);
    EXPECT_EQ(c.strings.count("email_verified"), 0u);
    EXPECT_EQ(fetches, 1);
}

TEST_F(TokenVerifierTest, KeysAreCached) {
    verify(token(claims()));
    verify(token(claims()));
    now += 3000;
    verify(token(claims()));
    EXPECT_EQ(fetches, 1);
}

TEST_F(TokenVerifierTest, AudienceMayBeAnArrayHoldingTheClient) {
    auto c = claims();
    c["aud"] = R"(["someone-else",)" + json_string(client_id) + "]";
    EXPECT_EQ(verify(token(c)).audience, client_id);
    c["aud"] = R"(["someone-else"])";
    expect_refused_claims(c);
    c["aud"] = R"([])";
    expect_refused_claims(c);
    c["aud"] = "[1," + json_string(client_id) + "]";
    expect_refused_claims(c);
}

TEST_F(TokenVerifierTest, VerifiedFlagsMayBeStrings) {
    auto c = claims();
    c["email_verified"] = json_string("false");
    c["phone_number"] = json_string("+15550100");
    c["phone_number_verified"] = json_string("true");
    const IdClaims read = verify(token(c));
    EXPECT_FALSE(read.email_verified);
    EXPECT_TRUE(read.phone_number_verified);
    EXPECT_EQ(read.phone_number, "+15550100");
    c["email_verified"] = json_string("yes");
    expect_refused_claims(c);
    c["email_verified"] = "1";
    expect_refused_claims(c);
}

TEST_F(TokenVerifierTest, BadSignatureIsRefused) {
    const std::string good = token(claims());
    auto other = claims();
    other["sub"] = json_string("someone-else");
    const std::string forged_payload = test::base64url(to_json(other));
    const auto first = good.find('.');
    const auto second = good.find('.', first + 1);
    expect_refused(good.substr(0, first + 1) + forged_payload + good.substr(second));
    // Signed by a key the pool does not publish under that id.
    expect_refused(token(claims(), key_b(), "a"));
}

TEST_F(TokenVerifierTest, AlgNoneIsRefusedBeforeAnyKeyLookup) {
    expect_refused(test::base64url(header("a", "none")) + "." + test::base64url(to_json(claims())) + ".");
    expect_refused(test::base64url(header("a", "none")) + "." + test::base64url(to_json(claims())) + ".AAAA");
    EXPECT_EQ(fetches, 0);
}

TEST_F(TokenVerifierTest, Hs256WithThePublicKeyAsSecretIsRefused) {
    expect_refused(test::sign_hs256(header("a", "HS256"), to_json(claims()), key_a().public_pem()));
    EXPECT_EQ(fetches, 0);
}

TEST_F(TokenVerifierTest, OnlyRs256IsAccepted) {
    for (const char* alg : {"RS512", "PS256", "ES256", "rs256", "RS256 ", ""}) {
        expect_refused(key_a().sign(header("a", alg), to_json(claims())));
    }
    expect_refused(key_a().sign(R"({"kid":"a"})", to_json(claims())));
    expect_refused(key_a().sign(R"({"alg":256,"kid":"a"})", to_json(claims())));
    EXPECT_EQ(fetches, 0);
}

TEST_F(TokenVerifierTest, HeaderNeedsAKeyIdAndNoCriticalExtensions) {
    expect_refused(key_a().sign(R"({"alg":"RS256"})", to_json(claims())));
    expect_refused(key_a().sign(R"({"alg":"RS256","kid":""})", to_json(claims())));
    expect_refused(key_a().sign(R"({"alg":"RS256","kid":7})", to_json(claims())));
    expect_refused(key_a().sign(R"({"alg":"RS256","kid":"a","crit":["exp"]})", to_json(claims())));
    expect_refused(key_a().sign(R"(["RS256","a"])", to_json(claims())));
    EXPECT_EQ(fetches, 0);
}

TEST_F(TokenVerifierTest, ExpiryAllowsTheSkewAndNoMore) {
    auto c = claims();
    c["exp"] = std::to_string(now - 59);
    EXPECT_NO_THROW(verify(token(c)));
    c["exp"] = std::to_string(now - 60);
    expect_refused_claims(c);
    c["exp"] = std::to_string(now - 3600);
    expect_refused_claims(c);
    c.erase("exp");
    expect_refused_claims(c);
    c["exp"] = json_string(std::to_string(now + 3600));
    expect_refused_claims(c);
}

TEST_F(TokenVerifierTest, IssuedInTheFutureIsRefused) {
    auto c = claims();
    c["iat"] = std::to_string(now + 60);
    EXPECT_NO_THROW(verify(token(c)));
    c["iat"] = std::to_string(now + 61);
    expect_refused_claims(c);
    c.erase("iat");
    expect_refused_claims(c);
}

TEST_F(TokenVerifierTest, NotBeforeInTheFutureIsRefused) {
    auto c = claims();
    c["nbf"] = std::to_string(now + 600);
    expect_refused_claims(c);
    c["nbf"] = std::to_string(now - 1);
    EXPECT_NO_THROW(verify(token(c)));
}

TEST_F(TokenVerifierTest, FractionalDatesAreRead) {
    auto c = claims();
    c["exp"] = std::to_string(now + 100) + ".5";
    EXPECT_EQ(verify(token(c)).exp, now + 100);
    c["exp"] = "1e300";
    expect_refused_claims(c);
}

TEST_F(TokenVerifierTest, WrongAudienceIsRefused) {
    auto c = claims();
    c["aud"] = json_string("another-client");
    expect_refused_claims(c);
    c.erase("aud");
    expect_refused_claims(c);
    c["aud"] = "{}";
    expect_refused_claims(c);
}

TEST_F(TokenVerifierTest, WrongIssuerIsRefused) {
    auto c = claims();
    for (const std::string& other :
         {issuer + "/", std::string("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"),
          std::string("https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example")}) {
        c["iss"] = json_string(other);
        expect_refused_claims(c);
    }
    c.erase("iss");
    expect_refused_claims(c);
}

TEST_F(TokenVerifierTest, AnotherAudienceIsCheckedWhenGiven) {
    // The browser sign-in's public app client: its tokens name it, not the pool's client.
    const std::string browser_client = "7d2examplepamclient0ab";
    auto c = claims();
    c["aud"] = json_string(browser_client);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    const IdClaims got = verifier.verify_id_token(token(c), deadline, browser_client);
    EXPECT_EQ(got.audience, browser_client);
    EXPECT_EQ(got.sub, "3c46320b-c60e-4a21-9d64-5829bfede1c4");
    // The same token is not the pool client's, and the pool client's token is not the browser client's.
    expect_refused(token(c));
    EXPECT_THROW(verifier.verify_id_token(token(claims()), deadline, browser_client), TokenError);
    EXPECT_THROW(verifier.verify_id_token(token(c), deadline, ""), std::invalid_argument);
    // Everything else is checked alike under the other audience.
    c["iss"] = json_string(issuer + "/");
    EXPECT_THROW(verifier.verify_id_token(token(c), deadline, browser_client), TokenError);
    c["iss"] = json_string(issuer);
    c["token_use"] = json_string("access");
    EXPECT_THROW(verifier.verify_id_token(token(c), deadline, browser_client), TokenError);
    c["token_use"] = json_string("id");
    c["exp"] = std::to_string(now - 61);
    EXPECT_THROW(verifier.verify_id_token(token(c), deadline, browser_client), TokenError);
    c["exp"] = std::to_string(now + 3600);
    EXPECT_THROW(verifier.verify_id_token(token(c, key_b(), "a"), deadline, browser_client), TokenError);
}

TEST_F(TokenVerifierTest, AuthTimeAndAmrAreRead) {
    auto c = claims();
    c["amr"] = R"(["swk"])";
    IdClaims got = verify(token(c));
    EXPECT_EQ(got.auth_time, now - 5);
    EXPECT_EQ(got.amr, std::vector<std::string>{"swk"});
    c["amr"] = R"(["email_otp","mfa"])";
    c["auth_time"] = "1750000000.75";
    got = verify(token(c));
    EXPECT_EQ(got.auth_time, 1750000000);
    EXPECT_EQ(got.amr, (std::vector<std::string>{"email_otp", "mfa"}));
    c.erase("amr");
    c.erase("auth_time");
    got = verify(token(c));
    EXPECT_FALSE(got.auth_time);
    EXPECT_TRUE(got.amr.empty());
}

TEST_F(TokenVerifierTest, WrongTypedAuthTimeOrAmrIsRefused) {
    for (const std::string& bad : {std::string(R"("1750000000")"), std::string("true"), std::string("[1]")}) {
        auto c = claims();
        c["auth_time"] = bad;
        expect_refused_claims(c);
    }
    for (const std::string& bad :
         {std::string(R"("swk")"), std::string("[1]"), std::string(R"(["swk",null])"), std::string("{}")}) {
        auto c = claims();
        c["amr"] = bad;
        expect_refused_claims(c);
    }
}

TEST_F(TokenVerifierTest, AccessTokenIsRefused) {
    auto c = claims();
    c["token_use"] = json_string("access");
    expect_refused_claims(c);
    c.erase("token_use");
    expect_refused_claims(c);
}

TEST_F(TokenVerifierTest, SubjectIsRequired) {
    auto c = claims();
    c["sub"] = json_string("");
    expect_refused_claims(c);
    c.erase("sub");
    expect_refused_claims(c);
    c["sub"] = "42";
    expect_refused_claims(c);
}

TEST_F(TokenVerifierTest, WrongTypedOptionalClaimsAreRefused) {
    auto c = claims();
    c["email"] = "[]";
    expect_refused_claims(c);
}

TEST_F(TokenVerifierTest, MalformedTokensAreRefused) {
    const std::string good = token(claims());
    const auto first = good.find('.');
    expect_refused("");
    expect_refused("abc");
    expect_refused(good.substr(0, good.rfind('.')));
    expect_refused(good + ".xyz");
    expect_refused(good + "=");
    expect_refused(good.substr(0, first) + "=" + good.substr(first));
    expect_refused(" " + good);
    expect_refused(test::base64url("not json") + good.substr(first));
    expect_refused(key_a().sign(header("a"), "not json"));
    expect_refused(key_a().sign(header("a"), "[1]"));
    expect_refused(key_a().sign(header("a"), to_json(claims()) + " {}"));
    expect_refused(good.substr(0, good.rfind('.') + 1));
}

TEST_F(TokenVerifierTest, OversizedTokenIsRefusedWithoutWork) {
    auto c = claims();
    c["padding"] = json_string(std::string(TokenVerifier::max_token_size, 'x'));
    expect_refused(token(c));
    EXPECT_EQ(fetches, 0);
}

TEST_F(TokenVerifierTest, UnknownKeyIdRefetchesAtMostOncePerInterval) {
    verify(token(claims()));
    EXPECT_EQ(fetches, 1);
    now += TokenVerifier::refetch_interval + 1;
    expect_refused(token(claims(), key_a(), "unknown-1"));
    EXPECT_EQ(fetches, 2);
    // Within the interval an unknown id is not refused as bad (it may be a key rotated a moment ago): the
    // login is unavailable, and the pool is not asked again.
    EXPECT_THROW(verify(token(claims(), key_a(), "unknown-2")), ServiceError);
    now += TokenVerifier::refetch_interval - 1;
    EXPECT_THROW(verify(token(claims(), key_a(), "unknown-3")), ServiceError);
    EXPECT_EQ(fetches, 2);
    now += 2;
    expect_refused(token(claims(), key_a(), "unknown-4"));
    EXPECT_EQ(fetches, 3);
    // Known keys keep working without downloads.
    verify(token(claims()));
    EXPECT_EQ(fetches, 3);
}

TEST_F(TokenVerifierTest, UnknownKeyIdOnFirstUseIsNotFetchedTwice) {
    expect_refused(token(claims(), key_a(), "unknown-1"));
    EXPECT_THROW(verify(token(claims(), key_a(), "unknown-2")), ServiceError);
    EXPECT_EQ(fetches, 1);
}

TEST_F(TokenVerifierTest, RotatedKeyIsPickedUpByRefetch) {
    verify(token(claims()));
    jwks_text = jwks({{&key_a(), "a"}, {&key_b(), "b"}});
    now += 61;
    EXPECT_EQ(verify(token(claims(), key_b(), "b")).sub, "3c46320b-c60e-4a21-9d64-5829bfede1c4");
    EXPECT_EQ(fetches, 2);
    // The old key is retired: tokens under it stop verifying once the set is fetched again.
    jwks_text = jwks({{&key_b(), "b"}});
    now += 61;
    expect_refused(token(claims(), key_a(), "c"));
    EXPECT_THROW(verify(token(claims())), ServiceError);
    EXPECT_EQ(fetches, 3);
}

// The fetch ahead of a cold start (helper/pool_warm_up.cpp): the first token then needs no download.
TEST_F(TokenVerifierTest, PrefetchedKeysServeTheFirstToken) {
    verifier.prefetch(std::chrono::steady_clock::now() + 5s);
    EXPECT_EQ(fetches, 1);
    verify(token(claims()));
    EXPECT_EQ(fetches, 1);
    // Keys already held: nothing to fetch ahead.
    verifier.prefetch(std::chrono::steady_clock::now() + 5s);
    EXPECT_EQ(fetches, 1);
}

// A failed fetch ahead leaves nothing behind: the first token downloads the keys as it would have.
TEST_F(TokenVerifierTest, FailedPrefetchChangesNothingForTheTokens) {
    fetch_fails = true;
    EXPECT_THROW(verifier.prefetch(std::chrono::steady_clock::now() + 5s), ServiceError);
    fetch_fails = false;
    EXPECT_NO_THROW(verify(token(claims())));
    EXPECT_EQ(fetches, 2);
    jwks_text = "not a key set";
    TokenVerifier fresh{issuer, client_id, [this](Deadline) { return jwks_text; }, 60s,
                        [this] { return now; }};
    EXPECT_THROW(fresh.prefetch(std::chrono::steady_clock::now() + 5s), ServiceError);
}

// A key the pool published after the fetch ahead is picked up as after any download.
TEST_F(TokenVerifierTest, KeyRotatedAfterThePrefetchIsPickedUp) {
    verifier.prefetch(std::chrono::steady_clock::now() + 5s);
    jwks_text = jwks({{&key_b(), "b"}});
    now += 1;  // the login's token comes later than the fetch ahead
    EXPECT_EQ(verify(token(claims(), key_b(), "b")).sub, "3c46320b-c60e-4a21-9d64-5829bfede1c4");
    EXPECT_EQ(fetches, 2);
}

TEST_F(TokenVerifierTest, FailingJwksFetchIsAServiceError) {
    fetch_fails = true;
    EXPECT_THROW(verify(token(claims())), ServiceError);
    fetch_fails = false;
    EXPECT_NO_THROW(verify(token(claims())));
    EXPECT_EQ(fetches, 2);
}

TEST_F(TokenVerifierTest, FailingRefetchIsAServiceErrorAndKeepsTheKeys) {
    verify(token(claims()));
    fetch_fails = true;
    now += 61;
    EXPECT_THROW(verify(token(claims(), key_b(), "b")), ServiceError);
    EXPECT_NO_THROW(verify(token(claims())));
    // The failed attempt counts against the interval too.
    EXPECT_THROW(verify(token(claims(), key_b(), "b")), ServiceError);
    EXPECT_EQ(fetches, 2);
}

TEST_F(TokenVerifierTest, JwksThatIsNotAKeySetIsAServiceError) {
    jwks_text = "<html>maintenance</html>";
    try {
        verify(token(claims()));
        ADD_FAILURE() << "accepted";
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Malformed);
    }
}

TEST_F(TokenVerifierTest, ConcurrentFirstUseFetchesOnce) {
    const std::string jwt = token(claims());
    std::atomic<int> verified{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            verify(jwt);
            ++verified;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(verified, 8);
    EXPECT_EQ(fetches, 1);
}

// Every check copies the key's one prepared context (json_web_key_set.hpp): many threads at once, good tokens
// and forged ones interleaved, each is judged on its own, and the context is never used up.
TEST_F(TokenVerifierTest, ConcurrentChecksShareTheKeyAndJudgeEachTokenAlone) {
    const std::string good = token(claims());
    auto other = claims();
    other["sub"] = json_string("someone-else");
    const auto first = good.find('.');
    const auto second = good.find('.', first + 1);
    const std::string forged =
        good.substr(0, first + 1) + test::base64url(to_json(other)) + good.substr(second);
    const std::string wrong_key = token(claims(), key_b(), "a");
    std::atomic<int> accepted{0}, refused{0}, wrong{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            for (int n = 0; n < 50; ++n) {
                const int kind = (i + n) % 3;
                try {
                    verify(kind == 0 ? good : kind == 1 ? forged : wrong_key);
                    ++(kind == 0 ? accepted : wrong);
                } catch (const TokenError&) {
                    ++(kind == 0 ? wrong : refused);
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(accepted + refused, 400);
    EXPECT_GT(accepted, 100);
    EXPECT_GT(refused, 200);
    EXPECT_EQ(fetches, 1);
}

TEST(TokenVerifierSetup, RefusesIncompleteConfiguration) {
    const auto fetch = [](Deadline) { return std::string("{}"); };
    EXPECT_THROW(TokenVerifier("", client_id, fetch), std::invalid_argument);
    EXPECT_THROW(TokenVerifier(issuer, "", fetch), std::invalid_argument);
    EXPECT_THROW(TokenVerifier(issuer, client_id, nullptr), std::invalid_argument);
    EXPECT_THROW(TokenVerifier(issuer, client_id, fetch, -1s), std::invalid_argument);
}

// [pool] jwks_file: the admin's pinned keys are the only ones. There is no download to count: the verifier
// has no way to fetch at all.
class PinnedTokenVerifierTest : public TokenVerifierTest {
  protected:
    static std::shared_ptr<const JsonWebKeySet> pinned_set() {
        return std::make_shared<const JsonWebKeySet>(JsonWebKeySet::parse(jwks({{&key_a(), "a"}})));
    }
    TokenVerifier pinned{issuer, client_id, TokenVerifier::Pinned{pinned_set()}, 60s, [this] { return now; }};

    std::string refusal(const std::string& jwt) {
        try {
            pinned.verify_id_token(jwt, std::chrono::steady_clock::now() + 5s);
        } catch (const TokenError& e) {
            return e.what();
        }
        ADD_FAILURE() << "accepted";
        return {};
    }
};

TEST_F(PinnedTokenVerifierTest, ATokenUnderAPinnedKeyIsVerified) {
    EXPECT_TRUE(pinned.pinned());
    EXPECT_EQ(pinned.verify_id_token(token(claims()), std::chrono::steady_clock::now() + 5s).sub,
              "3c46320b-c60e-4a21-9d64-5829bfede1c4");
}

// What a compromised worker would mint: a well-formed token under a key of its own, whatever id it names.
TEST_F(PinnedTokenVerifierTest, AKeyIdNotPinnedIsRefusedAsAnUnknownKey) {
    EXPECT_EQ(refusal(token(claims(), key_b(), "b")),
              "token key id is not among the pinned keys ([pool] jwks_file)");
    EXPECT_EQ(refusal(token(claims(), key_b(), "a")), "token signature does not verify");
    // The key set the worker would serve plays no part: the unpinned verifier takes the same token.
    jwks_text = jwks({{&key_b(), "b"}});
    EXPECT_NO_THROW(verify(token(claims(), key_b(), "b")));
}

TEST_F(PinnedTokenVerifierTest, PrefetchDoesNothing) {
    pinned.prefetch(std::chrono::steady_clock::now() + 5s);
    EXPECT_FALSE(verifier.pinned());
    EXPECT_EQ(fetches, 0);
}

// The claims are checked as without pinning.
TEST_F(PinnedTokenVerifierTest, ClaimsAreStillChecked) {
    auto expired = claims();
    expired["exp"] = std::to_string(now - 3600);
    EXPECT_EQ(refusal(token(expired)), "token has expired");
    auto other = claims();
    other["aud"] = json_string("another-client");
    EXPECT_EQ(refusal(token(other)), "token audience is not this app client");
}

TEST(PinnedTokenVerifierSetup, RefusesNoOrAnEmptyKeySet) {
    EXPECT_THROW(TokenVerifier(issuer, client_id, TokenVerifier::Pinned{nullptr}), std::invalid_argument);
    const auto empty = std::make_shared<const JsonWebKeySet>(JsonWebKeySet::parse(R"({"keys":[]})"));
    EXPECT_THROW(TokenVerifier(issuer, client_id, TokenVerifier::Pinned{empty}), std::invalid_argument);
}

}  // namespace
}  // namespace pp::cognito
