// Everything a login needs that is built from the configuration, swapped as one piece on reload.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config.hpp"
#include "identity_map.hpp"
#include "pool_types.hpp"
#include "token_verifier.hpp"

namespace pp::helper {

struct Runtime {
    Config config;
    IdentityMap identities;
    // The user pool, through the network worker (pool_client.hpp).
    std::unique_ptr<cognito::PoolApi> client;
    std::unique_ptr<cognito::TokenVerifier> verifier;

    // Throws ConfigError (or std::runtime_error for the identity map) when anything is missing, unsafe or
    // invalid. on_contact: told of every request to the user pool (cognito::Endpoint::on_contact).
    static std::shared_ptr<const Runtime> load(
        const std::string& config_path,
        std::function<void(bool answered, const std::string& why)> on_contact = {});
};

}  // namespace pp::helper
