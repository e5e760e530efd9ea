#include "cognito_client.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "auth_requests.hpp"
#include "error_response.hpp"
#include "json_document.hpp"
#include "oauth_token.hpp"
#include "secret_hash.hpp"

namespace pp::cognito {

Client::Client(Endpoint ep)
    : ep_(std::move(ep)), http_(ep_.ca_file, ep_.request_timeout, ep_.proxy, ep_.ca_pem) {}

Step Client::initiate_user_auth(std::string_view username,
                                std::optional<std::string_view> preferred_challenge, Deadline deadline,
                                const UserContext& context) {
    return initiate_user_auth(username, preferred_challenge, hash_for(username), deadline, context);
}

Step Client::initiate_user_auth(std::string_view username,
                                std::optional<std::string_view> preferred_challenge,
                                const std::optional<pp::Secret>& secret_hash, Deadline deadline,
                                const UserContext& context) {
    return call(
        "InitiateAuth",
        initiate_user_auth_request(ep_.client_id, username, preferred_challenge, secret_hash, context),
        deadline);
}

Step Client::respond(std::string_view challenge, const pp::Secret& session, std::string_view username,
                     const std::vector<std::pair<std::string, pp::Secret>>& answers, Deadline deadline,
                     const UserContext& context) {
    return respond(challenge, session, username, answers, hash_for(username), deadline, context);
}

Step Client::respond(std::string_view challenge, const pp::Secret& session, std::string_view username,
                     const std::vector<std::pair<std::string, pp::Secret>>& answers,
                     const std::optional<pp::Secret>& secret_hash, Deadline deadline,
                     const UserContext& context) {
    return call("RespondToAuthChallenge",
                respond_to_challenge_request(ep_.client_id, challenge, session, username, answers,
                                             secret_hash, context),
                deadline);
}

std::string Client::fetch_jwks(Deadline deadline) {
    return fetch_document("key set (JWKS)", ep_.jwks_url, deadline);
}

OpenIdConfiguration Client::fetch_openid_configuration(Deadline deadline) {
    const std::string body =
        fetch_document("openid-configuration", ep_.issuer + "/.well-known/openid-configuration", deadline);
    try {
        const auto doc = json::parse_object(body);
        const auto issuer = json::string_member(doc.get(), "issuer");
        if (!issuer) throw json::Error("no issuer member");
        OpenIdConfiguration config{std::string(*issuer), std::nullopt, std::nullopt, std::nullopt};
        if (const auto jwks_uri = json::string_member(doc.get(), "jwks_uri")) config.jwks_uri = *jwks_uri;
        if (const auto url = json::string_member(doc.get(), "authorization_endpoint"))
            config.authorization_endpoint = *url;
        if (const auto url = json::string_member(doc.get(), "token_endpoint")) config.token_endpoint = *url;
        return config;
    } catch (const json::Error& e) {
        throw ServiceError(Failure::Malformed, std::string(kNotOpenIdConfiguration), e.what());
    }
}

std::string Client::fetch_document(std::string_view what, const std::string& url, Deadline deadline) {
    const HttpResponse response = observed(what, [&] { return http_.get(url, deadline); });
    if (auto error = classify_response(response.status, response.error_type, response.body.view())) {
        throw *error;
    }
    return std::string(response.body.view());
}

RegistrationStart Client::start_webauthn_registration(const pp::Secret& access_token, Deadline deadline) {
    const pp::Secret answer =
        post("StartWebAuthnRegistration", access_token_request(access_token), deadline, false);
    return parse_registration_start(answer.view());
}

void Client::complete_webauthn_registration(const pp::Secret& access_token, std::string_view credential_json,
                                            Deadline deadline) {
    post("CompleteWebAuthnRegistration",
         complete_webauthn_registration_request(access_token, credential_json), deadline, true);
}

std::vector<WebAuthnCredential> Client::list_webauthn_credentials(const pp::Secret& access_token,
                                                                  Deadline deadline) {
    std::vector<WebAuthnCredential> all;
    std::optional<std::string> next_token;
    for (int page = 0; page < max_credential_pages; ++page) {
        const pp::Secret answer =
            post("ListWebAuthnCredentials", list_webauthn_credentials_request(access_token, next_token),
                 deadline, false);
        WebAuthnCredentialPage got = parse_webauthn_credential_page(answer.view());
        if (all.size() + got.credentials.size() > webauthn::max_listed_credentials) {
            throw ServiceError(Failure::Malformed, "", "too many passkeys listed");
        }
        std::move(got.credentials.begin(), got.credentials.end(), std::back_inserter(all));
        if (!got.next_token) return all;
        next_token = std::move(got.next_token);
    }
    throw ServiceError(Failure::Malformed, "", "passkey list does not end");
}

void Client::delete_webauthn_credential(const pp::Secret& access_token, std::string_view credential_id,
                                        Deadline deadline) {
    post("DeleteWebAuthnCredential", delete_webauthn_credential_request(access_token, credential_id),
         deadline, true);
}

pp::Secret Client::redeem_authorization_code(const pp::Secret& form_body, Deadline deadline) {
    // Built from the configured domain alone: nothing the request or an answer carries chooses the host.
    const std::string url = token_endpoint_url(ep_.oauth_domain);
    if (form_body.empty()) throw ServiceError(Failure::Malformed, "", "an empty token request");
    const std::vector<std::string> headers = {
        "Content-Type: application/x-www-form-urlencoded",
        "Accept: application/json",
        "Cache-Control: no-store",
    };
    const HttpResponse response =
        observed("token endpoint", [&] { return http_.post(url, headers, form_body, deadline); });
    pp::Secret id_token = parse_token_response(response.status, response.body.view());
    if (debugging()) ep_.debug("token endpoint: ID token received");
    return id_token;
}

namespace {

// pool.json as callback.js's checkPool reads it; json::Error names what is wrong, never a value.
void read_pool_json(std::string_view body, CallbackPageCheck& check) {
    const auto doc = json::parse_object(body);
    const auto domain = json::string_member(doc.get(), "domain");
    if (!domain || !callback_domain_ok(*domain))
        throw json::Error("no domain of the managed login's host[:port]");
    const auto client_id = json::string_member(doc.get(), "client_id");
    if (!client_id || !callback_client_id_ok(*client_id))
        throw json::Error("no client_id of 1 to 128 of [A-Za-z0-9_+]");
    json_object* scopes = json::array_member(doc.get(), "scopes");
    if (scopes == nullptr) throw json::Error("no scopes array");
    std::vector<std::string> read;
    bool too_many = false;
    json::for_each_element(scopes, [&](json_object* scope) {
        const std::string_view s = json::as_string(scope, "scopes");
        if (!callback_scope_ok(s))
            throw json::Error("a scope name that is not 1 to 256 of [A-Za-z0-9._:/+-]");
        if (read.size() == kMaxCallbackScopes)
            too_many = true;
        else
            read.emplace_back(s);
    });
    if (read.empty() || too_many) throw json::Error("not 1 to 16 scopes");
    if (std::find(read.begin(), read.end(), "openid") == read.end()) throw json::Error("no openid scope");
    check.domain = std::string(*domain);
    check.client_id = std::string(*client_id);
    check.scopes = std::move(read);
}

}  // namespace

CallbackPageCheck Client::fetch_callback_page(const std::string& page_url, Deadline deadline) {
    CallbackPageCheck check;
    // The transport failures of the page are thrown, as for every call; its pool.json's are told.
    const HttpResponse page = observed("callback page", [&] { return http_.get(page_url, deadline); });
    check.page_status = page.status;
    check.page_is_callback = page.status == 200 && page.body.size() <= kMaxCallbackBody &&
                             page.body.view().find(kCallbackMarker) != std::string_view::npos;
    const std::string url = callback_pool_json_url(page_url);
    try {
        const HttpResponse pool_json =
            observed("callback pool.json", [&] { return http_.get(url, deadline); });
        check.pool_json_status = pool_json.status;
        if (pool_json.status != 200) return check;
        if (pool_json.body.size() > kMaxCallbackBody) {
            check.pool_json_error = "larger than 64 KiB";
            return check;
        }
        read_pool_json(pool_json.body.view(), check);
    } catch (const ServiceError& e) {
        check.pool_json_status = 0;
        check.pool_json_error = (std::string("no answer: ") + e.what()).substr(0, 400);
    } catch (const json::Error& e) {
        check.pool_json_error = e.what();
    }
    return check;
}

Step Client::call(std::string_view operation, const pp::Secret& body, Deadline deadline) {
    const pp::Secret answer = post(operation, body, deadline, false);
    Step step = parse_step(answer.view());
    if (debugging()) {
        // Names only: ChallengeParameters may hold the (masked) destination and the WebAuthn options.
        std::string line = std::string(operation) + ": " +
                           (step.challenge.empty() ? std::string("signed in (tokens received)")
                                                   : "challenge " + step.challenge);
        if (!step.available.empty()) {
            line += ", available:";
            for (const auto& a : step.available) line += " " + a;
        }
        ep_.debug(line);
    }
    return step;
}

pp::Secret Client::post(std::string_view operation, const pp::Secret& body, Deadline deadline,
                        bool empty_body_ok) {
    const std::vector<std::string> headers = {
        "Content-Type: application/x-amz-json-1.1",
        "X-Amz-Target: AWSCognitoIdentityProviderService." + std::string(operation),
        "Cache-Control: no-store",
    };
    HttpResponse response =
        observed(operation, [&] { return http_.post(ep_.api_url, headers, body, deadline); });
    // A body that is to be read (empty_body_ok is false) is checked by its reader, a JSON parse per answer
    // instead of two; one that nobody reads is checked here.
    if (auto error = classify_response(response.status, response.error_type, response.body.view(),
                                       empty_body_ok, !empty_body_ok)) {
        throw *error;
    }
    return std::move(response.body);
}

bool Client::debugging() const {
    return ep_.debug && ep_.debugging && ep_.debugging();
}

HttpResponse Client::observed(std::string_view what, const std::function<HttpResponse()>& request) const {
    const auto start = std::chrono::steady_clock::now();
    const auto took = [&] {
        return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count()) +
               " ms";
    };
    try {
        HttpResponse response = request();
        if (debugging())
            ep_.debug(std::string(what) + ": HTTP " + std::to_string(response.status) +
                      (response.error_type.empty() ? "" : " " + response.error_type) + " in " + took() +
                      ", lane " + std::to_string(response.lane) +
                      (response.new_connection ? " (new connection)" : " (kept-alive connection)"));
        if (ep_.on_contact) {
            const bool answered = response.status < 500;
            ep_.on_contact(answered, answered ? "" : "HTTP " + std::to_string(response.status));
        }
        return response;
    } catch (const ServiceError& e) {
        if (debugging()) ep_.debug(std::string(what) + ": no answer after " + took() + ": " + e.what());
        if (ep_.on_contact) ep_.on_contact(false, e.what());
        throw;
    }
}

std::optional<pp::Secret> Client::hash_for(std::string_view username) const {
    if (!ep_.client_secret) return std::nullopt;
    return secret_hash(username, ep_.client_id, *ep_.client_secret);
}

}  // namespace pp::cognito
