#include "fake_pool.hpp"

#include <ctime>
#include <stdexcept>

namespace pp::helper::test {

using cognito::Failure;
using cognito::ServiceError;
using cognito::Step;
using cognito::test::json_string;
using cognito::test::Members;

Step FakePool::select_challenge(std::vector<std::string> available, std::string session,
                                std::string pool_user) {
    Step s;
    s.challenge = "SELECT_CHALLENGE";
    s.session = Secret(session);
    s.available = std::move(available);
    if (!pool_user.empty()) s.parameters["USERNAME"] = std::move(pool_user);
    return s;
}

Step FakePool::code_challenge(const std::string& challenge, std::string destination, std::string session,
                              std::string pool_user) {
    Step s;
    s.challenge = challenge;
    s.session = Secret(session);
    if (!destination.empty()) s.parameters["CODE_DELIVERY_DESTINATION"] = std::move(destination);
    if (!pool_user.empty()) s.parameters["USERNAME"] = std::move(pool_user);
    return s;
}

Step FakePool::passkey_challenge(const std::string& rp_id, std::vector<std::string> cred_ids,
                                 std::string session) {
    Step s;
    s.challenge = "WEB_AUTHN";
    s.session = Secret(session);
    webauthn::RequestOptions o;
    o.challenge = cognito::test::base64url(std::string(32, 'c'));
    o.rp_id = rp_id;
    o.allow_credentials = std::move(cred_ids);
    o.user_verification = "preferred";
    o.timeout_ms = 60000;
    s.request_options = std::move(o);
    return s;
}

Members FakePool::base_claims(const std::string& sub) {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    return {{"iss", json_string(kIssuer)},      {"aud", json_string(kClientId)},
            {"token_use", json_string("id")},   {"sub", json_string(sub)},
            {"auth_time", std::to_string(now)}, {"iat", std::to_string(now)},
            {"exp", std::to_string(now + 3600)}};
}

Step FakePool::signed_in(const Members& claims) const {
    Members all = base_claims("5b1e7a52-0000-4000-8000-00000000f10e");
    for (const auto& [k, v] : claims) all[k] = v;
    Step s;
    s.id_token = Secret(key_.sign(R"({"alg":"RS256","kid":"flow"})", cognito::test::to_json(all)));
    s.access_token = Secret(std::string_view("access-token-of-the-fake-pool"));
    return s;
}

ServiceError FakePool::rejected(std::string name, std::string message) {
    return ServiceError(Failure::Rejected, std::move(name), std::move(message), 400);
}

ServiceError FakePool::unreachable() {
    return ServiceError(Failure::Unreachable, "", "no route to the user pool (fake)");
}

std::string FakePool::jwks() const {
    return R"({"keys":[)" + key_.jwk("flow") + "]}";
}

Step FakePool::next(PoolCall call) {
    calls_.push_back(std::move(call));
    if (down_) throw *down_;
    if (script_.empty())
        throw std::logic_error("the fake pool was asked more than its script holds: " + calls_.back().op);
    Reply r = std::move(script_.front());
    script_.pop_front();
    if (auto* e = std::get_if<ServiceError>(&r)) throw *e;
    return std::get<Step>(std::move(r));
}

Step FakePool::initiate_user_auth(std::string_view username, std::optional<std::string_view> preferred,
                                  Deadline, const cognito::UserContext& context) {
    PoolCall c;
    c.op = "initiate";
    c.username = username;
    if (preferred) c.preferred = std::string(*preferred);
    c.ip_address = context.ip_address;
    return next(std::move(c));
}

Step FakePool::respond(std::string_view challenge, const Secret& session, std::string_view username,
                       const std::vector<std::pair<std::string, Secret>>& answers, Deadline,
                       const cognito::UserContext& context) {
    PoolCall c;
    c.op = "respond";
    c.username = username;
    c.challenge = challenge;
    c.session = session.view();
    for (const auto& [name, value] : answers) c.answers[name] = std::string(value.view());
    c.ip_address = context.ip_address;
    return next(std::move(c));
}

Secret FakePool::redeem_authorization_code(const Secret& form_body, Deadline) {
    PoolCall c;
    c.op = "redeem";
    c.form_body = form_body.view();
    Step step = next(std::move(c));
    if (!step.id_token) throw std::logic_error("fake pool: a redeem scripted without an ID token");
    return std::move(*step.id_token);
}

std::string FakePool::fetch_jwks(Deadline) {
    if (down_) throw *down_;
    return jwks();
}

// The flow of a login uses none of these; a call is a test's surprise, not a pool's answer.
cognito::OpenIdConfiguration FakePool::fetch_openid_configuration(Deadline) {
    throw std::logic_error("fake pool: fetch_openid_configuration");
}
cognito::CallbackPageCheck FakePool::fetch_callback_page(const std::string&, Deadline) {
    throw std::logic_error("fake pool: fetch_callback_page");
}
cognito::RegistrationStart FakePool::start_webauthn_registration(const Secret&, Deadline) {
    throw std::logic_error("fake pool: start_webauthn_registration");
}
void FakePool::complete_webauthn_registration(const Secret&, std::string_view, Deadline) {
    throw std::logic_error("fake pool: complete_webauthn_registration");
}
std::vector<cognito::WebAuthnCredential> FakePool::list_webauthn_credentials(const Secret&, Deadline) {
    throw std::logic_error("fake pool: list_webauthn_credentials");
}
void FakePool::delete_webauthn_credential(const Secret&, std::string_view, Deadline) {
    throw std::logic_error("fake pool: delete_webauthn_credential");
}

}  // namespace pp::helper::test
