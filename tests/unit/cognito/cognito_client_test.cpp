#include "cognito_client.hpp"

#include <gtest/gtest.h>
#include <json-c/json.h>

#include "secret_hash.hpp"
#include "tls_test_server.hpp"

namespace pp::cognito {
namespace {

using namespace std::string_view_literals;

using namespace std::chrono_literals;
using test::HttpReply;
using test::HttpRequest;
using test::TlsTestServer;

struct Put {
    void operator()(json_object* o) const noexcept { json_object_put(o); }
};

std::string member(const std::string& json, std::initializer_list<const char*> path) {
    const std::unique_ptr<json_object, Put> doc(json_tokener_parse(json.c_str()));
    json_object* node = doc.get();
    for (const char* key : path) {
        if (!json_object_object_get_ex(node, key, &node)) return "<absent>";
    }
    return json_object_get_string(node);
}

const test::TestCertificate& certificate() {
    static const test::TestCertificate c = test::make_certificate("IP:127.0.0.1");
    return c;
}

class CognitoClientTest : public ::testing::Test {
  protected:
    HttpReply reply{.body = "{}"};
    TlsTestServer server{certificate(), [this](const HttpRequest&) { return reply; }};

    Endpoint endpoint(bool with_secret) const {
        Endpoint ep;
        ep.api_url = server.url("/");
        ep.jwks_url = server.url("/eu-west-1_Example/.well-known/jwks.json");
        ep.issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example";
        ep.client_id = "client1";
        if (with_secret) ep.client_secret.emplace("s3cret"sv);
        ep.ca_file = certificate().cert_file;
        ep.request_timeout = 5s;
        return ep;
    }

    static Deadline soon() { return std::chrono::steady_clock::now() + 10s; }
};

TEST_F(CognitoClientTest, InitiateUserAuthSpeaksAwsJson) {
    reply.body = R"({"ChallengeName":"EMAIL_OTP","Session":"AYABsession-one",
                     "ChallengeParameters":{"CODE_DELIVERY_DELIVERY_MEDIUM":"EMAIL","CODE_DELIVERY_DESTINATION":"a***@e***"},
                     "AvailableChallenges":["EMAIL_OTP"]})";
    Client client(endpoint(true));
    const Step step = client.initiate_user_auth("alice", "EMAIL_OTP", soon());
    EXPECT_EQ(step.challenge, "EMAIL_OTP");
    EXPECT_EQ(step.session.view(), "AYABsession-one");
    EXPECT_EQ(step.parameters.at("CODE_DELIVERY_DESTINATION"), "a***@e***");

    const HttpRequest sent = server.requests().at(0);
    EXPECT_EQ(sent.method, "POST");
    EXPECT_EQ(sent.headers.at("content-type"), "application/x-amz-json-1.1");
    EXPECT_EQ(sent.headers.at("x-amz-target"), "AWSCognitoIdentityProviderService.InitiateAuth");
    EXPECT_EQ(sent.headers.at("cache-control"), "no-store");
    EXPECT_EQ(member(sent.body, {"AuthFlow"}), "USER_AUTH");
    EXPECT_EQ(member(sent.body, {"ClientId"}), "client1");
    EXPECT_EQ(member(sent.body, {"AuthParameters", "USERNAME"}), "alice");
    EXPECT_EQ(member(sent.body, {"AuthParameters", "PREFERRED_CHALLENGE"}), "EMAIL_OTP");
    EXPECT_EQ(member(sent.body, {"AuthParameters", "SECRET_HASH"}),
              secret_hash("alice", "client1", pp::Secret("s3cret"sv)).view());
}

TEST_F(CognitoClientTest, RespondSendsAnswersUsernameAndHash) {
    reply.body =
        R"({"AuthenticationResult":{"IdToken":"h.p.s","AccessToken":"a.b.c","ExpiresIn":3600,"TokenType":"Bearer"},
                     "ChallengeParameters":{}})";
    Client client(endpoint(true));
    std::vector<std::pair<std::string, pp::Secret>> answers;
    answers.emplace_back("EMAIL_OTP_CODE", pp::Secret("12345678"sv));
    const Step step =
        client.respond("EMAIL_OTP", pp::Secret("AYABsession-one"sv), "alice-internal", answers, soon());
    EXPECT_TRUE(step.challenge.empty());
    EXPECT_EQ(step.id_token->view(), "h.p.s");

    const HttpRequest sent = server.requests().at(0);
    EXPECT_EQ(sent.headers.at("x-amz-target"), "AWSCognitoIdentityProviderService.RespondToAuthChallenge");
    EXPECT_EQ(member(sent.body, {"ChallengeName"}), "EMAIL_OTP");
    EXPECT_EQ(member(sent.body, {"Session"}), "AYABsession-one");
    EXPECT_EQ(member(sent.body, {"ChallengeResponses", "EMAIL_OTP_CODE"}), "12345678");
    EXPECT_EQ(member(sent.body, {"ChallengeResponses", "USERNAME"}), "alice-internal");
    EXPECT_EQ(member(sent.body, {"ChallengeResponses", "SECRET_HASH"}),
              secret_hash("alice-internal", "client1", pp::Secret("s3cret"sv)).view());
}

TEST_F(CognitoClientTest, NoSecretNoHash) {
    reply.body =
        R"({"ChallengeName":"SELECT_CHALLENGE","Session":"AYABsession-two","AvailableChallenges":["EMAIL_OTP"]})";
    Client client(endpoint(false));
    client.initiate_user_auth("alice", std::nullopt, soon());
    const std::string body = server.requests().at(0).body;
    EXPECT_EQ(member(body, {"AuthParameters", "SECRET_HASH"}), "<absent>");
    EXPECT_EQ(member(body, {"AuthParameters", "PREFERRED_CHALLENGE"}), "<absent>");
}

TEST_F(CognitoClientTest, NamedClientErrorIsRejected) {
    reply = {
        .status = 400,
        .headers = {"x-amzn-ErrorType: CodeMismatchException:"},
        .body = R"({"__type":"CodeMismatchException","message":"Invalid code or auth state for the user."})"};
    Client client(endpoint(true));
    try {
        client.respond("EMAIL_OTP", pp::Secret("AYABsession-one"sv), "alice", {}, soon());
        ADD_FAILURE() << "accepted";
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Rejected);
        EXPECT_EQ(e.name(), "CodeMismatchException");
        EXPECT_EQ(e.message(), "Invalid code or auth state for the user.");
        EXPECT_EQ(e.http_status(), 400);
        EXPECT_EQ(std::string(e.what()).find("AYABsession"), std::string::npos);
    }
}

TEST_F(CognitoClientTest, ServerErrorAndGarbage) {
    Client client(endpoint(false));
    reply = {.status = 500, .body = R"({"__type":"InternalErrorException"})"};
    try {
        client.initiate_user_auth("alice", "EMAIL_OTP", soon());
        ADD_FAILURE() << "accepted";
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::ServerError);
    }
    reply = {.status = 200, .body = "<html>captive portal</html>"};
    try {
        client.initiate_user_auth("alice", "EMAIL_OTP", soon());
        ADD_FAILURE() << "accepted";
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Malformed);
    }
    reply = {.status = 200, .body = ""};
    EXPECT_THROW(client.initiate_user_auth("alice", "EMAIL_OTP", soon()), ServiceError);
    // Read once, by the step's reader (error_response.hpp): what the check before it refused, it refuses.
    for (const char* body :
         {"[]", "{} trailing", R"({"ChallengeName":"EMAIL_OTP","ChallengeName":"SMS_OTP"})", "\"text\""}) {
        reply = {.status = 200, .body = body};
        try {
            client.initiate_user_auth("alice", "EMAIL_OTP", soon());
            ADD_FAILURE() << "accepted " << body;
        } catch (const ServiceError& e) {
            EXPECT_EQ(e.failure(), Failure::Malformed) << body;
        }
    }
}

TEST_F(CognitoClientTest, FetchJwksReturnsTheDocument) {
    reply.body = R"({"keys":[]})";
    Client client(endpoint(false));
    EXPECT_EQ(client.fetch_jwks(soon()), R"({"keys":[]})");
    EXPECT_EQ(server.requests().at(0).method, "GET");
    EXPECT_EQ(server.requests().at(0).target, "/eu-west-1_Example/.well-known/jwks.json");
    reply = {.status = 404, .body = "Not Found"};
    try {
        client.fetch_jwks(soon());
        ADD_FAILURE() << "accepted";
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Malformed);
        EXPECT_EQ(e.http_status(), 404);
    }
}

}  // namespace
}  // namespace pp::cognito
