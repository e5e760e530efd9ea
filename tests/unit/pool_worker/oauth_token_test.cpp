// The worker's redemption of a browser sign-in's authorization code (spec §6): the one URL it posts to, how
// it reads the token endpoint's answers, and that only the ID token goes back to root.
#include "oauth_token.hpp"

#include <gtest/gtest.h>

#include "cognito_client.hpp"
#include "pool_protocol.hpp"
#include "tls_test_server.hpp"
#include "worker.hpp"

namespace pp::cognito {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;
using test::HttpReply;
using test::HttpRequest;
using test::TlsTestServer;

ServiceError refusal(long status, std::string_view body) {
    try {
        (void)parse_token_response(status, body);
    } catch (const ServiceError& e) {
        return e;
    }
    throw std::logic_error("expected a ServiceError");
}

TEST(TokenEndpointUrl, IsTheDomainsOwnAndNothingElse) {
    EXPECT_EQ(token_endpoint_url("pamdemo.auth.eu-central-1.amazoncognito.com"),
              "https://pamdemo.auth.eu-central-1.amazoncognito.com/oauth2/token");
    EXPECT_EQ(token_endpoint_url("localhost:8443"), "https://localhost:8443/oauth2/token");
    for (const std::string_view bad :
         {""sv, "https://auth.example.org"sv, "auth.example.org/x"sv, "evil@auth.example.org"sv,
          "auth.example.org:"sv, "auth.example.org:123456"sv, "auth.example.org:44a"sv, "auth example.org"sv,
          "auth.example.org?x"sv, "auth.example.org#x"sv, ".example.org"sv, "-x.example.org"sv}) {
        SCOPED_TRACE(std::string(bad));
        try {
            (void)token_endpoint_url(bad);
            ADD_FAILURE() << "accepted";
        } catch (const ServiceError& e) {
            EXPECT_EQ(e.failure(), Failure::Malformed);
        }
    }
}

TEST(TokenResponse, ReturnsTheIdTokenOnly) {
    const Secret id = parse_token_response(
        200, R"({"id_token":"eyJ.id.sig","access_token":"eyJ.access.sig","refresh_token":"r",)"
             R"("expires_in":3600,"token_type":"Bearer"})");
    EXPECT_EQ(id.view(), "eyJ.id.sig");
}

TEST(TokenResponse, SuccessWithoutAnIdTokenIsMalformed) {
    // No openid scope: the endpoint answers with the access token alone (spec §6.3).
    const auto e = refusal(200, R"({"access_token":"a","token_type":"Bearer"})");
    EXPECT_EQ(e.failure(), Failure::Malformed);
    EXPECT_NE(e.message().find("openid"), std::string::npos);
    EXPECT_EQ(refusal(200, R"({"id_token":""})").failure(), Failure::Malformed);
    EXPECT_EQ(refusal(200, R"({"id_token":42})").failure(), Failure::Malformed);
    EXPECT_EQ(refusal(200, "not json").failure(), Failure::Malformed);
    EXPECT_EQ(refusal(200, "").failure(), Failure::Malformed);
    EXPECT_EQ(refusal(200, "[]").failure(), Failure::Malformed);
}

TEST(TokenResponse, InvalidGrantIsTheWrongAnswer) {
    const auto e = refusal(400, R"({"error":"invalid_grant"})");
    EXPECT_EQ(e.failure(), Failure::Rejected);
    EXPECT_EQ(e.name(), kInvalidGrant);
    EXPECT_EQ(e.http_status(), 400);
    EXPECT_FALSE(is_oauth_misconfiguration(e));
}

TEST(TokenResponse, ClientErrorsKeepTheirNamesAndDescriptions) {
    const auto secret =
        refusal(400, R"({"error":"invalid_client","error_description":"invalid_client_secret"})");
    EXPECT_EQ(secret.failure(), Failure::Rejected);
    EXPECT_EQ(secret.name(), "invalid_client");
    EXPECT_EQ(secret.message(), "invalid_client_secret");
    EXPECT_TRUE(is_oauth_misconfiguration(secret));

    const auto redirect =
        refusal(400, R"({"error":"unauthorized_client","error_message":"invalid_redirect"})");
    EXPECT_EQ(redirect.name(), "unauthorized_client");
    EXPECT_EQ(redirect.message(), "invalid_redirect");
    EXPECT_TRUE(is_oauth_misconfiguration(redirect));

    for (const char* name : {"invalid_request", "invalid_scope", "unsupported_grant_type"}) {
        const auto e = refusal(400, std::string(R"({"error":")") + name + R"("})");
        EXPECT_EQ(e.name(), name);
        EXPECT_TRUE(is_oauth_misconfiguration(e)) << name;
    }
    // Control characters of the service's text do not reach a log line.
    const auto controls = refusal(401, R"({"error":"invalid_client","error_description":"a\nb"})");
    EXPECT_EQ(controls.message().find('\n'), std::string::npos);
}

TEST(TokenResponse, OtherAnswers) {
    EXPECT_EQ(refusal(500, "").failure(), Failure::ServerError);
    EXPECT_EQ(refusal(503, R"({"error":"invalid_grant"})").failure(), Failure::ServerError);
    const auto throttled = refusal(429, "");
    EXPECT_EQ(throttled.failure(), Failure::Rejected);
    EXPECT_EQ(throttled.name(), "TooManyRequestsException");
    EXPECT_FALSE(is_oauth_misconfiguration(throttled));
    EXPECT_EQ(refusal(400, "<html>bad</html>").failure(), Failure::Malformed);
    EXPECT_EQ(refusal(400, R"({"message":"no error name"})").failure(), Failure::Malformed);
    EXPECT_EQ(refusal(400, R"({"error":"bad name with spaces"})").failure(), Failure::Malformed);
    EXPECT_EQ(refusal(302, "").failure(), Failure::Malformed);
    EXPECT_EQ(refusal(201, R"({"id_token":"x"})").failure(), Failure::Malformed);
}

const test::TestCertificate& certificate() {
    static const test::TestCertificate c = test::make_certificate("IP:127.0.0.1");
    return c;
}

const Secret kBody(
    std::string_view("grant_type=authorization_code&client_id=pub&code=c0de&"
                     "redirect_uri=https%3A%2F%2Fpam.example.org%2Fcb&code_verifier=v"));

class RedeemTest : public ::testing::Test {
  protected:
    HttpReply reply{.body = R"({"id_token":"eyJ.id.sig","access_token":"ACCESS-SECRET",)"
                            R"("refresh_token":"REFRESH-SECRET","expires_in":3600,"token_type":"Bearer"})"};
    TlsTestServer server{certificate(), [this](const HttpRequest&) { return reply; }};

    Endpoint endpoint() const {
        Endpoint ep;
        // The pool API elsewhere: the token request goes to the domain alone.
        ep.api_url = "https://127.0.0.1:1/";
        ep.jwks_url = "https://127.0.0.1:1/jwks.json";
        ep.issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example";
        ep.client_id = "client1";
        ep.oauth_domain = "127.0.0.1:" + std::to_string(server.port());
        ep.ca_file = certificate().cert_file;
        ep.request_timeout = 5s;
        return ep;
    }

    static Deadline soon() { return std::chrono::steady_clock::now() + 10s; }
};

TEST_F(RedeemTest, PostsTheFormToTheDomainsTokenEndpoint) {
    Client client(endpoint());
    const Secret id = client.redeem_authorization_code(kBody, soon());
    EXPECT_EQ(id.view(), "eyJ.id.sig");
    ASSERT_EQ(server.requests().size(), 1u);
    const HttpRequest sent = server.requests().at(0);
    EXPECT_EQ(sent.method, "POST");
    EXPECT_EQ(sent.target, "/oauth2/token");
    EXPECT_EQ(sent.headers.at("content-type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(sent.headers.at("accept"), "application/json");
    EXPECT_EQ(sent.headers.count("authorization"), 0u);  // a public client: no secret in any form
    EXPECT_EQ(sent.body, kBody.view());
}

TEST_F(RedeemTest, RefusalsAreServiceErrors) {
    reply = HttpReply{.status = 400,
                      .headers = {"Content-Type: application/json;charset=UTF-8"},
                      .body = R"({"error":"invalid_grant"})"};
    Client client(endpoint());
    try {
        (void)client.redeem_authorization_code(kBody, soon());
        ADD_FAILURE() << "a refused code was accepted";
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Rejected);
        EXPECT_EQ(e.name(), kInvalidGrant);
    }
}

TEST_F(RedeemTest, NoDomainNoRequest) {
    Endpoint ep = endpoint();
    ep.oauth_domain.clear();
    Client client(ep);
    try {
        (void)client.redeem_authorization_code(kBody, soon());
        ADD_FAILURE() << "redeemed without a domain";
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Malformed);
    }
    EXPECT_TRUE(server.requests().empty());
}

TEST_F(RedeemTest, TheWorkersReplyHoldsTheIdTokenAndNoOtherToken) {
    pool::Request q;
    q.op = pool::Op::RedeemAuthorizationCode;
    q.settings.api_url = "https://127.0.0.1:1/";
    q.settings.client_id = "client1";
    q.settings.oauth_domain = "127.0.0.1:" + std::to_string(server.port());
    q.settings.ca_pem = certificate().cert_pem;
    q.settings.request_timeout_ms = 5000;
    q.time_left_ms = 10000;
    q.form_body = kBody;
    const pool::Reply r = pool::carry_out(q);
    ASSERT_FALSE(r.error) << r.error->what();
    ASSERT_TRUE(r.id_token);
    EXPECT_EQ(r.id_token->view(), "eyJ.id.sig");
    const Secret wire = pool::encode_reply(r);
    EXPECT_EQ(wire.view().find("ACCESS-SECRET"), std::string_view::npos);
    EXPECT_EQ(wire.view().find("REFRESH-SECRET"), std::string_view::npos);
    const pool::Reply read = pool::decode_reply(wire.view(), pool::Op::RedeemAuthorizationCode);
    ASSERT_TRUE(read.id_token);
    EXPECT_EQ(read.id_token->view(), "eyJ.id.sig");
}

TEST_F(RedeemTest, TheWorkerPassesTheRefusalOnTyped) {
    reply = HttpReply{.status = 400, .body = R"({"error":"invalid_client","error_description":"x"})"};
    pool::Request q;
    q.op = pool::Op::RedeemAuthorizationCode;
    q.settings.api_url = "https://127.0.0.1:1/";
    q.settings.client_id = "client1";
    q.settings.oauth_domain = "127.0.0.1:" + std::to_string(server.port());
    q.settings.ca_pem = certificate().cert_pem;
    q.settings.request_timeout_ms = 5000;
    q.time_left_ms = 10000;
    q.form_body = kBody;
    const pool::Reply r =
        pool::decode_reply(pool::encode_reply(pool::carry_out(q)).view(), pool::Op::RedeemAuthorizationCode);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->failure(), Failure::Rejected);
    EXPECT_EQ(r.error->name(), "invalid_client");
    EXPECT_TRUE(is_oauth_misconfiguration(*r.error));
}

}  // namespace
}  // namespace pp::cognito
