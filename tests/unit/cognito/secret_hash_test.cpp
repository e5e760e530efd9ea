#include "secret_hash.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pp::cognito {
namespace {

using namespace std::string_view_literals;

// Expected values computed outside this code base:
//   printf '%s%s' USER CLIENT | openssl dgst -sha256 -hmac SECRET -binary | base64
TEST(SecretHash, MatchesOpensslCommandLine) {
    EXPECT_EQ(secret_hash("alice", "clientid", pp::Secret("secret"sv)).view(),
              "j2l6E5kmgeDN73FksD70ykn5SUu7VoeTU/VtrFXYMm0=");
}

TEST(SecretHash, HandlesUtf8UsernameAndLongSecret) {
    const pp::Secret secret("a much longer client secret value 0123456789abcdef0123456789abcdef0123456789"sv);
    EXPECT_EQ(secret_hash("zo\xc3\xab@example.com", "7a1b2c3d4e5f", secret).view(),
              "3wK45NnIPcil6jpdjPaQeVcF+FLA/nd0cYZKr082sRA=");
}

TEST(SecretHash, DependsOnEveryInput) {
    const auto base = std::string(secret_hash("alice", "clientid", pp::Secret("secret"sv)).view());
    EXPECT_NE(secret_hash("alicf", "clientid", pp::Secret("secret"sv)).view(), base);
    EXPECT_NE(secret_hash("alice", "clientie", pp::Secret("secret"sv)).view(), base);
    EXPECT_NE(secret_hash("alice", "clientid", pp::Secret("secreu"sv)).view(), base);
}

// RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
TEST(KeyedHmac, MatchesRfc4231AndTheOneShotHmacAtEveryUse) {
    const std::string expected_hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    KeyedHmac mac("Jefe");
    EXPECT_TRUE(mac.keyed_with("Jefe"));
    EXPECT_FALSE(mac.keyed_with("Jeff"));
    for (int use = 0; use < 3; ++use) {
        // In pieces or whole, again and again: each use starts from the key alone.
        const auto pieces = mac.of({"what do ya", " want ", "", "for nothing?"});
        const auto whole = mac.of({"what do ya want for nothing?"});
        std::string hex;
        for (const auto b : pieces) {
            static constexpr char digits[] = "0123456789abcdef";
            hex.push_back(digits[b >> 4]);
            hex.push_back(digits[b & 0xf]);
        }
        EXPECT_EQ(hex, expected_hex) << "use " << use;
        EXPECT_EQ(pieces, whole);
        const auto one_shot = hmac_sha256(pp::Secret("Jefe"sv), "what do ya want for nothing?");
        EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(whole.data()), whole.size()),
                  one_shot.view());
    }
    EXPECT_NE(mac.of({"what do ya want for nothing!"}), mac.of({"what do ya want for nothing?"}));
}

}  // namespace
}  // namespace pp::cognito
