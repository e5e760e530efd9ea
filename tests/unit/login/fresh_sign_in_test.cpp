// A pool token proves only the login it was made for (helper/login/fresh_sign_in.hpp): its sign-in not older
// than the login, and used by no login before, each until its token expires.
#include "login/fresh_sign_in.hpp"

#include <gtest/gtest.h>

namespace pp::helper {
namespace {

constexpr std::int64_t kBegan = 1'800'000'000, kSkew = 60;

cognito::IdClaims claims(std::optional<std::int64_t> auth_time, const std::string& origin_jti,
                         const std::string& jti) {
    cognito::IdClaims c;
    c.sub = "s";
    c.auth_time = auth_time;
    c.exp = kBegan + 3600;
    if (!origin_jti.empty()) c.strings["origin_jti"] = origin_jti;
    if (!jti.empty()) c.strings["jti"] = jti;
    return c;
}

std::optional<std::string> check(const cognito::IdClaims& c, UsedSignIns& used,
                                 std::int64_t now = kBegan + 5) {
    return refuse_unless_fresh_and_unused(c, kBegan, now, kSkew, used);
}

TEST(FreshSignIn, ASignInAfterTheLoginBeganProvesItOnce) {
    UsedSignIns used;
    EXPECT_EQ(check(claims(kBegan + 2, "o1", "j1"), used), std::nullopt);
    const auto again = check(claims(kBegan + 2, "o1", "j1"), used);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, "its sign-in (origin_jti o1) proved a login already");
    // Minted from the same sign-in: another jti, the same origin_jti.
    EXPECT_TRUE(check(claims(kBegan + 2, "o1", "j2"), used));
    EXPECT_EQ(check(claims(kBegan + 3, "o2", "j3"), used), std::nullopt);
}

TEST(FreshSignIn, ASignInBeforeTheLoginIsRefusedBeyondTheSkew) {
    UsedSignIns used;
    EXPECT_EQ(check(claims(kBegan - kSkew, "o1", "j1"), used), std::nullopt) << "the pool's clock may lag";
    const auto old = check(claims(kBegan - kSkew - 1, "o2", "j2"), used);
    ASSERT_TRUE(old);
    EXPECT_EQ(*old,
              "the sign-in is older than this login (auth_time 1799999939, the login began at 1800000000)");
    EXPECT_EQ(used.size(), 1u) << "a refused sign-in is not remembered";
}

TEST(FreshSignIn, ATokenWithoutAuthTimeIsRefused) {
    UsedSignIns used;
    EXPECT_EQ(check(claims(std::nullopt, "o1", "j1"), used),
              "the token says not when the person signed in (no auth_time)");
}

TEST(FreshSignIn, AnUnknownStartRefusesEveryToken) {
    UsedSignIns used;
    EXPECT_EQ(refuse_unless_fresh_and_unused(claims(kBegan, "o1", "j1"), 0, kBegan, kSkew, used),
              "the login's start is not known");
}

TEST(FreshSignIn, WithoutOriginJtiTheJtiIsUsedOnce) {
    UsedSignIns used;
    EXPECT_EQ(check(claims(kBegan, "", "j1"), used), std::nullopt);
    EXPECT_EQ(check(claims(kBegan, "", "j1"), used), "its sign-in (jti j1) proved a login already");
}

// A pool whose app client has token revocation off issues neither: freshness alone holds.
TEST(FreshSignIn, WithNeitherClaimFreshnessAloneHolds) {
    UsedSignIns used;
    EXPECT_EQ(check(claims(kBegan, "", ""), used), std::nullopt);
    EXPECT_EQ(check(claims(kBegan, "", ""), used), std::nullopt);
    EXPECT_EQ(used.size(), 0u);
}

TEST(FreshSignIn, ASignInIsRememberedUntilItsTokenExpiresAndTheSkewAfter) {
    UsedSignIns used;
    const auto c = claims(kBegan, "o1", "j1");
    ASSERT_EQ(check(c, used), std::nullopt);
    EXPECT_TRUE(check(c, used, c.exp + kSkew)) << "still valid then (cognito::check_id_claims)";
    EXPECT_EQ(used.use("origin_jti:o1", c.exp + kSkew, c.exp + kSkew + 1), UsedSignIns::Use::First)
        << "forgotten once its token can prove nothing";
}

TEST(FreshSignIn, AFullMemoryForgetsTheExpiredAndRefusesWhenNoneHas) {
    UsedSignIns used(2);
    EXPECT_EQ(used.use("a", 100, 10), UsedSignIns::Use::First);
    EXPECT_EQ(used.use("b", 200, 10), UsedSignIns::Use::First);
    EXPECT_EQ(used.use("c", 300, 10), UsedSignIns::Use::Full);
    EXPECT_EQ(used.use("c", 300, 150), UsedSignIns::Use::First) << "a has expired and made room";
    EXPECT_EQ(used.use("b", 200, 150), UsedSignIns::Use::Again);
    EXPECT_EQ(used.size(), 2u);
    auto c = claims(kBegan, "o9", "j9");
    UsedSignIns full(0);
    EXPECT_EQ(check(c, full), "too many sign-ins remembered to tell whether this one proved a login already");
}

}  // namespace
}  // namespace pp::helper
