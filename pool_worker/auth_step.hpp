// Reading one answer of InitiateAuth or RespondToAuthChallenge (spec §2.3, §3.5) into a Step.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pool_types.hpp"

namespace pp::cognito {

// Reads the body of a successful answer. Throws ServiceError(Malformed) when it is not a JSON object, a
// member has the wrong type, or it is neither a challenge with a session nor a sign-in with an ID token. A
// CREDENTIAL_REQUEST_OPTIONS parameter is read into request_options (or request_options_error) and taken out
// of the parameters.
Step parse_step(std::string_view body);

}  // namespace pp::cognito
