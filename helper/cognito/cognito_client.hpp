// The user pool's sign-in API as the helper uses it: InitiateAuth (USER_AUTH), RespondToAuthChallenge and the
// JWKS download.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth_step.hpp"
#include "deadline.hpp"
#include "endpoint.hpp"
#include "http_client.hpp"
#include "secret.hpp"
#include "service_error.hpp"

namespace pp::cognito {

// Thread-safe; one instance is shared by all logins so their TLS connections are reused. Every call throws
// ServiceError when no usable answer arrives by the deadline (see Failure), and std::invalid_argument for
// text that is not valid UTF-8.
class Client {
  public:
    explicit Client(Endpoint ep);

    Step initiate_user_auth(std::string_view username, std::optional<std::string_view> preferred_challenge,
                            Deadline deadline);
    // Adds USERNAME and, when the client has a secret, SECRET_HASH to the answers.
    Step respond(std::string_view challenge, const pp::Secret& session, std::string_view username,
                 const std::vector<std::pair<std::string, pp::Secret>>& answers, Deadline deadline);
    // GET jwks_url; returns the body, which is a JSON object.
    std::string fetch_jwks(Deadline deadline);

  private:
    Step call(std::string_view operation, const pp::Secret& body, Deadline deadline);
    std::optional<pp::Secret> hash_for(std::string_view username) const;

    const Endpoint ep_;
    HttpClient http_;
};

}  // namespace pp::cognito
