#include "identity_map.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace pp::helper {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string error_for(const std::string& text) {
    try {
        (void)IdentityMap::parse(text, "/etc/pam_passwordless/identities");
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    ADD_FAILURE() << "accepted:\n" << text;
    return {};
}

TEST(IdentityMap, ParsesGoodLines) {
    const auto m = IdentityMap::parse(R"(# local account -> identities
alice  Alice@Example.COM
alice	+1-555-555.0123      # her phone

bob    username:bob.smith
   carol carol@example.org
)",
                                      "identities");
    EXPECT_EQ(m.size(), 3u);

    const auto& alice = m.lookup("alice");
    ASSERT_EQ(alice.size(), 2u);
    EXPECT_EQ(alice[0].kind, IdentifierKind::Email);
    EXPECT_EQ(alice[0].value, "alice@example.com");
    EXPECT_EQ(alice[1].kind, IdentifierKind::Phone);
    EXPECT_EQ(alice[1].value, "+15555550123");

    const auto& bob = m.lookup("bob");
    ASSERT_EQ(bob.size(), 1u);
    EXPECT_EQ(bob[0].kind, IdentifierKind::Username);
    EXPECT_EQ(bob[0].value, "bob.smith");

    ASSERT_EQ(m.lookup("carol").size(), 1u);
}

TEST(IdentityMap, UnknownUserHasNoIdentities) {
    const auto m = IdentityMap::parse("alice alice@example.com\n", "identities");
    EXPECT_TRUE(m.lookup("mallory").empty());
    EXPECT_TRUE(m.lookup("").empty());
    EXPECT_TRUE(m.lookup("Alice").empty());  // user names are not folded
}

TEST(IdentityMap, EmptyAndCommentOnly) {
    EXPECT_EQ(IdentityMap::parse("", "identities").size(), 0u);
    EXPECT_EQ(IdentityMap::parse("# nothing here\n\n   \n\t# nor here\n", "identities").size(), 0u);
}

TEST(IdentityMap, BadUserNamesFileAndLine) {
    EXPECT_EQ(error_for("alice alice@example.com\n-bob bob@example.com\n"),
              "/etc/pam_passwordless/identities:2: invalid local user name '-bob'");
    EXPECT_THAT(error_for("# c\n\nbob/x bob@example.com\n"),
                StartsWith("/etc/pam_passwordless/identities:3: invalid local user name"));
    EXPECT_THAT(error_for(std::string(65, 'u') + " u@example.com\n"),
                HasSubstr(":1: invalid local user name"));
}

TEST(IdentityMap, BadIdentifierNamesFileAndLine) {
    EXPECT_EQ(
        error_for("alice alice@\n"),
        "/etc/pam_passwordless/identities:1: 'alice@' is not an email address, a +E.164 phone number or "
        "username:NAME");
    for (const char* ident : {"bob.smith", "+0123456789", "+12", "username:", "username:bob/smith",
                              "alice@example..com", "15555550123"})
        EXPECT_THAT(error_for("alice alice@example.com\nbob " + std::string(ident) + "\n"),
                    StartsWith("/etc/pam_passwordless/identities:2: '" + std::string(ident) + "' is not"))
            << ident;
}

TEST(IdentityMap, MissingOrExtraFieldsNameFileAndLine) {
    EXPECT_EQ(error_for("alice\n"), "/etc/pam_passwordless/identities:1: expected 'local-user identifier'");
    EXPECT_EQ(error_for("alice   # no identifier\n"),
              "/etc/pam_passwordless/identities:1: expected 'local-user identifier'");
    // The identifier is the rest of the line: two identifiers on one line are not one identifier.
    EXPECT_EQ(error_for("alice alice@example.com\nbob bob@example.com carol@example.com\n"),
              "/etc/pam_passwordless/identities:2: 'bob@example.com carol@example.com' is not an email "
              "address, a +E.164 phone number or username:NAME");
    EXPECT_THAT(error_for("bob username:bob smith\n"), HasSubstr(":1: 'username:bob smith' is not"));
    // Two phone numbers are never glued into a third: a '+' inside a number is refused.
    EXPECT_THAT(error_for("alice +1 555 555 0123 +44 20 7946 0958\n"), HasSubstr(":1: '+1 555 555 0123 +44"));
}

// As the man page says: a phone number may be written with the spaces, dashes, dots and parentheses people
// put in it; it is kept in E.164.
TEST(IdentityMap, PhoneNumbersMayHoldSpacesAndSeparators) {
    const auto m = IdentityMap::parse(
        "alice +1 555 555 0123\nbob\t+44 (20) 7946-0958   # office\ncarol +33 1.23.45.67.89\t\n",
        "identities");
    ASSERT_EQ(m.lookup("alice").size(), 1u);
    EXPECT_EQ(m.lookup("alice")[0].value, "+15555550123");
    ASSERT_EQ(m.lookup("bob").size(), 1u);
    EXPECT_EQ(m.lookup("bob")[0].value, "+442079460958");
    ASSERT_EQ(m.lookup("carol").size(), 1u);
    EXPECT_EQ(m.lookup("carol")[0].value, "+33123456789");
}

}  // namespace
}  // namespace pp::helper
