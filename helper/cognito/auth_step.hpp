// One answer of InitiateAuth or RespondToAuthChallenge: the next challenge, or the tokens (spec §2.3, §3.5).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "secret.hpp"

namespace pp::cognito {

struct Step {
    std::string challenge;  // ChallengeName; empty when signed in
    pp::Secret session;
    std::map<std::string, std::string> parameters;     // ChallengeParameters
    std::vector<std::string> available;                // AvailableChallenges
    std::optional<pp::Secret> id_token, access_token;  // from AuthenticationResult when signed in
};

// Reads the body of a successful answer. Throws ServiceError(Malformed) when it is not a JSON object, a
// member has the wrong type, or it is neither a challenge with a session nor a sign-in with an ID token.
Step parse_step(std::string_view body);

}  // namespace pp::cognito
