#include "auth_requests.hpp"

#include <gtest/gtest.h>
#include <json-c/json.h>

#include <memory>
#include <stdexcept>

namespace pp::cognito {
namespace {

using namespace std::string_view_literals;

struct Put {
    void operator()(json_object* o) const noexcept { json_object_put(o); }
};
using Json = std::unique_ptr<json_object, Put>;

// Read back with json-c, independently of the writer under test.
Json parsed(const pp::Secret& body) {
    Json doc(json_tokener_parse(body.c_str()));
    if (!doc || !json_object_is_type(doc.get(), json_type_object)) {
        throw std::runtime_error("not a JSON object");
    }
    return doc;
}

std::string at(json_object* object, std::initializer_list<const char*> path) {
    json_object* node = object;
    for (const char* key : path) {
        if (!json_object_object_get_ex(node, key, &node)) return "<absent>";
    }
    return std::string(json_object_get_string(node),
                       static_cast<std::size_t>(json_object_get_string_len(node)));
}

TEST(InitiateUserAuthRequest, CarriesFlowClientUsernameChallengeAndHash) {
    const Json doc =
        parsed(initiate_user_auth_request("client1", "alice", "EMAIL_OTP", pp::Secret("hash="sv)));
    EXPECT_EQ(at(doc.get(), {"AuthFlow"}), "USER_AUTH");
    EXPECT_EQ(at(doc.get(), {"ClientId"}), "client1");
    EXPECT_EQ(at(doc.get(), {"AuthParameters", "USERNAME"}), "alice");
    EXPECT_EQ(at(doc.get(), {"AuthParameters", "PREFERRED_CHALLENGE"}), "EMAIL_OTP");
    EXPECT_EQ(at(doc.get(), {"AuthParameters", "SECRET_HASH"}), "hash=");
    EXPECT_EQ(json_object_object_length(doc.get()), 3);
}

TEST(InitiateUserAuthRequest, LeavesOutWhatIsNotConfigured) {
    const pp::Secret body = initiate_user_auth_request("client1", "alice", std::nullopt, std::nullopt);
    EXPECT_EQ(body.view(),
              R"({"AuthFlow":"USER_AUTH","ClientId":"client1","AuthParameters":{"USERNAME":"alice"}})");
}

// UserContextData (UserContextDataType: IpAddress, EncodedData) sits beside AuthParameters /
// ChallengeResponses, only when there is an address.
TEST(InitiateUserAuthRequest, CarriesTheAddressAsUserContextData) {
    const pp::Secret body = initiate_user_auth_request("client1", "alice", std::nullopt, std::nullopt,
                                                       UserContext{"198.51.100.7"});
    EXPECT_EQ(body.view(),
              R"({"AuthFlow":"USER_AUTH","ClientId":"client1","AuthParameters":{"USERNAME":"alice"},)"
              R"("UserContextData":{"IpAddress":"198.51.100.7"}})");
}

TEST(RespondToChallengeRequest, CarriesTheAddressAsUserContextData) {
    const std::vector<std::pair<std::string, pp::Secret>> answers;
    const Json with = parsed(respond_to_challenge_request("c", "EMAIL_OTP", pp::Secret("s"sv), "alice",
                                                          answers, std::nullopt, UserContext{"2001:db8::7"}));
    EXPECT_EQ(at(with.get(), {"UserContextData", "IpAddress"}), "2001:db8::7");
    EXPECT_EQ(at(with.get(), {"ChallengeResponses", "USERNAME"}), "alice");
    const Json without = parsed(
        respond_to_challenge_request("c", "EMAIL_OTP", pp::Secret("s"sv), "alice", answers, std::nullopt));
    EXPECT_EQ(at(without.get(), {"UserContextData"}), "<absent>");
}

TEST(InitiateUserAuthRequest, EscapesText) {
    const std::string awkward = "a\"b\\c\nd\x01\x1f/\xc3\xa9\xf0\x9f\x94\x91";
    const pp::Secret body = initiate_user_auth_request("client1", awkward, std::nullopt, std::nullopt);
    EXPECT_NE(body.view().find(R"(a\"b\\c\u000ad\u0001\u001f/)"), std::string_view::npos);
    EXPECT_EQ(at(parsed(body).get(), {"AuthParameters", "USERNAME"}), awkward);
}

TEST(InitiateUserAuthRequest, RefusesInvalidUtf8) {
    for (const char* bad : {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
        EXPECT_THROW(initiate_user_auth_request("client1", bad, std::nullopt, std::nullopt),
                     std::invalid_argument)
            << bad;
    }
}

TEST(RespondToChallengeRequest, AddsUsernameAndHashToAnswers) {
    std::vector<std::pair<std::string, pp::Secret>> answers;
    answers.emplace_back("EMAIL_OTP_CODE", pp::Secret("12345678"sv));
    const Json doc = parsed(respond_to_challenge_request("client1", "EMAIL_OTP", pp::Secret("AYABsession"sv),
                                                         "alice", answers, pp::Secret("hash="sv)));
    EXPECT_EQ(at(doc.get(), {"ClientId"}), "client1");
    EXPECT_EQ(at(doc.get(), {"ChallengeName"}), "EMAIL_OTP");
    EXPECT_EQ(at(doc.get(), {"Session"}), "AYABsession");
    EXPECT_EQ(at(doc.get(), {"ChallengeResponses", "EMAIL_OTP_CODE"}), "12345678");
    EXPECT_EQ(at(doc.get(), {"ChallengeResponses", "USERNAME"}), "alice");
    EXPECT_EQ(at(doc.get(), {"ChallengeResponses", "SECRET_HASH"}), "hash=");
}

TEST(RespondToChallengeRequest, WithoutSecretHasNoHash) {
    std::vector<std::pair<std::string, pp::Secret>> answers;
    answers.emplace_back("ANSWER", pp::Secret("EMAIL_OTP"sv));
    const Json doc = parsed(respond_to_challenge_request("c", "SELECT_CHALLENGE", pp::Secret("s"sv), "alice",
                                                         answers, std::nullopt));
    EXPECT_EQ(at(doc.get(), {"ChallengeResponses", "ANSWER"}), "EMAIL_OTP");
    EXPECT_EQ(at(doc.get(), {"ChallengeResponses", "SECRET_HASH"}), "<absent>");
}

TEST(RespondToChallengeRequest, RefusesAnswersThatClashWithItsOwnMembers) {
    for (const char* name : {"USERNAME", "SECRET_HASH"}) {
        std::vector<std::pair<std::string, pp::Secret>> answers;
        answers.emplace_back(name, pp::Secret("x"sv));
        EXPECT_THROW(
            respond_to_challenge_request("c", "EMAIL_OTP", pp::Secret("s"sv), "alice", answers, std::nullopt),
            std::invalid_argument);
    }
    std::vector<std::pair<std::string, pp::Secret>> twice;
    twice.emplace_back("EMAIL_OTP_CODE", pp::Secret("1"sv));
    twice.emplace_back("EMAIL_OTP_CODE", pp::Secret("2"sv));
    EXPECT_THROW(
        respond_to_challenge_request("c", "EMAIL_OTP", pp::Secret("s"sv), "alice", twice, std::nullopt),
        std::invalid_argument);
}

}  // namespace
}  // namespace pp::cognito
