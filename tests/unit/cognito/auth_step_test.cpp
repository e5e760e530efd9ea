#include "auth_step.hpp"

#include <gtest/gtest.h>

#include "service_error.hpp"

namespace pp::cognito {
namespace {

void expect_malformed(std::string_view body) {
    try {
        parse_step(body);
        ADD_FAILURE() << "accepted: " << body;
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Malformed) << body;
    }
}

TEST(ParseStep, SelectChallengeWithAvailableChallenges) {
    const Step step = parse_step(R"({
        "ChallengeName": "SELECT_CHALLENGE",
        "Session": "AYABeExampleSession0123456789",
        "ChallengeParameters": {},
        "AvailableChallenges": ["PASSWORD_SRP", "PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"]})");
    EXPECT_EQ(step.challenge, "SELECT_CHALLENGE");
    EXPECT_EQ(step.session.view(), "AYABeExampleSession0123456789");
    EXPECT_TRUE(step.parameters.empty());
    EXPECT_EQ(step.available,
              (std::vector<std::string>{"PASSWORD_SRP", "PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"}));
    EXPECT_FALSE(step.id_token);
    EXPECT_FALSE(step.access_token);
}

TEST(ParseStep, EmailOtpWithDeliveryParameters) {
    const Step step = parse_step(R"({
        "ChallengeName": "EMAIL_OTP",
        "Session": "AYABeOtpSession0123456789",
        "ChallengeParameters": {"CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL", "CODE_DELIVERY_DESTINATION": "m***@h***"},
        "AvailableChallenges": ["EMAIL_OTP"]})");
    EXPECT_EQ(step.challenge, "EMAIL_OTP");
    EXPECT_EQ(step.parameters.at("CODE_DELIVERY_DELIVERY_MEDIUM"), "EMAIL");
    EXPECT_EQ(step.parameters.at("CODE_DELIVERY_DESTINATION"), "m***@h***");
    EXPECT_EQ(step.available, std::vector<std::string>{"EMAIL_OTP"});
}

TEST(ParseStep, ChallengeWithoutOptionalMembers) {
    const Step step = parse_step(R"({"ChallengeName":"SMS_OTP","Session":"AYABeSmsSession0123456789"})");
    EXPECT_EQ(step.challenge, "SMS_OTP");
    EXPECT_TRUE(step.parameters.empty());
    EXPECT_TRUE(step.available.empty());
}

TEST(ParseStep, AuthenticationResult) {
    const Step step = parse_step(R"({
        "AuthenticationResult": {"AccessToken": "eyJ.access.sig", "ExpiresIn": 3600, "IdToken": "eyJ.id.sig",
                                 "RefreshToken": "eyJ.refresh.sig", "TokenType": "Bearer"},
        "ChallengeParameters": {}})");
    EXPECT_TRUE(step.challenge.empty());
    ASSERT_TRUE(step.id_token);
    EXPECT_EQ(step.id_token->view(), "eyJ.id.sig");
    ASSERT_TRUE(step.access_token);
    EXPECT_EQ(step.access_token->view(), "eyJ.access.sig");
}

TEST(ParseStep, NullMembersCountAsAbsent) {
    const Step step = parse_step(
        R"({"ChallengeName":"EMAIL_OTP","Session":"AYABeOtpSession0123456789","ChallengeParameters":null,"AvailableChallenges":null})");
    EXPECT_EQ(step.challenge, "EMAIL_OTP");
}

TEST(ParseStep, RejectsWrongTypes) {
    expect_malformed(R"({"ChallengeName":5,"Session":"s"})");
    expect_malformed(R"({"ChallengeName":"EMAIL_OTP","Session":["s"]})");
    expect_malformed(
        R"({"ChallengeName":"EMAIL_OTP","Session":"s","ChallengeParameters":{"CODE_DELIVERY_DESTINATION":7}})");
    expect_malformed(
        R"({"ChallengeName":"EMAIL_OTP","Session":"s","ChallengeParameters":{"A":{"nested":"x"}}})");
    expect_malformed(R"({"ChallengeName":"EMAIL_OTP","Session":"s","ChallengeParameters":"A=B"})");
    expect_malformed(R"({"ChallengeName":"EMAIL_OTP","Session":"s","AvailableChallenges":"EMAIL_OTP"})");
    expect_malformed(R"({"ChallengeName":"EMAIL_OTP","Session":"s","AvailableChallenges":["EMAIL_OTP",1]})");
    expect_malformed(R"({"AuthenticationResult":{"IdToken":123}})");
    expect_malformed(R"({"AuthenticationResult":{"IdToken":"a.b.c","AccessToken":false}})");
    expect_malformed(R"({"AuthenticationResult":"a.b.c"})");
}

TEST(ParseStep, RejectsIncoherentAnswers) {
    expect_malformed(R"({})");
    expect_malformed(R"({"ChallengeName":"EMAIL_OTP"})");
    expect_malformed(R"({"ChallengeName":"EMAIL_OTP","Session":""})");
    expect_malformed(R"({"AuthenticationResult":{"AccessToken":"a.b.c"}})");
    expect_malformed(
        R"({"ChallengeName":"EMAIL_OTP","Session":"s","AuthenticationResult":{"IdToken":"a.b.c"}})");
}

TEST(ParseStep, RejectsBadJson) {
    expect_malformed("");
    expect_malformed("[]");
    expect_malformed(R"({"ChallengeName":"EMAIL_OTP","Session":"s"} x)");
    expect_malformed(R"({"ChallengeName":"EMAIL_OTP","Session":"s")");
    expect_malformed("{\"ChallengeName\":\"EMAIL_OTP\",\"Session\":\"\xff\xfe\"}");
}

}  // namespace
}  // namespace pp::cognito
