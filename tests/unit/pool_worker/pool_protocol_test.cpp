// The messages between the root helper and the network worker (pool_worker/protocol/pool_protocol.hpp): every
// message survives the trip, and every malformed or hostile input is refused with a ProtocolError that says
// why, never a crash or a wait past the deadline. The root side reads a worker's replies as untrusted input.
#include "pool_protocol.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace pp::pool {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The wire's field tags and record kinds (pool_protocol.cpp numbers its tags from 1 in this order). The test
// TagNumbersAreTheWiresOwn checks these against what the encoder writes.
constexpr std::uint8_t kTagOp = 1;
constexpr std::uint8_t kTagDebugLine = 26;
constexpr std::uint8_t kTagStep = 31;
constexpr std::uint8_t kTagDocument = 41;
constexpr std::uint8_t kTagIdToken = 34;
constexpr std::uint8_t kTagFailure = 27;
constexpr std::uint8_t kTagLast = 71;  // kPauseUs
constexpr std::uint8_t kKindRequest = 1, kKindReply = 2, kKindNested = 3;

// A raw record: version, kind, then (tag, 4-byte length, value) fields, built by hand so that the test can
// write what the encoder never would.
struct Raw {
    std::string bytes;
    explicit Raw(std::uint8_t kind, std::uint8_t version = kVersion) {
        bytes.push_back(static_cast<char>(version));
        bytes.push_back(static_cast<char>(kind));
    }
    Raw& field(std::uint8_t tag, std::string_view value) { return field_len(tag, value, value.size()); }
    Raw& field_len(std::uint8_t tag, std::string_view value, std::uint32_t declared) {
        bytes.push_back(static_cast<char>(tag));
        const std::uint32_t be = htonl(declared);
        bytes.append(reinterpret_cast<const char*>(&be), 4);
        bytes.append(value);
        return *this;
    }
    Raw& u32(std::uint8_t tag, std::uint32_t v) {
        const std::uint32_t be = htonl(v);
        return field(tag, std::string_view(reinterpret_cast<const char*>(&be), 4));
    }
};

template <typename F>
std::string refusal(F&& f) {
    try {
        f();
    } catch (const ProtocolError& e) {
        return e.what();
    }
    return "(accepted)";
}

Settings full_settings() {
    Settings s;
    s.api_url = "https://cognito-idp.eu-west-1.amazonaws.com/";
    s.jwks_url = "https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json";
    s.issuer = "https://cognito-idp.eu-west-1.amazonaws.com/pool";
    s.client_id = "client";
    s.ca_pem = "-----BEGIN CERTIFICATE-----\n...\n";
    s.proxy = "http://proxy:3128";
    s.request_timeout_ms = 4321;
    s.debugging = true;
    return s;
}

Request full_request(Op op) {
    Request q;
    q.op = op;
    q.settings = full_settings();
    q.time_left_ms = 9876;
    q.username = "alice";
    q.preferred_challenge = "EMAIL_OTP";
    q.context.ip_address = "192.0.2.7";
    q.challenge = "EMAIL_OTP";
    q.session = Secret(std::string_view("session\0with nul", 16));
    q.answers = {{"EMAIL_OTP_CODE", Secret(std::string_view("12345678"))}, {"ANSWER", Secret()}};
    q.secret_hash = Secret(std::string_view("hash="));
    q.access_token = Secret(std::string_view("access"));
    q.credential_json = R"({"id":"x"})";
    q.credential_id = "cred";
    q.settings.oauth_domain = "auth.example.org:8443";
    q.form_body = Secret(std::string_view("grant_type=authorization_code&code=c"));
    q.callback_url = "https://pam.example.org/cb/";
    q.pause_us = 123456;
    return q;
}

TEST(PoolProtocol, EveryRequestRoundTrips) {
    for (int op = static_cast<int>(Op::InitiateAuth); op <= static_cast<int>(kLastOp); ++op) {
        const Request q = full_request(static_cast<Op>(op));
        const Secret bytes = encode_request(q);
        const Request r = decode_request(bytes.view());
        SCOPED_TRACE(op_name(q.op));
        EXPECT_EQ(r.op, q.op);
        EXPECT_EQ(r.settings.api_url, q.settings.api_url);
        EXPECT_EQ(r.settings.jwks_url, q.settings.jwks_url);
        EXPECT_EQ(r.settings.issuer, q.settings.issuer);
        EXPECT_EQ(r.settings.client_id, q.settings.client_id);
        EXPECT_EQ(r.settings.ca_pem, q.settings.ca_pem);
        EXPECT_EQ(r.settings.proxy, q.settings.proxy);
        EXPECT_EQ(r.settings.request_timeout_ms, q.settings.request_timeout_ms);
        EXPECT_EQ(r.settings.debugging, q.settings.debugging);
        EXPECT_EQ(r.time_left_ms, q.time_left_ms);
        EXPECT_EQ(r.username, q.username);
        EXPECT_EQ(r.preferred_challenge, q.preferred_challenge);
        EXPECT_EQ(r.context.ip_address, q.context.ip_address);
        EXPECT_EQ(r.challenge, q.challenge);
        EXPECT_EQ(r.session.view(), q.session.view());
        ASSERT_EQ(r.answers.size(), 2u);
        EXPECT_EQ(r.answers[0].first, "EMAIL_OTP_CODE");
        EXPECT_EQ(r.answers[0].second.view(), "12345678");
        EXPECT_EQ(r.answers[1].first, "ANSWER");
        EXPECT_EQ(r.answers[1].second.view(), "");
        ASSERT_TRUE(r.secret_hash);
        EXPECT_EQ(r.secret_hash->view(), "hash=");
        EXPECT_EQ(r.access_token.view(), "access");
        EXPECT_EQ(r.credential_json, q.credential_json);
        EXPECT_EQ(r.credential_id, q.credential_id);
        EXPECT_EQ(r.settings.oauth_domain, "auth.example.org:8443");
        EXPECT_EQ(r.form_body.view(), "grant_type=authorization_code&code=c");
        EXPECT_EQ(r.callback_url, "https://pam.example.org/cb/");
        // A pause's length travels only with a pause.
        EXPECT_EQ(r.pause_us, q.op == Op::Pause ? 123456u : 0u);
    }
}

// check-config --online's callback page: the worker's facts round-trip, and a reply root could misread (no
// status, a value checkPool refuses, a reading without HTTP 200) is refused.
TEST(PoolProtocol, CallbackPageReplyRoundTripsAndIsHeldToCheckPool) {
    Reply p;
    p.callback.emplace();
    p.callback->page_status = 200;
    p.callback->page_is_callback = true;
    p.callback->pool_json_status = 200;
    p.callback->domain = "auth.example.org:8443";
    p.callback->client_id = "abc_123+";
    p.callback->scopes = {"openid", "email"};
    const Reply r = decode_reply(encode_reply(p).view(), Op::FetchCallbackPage);
    ASSERT_TRUE(r.callback);
    EXPECT_EQ(r.callback->page_status, 200);
    EXPECT_TRUE(r.callback->page_is_callback);
    EXPECT_EQ(r.callback->pool_json_status, 200);
    EXPECT_EQ(r.callback->domain, "auth.example.org:8443");
    EXPECT_EQ(r.callback->client_id, "abc_123+");
    EXPECT_EQ(r.callback->scopes, (std::vector<std::string>{"openid", "email"}));
    EXPECT_TRUE(r.callback->pool_json_error.empty());

    EXPECT_THROW(decode_reply(encode_reply(Reply{}).view(), Op::FetchCallbackPage), ProtocolError);
    Reply bad = p;
    bad.callback->domain = "evil.example\x1b[2J";
    EXPECT_THROW(decode_reply(encode_reply(bad).view(), Op::FetchCallbackPage), ProtocolError);
    bad = p;
    bad.callback->scopes.clear();
    EXPECT_THROW(decode_reply(encode_reply(bad).view(), Op::FetchCallbackPage), ProtocolError);
    bad = p;
    bad.callback->pool_json_status = 404;
    EXPECT_THROW(decode_reply(encode_reply(bad).view(), Op::FetchCallbackPage), ProtocolError);
    bad = p;
    bad.callback->page_status = 404;
    EXPECT_THROW(decode_reply(encode_reply(bad).view(), Op::FetchCallbackPage), ProtocolError);

    Reply missing;
    missing.callback.emplace();
    missing.callback->page_status = 200;
    missing.callback->pool_json_status = 404;
    const Reply m = decode_reply(encode_reply(missing).view(), Op::FetchCallbackPage);
    ASSERT_TRUE(m.callback);
    EXPECT_FALSE(m.callback->page_is_callback);
    EXPECT_EQ(m.callback->pool_json_status, 404);
    EXPECT_FALSE(m.callback->domain);
}

TEST(PoolProtocol, CallbackPoolJsonIsBesideThePage) {
    EXPECT_EQ(cognito::callback_pool_json_url("https://h.example/cb/"), "https://h.example/cb/pool.json");
    EXPECT_EQ(cognito::callback_pool_json_url("https://h.example/cb/index.html"),
              "https://h.example/cb/pool.json");
    EXPECT_EQ(cognito::callback_pool_json_url("https://h.example:8443/cb"),
              "https://h.example:8443/pool.json");
    EXPECT_EQ(cognito::callback_pool_json_url("https://h.example"), "https://h.example/pool.json");
    EXPECT_EQ(cognito::callback_pool_json_url("https://h.example/a/b?x=/y#/z"),
              "https://h.example/a/pool.json");
}

TEST(PoolProtocol, TokenReplyCarriesTheIdTokenAlone) {
    Reply p;
    p.id_token = Secret(std::string_view("eyJ.id.token"));
    const Reply r = decode_reply(encode_reply(p).view(), Op::RedeemAuthorizationCode);
    ASSERT_TRUE(r.id_token);
    EXPECT_EQ(r.id_token->view(), "eyJ.id.token");
    EXPECT_FALSE(r.step);
    // A worker that answers a redemption with no token (or an empty one) is refused, not taken as signed in.
    EXPECT_THROW(decode_reply(encode_reply(Reply{}).view(), Op::RedeemAuthorizationCode), ProtocolError);
    Reply empty;
    empty.id_token = Secret();
    EXPECT_THROW(decode_reply(encode_reply(empty).view(), Op::RedeemAuthorizationCode), ProtocolError);
}

TEST(PoolProtocol, OptionalRequestFieldsStayAbsent) {
    Request q;
    q.op = Op::InitiateAuth;
    q.settings.api_url = "https://x/";
    q.settings.client_id = "c";
    const Request r = decode_request(encode_request(q).view());
    EXPECT_FALSE(r.preferred_challenge);
    EXPECT_FALSE(r.context.ip_address);
    EXPECT_FALSE(r.secret_hash);
    EXPECT_FALSE(r.settings.debugging);
}

cognito::Step challenge_step() {
    cognito::Step s;
    s.challenge = "WEB_AUTHN";
    s.session = Secret(std::string_view("sess"));
    s.parameters = {{"USERNAME", "alice"}, {"CODE_DELIVERY_DESTINATION", "a***@e***"}};
    s.available = {"EMAIL_OTP", "WEB_AUTHN"};
    webauthn::RequestOptions o;
    o.challenge = "Y2hhbGxlbmdlY2hhbGxlbmdl";
    o.rp_id = "example.com";
    o.allow_credentials = {std::string("\x01\x02", 2), "id2"};
    o.user_verification = "required";
    o.timeout_ms = 60000;
    s.request_options = o;
    s.request_options_error = "";
    return s;
}

TEST(PoolProtocol, SignInRepliesRoundTrip) {
    Reply p;
    p.contacts = {{true, ""}, {false, "connection refused"}};
    p.debug_lines = {"one", "two"};
    p.step = challenge_step();
    for (const Op op : {Op::InitiateAuth, Op::Respond}) {
        const Reply r = decode_reply(encode_reply(p).view(), op);
        ASSERT_EQ(r.contacts.size(), 2u);
        EXPECT_TRUE(r.contacts[0].answered);
        EXPECT_FALSE(r.contacts[1].answered);
        EXPECT_EQ(r.contacts[1].why, "connection refused");
        EXPECT_EQ(r.debug_lines, p.debug_lines);
        EXPECT_FALSE(r.error);
        ASSERT_TRUE(r.step);
        EXPECT_EQ(r.step->challenge, "WEB_AUTHN");
        EXPECT_EQ(r.step->session.view(), "sess");
        EXPECT_EQ(r.step->parameters, p.step->parameters);
        EXPECT_EQ(r.step->available, p.step->available);
        ASSERT_TRUE(r.step->request_options);
        EXPECT_EQ(r.step->request_options->challenge, p.step->request_options->challenge);
        EXPECT_EQ(r.step->request_options->rp_id, "example.com");
        EXPECT_EQ(r.step->request_options->allow_credentials, p.step->request_options->allow_credentials);
        EXPECT_EQ(r.step->request_options->user_verification, "required");
        EXPECT_EQ(r.step->request_options->timeout_ms, 60000u);
        EXPECT_FALSE(r.step->id_token);
    }

    Reply signed_in;
    signed_in.step.emplace();
    signed_in.step->id_token = Secret(std::string_view("id.token.sig"));
    signed_in.step->access_token = Secret(std::string_view("access.token.sig"));
    const Reply r = decode_reply(encode_reply(signed_in).view(), Op::Respond);
    ASSERT_TRUE(r.step && r.step->id_token && r.step->access_token);
    EXPECT_EQ(r.step->id_token->view(), "id.token.sig");
    EXPECT_EQ(r.step->access_token->view(), "access.token.sig");
    EXPECT_TRUE(r.step->challenge.empty());
}

TEST(PoolProtocol, OtherRepliesRoundTrip) {
    Reply jwks;
    jwks.document = R"({"keys":[]})";
    EXPECT_EQ(decode_reply(encode_reply(jwks).view(), Op::FetchJwks).document, jwks.document);

    Reply openid;
    openid.openid = cognito::OpenIdConfiguration{"https://issuer", "https://issuer/jwks",
                                                 "https://auth.example.org/oauth2/authorize",
                                                 "https://auth.example.org/oauth2/token"};
    const auto o = decode_reply(encode_reply(openid).view(), Op::FetchOpenIdConfiguration).openid;
    ASSERT_TRUE(o);
    EXPECT_EQ(o->issuer, "https://issuer");
    EXPECT_EQ(o->jwks_uri, "https://issuer/jwks");
    EXPECT_EQ(o->authorization_endpoint, "https://auth.example.org/oauth2/authorize");
    EXPECT_EQ(o->token_endpoint, "https://auth.example.org/oauth2/token");
    openid.openid->jwks_uri.reset();
    openid.openid->token_endpoint.reset();
    const auto without = decode_reply(encode_reply(openid).view(), Op::FetchOpenIdConfiguration).openid;
    EXPECT_FALSE(without->jwks_uri);
    EXPECT_FALSE(without->token_endpoint);
    EXPECT_EQ(without->authorization_endpoint, "https://auth.example.org/oauth2/authorize");

    Reply reg;
    reg.registration.emplace();
    reg.registration->options_json = R"({"challenge":"c"})";
    auto& c = reg.registration->options;
    c.challenge = "c";
    c.rp_id = "example.com";
    c.rp_name = "Example";
    c.user_id = std::string("\0sub", 4);
    c.user_name = "alice";
    c.display_name = "Alice";
    c.algorithms = {-7, -8, -257};
    c.exclude_credentials = {"x", "y"};
    c.resident_key = "required";
    c.user_verification = "preferred";
    c.timeout_ms = 1234;
    const auto got = decode_reply(encode_reply(reg).view(), Op::StartRegistration).registration;
    ASSERT_TRUE(got);
    EXPECT_EQ(got->options_json, reg.registration->options_json);
    EXPECT_EQ(got->options.challenge, "c");
    EXPECT_EQ(got->options.rp_id, "example.com");
    EXPECT_EQ(got->options.rp_name, "Example");
    EXPECT_EQ(got->options.user_id, c.user_id);
    EXPECT_EQ(got->options.user_name, "alice");
    EXPECT_EQ(got->options.display_name, "Alice");
    EXPECT_EQ(got->options.algorithms, c.algorithms);
    EXPECT_EQ(got->options.exclude_credentials, c.exclude_credentials);
    EXPECT_EQ(got->options.resident_key, "required");
    EXPECT_EQ(got->options.user_verification, "preferred");
    EXPECT_EQ(got->options.timeout_ms, 1234u);

    Reply list;
    cognito::WebAuthnCredential w;
    w.credential_id = "id1";
    w.friendly_name = "blue key";
    w.relying_party_id = "example.com";
    w.attachment = "cross-platform";
    w.transports = {"usb", "nfc"};
    w.created_at = 1700000000.25;
    list.credentials = {w, w};
    list.credentials[1].credential_id = "id2";
    const auto creds = decode_reply(encode_reply(list).view(), Op::ListCredentials).credentials;
    ASSERT_EQ(creds.size(), 2u);
    EXPECT_EQ(creds[0].credential_id, "id1");
    EXPECT_EQ(creds[1].credential_id, "id2");
    EXPECT_EQ(creds[0].friendly_name, "blue key");
    EXPECT_EQ(creds[0].relying_party_id, "example.com");
    EXPECT_EQ(creds[0].attachment, "cross-platform");
    EXPECT_EQ(creds[0].transports, w.transports);
    EXPECT_EQ(creds[0].created_at, 1700000000.25);

    for (const Op op : {Op::CompleteRegistration, Op::DeleteCredential}) {
        const Reply empty = decode_reply(encode_reply(Reply{}).view(), op);
        EXPECT_FALSE(empty.error);
        EXPECT_FALSE(empty.step);
    }
}

TEST(PoolProtocol, FailuresRoundTripForEveryOperation) {
    Reply p;
    p.error.emplace(cognito::Failure::Rejected, "CodeMismatchException", "Invalid code", 400);
    for (int op = static_cast<int>(Op::InitiateAuth); op <= static_cast<int>(kLastOp); ++op) {
        const Reply r = decode_reply(encode_reply(p).view(), static_cast<Op>(op));
        ASSERT_TRUE(r.error);
        EXPECT_EQ(r.error->failure(), cognito::Failure::Rejected);
        EXPECT_EQ(r.error->name(), "CodeMismatchException");
        EXPECT_EQ(r.error->message(), "Invalid code");
        EXPECT_EQ(r.error->http_status(), 400);
    }
}

TEST(PoolProtocol, TagNumbersAreTheWiresOwn) {
    Reply p;
    p.document = "d";
    const Secret jwks = encode_reply(p);
    ASSERT_GE(jwks.size(), 3u);
    EXPECT_EQ(static_cast<std::uint8_t>(jwks.view()[1]), kKindReply);
    EXPECT_EQ(static_cast<std::uint8_t>(jwks.view()[2]), kTagDocument);
    p.document.clear();
    p.debug_lines = {"x"};
    EXPECT_EQ(static_cast<std::uint8_t>(encode_reply(p).view()[2]), kTagDebugLine);
    p.debug_lines.clear();
    p.step.emplace();
    p.step->id_token = Secret(std::string_view("t"));
    EXPECT_EQ(static_cast<std::uint8_t>(encode_reply(p).view()[2]), kTagStep);
    const Secret q = encode_request(full_request(Op::FetchJwks));
    EXPECT_EQ(static_cast<std::uint8_t>(q.view()[1]), kKindRequest);
    EXPECT_EQ(static_cast<std::uint8_t>(q.view()[2]), kTagOp);
    // The last tag is the wire's last: one past it is refused (UnknownTagsAndOperationsAreRefused).
    EXPECT_EQ(refusal([] { (void)Record::decode(Raw(kKindReply).field(kTagLast, "x").bytes); }),
              "(accepted)");
}

// A reply says how long the worker keeps its connection for the next request; one that does not say so (an
// older worker's, a failure's) keeps none.
TEST(PoolProtocol, KeptForRoundTripsAndIsAbsentByDefault) {
    Reply p;
    p.document = "d";
    EXPECT_EQ(decode_reply(encode_reply(p).view(), Op::FetchJwks).kept_for_ms, 0u);
    p.kept_for_ms = 30000;
    EXPECT_EQ(decode_reply(encode_reply(p).view(), Op::FetchJwks).kept_for_ms, 30000u);
    Reply failed;
    failed.error.emplace(cognito::Failure::Unreachable, "", "down");
    failed.kept_for_ms = 30000;
    EXPECT_EQ(decode_reply(encode_reply(failed).view(), Op::Respond).kept_for_ms, 30000u);
}

// Every proper prefix of a sign-in reply is refused: the step comes last, and a reply without it is not one.
TEST(PoolProtocol, EveryTruncationOfAReplyIsRefused) {
    Reply p;
    p.contacts = {{true, ""}};
    p.debug_lines = {"line"};
    p.step = challenge_step();
    const Secret whole = encode_reply(p);
    for (std::size_t n = 0; n < whole.size(); ++n) {
        const std::string why = refusal([&] { (void)decode_reply(whole.view().substr(0, n), Op::Respond); });
        EXPECT_NE(why, "(accepted)") << "a reply cut at " << n << " of " << whole.size() << " bytes";
    }
    EXPECT_EQ(refusal([&] { (void)decode_reply(whole.view().substr(0, 1), Op::Respond); }),
              "record size out of bounds");
    EXPECT_EQ(refusal([&] { (void)decode_reply(whole.view().substr(0, 4), Op::Respond); }),
              "truncated field header");
    EXPECT_EQ(refusal([&] { (void)decode_reply(whole.view().substr(0, 9), Op::Respond); }),
              "truncated field");
}

TEST(PoolProtocol, EveryTruncationOfARequestIsRefusedOrComplete) {
    const Secret whole = encode_request(full_request(Op::Respond));
    for (std::size_t n = 0; n < whole.size(); ++n) {
        // A cut on a field boundary after the required fields is a shorter request; any other is refused.
        try {
            (void)decode_request(whole.view().substr(0, n));
        } catch (const ProtocolError&) {
        }
    }
    EXPECT_EQ(refusal([&] { (void)decode_request(whole.view().substr(0, whole.size() - 1)); }),
              "truncated field");
    EXPECT_EQ(refusal([&] { (void)decode_request(whole.view().substr(0, 2)); }), "unknown operation");
}

TEST(PoolProtocol, FieldLengthsPastTheRecordAreRefused) {
    for (const std::uint32_t declared :
         {2u, 0x7fffffffu, 0xffffffffu, static_cast<std::uint32_t>(kMaxFrame + 1)}) {
        const std::string bytes = Raw(kKindReply).field_len(kTagDocument, "x", declared).bytes;
        EXPECT_EQ(refusal([&] { (void)decode_reply(bytes, Op::FetchJwks); }), "truncated field") << declared;
    }
    EXPECT_EQ(refusal([] { (void)Record::decode(std::string(kMaxFrame + 1, '\x01')); }),
              "record size out of bounds");
}

TEST(PoolProtocol, NestingPastTheLimitIsRefused) {
    // A step inside a step inside ...: kMaxDepth levels below the reply are read, one more is refused.
    auto nested = [](int levels) {
        std::string inner = Raw(kKindNested).field(kTagDocument, "x").bytes;
        for (int i = 1; i < levels; ++i) inner = Raw(kKindNested).field(kTagStep, inner).bytes;
        return Raw(kKindReply).field(kTagStep, inner).bytes;
    };
    EXPECT_EQ(refusal([&] { (void)Record::decode(nested(kMaxDepth)); }), "(accepted)");
    EXPECT_EQ(refusal([&] { (void)Record::decode(nested(kMaxDepth + 1)); }), "records nested too deep");
    EXPECT_EQ(refusal([&] { (void)decode_reply(nested(200), Op::Respond); }), "records nested too deep");
    // A nested record must say it is one, and a top-level one must not.
    EXPECT_EQ(refusal([] {
                  (void)Record::decode(
                      Raw(kKindReply).field(kTagStep, Raw(kKindReply).field(kTagDocument, "x").bytes).bytes);
              }),
              "record kind out of place");
    EXPECT_EQ(refusal([] { (void)Record::decode(Raw(kKindNested).bytes); }), "record kind out of place");
}

TEST(PoolProtocol, DuplicateFieldsAreRefused) {
    const std::string two_documents = Raw(kKindReply).field(kTagDocument, "a").field(kTagDocument, "b").bytes;
    EXPECT_EQ(refusal([&] { (void)decode_reply(two_documents, Op::FetchJwks); }), "a field given twice");

    Reply signed_in;
    signed_in.step.emplace();
    signed_in.step->id_token = Secret(std::string_view("t"));
    const Secret one = encode_reply(signed_in);
    // The same step twice: two answers root could read two ways.
    std::string twice(one.view());
    twice.append(one.view().substr(2));
    EXPECT_EQ(refusal([&] { (void)decode_reply(twice, Op::Respond); }), "a sign-in reply without its step");

    // Two ID tokens inside one step.
    const std::string step = Raw(kKindNested).field(kTagIdToken, "t1").field(kTagIdToken, "t2").bytes;
    EXPECT_EQ(refusal([&] { (void)decode_reply(Raw(kKindReply).field(kTagStep, step).bytes, Op::Respond); }),
              "a field given twice");

    std::string op_twice(encode_request(full_request(Op::FetchJwks)).view());
    op_twice += Raw(kKindRequest).u32(kTagOp, 1).bytes.substr(2);
    EXPECT_EQ(refusal([&] { (void)decode_request(op_twice); }), "a field given twice");
}

TEST(PoolProtocol, UnknownTagsAndOperationsAreRefused) {
    EXPECT_EQ(refusal([] { (void)Record::decode(Raw(kKindReply).field(0, "x").bytes); }), "unknown field");
    EXPECT_EQ(refusal([] { (void)Record::decode(Raw(kKindReply).field(kTagLast + 1, "x").bytes); }),
              "unknown field");
    EXPECT_EQ(refusal([] { (void)Record::decode(Raw(kKindReply).field(255, "x").bytes); }), "unknown field");
    EXPECT_EQ(refusal([] { (void)Record::decode(Raw(kKindReply, kVersion + 1).bytes); }),
              "unsupported protocol version");
    EXPECT_EQ(refusal([] { (void)Record::decode(Raw(9).bytes); }), "unknown record kind");

    for (const std::uint32_t op : {0u, 12u, 0x100u, 0xffffffffu}) {
        std::string bytes(encode_request(full_request(Op::FetchJwks)).view());
        bytes.replace(2, 9, Raw(kKindRequest).u32(kTagOp, op).bytes.substr(2));
        EXPECT_EQ(refusal([&] { (void)decode_request(bytes); }), "unknown operation") << op;
    }
    // The op's field of the wrong size, and none at all.
    EXPECT_EQ(refusal([] { (void)decode_request(Raw(kKindRequest).field(kTagOp, "\x01").bytes); }),
              "integer field of wrong size");
    EXPECT_EQ(refusal([] { (void)decode_request(Raw(kKindRequest).bytes); }), "unknown operation");
    // A reply given where a request is read, and the other way round.
    EXPECT_EQ(refusal([] { (void)decode_request(encode_reply(Reply{}).view()); }), "not a request");
    EXPECT_EQ(refusal([] {
                  (void)decode_reply(encode_request(full_request(Op::FetchJwks)).view(), Op::FetchJwks);
              }),
              "not a reply");
    // A failure the root side has no meaning for.
    EXPECT_EQ(refusal([] { (void)decode_reply(Raw(kKindReply).u32(kTagFailure, 99).bytes, Op::FetchJwks); }),
              "unknown failure");
}

// What a worker could say to make a step mean two things, or nothing.
TEST(PoolProtocol, AmbiguousStepsAreRefused) {
    auto reply_with = [](const cognito::Step& s) {
        Reply p;
        p.step = s;
        return std::string(encode_reply(p).view());
    };
    cognito::Step both;
    both.challenge = "EMAIL_OTP";
    both.session = Secret(std::string_view("s"));
    both.id_token = Secret(std::string_view("t"));
    EXPECT_EQ(refusal([&] { (void)decode_reply(reply_with(both), Op::Respond); }),
              "a step with both a challenge and tokens");
    cognito::Step no_session;
    no_session.challenge = "EMAIL_OTP";
    EXPECT_EQ(refusal([&] { (void)decode_reply(reply_with(no_session), Op::Respond); }),
              "a challenge without a session");
    EXPECT_EQ(refusal([&] { (void)decode_reply(reply_with(cognito::Step{}), Op::InitiateAuth); }),
              "a step with neither a challenge nor an ID token");
    EXPECT_EQ(refusal([] { (void)decode_reply(encode_reply(Reply{}).view(), Op::InitiateAuth); }),
              "a sign-in reply without its step");
    EXPECT_EQ(refusal([] { (void)decode_reply(encode_reply(Reply{}).view(), Op::FetchJwks); }),
              "missing key set");
    EXPECT_EQ(refusal([] { (void)decode_reply(encode_reply(Reply{}).view(), Op::StartRegistration); }),
              "a registration reply without its options");
}

// A connected pair of stream sockets, closed at the end.
struct Pair {
    int a = -1, b = -1;
    explicit Pair(int type = SOCK_STREAM) {
        int fds[2];
        if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
        a = fds[0];
        b = fds[1];
    }
    void close_b() {
        if (b >= 0) ::close(b);
        b = -1;
    }
    ~Pair() {
        if (a >= 0) ::close(a);
        close_b();
    }
};

std::string be32(std::uint32_t v) {
    const std::uint32_t be = htonl(v);
    return std::string(reinterpret_cast<const char*>(&be), 4);
}

void write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) throw std::runtime_error("send");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

TEST(PoolFraming, AFrameTravelsWhole) {
    Pair p;
    Reply reply;
    reply.document = std::string(200000, 'k');  // more than one socket buffer's worth
    const Secret bytes = encode_reply(reply);
    std::thread sender([&] { send_frame(p.b, bytes, Clock::now() + 20s); });
    const Secret got = receive_frame(p.a, Clock::now() + 20s);
    sender.join();
    EXPECT_EQ(got.view(), bytes.view());
    EXPECT_EQ(decode_reply(got.view(), Op::FetchJwks).document, reply.document);
}

// Each byte in its own packet (a SOCK_SEQPACKET pair hands back one packet per read): the reader gathers the
// frame from as many reads as it has bytes.
TEST(PoolFraming, AFrameSplitOverManyReadsIsGathered) {
    Pair p(SOCK_SEQPACKET);
    Reply reply;
    reply.document = R"({"keys":[]})";
    const Secret bytes = encode_reply(reply);
    const std::string frame = be32(static_cast<std::uint32_t>(bytes.size())) + std::string(bytes.view());
    std::thread sender([&] {
        for (const char c : frame) write_all(p.b, std::string_view(&c, 1));
    });
    const Secret got = receive_frame(p.a, Clock::now() + 20s);
    sender.join();
    EXPECT_EQ(got.view(), bytes.view());
}

TEST(PoolFraming, ALengthPastTheLimitIsRefusedBeforeReadingOn) {
    Pair p;
    // The length alone is sent and the writer stays open: a reader that waited for the body would time out.
    write_all(p.b, be32(static_cast<std::uint32_t>(kMaxFrame + 1)));
    EXPECT_EQ(refusal([&] { (void)receive_frame(p.a, Clock::now() + 60s); }), "frame over the size limit");
    write_all(p.b, be32(0xffffffffu));
    EXPECT_EQ(refusal([&] { (void)receive_frame(p.a, Clock::now() + 60s); }), "frame over the size limit");
    EXPECT_EQ(refusal([&] { send_frame(p.b, Secret(std::string(kMaxFrame + 1, 'x')), Clock::now() + 60s); }),
              "frame too long");
}

// A reply to a sign-in step is refused at its length past kMaxSignInReply; the two operations that gather
// pages may take a whole frame.
TEST(PoolFraming, AReplyPastItsOperationsLimitIsRefusedAtItsLength) {
    EXPECT_EQ(max_reply_size(Op::Respond), kMaxSignInReply);
    EXPECT_EQ(max_reply_size(Op::InitiateAuth), kMaxSignInReply);
    EXPECT_EQ(max_reply_size(Op::FetchJwks), kMaxSignInReply);
    EXPECT_EQ(max_reply_size(Op::ListCredentials), kMaxFrame);
    EXPECT_EQ(max_reply_size(Op::FetchCallbackPage), kMaxFrame);
    {
        Pair p;
        write_all(p.b, be32(static_cast<std::uint32_t>(kMaxSignInReply + 1)));
        EXPECT_EQ(refusal([&] { (void)receive_frame(p.a, Clock::now() + 60s, nullptr, kMaxSignInReply); }),
                  "frame over the size limit");
    }
    {
        Pair p;
        const std::string body(kMaxSignInReply, 'x');
        std::thread sender([&] { write_all(p.b, be32(static_cast<std::uint32_t>(body.size())) + body); });
        const Secret got = receive_frame(p.a, Clock::now() + 20s, nullptr, kMaxSignInReply);
        sender.join();
        EXPECT_EQ(got.size(), kMaxSignInReply);
    }
}

// One frame is in flight on a connection at a time: a peer that sends more than the frame it announced is
// refused, not read on (its next frame would be read out of step).
TEST(PoolFraming, BytesAfterTheFrameAreRefused) {
    {
        Pair p;
        write_all(p.b, be32(3) + "abc" + be32(1) + "d");
        EXPECT_EQ(refusal([&] { (void)receive_frame(p.a, Clock::now() + 60s); }), "bytes after the frame");
    }
    {
        // A reader that may say so gets the frame, and is told that more followed.
        Pair p;
        write_all(p.b, be32(3) + "abc" + be32(1) + "d");
        bool followed = false;
        EXPECT_EQ(receive_frame(p.a, Clock::now() + 60s, &followed).view(), "abc");
        EXPECT_TRUE(followed);
        write_all(p.b, be32(3) + "xyz");
        followed = false;
        EXPECT_EQ(receive_frame(p.a, Clock::now() + 60s, &followed).view(), "xyz");
        EXPECT_FALSE(followed);
    }
    {
        // A frame larger than the first read, whole, then nothing more: read whole.
        Pair p;
        const std::string big(100000, 'z');
        std::thread sender([&] { write_all(p.b, be32(static_cast<std::uint32_t>(big.size())) + big); });
        const Secret got = receive_frame(p.a, Clock::now() + 20s);
        sender.join();
        EXPECT_EQ(got.view(), big);
    }
}

TEST(PoolFraming, APeerThatClosesMidFrameIsRefused) {
    {
        Pair p;
        write_all(p.b, be32(100) + std::string(10, 'x'));
        p.close_b();
        EXPECT_EQ(refusal([&] { (void)receive_frame(p.a, Clock::now() + 60s); }),
                  "the peer closed the connection");
    }
    {
        Pair p;
        write_all(p.b, std::string("\0\0", 2));  // half a length
        p.close_b();
        EXPECT_EQ(refusal([&] { (void)receive_frame(p.a, Clock::now() + 60s); }),
                  "the peer closed the connection");
    }
    {
        Pair p;
        p.close_b();
        EXPECT_EQ(refusal([&] { (void)receive_frame(p.a, Clock::now() + 60s); }),
                  "the peer closed the connection");
        EXPECT_NE(refusal([&] { send_frame(p.a, Secret(std::string_view("x")), Clock::now() + 60s); }),
                  "(accepted)");
    }
}

TEST(PoolFraming, ADeadlineThatPassesWhileWaitingEndsTheWait) {
    Pair p;
    EXPECT_EQ(refusal([&] { (void)receive_frame(p.a, Clock::now() + 50ms); }), "timed out");
    write_all(p.b, be32(100) + std::string(10, 'x'));  // the peer stalls mid-frame
    EXPECT_EQ(refusal([&] { (void)receive_frame(p.a, Clock::now() + 50ms); }), "timed out");
    // A deadline already past is refused at once.
    EXPECT_EQ(refusal([&] { (void)receive_frame(p.a, Clock::now() - 1s); }), "timed out");
    // A sender whose peer never reads: the socket's buffer fills and the deadline ends the wait.
    Pair q;
    EXPECT_EQ(refusal([&] { send_frame(q.a, Secret(std::string(kMaxFrame, 'x')), Clock::now() + 200ms); }),
              "timed out");
}

}  // namespace
}  // namespace pp::pool
