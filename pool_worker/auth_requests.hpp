// The JSON bodies of InitiateAuth (USER_AUTH) and RespondToAuthChallenge (spec §2.2, §3.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pool_types.hpp"
#include "secret.hpp"

namespace pp::cognito {

// secret_hash is present exactly when the app client has a secret.
pp::Secret initiate_user_auth_request(std::string_view client_id, std::string_view username,
                                      std::optional<std::string_view> preferred_challenge,
                                      const std::optional<pp::Secret>& secret_hash,
                                      const UserContext& context = {});

// ChallengeResponses = answers + USERNAME (+ SECRET_HASH). An answer named USERNAME or SECRET_HASH, or named
// twice, throws std::invalid_argument: the first two are this function's to set.
pp::Secret respond_to_challenge_request(std::string_view client_id, std::string_view challenge,
                                        const pp::Secret& session, std::string_view username,
                                        const std::vector<std::pair<std::string, pp::Secret>>& answers,
                                        const std::optional<pp::Secret>& secret_hash,
                                        const UserContext& context = {});

}  // namespace pp::cognito
