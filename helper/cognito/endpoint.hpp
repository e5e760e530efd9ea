// Where and as whom the helper talks to the user pool.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "secret.hpp"

namespace pp::cognito {

struct Endpoint {
    std::string
        api_url;  // POST target, e.g. "https://cognito-idp.eu-west-1.amazonaws.com/" or a test override
    std::string jwks_url;
    std::string issuer;  // exact expected "iss"
    std::string client_id;
    std::optional<pp::Secret> client_secret;
    std::string ca_file;  // empty: system trust store. Peer and host verification are ALWAYS on.
    std::chrono::milliseconds request_timeout{10000};
};

}  // namespace pp::cognito
