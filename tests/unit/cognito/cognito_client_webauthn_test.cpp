#include <gtest/gtest.h>
#include <json-c/json.h>

#include <atomic>

#include "cognito_client.hpp"
#include "tls_test_server.hpp"

namespace pp::cognito {
using namespace pp::webauthn;
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;
using test::HttpReply;
using test::HttpRequest;
using test::TlsTestServer;

struct Put {
    void operator()(json_object* o) const noexcept { json_object_put(o); }
};
using Json = std::unique_ptr<json_object, Put>;

Json parse(const std::string& text) {
    Json doc(json_tokener_parse(text.c_str()));
    if (!doc) throw std::runtime_error("does not parse: " + text);
    return doc;
}

json_object* at(json_object* node, std::initializer_list<const char*> path) {
    for (const char* key : path) {
        if (!json_object_object_get_ex(node, key, &node)) return nullptr;
    }
    return node;
}

std::string text_at(const std::string& json, std::initializer_list<const char*> path) {
    const Json doc = parse(json);
    json_object* value = at(doc.get(), path);
    return value != nullptr && json_object_is_type(value, json_type_string) ? json_object_get_string(value)
                                                                            : "<absent>";
}

const test::TestCertificate& certificate() {
    static const test::TestCertificate c = test::make_certificate("IP:127.0.0.1");
    return c;
}

constexpr std::string_view access_token = "eyJraWQiOiJhY2Nlc3MifQ.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl";

const std::string creation_options =
    R"({"authenticatorSelection":{"requireResidentKey":false,"residentKey":"discouraged","userVerification":"required"},)"
    R"("challenge":"AAECAwQFBgcICQoLDA0ODw","excludeCredentials":[],)"
    R"("pubKeyCredParams":[{"alg":-7,"type":"public-key"},{"alg":-257,"type":"public-key"}],)"
    R"("rp":{"id":"auth.example.com","name":"auth.example.com"},"timeout":60000,)"
    R"("user":{"displayName":"alice","id":"M2M0NjMyMGItYzYwZS00YTIxLTlkNjQtNTgyOWJmZWRlMWM0","name":"alice"}})";

class CognitoClientWebAuthnTest : public ::testing::Test {
  protected:
    std::function<HttpReply(const HttpRequest&)> handler = [](const HttpRequest&) {
        return HttpReply{.body = "{}"};
    };
    TlsTestServer server{certificate(), [this](const HttpRequest& r) { return handler(r); }};
    pp::Secret token{access_token};

    Client client() const {
        Endpoint ep;
        ep.api_url = server.url("/");
        ep.jwks_url = server.url("/jwks.json");
        ep.issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example";
        ep.client_id = "client1";
        ep.client_secret.emplace("s3cret"sv);
        ep.ca_file = certificate().cert_file;
        ep.request_timeout = 5s;
        return Client(ep);
    }

    static Deadline soon() { return std::chrono::steady_clock::now() + 10s; }

    void reply_with(HttpReply reply) {
        handler = [reply](const HttpRequest&) { return reply; };
    }

    static std::string target(const HttpRequest& request) { return request.headers.at("x-amz-target"); }
};

TEST_F(CognitoClientWebAuthnTest, StartRegistrationSendsTheTokenAndReadsTheOptions) {
    reply_with({.body = R"({"CredentialCreationOptions":)" + creation_options + "}"});
    Client c = client();
    const RegistrationStart start = c.start_webauthn_registration(token, soon());
    EXPECT_EQ(start.options.rp_id, "auth.example.com");
    EXPECT_EQ(start.options.user_id, "3c46320b-c60e-4a21-9d64-5829bfede1c4");
    EXPECT_EQ(start.options.user_verification, "required");
    EXPECT_EQ(start.options.algorithms, (std::vector<int>{-7, -257}));
    // The raw object comes back equal to what was sent.
    const Json sent = parse(creation_options);
    const Json echoed = parse(start.options_json);
    EXPECT_TRUE(json_object_equal(sent.get(), echoed.get()));

    const HttpRequest request = server.requests().at(0);
    EXPECT_EQ(target(request), "AWSCognitoIdentityProviderService.StartWebAuthnRegistration");
    EXPECT_EQ(request.headers.at("content-type"), "application/x-amz-json-1.1");
    EXPECT_EQ(request.body, R"({"AccessToken":")" + std::string(access_token) + R"("})");
}

TEST_F(CognitoClientWebAuthnTest, StartRegistrationRefusesOtherAnswers) {
    Client c = client();
    for (const std::string_view body :
         {"{}", R"({"CredentialCreationOptions":"{}"})",
          R"({"CredentialCreationOptions":{"challenge":"AAECAwQFBgcICQoLDA0ODw"}})", ""}) {
        reply_with({.body = std::string(body)});
        try {
            c.start_webauthn_registration(token, soon());
            ADD_FAILURE() << "accepted " << body;
        } catch (const ServiceError& e) {
            EXPECT_EQ(e.failure(), Failure::Malformed) << body;
        }
    }
    reply_with({.status = 400,
                .headers = {"x-amzn-ErrorType: WebAuthnNotEnabledException:"},
                .body = R"({"__type":"WebAuthnNotEnabledException","message":"Passkeys are not enabled."})"});
    try {
        c.start_webauthn_registration(token, soon());
        ADD_FAILURE() << "accepted";
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Rejected);
        EXPECT_EQ(e.name(), "WebAuthnNotEnabledException");
        EXPECT_EQ(std::string(e.what()).find(access_token), std::string::npos);
    }
}

TEST_F(CognitoClientWebAuthnTest, CompleteRegistrationSendsTheCredentialAsAnObject) {
    const std::string credential =
        R"({"id":"AQID","rawId":"AQID","type":"public-key","response":{"clientDataJSON":"e30","transports":["usb"]}})";
    Client c = client();
    reply_with({.body = ""});
    c.complete_webauthn_registration(token, credential, soon());
    reply_with({.body = "{}"});
    c.complete_webauthn_registration(token, credential, soon());

    const HttpRequest request = server.requests().at(0);
    EXPECT_EQ(target(request), "AWSCognitoIdentityProviderService.CompleteWebAuthnRegistration");
    const Json body = parse(request.body);
    EXPECT_EQ(text_at(request.body, {"AccessToken"}), access_token);
    json_object* sent = at(body.get(), {"Credential"});
    ASSERT_TRUE(sent != nullptr && json_object_is_type(sent, json_type_object)) << "a document, not a string";
    const Json expected = parse(credential);
    EXPECT_TRUE(json_object_equal(sent, expected.get()));
}

TEST_F(CognitoClientWebAuthnTest, CompleteRegistrationRefusesBadCredentialsAndReportsRejection) {
    Client c = client();
    for (const std::string_view credential : {"", "[]", "{", R"({"a":1} {"b":2})", R"("text")"}) {
        EXPECT_THROW(c.complete_webauthn_registration(token, credential, soon()), std::invalid_argument)
            << credential;
    }
    EXPECT_TRUE(server.requests().empty()) << "nothing malformed reaches the wire";
    reply_with({.status = 400,
                .headers = {"x-amzn-ErrorType: WebAuthnOriginNotAllowedException:"},
                .body = R"({"__type":"WebAuthnOriginNotAllowedException","message":"origin"})"});
    try {
        c.complete_webauthn_registration(token, "{}", soon());
        ADD_FAILURE() << "accepted";
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Rejected);
        EXPECT_EQ(e.name(), "WebAuthnOriginNotAllowedException");
    }
    reply_with({.body = "[]"});
    EXPECT_THROW(c.complete_webauthn_registration(token, "{}", soon()), ServiceError);
}

TEST_F(CognitoClientWebAuthnTest, ListFollowsNextTokenToTheEnd) {
    std::atomic<int> calls{0};
    handler = [&](const HttpRequest&) {
        if (calls++ == 0) {
            return HttpReply{
                .body =
                    R"({"Credentials":[{"CredentialId":"cred-1","FriendlyCredentialName":"Roaming passkey",)"
                    R"("RelyingPartyId":"auth.example.com","AuthenticatorAttachment":"cross-platform",)"
                    R"("AuthenticatorTransports":["usb","nfc"],"CreatedAt":1736293876.115},)"
                    R"({"CredentialId":"cred-2","FriendlyCredentialName":"Bad\u001b[31mname",)"
                    R"("RelyingPartyId":"auth.example.com","CreatedAt":1736293900}],"NextToken":"page+2/\"x\""})"};
        }
        return HttpReply{.body = R"({"Credentials":[{"CredentialId":"cred-3"}]})"};
    };
    Client c = client();
    const std::vector<WebAuthnCredential> all = c.list_webauthn_credentials(token, soon());
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].credential_id, "cred-1");
    EXPECT_EQ(all[0].friendly_name, "Roaming passkey");
    EXPECT_EQ(all[0].relying_party_id, "auth.example.com");
    EXPECT_EQ(all[0].attachment, "cross-platform");
    EXPECT_EQ(all[0].transports, (std::vector<std::string>{"usb", "nfc"}));
    EXPECT_DOUBLE_EQ(all[0].created_at, 1736293876.115);
    EXPECT_EQ(all[1].friendly_name, "Bad?[31mname") << "no terminal control sequences";
    EXPECT_TRUE(all[1].transports.empty()) << "the AWS sample omits AuthenticatorTransports";
    EXPECT_DOUBLE_EQ(all[1].created_at, 1736293900);
    EXPECT_EQ(all[2].credential_id, "cred-3");
    EXPECT_EQ(all[2].created_at, 0);

    const std::vector<HttpRequest> requests = server.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(target(requests[0]), "AWSCognitoIdentityProviderService.ListWebAuthnCredentials");
    const Json first = parse(requests[0].body);
    EXPECT_EQ(text_at(requests[0].body, {"AccessToken"}), access_token);
    EXPECT_EQ(at(first.get(), {"NextToken"}), nullptr);
    json_object* max_results = at(first.get(), {"MaxResults"});
    ASSERT_TRUE(max_results != nullptr && json_object_is_type(max_results, json_type_int));
    EXPECT_EQ(json_object_get_int(max_results), 20);
    EXPECT_EQ(text_at(requests[1].body, {"NextToken"}), "page+2/\"x\"");
}

TEST_F(CognitoClientWebAuthnTest, ListThatNeverEndsIsMalformed) {
    reply_with({.body = R"({"Credentials":[],"NextToken":"again"})"});
    Client c = client();
    try {
        c.list_webauthn_credentials(token, soon());
        ADD_FAILURE() << "accepted";
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Malformed);
    }
    EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(Client::max_credential_pages));
}

TEST_F(CognitoClientWebAuthnTest, ListRefusesMalformedPages) {
    Client c = client();
    std::string too_many = R"({"Credentials":[)";
    for (std::size_t i = 0; i <= max_listed_credentials; ++i) {
        too_many += std::string(i ? "," : "") + R"({"CredentialId":"c)" + std::to_string(i) + R"("})";
    }
    for (const std::string& body : {
             std::string("{}"),
             std::string(R"({"Credentials":{}})"),
             std::string(R"({"Credentials":["cred-1"]})"),
             std::string(R"({"Credentials":[{"FriendlyCredentialName":"x"}]})"),
             std::string(R"({"Credentials":[{"CredentialId":""}]})"),
             std::string(R"({"Credentials":[{"CredentialId":"a\nb"}]})"),
             std::string(R"({"Credentials":[{"CredentialId":"c","CreatedAt":"yesterday"}]})"),
             std::string(R"({"Credentials":[{"CredentialId":"c","AuthenticatorTransports":"usb"}]})"),
             std::string(R"({"Credentials":[{"CredentialId":"c","FriendlyCredentialName":7}]})"),
             std::string(R"({"Credentials":[],"NextToken":""})"),
             std::string(R"({"Credentials":[],"NextToken":5})"),
             too_many + "]}",
         }) {
        reply_with({.body = body});
        try {
            c.list_webauthn_credentials(token, soon());
            ADD_FAILURE() << "accepted " << body.substr(0, 80);
        } catch (const ServiceError& e) {
            EXPECT_EQ(e.failure(), Failure::Malformed) << body.substr(0, 80);
        }
    }
}

TEST_F(CognitoClientWebAuthnTest, DeleteSendsTheIdAsListed) {
    Client c = client();
    c.delete_webauthn_credential(token, "cred-\"1\"", soon());
    reply_with({.body = ""});
    c.delete_webauthn_credential(token, "cred-2", soon());
    const HttpRequest request = server.requests().at(0);
    EXPECT_EQ(target(request), "AWSCognitoIdentityProviderService.DeleteWebAuthnCredential");
    EXPECT_EQ(request.body,
              R"({"AccessToken":")" + std::string(access_token) + R"(","CredentialId":"cred-\"1\""})");

    reply_with({.status = 400,
                .headers = {"x-amzn-ErrorType: ResourceNotFoundException:"},
                .body = R"({"__type":"ResourceNotFoundException","message":"not found"})"});
    try {
        c.delete_webauthn_credential(token, "cred-9", soon());
        ADD_FAILURE() << "accepted";
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Rejected);
        EXPECT_EQ(e.name(), "ResourceNotFoundException");
    }
}

}  // namespace
}  // namespace pp::cognito
