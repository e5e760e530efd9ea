#include "auth_requests.hpp"

#include <algorithm>
#include <stdexcept>

#include "json_writer.hpp"

namespace pp::cognito {
namespace {

void user_context_data(JsonWriter& body, const UserContext& context) {
    if (!context.ip_address) return;
    body.open_object("UserContextData");
    body.member("IpAddress", *context.ip_address);
    body.close_object();
}

}  // namespace

pp::Secret initiate_user_auth_request(std::string_view client_id, std::string_view username,
                                      std::optional<std::string_view> preferred_challenge,
                                      const std::optional<pp::Secret>& secret_hash,
                                      const UserContext& context) {
    JsonWriter body;
    body.member("AuthFlow", "USER_AUTH");
    body.member("ClientId", client_id);
    body.open_object("AuthParameters");
    body.member("USERNAME", username);
    if (preferred_challenge) body.member("PREFERRED_CHALLENGE", *preferred_challenge);
    if (secret_hash) body.member("SECRET_HASH", secret_hash->view());
    body.close_object();
    user_context_data(body, context);
    return body.finish();
}

pp::Secret respond_to_challenge_request(std::string_view client_id, std::string_view challenge,
                                        const pp::Secret& session, std::string_view username,
                                        const std::vector<std::pair<std::string, pp::Secret>>& answers,
                                        const std::optional<pp::Secret>& secret_hash,
                                        const UserContext& context) {
    JsonWriter body;
    body.member("ClientId", client_id);
    body.member("ChallengeName", challenge);
    body.member("Session", session.view());
    body.open_object("ChallengeResponses");
    for (auto it = answers.begin(); it != answers.end(); ++it) {
        if (it->first == "USERNAME" || it->first == "SECRET_HASH") {
            throw std::invalid_argument("challenge answers must not set USERNAME or SECRET_HASH");
        }
        if (std::any_of(answers.begin(), it,
                        [&](const auto& earlier) { return earlier.first == it->first; })) {
            throw std::invalid_argument("challenge answer named twice");
        }
        body.member(it->first, it->second.view());
    }
    body.member("USERNAME", username);
    if (secret_hash) body.member("SECRET_HASH", secret_hash->view());
    body.close_object();
    user_context_data(body, context);
    return body.finish();
}

}  // namespace pp::cognito
