#include "error_response.hpp"

#include <gtest/gtest.h>

namespace pp::cognito {
namespace {

ServiceError classified(long status, std::string_view header, std::string_view body) {
    auto error = classify_response(status, header, body);
    if (!error) throw std::logic_error("expected an error");
    return *error;
}

TEST(ErrorName, StripsHeaderSuffixAndNamespace) {
    EXPECT_EQ(error_name("NotAuthorizedException:"), "NotAuthorizedException");
    EXPECT_EQ(error_name("com.amazonaws.cognito#CodeMismatchException"), "CodeMismatchException");
    EXPECT_EQ(error_name("ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/"),
              "ValidationException");
    EXPECT_EQ(error_name("aws.cognito#TooManyRequestsException:extra#stuff"), "TooManyRequestsException");
    EXPECT_EQ(error_name("UserNotFoundException"), "UserNotFoundException");
}

TEST(ErrorName, RefusesImplausibleNames) {
    EXPECT_EQ(error_name(""), "");
    EXPECT_EQ(error_name(":"), "");
    EXPECT_EQ(error_name("ns#"), "");
    EXPECT_EQ(error_name("Bad Name"), "");
    EXPECT_EQ(error_name("Evil\nInjected"), "");
    EXPECT_EQ(error_name(std::string(200, 'A')), "");
}

TEST(ClassifyResponse, HeaderNameWins) {
    const auto e = classified(400, "NotAuthorizedException:",
                              R"({"__type":"SomethingElse","message":"Incorrect username or password."})");
    EXPECT_EQ(e.failure(), Failure::Rejected);
    EXPECT_EQ(e.name(), "NotAuthorizedException");
    EXPECT_EQ(e.message(), "Incorrect username or password.");
    EXPECT_EQ(e.http_status(), 400);
}

TEST(ClassifyResponse, NamespacedTypeInBody) {
    const auto e = classified(
        400, "", R"({"__type":"com.amazonaws.cognito#CodeMismatchException","message":"Invalid code"})");
    EXPECT_EQ(e.failure(), Failure::Rejected);
    EXPECT_EQ(e.name(), "CodeMismatchException");
    EXPECT_EQ(e.message(), "Invalid code");
}

TEST(ClassifyResponse, BodyCodeBeforeType) {
    const auto e =
        classified(400, "", R"({"code":"ExpiredCodeException","__type":"Other","Message":"expired"})");
    EXPECT_EQ(e.name(), "ExpiredCodeException");
    EXPECT_EQ(e.message(), "expired");
}

TEST(ClassifyResponse, MessageBeforeCapitalisedMessage) {
    const auto e = classified(400, "", R"({"__type":"X","Message":"second","message":"first"})");
    EXPECT_EQ(e.message(), "first");
}

TEST(ClassifyResponse, UnusableHeaderFallsBackToBody) {
    const auto e = classified(400, ":", R"({"__type":"UserNotFoundException"})");
    EXPECT_EQ(e.name(), "UserNotFoundException");
    EXPECT_EQ(e.message(), "");
}

TEST(ClassifyResponse, WrongTypedMembersAreIgnored) {
    const auto e = classified(400, "", R"({"code":5,"__type":"LimitExceededException","message":{"a":1}})");
    EXPECT_EQ(e.name(), "LimitExceededException");
    EXPECT_EQ(e.message(), "");
}

TEST(ClassifyResponse, ServerErrorEvenWithAName) {
    const auto e = classified(500, "", R"({"__type":"InternalErrorException","message":"oops"})");
    EXPECT_EQ(e.failure(), Failure::ServerError);
    EXPECT_EQ(e.name(), "InternalErrorException");
    EXPECT_EQ(classified(503, "", "<html>busy</html>").failure(), Failure::ServerError);
}

TEST(ClassifyResponse, ClientErrorWithoutANameIsMalformed) {
    EXPECT_EQ(classified(400, "", "").failure(), Failure::Malformed);
    EXPECT_EQ(classified(400, "", "not json").failure(), Failure::Malformed);
    EXPECT_EQ(classified(403, "", R"({"message":"Forbidden"})").failure(), Failure::Malformed);
    EXPECT_EQ(classified(400, "", R"(["NotAuthorizedException"])").failure(), Failure::Malformed);
    EXPECT_EQ(classified(400, "", R"({"__type":"Not Valid"})").failure(), Failure::Malformed);
}

TEST(ClassifyResponse, HeaderNameWithUnreadableBodyIsStillRejected) {
    const auto e = classified(400, "TooManyRequestsException:", "Rate exceeded");
    EXPECT_EQ(e.failure(), Failure::Rejected);
    EXPECT_EQ(e.name(), "TooManyRequestsException");
}

TEST(ClassifyResponse, SuccessNeedsAJsonObject) {
    EXPECT_FALSE(classify_response(200, "", R"({"ChallengeName":"EMAIL_OTP"})"));
    EXPECT_FALSE(classify_response(200, "", "{}"));
    EXPECT_EQ(classified(200, "", "").failure(), Failure::Malformed);
    EXPECT_EQ(classified(200, "", "[]").failure(), Failure::Malformed);
    EXPECT_EQ(classified(200, "", "\"text\"").failure(), Failure::Malformed);
    EXPECT_EQ(classified(200, "", "{} trailing").failure(), Failure::Malformed);
    EXPECT_EQ(classified(200, "", "<html></html>").failure(), Failure::Malformed);
}

// A body its caller reads (and so checks) is not parsed twice: any 2xx passes here, and failures are
// classified as ever.
TEST(ClassifyResponse, ABodyTheCallerReadsIsLeftToItOnSuccess) {
    EXPECT_FALSE(classify_response(200, "", "<html></html>", false, true));
    EXPECT_FALSE(classify_response(200, "", "", false, true));
    EXPECT_EQ(classify_response(400, "NotAuthorizedException", "{}", false, true)->failure(),
              Failure::Rejected);
    EXPECT_EQ(classify_response(500, "", "<html></html>", false, true)->failure(), Failure::ServerError);
    EXPECT_EQ(classify_response(302, "", "", false, true)->failure(), Failure::Malformed);
}

// A successful answer that names a member twice is malformed, and says so: json-c alone would keep the last
// one.
TEST(ClassifyResponse, SuccessWithDuplicateMembersIsMalformed) {
    const auto e = classified(200, "", R"({"ChallengeName":"SELECT_CHALLENGE","ChallengeName":"EMAIL_OTP"})");
    EXPECT_EQ(e.failure(), Failure::Malformed);
    EXPECT_NE(e.message().find("duplicate member"), std::string::npos) << e.message();
}

TEST(ClassifyResponse, EmptySuccessOnlyWhereAllowed) {
    EXPECT_FALSE(classify_response(200, "", "", true));
    EXPECT_EQ(classify_response(200, "", "", false)->failure(), Failure::Malformed);
}

TEST(ClassifyResponse, OtherStatusesAreMalformed) {
    EXPECT_EQ(classified(302, "", "").failure(), Failure::Malformed);
    EXPECT_EQ(classified(101, "", "").failure(), Failure::Malformed);
}

TEST(ClassifyResponse, MessageIsBoundedAndPrintable) {
    const std::string body =
        R"({"__type":"X","message":"line1\nline2\u001b[31m)" + std::string(2000, 'a') + "\"}";
    const auto e = classified(400, "", body);
    EXPECT_EQ(e.message().find('\n'), std::string::npos);
    EXPECT_EQ(e.message().find('\x1b'), std::string::npos);
    EXPECT_LE(e.message().size(), 512u);
    EXPECT_EQ(e.message().substr(0, 11), "line1?line2");
}

TEST(ServiceError, WhatNamesFailureNameStatusAndMessage) {
    const ServiceError e(Failure::Rejected, "CodeMismatchException", "Invalid code", 400);
    EXPECT_STREQ(e.what(), "rejected CodeMismatchException (HTTP 400): Invalid code");
}

}  // namespace
}  // namespace pp::cognito
