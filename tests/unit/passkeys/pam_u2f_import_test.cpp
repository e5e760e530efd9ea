#include "pam_u2f_import.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "passkey_fixtures.hpp"

namespace pp::helper {
namespace {

using test::TestKey;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr const char* kOrigin = "pam://old-host";
constexpr std::int64_t kNow = 1700000000;

// One entry as pamu2fcfg prints it: standard base64 key handle and public key, the COSE type, the options.
std::string entry(const std::string& kh, const TestKey& key, const std::string& type,
                  const std::string& options) {
    return test::base64(kh) + "," + test::base64(key.public_key()) + "," + type + "," + options;
}

std::vector<StoredCredential> parse(const std::string& text, std::vector<std::string>& problems) {
    return parse_pam_u2f_authfile(text, kOrigin, kNow, problems);
}

TEST(PamU2fImport, TwoEs256AndOneEdDsa) {
    const auto k1 = TestKey::p256(), k2 = TestKey::p256(), k3 = TestKey::ed25519();
    const std::string h1 = test::random_bytes(64), h2 = test::random_bytes(64), h3 = test::random_bytes(80);
    const std::string line = "alice:" + entry(h1, k1, "es256", "+presence") + ":" +
                             entry(h2, k2, "es256", "+presence+verification") + ":" +
                             entry(h3, k3, "eddsa", "+presence+pin") + "\n";
    std::vector<std::string> problems;
    const auto creds = parse(line, problems);
    EXPECT_THAT(problems, IsEmpty());
    ASSERT_EQ(creds.size(), 3u);
    EXPECT_EQ(creds[0].user, "alice");
    EXPECT_EQ(creds[0].cred_id, h1);
    EXPECT_EQ(creds[0].alg, KeyAlgorithm::Es256);
    EXPECT_EQ(creds[0].public_key, k1.public_key());
    EXPECT_EQ(creds[0].rp_id, kOrigin);
    EXPECT_EQ(creds[0].nickname, "imported from pam-u2f");
    EXPECT_EQ(creds[0].created, kNow);
    EXPECT_EQ(creds[0].last_used, 0);
    EXPECT_EQ(creds[0].counter, 0u);
    EXPECT_FALSE(creds[0].uv);
    EXPECT_FALSE(creds[0].uv_required);
    EXPECT_EQ(creds[1].cred_id, h2);
    EXPECT_TRUE(creds[1].uv);
    EXPECT_TRUE(creds[1].uv_required) << "pam-u2f demanded the PIN: so does every login here";
    EXPECT_EQ(creds[2].cred_id, h3);
    EXPECT_EQ(creds[2].alg, KeyAlgorithm::EdDsa);
    EXPECT_EQ(creds[2].public_key, k3.public_key());
    EXPECT_TRUE(creds[2].uv);
    EXPECT_TRUE(creds[2].uv_required);
}

TEST(PamU2fImport, ABadEntryDoesNotStopTheOthers) {
    const auto k = TestKey::p256();
    const std::string h1 = test::random_bytes(64), h2 = test::random_bytes(64);
    const std::string text = "alice:" + entry(h1, k, "es256", "+presence") + ":!!notbase64!!," +
                             test::base64(k.public_key()) + ",es256,+presence:" + entry(h2, k, "ES256", "") +
                             ":" + entry(test::random_bytes(64), k, "rs256", "+presence") + ":" +
                             entry(test::random_bytes(64), k, "es384", "") + ":" + "*," +
                             test::base64(k.public_key()) + ",es256,+presence" + ":" + test::base64(h1) +
                             "," + test::base64(std::string(64, '\x01')) + ",es256,+presence" +
                             ":onlyonefield\n";
    std::vector<std::string> problems;
    const auto creds = parse(text, problems);
    ASSERT_EQ(creds.size(), 2u);
    EXPECT_EQ(creds[0].cred_id, h1);
    EXPECT_EQ(creds[1].cred_id, h2);
    EXPECT_THAT(problems,
                ElementsAre(StartsWith("1: entry 2: key handle is not base64"),
                            "1: entry 4: RS256 keys are not supported", "1: entry 5: unknown key type",
                            StartsWith("1: entry 6: resident credential"),
                            "1: entry 7: public key is not a P-256 point",
                            "1: entry 8: expected KeyHandle,PublicKey,CoseType,Options"));
}

TEST(PamU2fImport, CommentsBlankLinesAndSeveralUsers) {
    const auto k = TestKey::ed25519();
    const std::string h1 = test::random_bytes(48), h2 = test::random_bytes(48);
    const std::string text = "# pam-u2f keys\n\n   \nalice:" + entry(h1, k, "eddsa", "+presence") + "\r\n" +
                             "\t# indented comment\n" + "bob::" + entry(h2, k, "eddsa", "+presence") + "\n" +
                             "bad/user:" + entry(test::random_bytes(48), k, "eddsa", "") + "\n" + ":" +
                             entry(test::random_bytes(48), k, "eddsa", "") + "\ncarol\n";
    std::vector<std::string> problems;
    const auto creds = parse(text, problems);
    ASSERT_EQ(creds.size(), 2u);
    EXPECT_EQ(creds[0].user, "alice");
    EXPECT_EQ(creds[1].user, "bob");
    EXPECT_EQ(creds[1].cred_id, h2);
    EXPECT_THAT(problems, ElementsAre("7: invalid user name", "8: no user name before the first ':'",
                                      "9: no credentials for carol"));
}

TEST(PamU2fImport, OldU2fFormat) {
    const auto k = TestKey::p256();
    const std::string kh = test::random_bytes(64);
    // The U2F registration's key handle in base64url without padding, its 0x04||x||y point in hex.
    const std::string text = "alice:" + test::base64url(kh) + "," + test::hex("\x04" + k.public_key()) + "\n";
    std::vector<std::string> problems;
    const auto creds = parse(text, problems);
    EXPECT_THAT(problems, IsEmpty());
    ASSERT_EQ(creds.size(), 1u);
    EXPECT_EQ(creds[0].cred_id, kh);
    EXPECT_EQ(creds[0].alg, KeyAlgorithm::Es256);
    EXPECT_EQ(creds[0].public_key, k.public_key());
    EXPECT_FALSE(creds[0].uv);

    problems.clear();
    EXPECT_THAT(parse("alice:" + test::base64url(kh) + "," + test::hex(k.public_key()) + "zz\n", problems),
                IsEmpty());
    EXPECT_THAT(problems, ElementsAre("1: entry 1: public key is not hex"));
}

TEST(PamU2fImport, PrefixedPointInNewFormatIsAccepted) {
    const auto k = TestKey::p256();
    const std::string kh = test::random_bytes(64);
    std::vector<std::string> problems;
    const auto creds =
        parse("alice:" + test::base64(kh) + "," + test::base64("\x04" + k.public_key()) + ",es256,+presence",
              problems);
    EXPECT_THAT(problems, IsEmpty());
    ASSERT_EQ(creds.size(), 1u);
    EXPECT_EQ(creds[0].public_key, k.public_key());
}

TEST(PamU2fImport, LastLineForAUserWins) {
    const auto k = TestKey::p256();
    const std::string h1 = test::random_bytes(64), h2 = test::random_bytes(64);
    std::vector<std::string> problems;
    const auto creds = parse("alice:" + entry(h1, k, "es256", "+presence") +
                                 "\nalice:" + entry(h2, k, "es256", "+presence") + "\n",
                             problems);
    ASSERT_EQ(creds.size(), 1u);
    EXPECT_EQ(creds[0].cred_id, h2);
    EXPECT_THAT(problems, ElementsAre(HasSubstr("2: replaces line 1 for alice")));
}

TEST(PamU2fImport, AtMostAsManyEntriesAsPamU2fReads) {
    const auto k = TestKey::ed25519();
    std::string line = "alice";
    for (std::size_t i = 0; i < kPamU2fMaxDevices + 2; ++i)
        line += ":" + entry(test::random_bytes(32), k, "eddsa", "");
    std::vector<std::string> problems;
    EXPECT_EQ(parse(line, problems).size(), kPamU2fMaxDevices);
    EXPECT_THAT(problems, ElementsAre(StartsWith("1: entry 25: not imported"),
                                      StartsWith("1: entry 26: not imported")));
}

TEST(PamU2fImport, DuplicateKeyHandleAcrossUsers) {
    const auto k = TestKey::p256();
    const std::string kh = test::random_bytes(64);
    std::vector<std::string> problems;
    const auto creds =
        parse("alice:" + entry(kh, k, "es256", "") + "\nbob:" + entry(kh, k, "es256", "") + "\n", problems);
    ASSERT_EQ(creds.size(), 1u);
    EXPECT_EQ(creds[0].user, "alice");
    EXPECT_THAT(problems, ElementsAre("2: duplicate key handle for bob not imported"));
}

TEST(PamU2fImport, RefusesAnInvalidRelyingParty) {
    std::vector<std::string> problems;
    EXPECT_THROW((void)parse_pam_u2f_authfile("", "pam://has space", kNow, problems), CredentialError);
    EXPECT_THAT(parse_pam_u2f_authfile("", kOrigin, kNow, problems), IsEmpty());
    EXPECT_THAT(problems, IsEmpty());
}

}  // namespace
}  // namespace pp::helper
