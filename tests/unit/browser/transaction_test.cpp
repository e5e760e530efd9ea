// The helper's transaction of "Sign in with your browser" (helper/browser/transaction.*): PKCE, the state of
// callback/README.md, the authorize link and token body of specs/cognito-managed-login.md §3 and §6.1, the
// typed code's normalisation, and the checks that tie an ID token to the attempt.
#include "browser/transaction.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base64.hpp"

namespace pp::helper::browser {
namespace {

constexpr std::int64_t kNow = 1767225600;
constexpr std::int64_t kLifetime = 300;

bool only_base64url(std::string_view s) {
    for (const char c : s) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_'))
            return false;
    }
    return true;
}

// The value of one query or form parameter, as written (still percent-encoded); fails the test if absent or
// repeated.
std::string parameter(std::string_view query, std::string_view name) {
    std::vector<std::string> found;
    std::size_t pos = 0;
    while (pos <= query.size()) {
        const auto amp = query.find('&', pos);
        const std::string_view pair = query.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name)
            found.emplace_back(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        pos = amp + 1;
    }
    EXPECT_EQ(found.size(), 1u) << name;
    return found.empty() ? std::string() : found.front();
}

// The names of every parameter, in order.
std::vector<std::string> parameter_names(std::string_view query) {
    std::vector<std::string> names;
    std::size_t pos = 0;
    while (pos <= query.size()) {
        const auto amp = query.find('&', pos);
        const std::string_view pair = query.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
        names.emplace_back(pair.substr(0, pair.find('=')));
        if (amp == std::string_view::npos) break;
        pos = amp + 1;
    }
    return names;
}

std::string query_of(const std::string& url, std::string_view prefix) {
    EXPECT_EQ(url.rfind(prefix, 0), 0u) << url;
    return url.substr(prefix.size());
}

const std::vector<std::string> kScopes{"openid", "email"};

std::string nonce_of(const Transaction& t) {
    const std::string url =
        t.authorize_url("pool.example.org", "client", "https://pam.example.org/cb/", kScopes);
    return parameter(query_of(url, "https://pool.example.org/oauth2/authorize?"), "nonce");
}

std::string verifier_of(const Transaction& t) {
    const pp::Secret body = t.token_request_body("c", "https://pam.example.org/cb/", "client");
    return parameter(body.view(), "code_verifier");
}

cognito::IdClaims claims_with_nonce(std::string nonce) {
    cognito::IdClaims claims;
    claims.sub = "d3f1a0b2-4c5e-4f60-8a91-b2c3d4e5f607";
    claims.token_use = "id";
    claims.strings.emplace("nonce", std::move(nonce));
    return claims;
}

TEST(BrowserPkce, S256MatchesRfc7636AppendixB) {
    EXPECT_EQ(s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
              "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(BrowserPkce, VerifierIs43Base64urlCharactersFreshPerAttemptAndMatchesTheChallenge) {
    const Transaction a = Transaction::start("host", "alice", kNow, kLifetime);
    const Transaction b = Transaction::start("host", "alice", kNow, kLifetime);
    const std::string verifier = verifier_of(a);
    EXPECT_EQ(verifier.size(), 43u);
    EXPECT_TRUE(only_base64url(verifier)) << verifier;
    EXPECT_NE(verifier, verifier_of(b));
    const std::string url =
        a.authorize_url("pool.example.org", "client", "https://pam.example.org/cb/", kScopes);
    const std::string query = query_of(url, "https://pool.example.org/oauth2/authorize?");
    EXPECT_EQ(parameter(query, "code_challenge"), s256_challenge(verifier));
    EXPECT_EQ(parameter(query, "code_challenge_method"), "S256");
    // The nonce is the challenge: unique and unguessable per attempt, and nothing more to carry in a link.
    const std::string nonce = parameter(query, "nonce");
    EXPECT_EQ(nonce, s256_challenge(verifier));
    EXPECT_EQ(nonce, a.challenge());
    EXPECT_NE(nonce, nonce_of(b));
    EXPECT_NE(nonce, verifier);
}

TEST(BrowserState, IsVersionThenLabelAsTheCallbackPageParsesIt) {
    const std::string state = make_state("build-01.example.org", "alice", 1767225900);
    // The page's rules: only [A-Za-z0-9_-], "1", then base64url of "<exp base36>\n<user>\n<host>".
    EXPECT_TRUE(only_base64url(state)) << state;
    ASSERT_EQ(state.front(), '1');
    const auto label = pp::base64url_decode(state.substr(1));
    ASSERT_TRUE(label.has_value());
    EXPECT_EQ(*label, "t85s8c\nalice\nbuild-01.example.org");
    EXPECT_EQ(base36(1767225900), "t85s8c");
    EXPECT_EQ(base36(0), "0");
    EXPECT_EQ(base36(35), "z");
    EXPECT_EQ(base36(36), "10");
}

TEST(BrowserState, KeepsUtf8AndRefusesWhatThePageCannotShow) {
    const auto label = pp::base64url_decode(make_state("h", "a\"b\\c\xc3\xa9", 7).substr(1));
    ASSERT_TRUE(label.has_value());
    EXPECT_EQ(*label, "7\na\"b\\c\xc3\xa9\nh");
    EXPECT_THROW(make_state("", "alice", 7), std::invalid_argument);
    EXPECT_THROW(make_state("h", "", 7), std::invalid_argument);
    EXPECT_THROW(make_state("h", "al\nice", 7), std::invalid_argument);
    EXPECT_THROW(make_state(std::string(kMaxLabelField + 1, 'h'), "alice", 7), std::invalid_argument);
    EXPECT_THROW(make_state("h", "\xff\xfe", 7), std::invalid_argument);
    EXPECT_THROW(make_state("h", "alice", -1), std::invalid_argument);
    EXPECT_THROW(make_fragment("c", "h", "al\nice", 7), std::invalid_argument);
}

TEST(BrowserState, TransactionStateCarriesHostUserAndExpiry) {
    const Transaction a = Transaction::start("build-01", "alice", kNow, kLifetime);
    EXPECT_TRUE(only_base64url(a.state()));
    EXPECT_EQ(a.state(), make_state("build-01", "alice", kNow + kLifetime));
    EXPECT_THROW(Transaction::start("build-01", "alice", kNow, 0), std::invalid_argument);
    EXPECT_THROW(Transaction::start("build-01", "al\x1b[2Jice", kNow, kLifetime), std::invalid_argument);
}

TEST(BrowserShortLink, IsThePageWithVersionChallengeExpiryUserAndHost) {
    const Transaction t = Transaction::start("build-01.example.org", "alice", kNow, kLifetime);
    const std::string link = t.short_link("https://pam.example.org/cb/");
    const std::string prefix = "https://pam.example.org/cb/#1.";
    ASSERT_EQ(link.rfind(prefix, 0), 0u) << link;
    std::vector<std::string> fields;
    std::string rest = link.substr(prefix.size() - 2);  // from "1."
    for (std::size_t dot; (dot = rest.find('.')) != std::string::npos; rest.erase(0, dot + 1))
        fields.push_back(rest.substr(0, dot));
    fields.push_back(rest);
    ASSERT_EQ(fields.size(), 5u) << link;
    EXPECT_EQ(fields[0], "1");
    EXPECT_EQ(fields[1], t.challenge());
    EXPECT_EQ(fields[1], s256_challenge(verifier_of(t)));
    EXPECT_EQ(fields[2], base36(kNow + kLifetime));
    EXPECT_EQ(pp::base64url_decode(fields[3]), "alice");
    EXPECT_EQ(pp::base64url_decode(fields[4]), "build-01.example.org");
    // Nothing in it names the pool, the client or where to come back: those are the page's pool.json.
    EXPECT_EQ(link.find("oauth2"), std::string::npos);
    EXPECT_THROW((void)t.short_link(""), std::invalid_argument);
    EXPECT_THROW((void)t.short_link("https://pam.example.org/cb/#x"), std::invalid_argument);
}

// Issue #13's size: the test stand-in's page, alice and a host name of 20 characters fit in 134 bytes (a QR
// code of version 6 at level L, 41 modules).
TEST(BrowserShortLink, FitsQrVersion6) {
    const Transaction t = Transaction::start("build-01.example.org", "alice", 1767225600, 86400);
    EXPECT_LE(t.short_link("https://localhost:65535/cb/").size(), 134u);
}

TEST(BrowserAuthorize, SendsTheSection3RequestWithPromptLoginAllEncoded) {
    const Transaction t = Transaction::start("host", "alice", kNow, kLifetime);
    const std::string url =
        t.authorize_url("pamdemo.auth.eu-central-1.amazoncognito.com", "7d2examplepamclient0ab",
                        "https://pam.example.org/cb/?x=1&y=2", kScopes);
    const std::string query =
        query_of(url, "https://pamdemo.auth.eu-central-1.amazoncognito.com/oauth2/authorize?");
    EXPECT_EQ(parameter_names(query),
              (std::vector<std::string>{"response_type", "client_id", "redirect_uri", "scope", "state",
                                        "nonce", "code_challenge", "code_challenge_method", "prompt"}));
    EXPECT_EQ(parameter(query, "response_type"), "code");
    EXPECT_EQ(parameter(query, "client_id"), "7d2examplepamclient0ab");
    EXPECT_EQ(parameter(query, "redirect_uri"), "https%3A%2F%2Fpam.example.org%2Fcb%2F%3Fx%3D1%26y%3D2");
    EXPECT_EQ(parameter(query, "scope"), "openid%20email");
    EXPECT_EQ(parameter(query, "state"), t.state());
    EXPECT_EQ(parameter(query, "prompt"), "login");
    // Nothing but unreserved characters, '%XX' and the separators the URL itself needs.
    for (const char c : query) {
        EXPECT_TRUE(only_base64url(std::string(1, c)) || c == '.' || c == '~' || c == '%' || c == '&' ||
                    c == '=')
            << c;
    }
    EXPECT_EQ(t.authorize_url("localhost:8443", "c", "r", kScopes)
                  .rfind("https://localhost:8443/oauth2/authorize?", 0),
              0u);
}

TEST(BrowserAuthorize, RefusesWhatWouldChangeTheRequest) {
    const Transaction t = Transaction::start("host", "alice", kNow, kLifetime);
    const std::string r = "https://pam.example.org/cb/";
    for (const char* domain : {"", "evil.example/x", "a@b", "pool.example.org?x", "pool.example.org#",
                               "pool.example.org:", "pool.example.org:12a", "pool example.org"}) {
        EXPECT_THROW((void)t.authorize_url(domain, "c", r, kScopes), std::invalid_argument) << domain;
    }
    EXPECT_THROW((void)t.authorize_url("pool.example.org", "", r, kScopes), std::invalid_argument);
    EXPECT_THROW((void)t.authorize_url("pool.example.org", "c", "", kScopes), std::invalid_argument);
    EXPECT_THROW((void)t.authorize_url("pool.example.org", "c", r, {}), std::invalid_argument);
    const std::vector<std::string> spaced{"openid email"};
    EXPECT_THROW((void)t.authorize_url("pool.example.org", "c", r, spaced), std::invalid_argument);
    const std::vector<std::string> empty{"openid", ""};
    EXPECT_THROW((void)t.authorize_url("pool.example.org", "c", r, empty), std::invalid_argument);
}

TEST(BrowserToken, BodyIsTheSection61FormEncoded) {
    const Transaction t = Transaction::start("host", "alice", kNow, kLifetime);
    const pp::Secret body = t.token_request_body("5f0c2a9e-0b7d-4c1e-9a3f-6b8d2e4c7a10",
                                                 "https://pam.example.org/cb", "7d2exampl");
    const std::string verifier = verifier_of(t);
    EXPECT_EQ(body.view(),
              "grant_type=authorization_code&code=5f0c2a9e-0b7d-4c1e-9a3f-6b8d2e4c7a10"
              "&redirect_uri=https%3A%2F%2Fpam.example.org%2Fcb&client_id=7d2exampl&code_verifier=" +
                  verifier);
    EXPECT_EQ(parameter(t.token_request_body("a+b&c=d e", "r", "c").view(), "code"), "a%2Bb%26c%3Dd%20e");
    EXPECT_THROW((void)t.token_request_body("", "r", "c"), std::invalid_argument);
    EXPECT_THROW((void)t.token_request_body("x", "", "c"), std::invalid_argument);
    EXPECT_THROW((void)t.token_request_body("x", "r", ""), std::invalid_argument);
}

TEST(BrowserCode, NormalisesAsTheCallbackReadmeSays) {
    const std::string uuid = "7378f445-c87f-400c-855e-0297d072ff03";
    EXPECT_EQ(normalise_code(uuid), uuid);
    EXPECT_EQ(normalise_code("  7378f445-c87f-400c-855e-0297d072ff03\r\n"), uuid);
    // White space inside, pasted across lines or grouped by hand: 32 hex digits once it is gone.
    EXPECT_EQ(normalise_code("7378f445 c87f 400c\t855e\n0297d072ff03"), uuid);
    EXPECT_EQ(normalise_code("7378f445c87f400c855e0297d072ff03"), uuid);
    EXPECT_EQ(normalise_code("7378F445C87F400C855E0297D072FF03"), "7378F445-C87F-400C-855E-0297D072FF03");
    // Not 32 hex digits: sent as typed, less its white space.
    EXPECT_EQ(normalise_code("7378f445c87f400c855e0297d072ff0"), "7378f445c87f400c855e0297d072ff0");
    EXPECT_EQ(normalise_code("7378f445c87f400c855e0297d072ff03a"), "7378f445c87f400c855e0297d072ff03a");
    EXPECT_EQ(normalise_code("7378f445c87f400c855e0297d072ffg3"), "7378f445c87f400c855e0297d072ffg3");
    EXPECT_EQ(normalise_code("7378f445-c87f400c855e0297d072ff03"), "7378f445-c87f400c855e0297d072ff03");
    EXPECT_EQ(normalise_code("ABCD efgh"), "ABCDefgh");
}

TEST(BrowserCode, RefusesWhatCannotBeACode) {
    EXPECT_EQ(normalise_code(""), std::nullopt);
    EXPECT_EQ(normalise_code(" \t\r\n "), std::nullopt);
    EXPECT_EQ(normalise_code("7378f445\x1b[2J"), std::nullopt);
    EXPECT_EQ(normalise_code(std::string_view("7378\0f445", 9)), std::nullopt);
    EXPECT_EQ(normalise_code("7378f445\x7f"), std::nullopt);
    EXPECT_EQ(normalise_code("7378f445\xc3\xa9"), std::nullopt);
    EXPECT_EQ(normalise_code(std::string(kMaxCode, 'a')), std::string(kMaxCode, 'a'));
    EXPECT_EQ(normalise_code(std::string(kMaxCode + 1, 'a')), std::nullopt);
    EXPECT_EQ(normalise_code(std::string(kMaxTypedCode + 1, ' ') + "abc"), std::nullopt);
}

TEST(BrowserRedeem, AnEndedTransactionRedeemsNothing) {
    Transaction t = Transaction::start("host", "alice", kNow, kLifetime);
    EXPECT_NO_THROW((void)t.token_request_body("code", "https://pam.example.org/cb/", "client"));
    t.end();
    EXPECT_THROW((void)t.token_request_body("code", "https://pam.example.org/cb/", "client"),
                 std::logic_error);
}

TEST(BrowserExpiry, StopsWaitingAtTheEndOfItsLifetime) {
    Transaction t = Transaction::start("host", "alice", kNow, kLifetime);
    EXPECT_EQ(t.started(), kNow);
    EXPECT_EQ(t.expires(), kNow + kLifetime);
    EXPECT_FALSE(t.expired(kNow));
    EXPECT_FALSE(t.expired(kNow + kLifetime - 1));
    EXPECT_TRUE(t.expired(kNow + kLifetime));
    EXPECT_TRUE(t.expired(kNow + 10 * kLifetime));
    t.end();
    EXPECT_TRUE(t.expired(kNow));
}

TEST(BrowserClaims, AcceptsThisAttemptsNonceAndAFreshSignIn) {
    const Transaction t = Transaction::start("host", "alice", kNow, kLifetime);
    const auto claims = claims_with_nonce(nonce_of(t));
    EXPECT_EQ(t.check_id_token_claims(claims, kNow, kNow + 10), std::nullopt);
    EXPECT_EQ(t.check_id_token_claims(claims, kNow + 60, kNow + 61), std::nullopt);
}

TEST(BrowserClaims, RefusesAnotherNonceOrNone) {
    const Transaction t = Transaction::start("host", "alice", kNow, kLifetime);
    const Transaction other = Transaction::start("host", "alice", kNow, kLifetime);
    EXPECT_EQ(t.check_id_token_claims(claims_with_nonce(nonce_of(other)), kNow, kNow + 10),
              ClaimRefusal::NonceMismatch);
    std::string near = nonce_of(t);
    near.back() = near.back() == 'A' ? 'B' : 'A';
    EXPECT_EQ(t.check_id_token_claims(claims_with_nonce(near), kNow, kNow + 10), ClaimRefusal::NonceMismatch);
    EXPECT_EQ(t.check_id_token_claims(claims_with_nonce(nonce_of(t) + "x"), kNow, kNow + 10),
              ClaimRefusal::NonceMismatch);
    EXPECT_EQ(t.check_id_token_claims(claims_with_nonce(""), kNow, kNow + 10), ClaimRefusal::NonceMismatch);
    cognito::IdClaims none = claims_with_nonce("");
    none.strings.clear();
    EXPECT_EQ(t.check_id_token_claims(none, kNow, kNow + 10), ClaimRefusal::NonceMissing);
}

TEST(BrowserClaims, RefusesASignInOlderThanTheAttempt) {
    const Transaction t = Transaction::start("host", "alice", kNow, kLifetime);
    const auto claims = claims_with_nonce(nonce_of(t));
    EXPECT_EQ(t.check_id_token_claims(claims, kNow - 1, kNow + 10), ClaimRefusal::AuthTimeBeforeStart);
    EXPECT_EQ(t.check_id_token_claims(claims, kNow - 3600, kNow + 10), ClaimRefusal::AuthTimeBeforeStart);
    EXPECT_EQ(t.check_id_token_claims(claims, std::nullopt, kNow + 10), ClaimRefusal::AuthTimeMissing);
}

TEST(BrowserClaims, RefusesAfterExpiryAndOnceEnded) {
    Transaction t = Transaction::start("host", "alice", kNow, kLifetime);
    const auto claims = claims_with_nonce(nonce_of(t));
    EXPECT_EQ(t.check_id_token_claims(claims, kNow, kNow + kLifetime), ClaimRefusal::Expired);
    t.end();
    EXPECT_TRUE(t.ended());
    EXPECT_EQ(t.check_id_token_claims(claims, kNow, kNow + 10), ClaimRefusal::Ended);
    EXPECT_THROW((void)t.short_link("https://pam.example.org/cb/"), std::logic_error);
    EXPECT_THROW((void)t.authorize_url("pool.example.org", "c", "r", kScopes), std::logic_error);
    EXPECT_THROW((void)t.token_request_body("x", "r", "c"), std::logic_error);
}

TEST(BrowserClaims, EveryRefusalHasItsOwnText) {
    std::set<std::string_view> texts;
    for (const ClaimRefusal r :
         {ClaimRefusal::Ended, ClaimRefusal::Expired, ClaimRefusal::NonceMissing, ClaimRefusal::NonceMismatch,
          ClaimRefusal::AuthTimeMissing, ClaimRefusal::AuthTimeBeforeStart}) {
        texts.insert(refusal_text(r));
    }
    EXPECT_EQ(texts.size(), 6u);
}

TEST(BrowserTransaction, AMovedFromTransactionHasEnded) {
    Transaction a = Transaction::start("host", "alice", kNow, kLifetime);
    const std::string nonce = nonce_of(a);
    Transaction b = std::move(a);
    EXPECT_TRUE(a.ended());  // NOLINT(bugprone-use-after-move): the point of the test
    EXPECT_THROW((void)a.token_request_body("code", "https://pam.example.org/cb/", "client"),
                 std::logic_error);
    EXPECT_EQ(nonce_of(b), nonce);
    EXPECT_FALSE(b.ended());
}

TEST(BrowserPercent, KeepsOnlyUnreservedCharacters) {
    EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
    EXPECT_EQ(percent_encode(" +/=?&#%@:"), "%20%2B%2F%3D%3F%26%23%25%40%3A");
    EXPECT_EQ(percent_encode("\xc3\xa9\x01"), "%C3%A9%01");
    EXPECT_EQ(percent_encode(""), "");
}

}  // namespace
}  // namespace pp::helper::browser
