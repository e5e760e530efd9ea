#include "decoy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace pp::helper {
namespace {

const std::string kKey(32, 'k');
const std::vector<Method> kCodesAndKeys{Method::EmailOtp, Method::SmsOtp, Method::SecurityKey};

// Ten real users at one organisation: everyone has an email at example.org and a German mobile number (14
// characters in E.164); the first three also have a security key.
std::string organisation_map() {
    std::string text;
    for (int i = 0; i < 10; ++i) {
        const std::string u = "user" + std::to_string(i);
        text += u + " " + std::string(1, static_cast<char>('m' + i)) + "person@example.org\n";
        text += u + " +491511234567" + std::to_string(i) + "\n";
    }
    return text;
}
IdentityMap organisation() {
    return IdentityMap::parse(organisation_map(), "identities");
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

// A real login of the copied shape may be one a pool answers with the person's one factor past the helper's
// preference (the code sent before the menu, pool_session_memory.hpp): a mapped identity with one code
// destination, a menu step (the browser or a key beside it) and no other pool method.
TEST(Decoy, HasOneFactorWhereARealLoginOfItsShapeWould) {
    const auto m = IdentityMap::parse(
        "bob bob@example.com\ncarol +15555550188\nerin erin@example.net\n"
        "erin +15555550199\n",
        "identities");
    const std::vector<Method> code_and_browser{Method::EmailOtp, Method::SmsOtp, Method::Browser};
    EXPECT_TRUE(shape_decoy(kKey, "bob", code_and_browser, m, {}, false).one_factor);
    EXPECT_TRUE(shape_decoy(kKey, "carol", code_and_browser, m, {}, false).one_factor);
    EXPECT_TRUE(shape_decoy(kKey, "bob", kCodesAndKeys, m, {"bob"}, false).one_factor) << "a key beside it";
    EXPECT_FALSE(shape_decoy(kKey, "erin", code_and_browser, m, {}, false).one_factor) << "two factors";
    EXPECT_FALSE(shape_decoy(kKey, "bob", {Method::EmailOtp}, m, {}, false).one_factor)
        << "direct: the code is asked for with the first request";
    EXPECT_FALSE(shape_decoy(kKey, "bob", {Method::EmailOtp, Method::Passkey, Method::Browser}, m, {}, false)
                     .one_factor)
        << "a passkey holder's question is answered at WEB_AUTHN";
    const IdentityMap none;
    EXPECT_FALSE(shape_decoy(kKey, "x", code_and_browser, none, {}, true).one_factor) << "claim binding";
}

// A user the map names walks their own mapping, whoever else the map holds: what a real user mapped the same
// way is shown (the pool member mapped alike), with the masks of their own destinations. Copying anyone
// else's shape would tell a mapped identity the user pool does not know from a pool member.
TEST(Decoy, AMappedUserWalksTheirOwnMapping) {
    const std::string text =
        organisation_map() +
        "dave dave@example.com\ncarol +15555550188\nerin erin@zeta.example.net\nerin +15555550199\n";
    const auto m = IdentityMap::parse(text, "identities");
    for (int round = 0; round < 20; ++round) {
        // Each round a new key: whatever the keyed hash would pick, the walk is the user's own.
        const std::string key(32, static_cast<char>('a' + round));

        const auto dave = shape_decoy(key, "dave", kCodesAndKeys, m, kKeyUsers, false);
        EXPECT_EQ(dave.offered, std::vector<Method>{Method::EmailOtp}) << round;
        EXPECT_TRUE(dave.direct) << "a real login mapped to one address offers its code at once";
        EXPECT_FALSE(dave.remembers);
        EXPECT_EQ(dave.code_dest, (std::map<Method, std::string>{{Method::EmailOtp, "d***@e***"}})) << round;
        EXPECT_EQ(dave.menu_dest, dave.code_dest) << round;

        const auto carol = shape_decoy(key, "carol", kCodesAndKeys, m, kKeyUsers, false);
        EXPECT_EQ(carol.offered, std::vector<Method>{Method::SmsOtp}) << round;
        EXPECT_EQ(carol.code_dest, (std::map<Method, std::string>{{Method::SmsOtp, "+*******0188"}}))
            << round;

        const auto erin = shape_decoy(key, "erin", kCodesAndKeys, m, kKeyUsers, false);
        EXPECT_EQ(erin.offered, (std::vector<Method>{Method::EmailOtp, Method::SmsOtp})) << round;
        EXPECT_FALSE(erin.direct);
        EXPECT_TRUE(erin.remembers);
        EXPECT_EQ(erin.model, "email:erin@zeta.example.net") << "its own memory, as a real login keys it";
        EXPECT_EQ(erin.menu_dest, (std::map<Method, std::string>{{Method::EmailOtp, "e***@z***"},
                                                                 {Method::SmsOtp, "+*******0199"}}))
            << round;
        EXPECT_EQ(erin.code_dest, erin.menu_dest) << round;

        // A mapped user with a security key: the key and their own code, as a menu.
        const auto keyed_dave = shape_decoy(key, "dave", kCodesAndKeys, m, {"dave"}, false);
        EXPECT_EQ(keyed_dave.offered, (std::vector<Method>{Method::EmailOtp, Method::SecurityKey})) << round;
        EXPECT_FALSE(keyed_dave.direct);
        EXPECT_EQ(keyed_dave.code_dest.at(Method::EmailOtp), "d***@e***");
        // One of the organisation's users is no exception: its own shape, its own masks.
        const auto user4 = shape_decoy(key, "user4", kCodesAndKeys, m, kKeyUsers, false);
        EXPECT_EQ(user4.offered, (std::vector<Method>{Method::EmailOtp, Method::SmsOtp})) << round;
        EXPECT_EQ(user4.menu_dest.at(Method::EmailOtp), "q***@e***") << round;
        EXPECT_EQ(user4.menu_dest.at(Method::SmsOtp), "+*********5674") << round;
    }
}

// A mapped user offered none of the enabled methods (the map names an address, only text messages are
// enabled): the walk offers nothing either, as the real login ends without a method; it copies nobody.
TEST(Decoy, AMappedUserWithoutAnEnabledMethodIsOfferedNothing) {
    const auto m = IdentityMap::parse("dave dave@example.com\nalice +15555550123\n", "identities");
    for (int round = 0; round < 20; ++round) {
        const std::string key(32, static_cast<char>('a' + round));
        EXPECT_TRUE(shape_decoy(key, "dave", {Method::SmsOtp}, m, {}, false).offered.empty()) << round;
    }
}

// Under a policy of keys alone the real login never reads the map: a mapped user without a key walks as
// every user without identity or key does, the walk of a key holder whose key is absent, not "no method",
// which would tell that this user has no key.
TEST(Decoy, AMappedUserWithoutAKeyUnderKeysAloneWalksAsAKeyHolder) {
    const auto m = IdentityMap::parse("dave dave@example.com\nalice +15555550123\n", "identities");
    for (int round = 0; round < 20; ++round) {
        const std::string key(32, static_cast<char>('a' + round));
        EXPECT_EQ(shape_decoy(key, "dave", {Method::SecurityKey}, m, {}, false).offered,
                  std::vector<Method>{Method::SecurityKey})
            << round;
        EXPECT_EQ(shape_decoy(key, "dave", {Method::SecurityKey}, m, {"alice"}, false).offered,
                  std::vector<Method>{Method::SecurityKey})
            << round;
    }
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

// The real users' keyed points are computed once per configuration, not per walk: a walk's work does not grow
// with the number of real users (with a point per user per walk, 5000 users cost each decoy walk 5000 HMACs,
// and its time told it from a real login). A new map (a reload) or another list of key holders is read again.
TEST(Decoy, TheRealUsersAreReadOncePerConfigurationNotPerWalk) {
    std::string text;
    for (int i = 0; i < 5000; ++i)
        text += "user" + std::to_string(i) + " u" + std::to_string(i) + "@example.org\n";
    const auto map = IdentityMap::parse(text, "x");
    const std::vector<Method>& codes = kCodesAndKeys;
    const std::vector<std::string> keys{"user1", "user2"};
    (void)shape_decoy(kKey, "warm", codes, map, keys, false);
    const auto built = decoy_models_built();
    for (int i = 0; i < 300; ++i)
        EXPECT_FALSE(shape_decoy(kKey, name(i), codes, map, keys, false).offered.empty());
    EXPECT_EQ(decoy_models_built(), built) << "300 walks of one configuration read the real users once";
    const auto reloaded = IdentityMap::parse(text, "x");
    (void)shape_decoy(kKey, name(1), codes, reloaded, keys, false);
    EXPECT_EQ(decoy_models_built(), built + 1);
    (void)shape_decoy(kKey, name(1), codes, reloaded, {"user1"}, false);
    EXPECT_EQ(decoy_models_built(), built + 2);
    // The same name copies the same user, whichever copy of the map it is walked with.
    EXPECT_EQ(shape_decoy(kKey, name(7), codes, map, keys, false).code_dest,
              shape_decoy(kKey, name(7), codes, reloaded, keys, false).code_dest);
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
