#include "webauthn_json.hpp"

#include <gtest/gtest.h>
#include <json-c/json.h>

#include <functional>
#include <memory>
#include <set>
#include <stdexcept>

#include "auth_step.hpp"
#include "base64.hpp"
#include "service_error.hpp"
#include "software_authenticator.hpp"
#include "test_keys.hpp"

namespace pp::cognito {
using namespace pp::webauthn;
namespace {

using namespace std::string_literals;
using test::cbor_bytes;
using test::cbor_head;
using test::json_string;

struct Put {
    void operator()(json_object* o) const noexcept { json_object_put(o); }
};
using Json = std::unique_ptr<json_object, Put>;

Json parse(const std::string& text) {
    Json doc(json_tokener_parse(text.c_str()));
    if (!doc) throw std::runtime_error("test JSON does not parse: " + text);
    return doc;
}

json_object* at(json_object* node, std::initializer_list<const char*> path) {
    for (const char* key : path) {
        if (!json_object_object_get_ex(node, key, &node)) return nullptr;
    }
    return node;
}

std::string text_at(json_object* node, std::initializer_list<const char*> path) {
    json_object* value = at(node, path);
    if (value == nullptr || !json_object_is_type(value, json_type_string)) return "<absent>";
    return json_object_get_string(value);
}

std::set<std::string> keys_of(json_object* object) {
    std::set<std::string> keys;
    json_object_object_foreach(object, key, value) {
        (void)value;
        keys.insert(key);
    }
    return keys;
}

std::string decoded(const std::string& text) {
    const auto bytes = base64url_decode(text);
    if (!bytes) throw std::runtime_error("not base64url: " + text);
    return *bytes;
}

// base64url of 16 bytes 0x00..0x0F, and of 32 bytes 0xA0..0xBF: canonical, no padding.
const std::string challenge =
    base64url_encode("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"s);
std::string id_bytes(char first, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(first + static_cast<char>(i)));
    return out;
}
const std::string cred_a = id_bytes('\xa0', 32);
const std::string cred_b = id_bytes('\x10', 64);

// ---- CREDENTIAL_REQUEST_OPTIONS

// The shape of the AWS InitiateAuth example (spec §2.5), delivered as the pool delivers it: a JSON string in
// ChallengeParameters, read through parse_step first.
TEST(RequestOptions, AwsExampleThroughTheChallengeParameters) {
    const std::string options = R"({"challenge":")" + challenge +
                                R"(","timeout":180000,"rpId":"auth.example.com","allowCredentials":[)"
                                R"({"type":"public-key","id":")" +
                                base64url_encode(cred_a) + R"(","transports":[]},)" +
                                R"({"type":"public-key","id":")" + base64url_encode(cred_b) +
                                R"(","transports":["internal"]}],"userVerification":"preferred"})";
    const std::string answer = R"({"ChallengeName":"WEB_AUTHN","Session":"AYABsession-webauthn",)"
                               R"("ChallengeParameters":{"CREDENTIAL_REQUEST_OPTIONS":)" +
                               json_string(options) + R"(},"AvailableChallenges":["EMAIL_OTP","WEB_AUTHN"]})";
    const Step step = parse_step(answer);
    ASSERT_EQ(step.challenge, "WEB_AUTHN");

    // Read out of the parameters, typed: the root helper gets the options, not their JSON.
    EXPECT_EQ(step.parameters.count("CREDENTIAL_REQUEST_OPTIONS"), 0u);
    ASSERT_TRUE(step.request_options.has_value()) << step.request_options_error;
    const RequestOptions& parsed = *step.request_options;
    EXPECT_EQ(parsed.challenge, challenge);
    EXPECT_EQ(parsed.rp_id, "auth.example.com");
    EXPECT_EQ(parsed.allow_credentials, (std::vector<std::string>{cred_a, cred_b}));
    EXPECT_EQ(parsed.user_verification, "preferred");
    EXPECT_EQ(parsed.timeout_ms, 180000u);
}

// The shape of Amplify's captured fixture (spec §2.5): extra members, an entry without transports.
TEST(RequestOptions, AmplifyShapeWithUnknownMembers) {
    const std::string options = R"({"hints":[],"attestation":"none","attestationFormats":[],"challenge":")" +
                                challenge + R"(","timeout":180000,"rpId":"localhost","allowCredentials":[)" +
                                R"({"id":")" + base64url_encode(cred_a) + R"(","type":"public-key"}],)" +
                                R"("userVerification":"required","extensions":{"appid":"x"}})";
    const RequestOptions parsed = parse_request_options(options);
    EXPECT_EQ(parsed.challenge, challenge);
    EXPECT_EQ(parsed.rp_id, "localhost");
    EXPECT_EQ(parsed.allow_credentials, std::vector<std::string>{cred_a});
    EXPECT_EQ(parsed.user_verification, "required");
}

TEST(RequestOptions, Defaults) {
    const RequestOptions parsed =
        parse_request_options(R"({"challenge":")" + challenge + R"(","rpId":"a.example","timeout":null})");
    EXPECT_TRUE(parsed.allow_credentials.empty());
    EXPECT_EQ(parsed.user_verification, "preferred");
    EXPECT_FALSE(parsed.timeout_ms);
    EXPECT_EQ(parse_request_options(R"({"challenge":")" + challenge +
                                    R"(","rpId":"a.example","userVerification":"discouraged","timeout":0})")
                  .user_verification,
              "discouraged");
}

// Each member replaced in turn; the rest is a valid set of options.
std::string request_options_with(const std::string& member, const std::string& value) {
    std::map<std::string, std::string> members = {
        {"challenge", json_string(challenge)},
        {"rpId", R"("auth.example.com")"},
        {"allowCredentials", R"([{"type":"public-key","id":")" + base64url_encode(cred_a) + R"("}])"},
        {"userVerification", R"("required")"},
        {"timeout", "180000"},
    };
    if (value.empty()) {
        members.erase(member);
    } else {
        members[member] = value;
    }
    return test::to_json(members);
}

void expect_malformed(const std::function<void()>& parse_it, const std::string& label) {
    try {
        parse_it();
        ADD_FAILURE() << "accepted: " << label;
    } catch (const ServiceError& e) {
        EXPECT_EQ(e.failure(), Failure::Malformed) << label;
    }
}

TEST(RequestOptions, RefusesWhatIsNotAsSpecified) {
    ASSERT_NO_THROW(parse_request_options(request_options_with("timeout", "180000")));
    const std::string id = base64url_encode(cred_a);
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"challenge", ""},
        {"challenge", "17"},
        {"challenge", json_string(challenge + "==")},
        {"challenge", json_string(base64url_encode(std::string(16, '\xfb')))},  // fine: "-_" alphabet
        {"challenge", json_string("+/" + challenge.substr(2))},
        {"challenge", json_string(challenge.substr(0, challenge.size() - 1) + "B")},  // stray low bits
        {"challenge", json_string(base64url_encode(std::string(15, 'c')))},
        {"challenge", json_string(base64url_encode(std::string(65, 'c')))},
        {"challenge", json_string(challenge + " ")},
        {"rpId", ""},
        {"rpId", R"("")"},
        {"rpId", R"("Auth.example.com")"},
        {"rpId", R"("auth.example.com:443")"},
        {"rpId", R"("auth.example.com/x")"},
        {"rpId", R"("auth..example.com")"},
        {"rpId", R"(".example.com")"},
        {"rpId", R"("example.com.")"},
        {"rpId", R"("auth.example.com\u0000")"},
        {"rpId", json_string(std::string(64, 'a') + ".example")},
        {"rpId", json_string(std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') +
                             "." + std::string(62, 'd'))},
        {"rpId", "[]"},
        {"allowCredentials", "{}"},
        {"allowCredentials", R"(["id"])"},
        {"allowCredentials", R"([{"id":")" + id + R"("}])"},
        {"allowCredentials", R"([{"type":"password","id":")" + id + R"("}])"},
        {"allowCredentials", R"([{"type":"public-key"}])"},
        {"allowCredentials", R"([{"type":"public-key","id":""}])"},
        {"allowCredentials", R"([{"type":"public-key","id":")" + id + R"(="}])"},
        {"allowCredentials", R"([{"type":"public-key","id":42}])"},
        {"allowCredentials",
         R"([{"type":"public-key","id":")" + base64url_encode(std::string(1024, 'i')) + R"("}])"},
        {"allowCredentials", R"([{"type":"public-key","id":")" + id + R"(","transports":"usb"}])"},
        {"allowCredentials", R"([{"type":"public-key","id":")" + id + R"(","transports":[1]}])"},
        {"userVerification", R"("always")"},
        {"userVerification", "true"},
        {"timeout", "-1"},
        {"timeout", "1.5"},
        {"timeout", R"("180000")"},
        {"timeout", "4294967296"},
        {"timeout", "18446744073709551616"},
    };
    for (const auto& [member, value] : cases) {
        if (value == json_string(base64url_encode(std::string(16, '\xfb')))) {
            EXPECT_NO_THROW(parse_request_options(request_options_with(member, value)));
            continue;
        }
        const std::string text = request_options_with(member, value);
        expect_malformed([&] { parse_request_options(text); }, text);
    }

    std::string many = "[";
    for (std::size_t i = 0; i <= max_listed_credentials; ++i) {
        many += (i ? "," : "") + R"({"type":"public-key","id":")"s + id + R"("})";
    }
    expect_malformed([&] { parse_request_options(request_options_with("allowCredentials", many + "]")); },
                     "too many credentials");
    for (const std::string& text : {""s, "[]"s, "null"s, "{"s, request_options_with("rpId", R"("a.b")") + "x",
                                    R"({"challenge":")" + challenge + R"(","rpId":"a.b","x":)" +
                                        std::string(20, '[') + std::string(20, ']') + "}"}) {
        expect_malformed([&] { parse_request_options(text); }, text);
    }
    expect_malformed([&] { parse_request_options(std::string(200 * 1024, ' ') + "{}"); }, "oversized");
}

// ---- CredentialCreationOptions

// The AWS StartWebAuthnRegistration example (spec §6.1).
TEST(CreationOptions, AwsExample) {
    const std::string sub = "3c46320b-c60e-4a21-9d64-5829bfede1c4";
    const std::string options =
        R"({"authenticatorSelection":{"requireResidentKey":true,"residentKey":"required","userVerification":"preferred"},)"
        R"("challenge":")" +
        challenge + R"(","excludeCredentials":[{"id":")" + base64url_encode(cred_a) +
        R"(","type":"public-key"}],)"
        R"("pubKeyCredParams":[{"alg":-7,"type":"public-key"},{"alg":-257,"type":"public-key"}],)"
        R"("rp":{"id":"auth.example.com","name":"auth.example.com"},"timeout":60000,)"
        R"("user":{"displayName":"testuser","id":")" +
        base64url_encode(sub) + R"(","name":"testuser"}})";
    const CreationOptions parsed = parse_creation_options(options);
    EXPECT_EQ(parsed.challenge, challenge);
    EXPECT_EQ(parsed.rp_id, "auth.example.com");
    EXPECT_EQ(parsed.rp_name, "auth.example.com");
    EXPECT_EQ(parsed.user_id, sub);
    EXPECT_EQ(parsed.user_name, "testuser");
    EXPECT_EQ(parsed.display_name, "testuser");
    EXPECT_EQ(parsed.algorithms, (std::vector<int>{-7, -257}));
    EXPECT_EQ(parsed.exclude_credentials, std::vector<std::string>{cred_a});
    EXPECT_EQ(parsed.resident_key, "required");
    EXPECT_EQ(parsed.user_verification, "preferred");
    EXPECT_EQ(parsed.timeout_ms, 60000u);
}

// The shape of Amplify's creation fixture: an empty displayName; and the defaults when members are missing.
TEST(CreationOptions, AmplifyShapeAndDefaults) {
    const std::string options = R"({"rp":{"id":"localhost","name":"localhost"},"user":{"id":")" +
                                base64url_encode(cred_a.substr(0, 16)) +
                                R"(","name":"james","displayName":""},"challenge":")" + challenge +
                                R"(","pubKeyCredParams":[{"type":"public-key","alg":-7}],"hints":[],)"
                                R"("attestation":"none","attestationFormats":[]})";
    const CreationOptions parsed = parse_creation_options(options);
    EXPECT_EQ(parsed.display_name, "");
    EXPECT_EQ(parsed.user_id, cred_a.substr(0, 16));
    EXPECT_TRUE(parsed.exclude_credentials.empty());
    EXPECT_EQ(parsed.resident_key, "discouraged");
    EXPECT_EQ(parsed.user_verification, "preferred");
    EXPECT_FALSE(parsed.timeout_ms);
}

// WebAuthn L3 §5.4.4: residentKey wins; without it requireResidentKey decides.
TEST(CreationOptions, ResidentKeyFallsBackToRequireResidentKey) {
    const auto with_selection = [](const std::string& selection) {
        return R"({"rp":{"id":"a.example","name":"A"},"user":{"id":"dXNlcg","name":"u","displayName":"U"},)"
               R"("challenge":")" +
               challenge +
               R"(","pubKeyCredParams":[{"type":"public-key","alg":-7}],"authenticatorSelection":)" +
               selection + "}";
    };
    EXPECT_EQ(parse_creation_options(with_selection(R"({"requireResidentKey":true})")).resident_key,
              "required");
    EXPECT_EQ(parse_creation_options(with_selection(R"({"requireResidentKey":false})")).resident_key,
              "discouraged");
    EXPECT_EQ(
        parse_creation_options(with_selection(R"({"residentKey":"preferred","requireResidentKey":true})"))
            .resident_key,
        "preferred");
    EXPECT_EQ(parse_creation_options(with_selection(R"({"userVerification":"required"})")).user_verification,
              "required");
    for (const std::string& selection :
         {R"({"residentKey":"maybe"})"s, R"({"requireResidentKey":"yes"})"s,
          R"({"userVerification":"sometimes"})"s, R"({"authenticatorAttachment":1})"s, R"("required")"s}) {
        expect_malformed([&] { parse_creation_options(with_selection(selection)); }, selection);
    }
}

TEST(CreationOptions, RefusesWhatIsNotAsSpecified) {
    const std::map<std::string, std::string> valid = {
        {"rp", R"({"id":"auth.example.com","name":"Example"})"},
        {"user", R"({"id":"dXNlcg","name":"alice","displayName":"Alice"})"},
        {"challenge", json_string(challenge)},
        {"pubKeyCredParams", R"([{"type":"public-key","alg":-7}])"},
        {"excludeCredentials", "[]"},
    };
    ASSERT_NO_THROW(parse_creation_options(test::to_json(valid)));
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"rp", ""},
        {"rp", R"("auth.example.com")"},
        {"rp", R"({"name":"Example"})"},
        {"rp", R"({"id":"auth.example.com"})"},
        {"rp", R"({"id":"auth.example.com","name":""})"},
        {"rp", R"({"id":"AUTH","name":"Example"})"},
        {"user", ""},
        {"user", R"({"name":"alice","displayName":"Alice"})"},
        {"user", R"({"id":"","name":"alice","displayName":"Alice"})"},
        {"user", R"({"id":"dXNlcg==","name":"alice","displayName":"Alice"})"},
        {"user",
         R"({"id":")" + base64url_encode(std::string(65, 'u')) + R"(","name":"alice","displayName":"A"})"},
        {"user", R"({"id":"dXNlcg","displayName":"Alice"})"},
        {"user", R"({"id":"dXNlcg","name":"","displayName":"Alice"})"},
        {"user", R"({"id":"dXNlcg","name":"al\nice","displayName":"Alice"})"},
        {"user", R"({"id":"dXNlcg","name":"alice","displayName":"Al\u0000ice"})"},
        {"user", R"({"id":"dXNlcg","name":"alice"})"},
        {"user", R"({"id":"dXNlcg","name":")" + std::string(1025, 'a') + R"(","displayName":"A"})"},
        {"challenge", ""},
        {"challenge", json_string(base64url_encode("short"))},
        {"pubKeyCredParams", ""},
        {"pubKeyCredParams", "[]"},
        {"pubKeyCredParams", R"([{"alg":-7}])"},
        {"pubKeyCredParams", R"([{"type":"public-key"}])"},
        {"pubKeyCredParams", R"([{"type":"public-key","alg":"-7"}])"},
        {"pubKeyCredParams", R"([{"type":"public-key","alg":-7.0}])"},
        {"pubKeyCredParams", R"([{"type":"public-key","alg":4294967296}])"},
        {"pubKeyCredParams", R"([{"type":"secret","alg":-7}])"},
        {"pubKeyCredParams", R"([-7])"},
        {"excludeCredentials", R"([{"type":"public-key","id":"a+b"}])"},
        {"timeout", "-5"},
    };
    for (const auto& [member, value] : cases) {
        auto members = valid;
        if (value.empty()) {
            members.erase(member);
        } else {
            members[member] = value;
        }
        const std::string text = test::to_json(members);
        expect_malformed([&] { parse_creation_options(text); }, text);
    }
    std::string algorithms = "[";
    for (int i = 0; i < 33; ++i) algorithms += (i ? "," : "") + R"({"type":"public-key","alg":-7})"s;
    auto members = valid;
    members["pubKeyCredParams"] = algorithms + "]";
    expect_malformed([&] { parse_creation_options(test::to_json(members)); }, "too many algorithms");
    expect_malformed([&] { parse_creation_options(static_cast<json_object*>(nullptr)); }, "null");
    const Json array(json_object_new_array());
    expect_malformed([&] { parse_creation_options(array.get()); }, "array");
}

// ---- clientDataJSON

TEST(ClientDataJson, ExactBytes) {
    EXPECT_EQ(
        client_data_json(webauthn_get, "AAECAwQFBgcICQoLDA0ODw", "https://auth.example.com"),
        R"({"type":"webauthn.get","challenge":"AAECAwQFBgcICQoLDA0ODw","origin":"https://auth.example.com","crossOrigin":false})");
    EXPECT_EQ(
        client_data_json(webauthn_create, "-_-_AAAAAAAAAAAAAAAAAA", "https://localhost:8443"),
        R"({"type":"webauthn.create","challenge":"-_-_AAAAAAAAAAAAAAAAAA","origin":"https://localhost:8443","crossOrigin":false})");
}

// CCDToString (WebAuthn L3 §5.8.1.2): only '"', '\' and controls escaped, controls as lower-case \u00xx;
// '/', DEL and non-ASCII stay as they are.
TEST(ClientDataJson, EscapesAsCcdToString) {
    const std::string origin = "https://a\"b\\c/d\ne\x01\x1f\x7f\xc3\xa9\xe2\x80\xa8";
    const std::string made = client_data_json(webauthn_get, challenge, origin);
    EXPECT_EQ(made, R"({"type":"webauthn.get","challenge":")" + challenge +
                        R"(","origin":"https://a\"b\\c/d\u000ae\u0001\u001f)" + "\x7f\xc3\xa9\xe2\x80\xa8" +
                        R"(","crossOrigin":false})");
    // Any JSON parser reads the origin back unchanged.
    const Json doc = parse(made);
    EXPECT_EQ(text_at(doc.get(), {"origin"}), origin);
    EXPECT_EQ(json_object_get_boolean(at(doc.get(), {"crossOrigin"})), 0);
}

TEST(ClientDataJson, RefusesBadInput) {
    EXPECT_THROW(client_data_json("webauthn.sign", challenge, "https://a.example"), std::invalid_argument);
    EXPECT_THROW(client_data_json("", challenge, "https://a.example"), std::invalid_argument);
    EXPECT_THROW(client_data_json(webauthn_get, "", "https://a.example"), std::invalid_argument);
    EXPECT_THROW(client_data_json(webauthn_get, challenge + "=", "https://a.example"), std::invalid_argument);
    EXPECT_THROW(client_data_json(webauthn_get, "a\"b", "https://a.example"), std::invalid_argument);
    EXPECT_THROW(client_data_json(webauthn_get, std::string(200, 'A'), "https://a.example"),
                 std::invalid_argument);
    EXPECT_THROW(client_data_json(webauthn_get, challenge, ""), std::invalid_argument);
    EXPECT_THROW(client_data_json(webauthn_get, challenge, "https://\xff.example"), std::invalid_argument);
    EXPECT_THROW(client_data_json(webauthn_get, challenge, "https://" + std::string(2048, 'a')),
                 std::invalid_argument);
}

// ---- authData out of libfido2's CBOR byte string

TEST(AuthdataFromCbor, UnwrapsEveryHeadWidth) {
    const std::string short_data = test::authenticator_data("auth.example.com", test::flag_up, 7);
    ASSERT_EQ(short_data.size(), 37u);
    EXPECT_EQ(authdata_from_cbor("\x58\x25" + short_data), short_data);
    EXPECT_EQ(authdata_from_cbor(cbor_bytes(short_data)), short_data);
    const std::string longer = short_data + std::string(300, 'x');
    ASSERT_EQ(cbor_bytes(longer).substr(0, 3), "\x59\x01\x51"s);
    EXPECT_EQ(authdata_from_cbor(cbor_bytes(longer)), longer);
    const std::string largest = short_data + std::string(max_authenticator_data_bytes - 37, 'x');
    EXPECT_EQ(authdata_from_cbor(cbor_bytes(largest)), largest);
}

TEST(AuthdataFromCbor, RefusesAllElse) {
    const std::string raw = test::authenticator_data("auth.example.com", test::flag_up, 7);
    const std::string cbor = cbor_bytes(raw);
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "empty"},
        {raw, "raw authData"},
        {cbor.substr(0, cbor.size() - 1), "truncated"},
        {cbor + "\0"s, "trailing byte"},
        {"\x58"s, "head without its length"},
        {"\x59\x00"s, "head with half its length"},
        {"\x59\x00\x25"s + raw, "two-byte length where one does"},
        {"\x5a\x00\x00\x00\x25"s + raw, "four-byte length where one does"},
        {"\x5b\x00\x00\x00\x00\x00\x00\x00\x25"s + raw, "eight-byte length where one does"},
        {"\x5b\xff\xff\xff\xff\xff\xff\xff\xff"s + raw, "absurd length"},
        {"\x5f"s + cbor + "\xff", "indefinite length"},
        {"\x5c"s + raw, "reserved additional information"},
        {"\x78\x25"s + raw, "a text string"},
        {"\xa1\x01"s + cbor, "a map"},
        {cbor_bytes(raw.substr(0, 36)), "shorter than the fixed fields"},
        {cbor_bytes(std::string(max_authenticator_data_bytes + 1, 'x')), "too long"},
        {cbor_bytes(""), "empty byte string"},
    };
    for (const auto& [input, label] : cases) {
        EXPECT_THROW(authdata_from_cbor(input), std::invalid_argument) << label;
    }
}

// ---- AuthenticationResponseJSON

class AssertionJson : public ::testing::Test {
  protected:
    test::P256Key key;
    std::string cred_id = test::random_bytes(48);
    std::string client_data = client_data_json(webauthn_get, challenge, "https://auth.example.com");
    std::string auth_data = test::authenticator_data("auth.example.com", test::flag_up | test::flag_uv, 42);
    std::string signature = key.sign(auth_data + test::sha256(client_data));
    std::string user_handle = "3c46320b-c60e-4a21-9d64-5829bfede1c4";
};

TEST_F(AssertionJson, HasExactlyTheW3cMembers) {
    const std::string made =
        authentication_response_json(cred_id, client_data, auth_data, signature, user_handle);
    EXPECT_EQ(made.find('='), std::string::npos) << "base64url without padding";
    EXPECT_EQ(made.find(' '), std::string::npos) << "compact";
    const Json doc = parse(made);
    EXPECT_EQ(keys_of(doc.get()),
              (std::set<std::string>{"id", "rawId", "type", "response", "clientExtensionResults",
                                     "authenticatorAttachment"}));
    EXPECT_EQ(text_at(doc.get(), {"id"}), base64url_encode(cred_id));
    EXPECT_EQ(text_at(doc.get(), {"rawId"}), base64url_encode(cred_id));
    EXPECT_EQ(text_at(doc.get(), {"type"}), "public-key");
    EXPECT_EQ(text_at(doc.get(), {"authenticatorAttachment"}), "cross-platform");
    json_object* extensions = at(doc.get(), {"clientExtensionResults"});
    ASSERT_TRUE(extensions != nullptr && json_object_is_type(extensions, json_type_object));
    EXPECT_EQ(json_object_object_length(extensions), 0);
    json_object* response = at(doc.get(), {"response"});
    EXPECT_EQ(keys_of(response),
              (std::set<std::string>{"clientDataJSON", "authenticatorData", "signature", "userHandle"}));
    EXPECT_EQ(decoded(text_at(response, {"clientDataJSON"})), client_data);
    EXPECT_EQ(decoded(text_at(response, {"authenticatorData"})), auth_data);
    EXPECT_EQ(decoded(text_at(response, {"signature"})), signature);
    EXPECT_EQ(decoded(text_at(response, {"userHandle"})), user_handle);
}

TEST_F(AssertionJson, LeavesOutAnEmptyUserHandle) {
    const Json doc = parse(authentication_response_json(cred_id, client_data, auth_data, signature, ""));
    EXPECT_EQ(at(doc.get(), {"response", "userHandle"}), nullptr);
}

TEST_F(AssertionJson, RefusesInconsistentInput) {
    const auto refused = [&](std::string id, std::string cd, std::string ad, std::string sig,
                             std::string uh) {
        EXPECT_THROW(authentication_response_json(id, cd, ad, sig, uh), std::invalid_argument);
    };
    refused("", client_data, auth_data, signature, user_handle);
    refused(std::string(1024, 'i'), client_data, auth_data, signature, user_handle);
    refused(cred_id, client_data_json(webauthn_create, challenge, "https://auth.example.com"), auth_data,
            signature, user_handle);
    refused(cred_id, "not json", auth_data, signature, user_handle);
    refused(cred_id, R"({"type":"webauthn.get"})", auth_data, signature, user_handle);
    refused(cred_id, client_data, auth_data.substr(0, 36), signature, user_handle);
    refused(cred_id, client_data, auth_data + std::string(max_authenticator_data_bytes, 'x'), signature,
            user_handle);
    refused(cred_id, client_data,
            test::authenticator_data("auth.example.com", test::flag_up | test::flag_at, 1), signature,
            user_handle);
    refused(cred_id, client_data, auth_data, "", user_handle);
    refused(cred_id, client_data, auth_data, std::string(513, 's'), user_handle);
    refused(cred_id, client_data, auth_data, signature, std::string(65, 'u'));
    EXPECT_NO_THROW(authentication_response_json(std::string(1023, 'i'), client_data, auth_data, signature,
                                                 std::string(64, 'u')));
}

// ---- RegistrationResponseJSON

class RegistrationJson : public ::testing::Test {
  protected:
    test::P256Key key;
    std::string cred_id = test::random_bytes(64);
    std::string client_data = client_data_json(webauthn_create, challenge, "https://auth.example.com");
    std::string auth_data = test::authenticator_data(
        "auth.example.com", test::flag_up | test::flag_at, 0,
        test::attested_credential_data(std::string(16, '\0'), cred_id, key.cose_key()));
    std::string signature = key.sign(auth_data + test::sha256(client_data));
    std::string spki = "\x30\x59 stand-in for a DER SubjectPublicKeyInfo";

    std::string attestation_object(const std::string& made) const {
        const Json doc = parse(made);
        return decoded(text_at(doc.get(), {"response", "attestationObject"}));
    }
    // {"fmt": fmt, "attStmt": statement, "authData": auth_data}, written out by hand in canonical order.
    std::string expected_object(const std::string& fmt, const std::string& statement) const {
        return "\xa3\x63"s + "fmt" + cbor_head(3, fmt.size()) + fmt + "\x67" + "attStmt" + statement +
               "\x68" + "authData" + cbor_bytes(auth_data);
    }
};

TEST_F(RegistrationJson, HasExactlyTheW3cMembers) {
    const std::string made =
        registration_response_json(cred_id, client_data, "packed", auth_data, {-7, signature, ""}, spki, -7);
    EXPECT_EQ(made.find('='), std::string::npos) << "base64url without padding";
    const Json doc = parse(made);
    EXPECT_EQ(keys_of(doc.get()),
              (std::set<std::string>{"id", "rawId", "type", "response", "clientExtensionResults",
                                     "authenticatorAttachment"}));
    EXPECT_EQ(text_at(doc.get(), {"id"}), base64url_encode(cred_id));
    EXPECT_EQ(text_at(doc.get(), {"rawId"}), base64url_encode(cred_id));
    EXPECT_EQ(text_at(doc.get(), {"type"}), "public-key");
    EXPECT_EQ(text_at(doc.get(), {"authenticatorAttachment"}), "cross-platform");
    EXPECT_EQ(json_object_object_length(at(doc.get(), {"clientExtensionResults"})), 0);
    json_object* response = at(doc.get(), {"response"});
    EXPECT_EQ(keys_of(response),
              (std::set<std::string>{"clientDataJSON", "attestationObject", "transports",
                                     "publicKeyAlgorithm", "publicKey", "authenticatorData"}));
    EXPECT_EQ(decoded(text_at(response, {"clientDataJSON"})), client_data);
    EXPECT_EQ(decoded(text_at(response, {"authenticatorData"})), auth_data);
    EXPECT_EQ(decoded(text_at(response, {"publicKey"})), spki);
    EXPECT_EQ(json_object_get_int(at(response, {"publicKeyAlgorithm"})), -7);
    EXPECT_TRUE(json_object_is_type(at(response, {"publicKeyAlgorithm"}), json_type_int));
    EXPECT_STREQ(json_object_to_json_string_ext(at(response, {"transports"}), JSON_C_TO_STRING_PLAIN),
                 R"(["usb"])");
}

TEST_F(RegistrationJson, PackedSelfAttestationObjectIsCanonicalCbor) {
    const std::string made =
        registration_response_json(cred_id, client_data, "packed", auth_data, {-7, signature, ""}, spki, -7);
    const std::string statement = "\xa2\x63"s + "alg" + "\x26" + "\x63" + "sig" + cbor_bytes(signature);
    EXPECT_EQ(attestation_object(made), expected_object("packed", statement));
}

TEST_F(RegistrationJson, PackedFullAttestationCarriesTheCertificate) {
    const test::P256Key attestation_key;
    const std::string certificate = attestation_key.attestation_certificate(std::string(16, '\0'));
    const std::string made = registration_response_json(cred_id, client_data, "packed", auth_data,
                                                        {-7, signature, certificate}, spki, -7);
    const std::string statement = "\xa3\x63"s + "alg" + "\x26" + "\x63" + "sig" + cbor_bytes(signature) +
                                  "\x63" + "x5c" + "\x81" + cbor_bytes(certificate);
    EXPECT_EQ(attestation_object(made), expected_object("packed", statement));
}

TEST_F(RegistrationJson, NoneAndFidoU2f) {
    EXPECT_EQ(
        attestation_object(registration_response_json(cred_id, client_data, "none", auth_data, {}, spki, -7)),
        expected_object("none", "\xa0"));
    const std::string certificate = key.attestation_certificate(std::string(16, '\0'));
    const std::string statement =
        "\xa2\x63"s + "sig" + cbor_bytes(signature) + "\x63" + "x5c" + "\x81" + cbor_bytes(certificate);
    EXPECT_EQ(attestation_object(registration_response_json(cred_id, client_data, "fido-u2f", auth_data,
                                                            {0, signature, certificate}, spki, -7)),
              expected_object("fido-u2f", statement));
}

TEST_F(RegistrationJson, RefusesInconsistentInput) {
    const AttestationStatement packed{-7, signature, ""};
    const auto refused = [&](std::string id, std::string cd, std::string fmt, std::string ad,
                             const AttestationStatement& st, std::string pk, int alg, const char* label) {
        EXPECT_THROW(registration_response_json(id, cd, fmt, ad, st, pk, alg), std::invalid_argument)
            << label;
    };
    refused("", client_data, "packed", auth_data, packed, spki, -7, "no id");
    refused(cred_id + "x", client_data, "packed", auth_data, packed, spki, -7, "another id");
    refused(cred_id, client_data_json(webauthn_get, challenge, "https://auth.example.com"), "packed",
            auth_data, packed, spki, -7, "assertion client data");
    refused(cred_id, client_data, "tpm", auth_data, packed, spki, -7, "unsupported format");
    refused(cred_id, client_data, "none", auth_data, packed, spki, -7, "none with a signature");
    refused(cred_id, client_data, "packed", auth_data, {-7, "", ""}, spki, -7, "packed without sig");
    refused(cred_id, client_data, "packed", auth_data, {0, signature, ""}, spki, -7, "packed without alg");
    refused(cred_id, client_data, "fido-u2f", auth_data, {0, signature, ""}, spki, -7, "u2f without x5c");
    refused(cred_id, client_data, "packed", auth_data, {-7, std::string(513, 's'), ""}, spki, -7, "huge sig");
    refused(cred_id, client_data, "packed", test::authenticator_data("auth.example.com", test::flag_up, 0),
            packed, spki, -7, "no attested credential");
    std::string no_flag = auth_data;
    no_flag[32] = static_cast<char>(test::flag_up);
    refused(cred_id, client_data, "packed", no_flag, packed, spki, -7, "AT flag clear");
    refused(cred_id, client_data, "packed", auth_data.substr(0, 55 + cred_id.size()), packed, spki, -7,
            "no public key after the id");
    refused(cred_id, client_data, "packed", auth_data.substr(0, 60), packed, spki, -7, "truncated id");
    refused(cred_id, client_data, "packed", auth_data, packed, "", -7, "no public key");
    refused(cred_id, client_data, "packed", auth_data, packed, spki, 0, "no algorithm");
}

}  // namespace
}  // namespace pp::cognito
