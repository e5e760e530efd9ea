#include "cognito_client.hpp"

#include "auth_requests.hpp"
#include "error_response.hpp"
#include "secret_hash.hpp"

namespace pp::cognito {

Client::Client(Endpoint ep) : ep_(std::move(ep)), http_(ep_.ca_file, ep_.request_timeout) {}

Step Client::initiate_user_auth(std::string_view username,
                                std::optional<std::string_view> preferred_challenge, Deadline deadline) {
    return call("InitiateAuth",
                initiate_user_auth_request(ep_.client_id, username, preferred_challenge, hash_for(username)),
                deadline);
}

Step Client::respond(std::string_view challenge, const pp::Secret& session, std::string_view username,
                     const std::vector<std::pair<std::string, pp::Secret>>& answers, Deadline deadline) {
    return call("RespondToAuthChallenge",
                respond_to_challenge_request(ep_.client_id, challenge, session, username, answers,
                                             hash_for(username)),
                deadline);
}

std::string Client::fetch_jwks(Deadline deadline) {
    const HttpResponse response = http_.get(ep_.jwks_url, deadline);
    if (auto error = classify_response(response.status, response.error_type, response.body.view())) {
        throw *error;
    }
    return std::string(response.body.view());
}

Step Client::call(std::string_view operation, const pp::Secret& body, Deadline deadline) {
    const std::vector<std::string> headers = {
        "Content-Type: application/x-amz-json-1.1",
        "X-Amz-Target: AWSCognitoIdentityProviderService." + std::string(operation),
        "Cache-Control: no-store",
    };
    const HttpResponse response = http_.post(ep_.api_url, headers, body, deadline);
    if (auto error = classify_response(response.status, response.error_type, response.body.view())) {
        throw *error;
    }
    return parse_step(response.body.view());
}

std::optional<pp::Secret> Client::hash_for(std::string_view username) const {
    if (!ep_.client_secret) return std::nullopt;
    return secret_hash(username, ep_.client_id, *ep_.client_secret);
}

}  // namespace pp::cognito
