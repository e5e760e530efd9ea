#include "secret_hash.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pp::cognito
