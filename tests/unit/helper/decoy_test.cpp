#include "decoy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

namespace pp::helper {
namespace {

const std::string kKey(32, 'k');
const std::vector<Method> kCodesAndKeys{Method::EmailOtp, Method::SmsOtp, Method::SecurityKey};

// Ten real users at one organisation: everyone has an email at example.org and a German mobile number (14
// characters in E.164); the first three also have a security key.
IdentityMap organisation() {
    std::string text;
    for (int i = 0; i < 10; ++i) {
        const std::string u = "user" + std::to_string(i);
        text += u + " " + std::string(1, static_cast<char>('m' + i)) + "person@example.org\n";
        text += u + " +491511234567" + std::to_string(i) + "\n";
    }
    return IdentityMap::parse(text, "identities");
}
const std::vector<std::string> kKeyUsers{"user0", "user1", "user2"};

std::string name(int i) {
    return "stranger" + std::to_string(i);
}

TEST(Decoy, SameNameSameWalk) {
    const auto m = organisation();
    for (int i = 0; i < 50; ++i) {
        const auto a = shape_decoy(kKey, name(i), kCodesAndKeys, m, kKeyUsers, false);
        const auto b = shape_decoy(kKey, name(i), kCodesAndKeys, m, kKeyUsers, false);
        EXPECT_EQ(a.offered, b.offered);
        EXPECT_EQ(a.menu_dest, b.menu_dest);
        EXPECT_EQ(a.code_dest, b.code_dest);
    }
}

TEST(Decoy, MasksHaveTheShapesOfTheRealOnes) {
    const auto m = organisation();
    const std::regex email(R"(^[m-v]\*\*\*@e\*\*\*$)");  // a real initial; the organisation's domain
    const std::regex phone(R"(^\+\*{9}[0-9]{4}$)");      // the phone plan's length
    std::set<std::string> distinct;
    for (int i = 0; i < 200; ++i) {
        const auto w = shape_decoy(kKey, name(i), kCodesAndKeys, m, kKeyUsers, false);
        ASSERT_TRUE(w.code_dest.contains(Method::EmailOtp));
        EXPECT_TRUE(std::regex_match(w.code_dest.at(Method::EmailOtp), email))
            << w.code_dest.at(Method::EmailOtp);
        EXPECT_TRUE(std::regex_match(w.code_dest.at(Method::SmsOtp), phone))
            << w.code_dest.at(Method::SmsOtp);
        EXPECT_EQ(w.menu_dest.at(Method::EmailOtp), w.code_dest.at(Method::EmailOtp));
        distinct.insert(w.code_dest.at(Method::SmsOtp));
    }
    EXPECT_GT(distinct.size(), 100u) << "each name has a phone of its own";
}

TEST(Decoy, SecurityKeyAsOftenAsRealUsersHaveOne) {
    const auto m = organisation();
    int with_key = 0;
    const int n = 3000;
    for (int i = 0; i < n; ++i) {
        const auto w = shape_decoy(kKey, name(i), kCodesAndKeys, m, kKeyUsers, false);
        const bool key =
            std::find(w.offered.begin(), w.offered.end(), Method::SecurityKey) != w.offered.end();
        with_key += key ? 1 : 0;
        EXPECT_EQ(w.direct, false) << "two pool methods: the real login asks the pool to choose";
    }
    // 3 of 10 real users have a key. The names and the key are fixed, so this count is too.
    EXPECT_GT(with_key, n * 25 / 100);
    EXPECT_LT(with_key, n * 35 / 100);
}

TEST(Decoy, NoMenuWhereARealUserHasOneFactor) {
    const auto m = IdentityMap::parse("alice alice@example.com\nbob bob@example.com\n", "identities");
    for (int i = 0; i < 50; ++i) {
        const auto w = shape_decoy(kKey, name(i), kCodesAndKeys, m, {}, false);
        EXPECT_EQ(w.offered, std::vector<Method>{Method::EmailOtp}) << "no phone, no key: no menu";
        EXPECT_TRUE(w.asks_pool);
        EXPECT_TRUE(w.direct)
            << "two pool methods enabled, but the map names only an email: a real login keeps "
               "only the email code (codes go where the map says) and offers it at once";
    }
    const auto only_email = shape_decoy(kKey, "x", {Method::EmailOtp}, m, {}, false);
    EXPECT_TRUE(only_email.direct) << "one pool method and no key: the pool sends the code at once";
}

// A real login of the copied shape remembers the pool's factors (factor_memory.hpp) when it has a menu step
// for a mapped identity: so does the decoy; not where the pool sends the code at once, nor for a claimed
// identity or a key-only user.
TEST(Decoy, RemembersWhereARealLoginOfItsShapeWould) {
    // Both mapped with an email and a phone: a real login of theirs shows a menu, which is remembered.
    const auto m = IdentityMap::parse(
        "alice alice@example.com\nalice +15555550123\nbob bob@example.com\nbob +15555550124\n", "identities");
    const auto w = shape_decoy(kKey, "x", kCodesAndKeys, m, {}, false);
    EXPECT_TRUE(w.remembers);
    EXPECT_TRUE(w.model == "email:alice@example.com" || w.model == "email:bob@example.com") << w.model;
    EXPECT_FALSE(shape_decoy(kKey, "x", {Method::EmailOtp}, m, {}, false).remembers) << "direct";
    EXPECT_TRUE(
        shape_decoy(kKey, "x", {Method::EmailOtp, Method::SecurityKey}, m, {"alice"}, false).remembers)
        << "a menu of the key and the code";
    const IdentityMap none;
    EXPECT_FALSE(shape_decoy(kKey, "x", kCodesAndKeys, none, {}, true).remembers) << "claim binding";
    EXPECT_FALSE(shape_decoy(kKey, "x", kCodesAndKeys, none, {"keyonly"}, false).remembers) << "key only";
}

TEST(Decoy, KeyOnlyUsersAreCopiedWhereKeysAreEnabled) {
    const IdentityMap none;
    const auto w = shape_decoy(kKey, "x", kCodesAndKeys, none, {"keyonly"}, false);
    EXPECT_EQ(w.offered, std::vector<Method>{Method::SecurityKey});
    EXPECT_FALSE(w.asks_pool);
    const auto without = shape_decoy(kKey, "x", {Method::EmailOtp}, none, {"keyonly"}, true);
    EXPECT_EQ(without.offered, std::vector<Method>{Method::EmailOtp}) << "keys not enabled: nobody to copy";
}

TEST(Decoy, ClaimBindingWithoutAnyoneToCopyShowsThePoolsShapes) {
    const IdentityMap none;
    const auto w = shape_decoy(kKey, "x", kCodesAndKeys, none, {}, true);
    EXPECT_EQ(w.offered, (std::vector<Method>{Method::EmailOtp, Method::SmsOtp}));
    EXPECT_TRUE(w.asks_pool);
    EXPECT_EQ(w.menu_dest.count(Method::EmailOtp), 0u) << "a claim-bound real user's menu names no address";
    EXPECT_TRUE(
        std::regex_match(w.code_dest.at(Method::EmailOtp), std::regex(R"(^[a-z]\*\*\*@[a-z]\*\*\*$)")));
    EXPECT_TRUE(std::regex_match(w.code_dest.at(Method::SmsOtp), std::regex(R"(^\+\*{7}[0-9]{4}$)")));
}

TEST(Decoy, ANewUserIsCopiedByItsShareOfNames) {
    std::string text;
    for (int i = 0; i < 9; ++i)
        text += "user" + std::to_string(i) + " u" + std::to_string(i) + "@example.org\n";
    const auto before = IdentityMap::parse(text, "x");
    const auto after = IdentityMap::parse(text + "newcomer n@example.org\nnewcomer +15555550100\n", "x");
    const std::vector<Method> codes{Method::EmailOtp, Method::SmsOtp};
    int moved = 0;
    const int n = 1000;
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(shape_decoy(kKey, name(i), codes, before, {}, false).offered.size(), 1u);
        moved += shape_decoy(kKey, name(i), codes, after, {}, false).offered.size() == 2 ? 1 : 0;
    }
    // One user in ten has a phone now, so about one name in ten sees a menu.
    EXPECT_GT(moved, n * 5 / 100);
    EXPECT_LT(moved, n * 15 / 100);
}

}  // namespace
}  // namespace pp::helper
