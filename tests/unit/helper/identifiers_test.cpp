#include "identifiers.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pp::helper {
namespace {

TEST(ParseEmail, AcceptsAndLowerCases) {
    auto id = parse_email("Alice.Smith+pam@Example.COM");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->kind, IdentifierKind::Email);
    EXPECT_EQ(id->value, "alice.smith+pam@example.com");
    EXPECT_TRUE(parse_email("a@b.c"));
    EXPECT_TRUE(parse_email("o'brien_%x-y@mail-1.example.co.uk"));
}

TEST(ParseEmail, LengthBounds) {
    const std::string local64(64, 'a'), local65(65, 'a');
    EXPECT_TRUE(parse_email(local64 + "@example.com"));
    EXPECT_FALSE(parse_email(local65 + "@example.com"));
    // 254 characters in all is the most an address may have.
    const std::string domain_for_254 = std::string(254 - 2 - 4, 'd') + ".com";
    ASSERT_EQ(("a@" + domain_for_254).size(), 254u);
    EXPECT_TRUE(parse_email("a@" + domain_for_254));
    EXPECT_FALSE(parse_email("a@d" + domain_for_254));
    EXPECT_FALSE(parse_email("a@"));
    EXPECT_FALSE(parse_email(""));
}

TEST(ParseEmail, RefusesMalformed) {
    for (const char* bad :
         {"alice", "@example.com", "alice@", "alice@@example.com", "alice@b@example.com", "alice@example",
          "alice@.example.com", "alice@example.com.", "alice@example..com", "al ice@example.com",
          "alice@exa mple.com", "alice\"@example.com", "alice@exa_mple.com", "alice;rm@example.com",
          "alice@example.com\n", "\xc3\xa9@example.com", "alice@ex\xc3\xa9.com", "alice<x>@example.com"})
        EXPECT_FALSE(parse_email(bad)) << bad;
}

TEST(ParsePhone, AcceptsE164AndNormalises) {
    auto id = parse_phone("+1 555 555-0123");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->kind, IdentifierKind::Phone);
    EXPECT_EQ(id->value, "+15555550123");
    EXPECT_EQ(parse_phone("+44.20.7946.0958")->value, "+442079460958");
    EXPECT_EQ(parse_phone("+15555550123")->value, "+15555550123");
    // Parentheses around an area code, as people write it, are separators too.
    EXPECT_EQ(parse_phone("+1 (555) 555-0123")->value, "+15555550123");
}

// Every spelling the user pool takes as one person is one send count.
TEST(CanonicalKey, OneKeyPerPersonWhateverTheSpelling) {
    const auto user = [](const char* s) { return canonical_key(Identifier{IdentifierKind::Username, s}); };
    EXPECT_EQ(user("Alice"), "user:alice");
    EXPECT_EQ(user("ALICE"), "user:alice");
    EXPECT_EQ(user("alice"), "user:alice");
    // A user name that is an email address is the pool's email alias.
    EXPECT_EQ(user("Alice@EXAMPLE.com"), "email:alice@example.com");
    EXPECT_EQ(canonical_key(*parse_email("ALICE@example.COM")), "email:alice@example.com");
    for (const char* phone : {"+15555550123", "+1 555 555 0123", "+1-555-555-0123", "+1 (555) 555-0123",
                              "+1.555.555.0123", "+1 (555)555 01 23"})
        EXPECT_EQ(canonical_key(*parse_phone(phone)), "phone:+15555550123") << phone;
    EXPECT_NE(user("alice"), user("alice2"));
}

TEST(ParsePhone, DigitCountBounds) {
    EXPECT_TRUE(parse_phone("+1234567"));            // 7 digits: the fewest
    EXPECT_FALSE(parse_phone("+123456"));            // 6
    EXPECT_TRUE(parse_phone("+123456789012345"));    // 15 digits: the most E.164 allows
    EXPECT_FALSE(parse_phone("+1234567890123456"));  // 16
    // The raw text is bounded too, separators included.
    EXPECT_TRUE(parse_phone("+1 2 3 4 5 6 7 8 9 0 1 2 3 4 5"));  // 30 characters
    EXPECT_FALSE(parse_phone("+1" + std::string(31, ' ') + "234567"));
}

TEST(ParsePhone, RefusesMalformed) {
    for (const char* bad :
         {"", "+", "15555550123", "+05555550123", "+1555555012a", "+1[555]5550123", "+1/555/5550123",
          "++15555550123", "+1 555 555 0123\n", "+1\t5555550123", " +15555550123"})
        EXPECT_FALSE(parse_phone(bad)) << bad;
}

TEST(PoolUsername, Charset) {
    EXPECT_TRUE(valid_pool_username("bob.smith"));
    EXPECT_TRUE(valid_pool_username("a_b+c=d,e@f-g"));
    EXPECT_TRUE(valid_pool_username("4f1e2d3c-0000-4000-8000-123456789abc"));
    EXPECT_TRUE(valid_pool_username(std::string(128, 'u')));
    EXPECT_FALSE(valid_pool_username(std::string(129, 'u')));
    EXPECT_FALSE(valid_pool_username(""));
    for (const char* bad : {"bob smith", "bob/smith", "bob:smith", "bob\"", "bob\n", "b\xc3\xb6"})
        EXPECT_FALSE(valid_pool_username(bad)) << bad;
}

TEST(ParseIdentifier, PicksTheKindByShape) {
    auto email = parse_identifier("  Alice@Example.com ", false);
    ASSERT_TRUE(email);
    EXPECT_EQ(email->kind, IdentifierKind::Email);
    EXPECT_EQ(email->value, "alice@example.com");

    auto phone = parse_identifier(" +1 555 555 0123 ", false);
    ASSERT_TRUE(phone);
    EXPECT_EQ(phone->kind, IdentifierKind::Phone);
    EXPECT_EQ(phone->value, "+15555550123");

    EXPECT_FALSE(parse_identifier("bob.smith", false));
    auto user = parse_identifier("bob.smith", true);
    ASSERT_TRUE(user);
    EXPECT_EQ(user->kind, IdentifierKind::Username);
    EXPECT_EQ(user->value, "bob.smith");
}

TEST(ParseIdentifier, RefusesWhatFitsNoShape) {
    EXPECT_FALSE(parse_identifier("", true));
    EXPECT_FALSE(parse_identifier("   ", true));
    EXPECT_FALSE(parse_identifier("alice@", true));  // looks like an email, is not one
    EXPECT_FALSE(parse_identifier("+12ab", true));   // looks like a phone, is not one
    EXPECT_FALSE(parse_identifier("bob smith", true));
    EXPECT_FALSE(parse_identifier(std::string(129, 'u'), true));
}

TEST(Mask, ShowsOnlyTheFirstCharactersAndTheLastFourDigits) {
    EXPECT_EQ(mask(*parse_email("alice@example.com")), "a***@e***");
    EXPECT_EQ(mask(*parse_phone("+15555550123")), "+*******0123");
    EXPECT_EQ(mask(*parse_phone("+1234567")), "+***4567");
    EXPECT_EQ(mask(Identifier{IdentifierKind::Username, "bob.smith"}), "b***");
}

TEST(KindName, Names) {
    EXPECT_EQ(kind_name(IdentifierKind::Email), "email");
    EXPECT_EQ(kind_name(IdentifierKind::Phone), "phone");
    EXPECT_EQ(kind_name(IdentifierKind::Username), "username");
}

TEST(LocalUser, AcceptsUsualNames) {
    for (const char* ok : {"alice", "bob.smith", "svc_backup", "user-1", "WORKSTATION$", "alice@corp", "a"})
        EXPECT_TRUE(valid_local_user(ok)) << ok;
    EXPECT_TRUE(valid_local_user(std::string(64, 'u')));
}

TEST(LocalUser, RefusesTheRest) {
    EXPECT_FALSE(valid_local_user(""));
    EXPECT_FALSE(valid_local_user(std::string(65, 'u')));
    for (const char* bad :
         {"-alice", "al ice", "alice/..", "alice:x", "alice\n", "al\tice", "ali*", "b\xc3\xb6"})
        EXPECT_FALSE(valid_local_user(bad)) << bad;
    EXPECT_FALSE(valid_local_user(std::string_view("ali\0ce", 6)));
}

}  // namespace
}  // namespace pp::helper
