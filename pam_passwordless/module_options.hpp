// The arguments an admin writes after pam_passwordless.so in a PAM stack.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "defaults.hpp"
#include "wire.hpp"

namespace pp::module {

struct Options {
    std::string socket_path = protocol::kSocketPath;
    // The longest the module waits for any one answer from the helper; the helper bounds its own steps.
    std::chrono::milliseconds helper_timeout{protocol::kClientWait};
    bool debug = false;
    // unknown_user=ignore|fail: what this stack wants for a user without an identity or key, sent in Begin;
    // absent, the helper's unknown_user setting holds. Only the stack knows whether a password follows.
    std::optional<wire::UnknownUser> unknown_user;
};

// Returns nullopt and fills `error` for an unknown or malformed argument: the module then fails closed.
std::optional<Options> parse_options(int argc, const char** argv, std::string& error);

}  // namespace pp::module
