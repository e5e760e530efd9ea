// Everything a login needs that is built from the configuration, swapped as one piece on reload.
#pragma once

#include <memory>
#include <string>

#include "cognito_client.hpp"
#include "config.hpp"
#include "identity_map.hpp"
#include "token_verifier.hpp"

namespace pp::helper {

struct Runtime {
    Config config;
    IdentityMap identities;
    std::unique_ptr<cognito::Client> client;
    std::unique_ptr<cognito::TokenVerifier> verifier;

    // Throws ConfigError (or std::runtime_error for the identity map) when anything is missing, unsafe or
    // invalid.
    static std::shared_ptr<const Runtime> load(const std::string& config_path);
};

}  // namespace pp::helper
