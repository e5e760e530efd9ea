#include "auth_step.hpp"

#include "json_document.hpp"
#include "service_error.hpp"
#include "webauthn_json.hpp"

namespace pp::cognito {
namespace {

Step read_step(json_object* root) {
    Step step;
    step.challenge = json::string_member(root, "ChallengeName").value_or("");
    if (const auto session = json::string_member(root, "Session")) step.session = pp::Secret(*session);
    if (json_object* parameters = json::object_member(root, "ChallengeParameters")) {
        json::for_each_member(parameters, [&](std::string_view key, json_object* value) {
            step.parameters.emplace(key, json::as_string(value, "a ChallengeParameters value"));
        });
    }
    if (json_object* available = json::array_member(root, "AvailableChallenges")) {
        json::for_each_element(available, [&](json_object* value) {
            step.available.emplace_back(json::as_string(value, "an AvailableChallenges entry"));
        });
    }
    if (json_object* result = json::object_member(root, "AuthenticationResult")) {
        if (const auto token = json::string_member(result, "IdToken")) step.id_token.emplace(*token);
        if (const auto token = json::string_member(result, "AccessToken")) step.access_token.emplace(*token);
    }

    if (!step.challenge.empty()) {
        // Tokens next to a challenge would make it ambiguous whether the person is signed in.
        if (step.id_token || step.access_token) throw json::Error("answer has both a challenge and tokens");
        if (step.session.empty()) throw json::Error("challenge without a session");
    } else if (!step.id_token) {
        throw json::Error("answer has neither a challenge nor an ID token");
    }
    // The options of a WEB_AUTHN challenge are JSON inside a parameter: read here, on the side that reads
    // the network, so whoever acts on them gets them typed. A reading that fails is kept for the step that
    // needs the options, which fails as it did when it read them itself.
    if (const auto it = step.parameters.find("CREDENTIAL_REQUEST_OPTIONS"); it != step.parameters.end()) {
        try {
            step.request_options = webauthn::parse_request_options(it->second);
        } catch (const ServiceError& e) {
            step.request_options_error = e.message();
        }
        step.parameters.erase(it);
    }
    return step;
}

}  // namespace

Step parse_step(std::string_view body) {
    try {
        const json::Document doc = json::parse_object(body);
        return read_step(doc.get());
    } catch (const json::Error& e) {
        throw ServiceError(Failure::Malformed, "", e.what());
    }
}

}  // namespace pp::cognito
