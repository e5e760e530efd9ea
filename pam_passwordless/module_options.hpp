// The arguments an admin writes after pam_passwordless.so in a PAM stack.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pp::module {

struct Options {
    std::string socket_path = "/run/pam_passwordless/helper.sock";
    // The longest the module waits for any one answer from the helper; the helper bounds its own steps.
    std::chrono::milliseconds helper_timeout{120000};
    bool debug = false;
};

// Returns nullopt and fills `error` for an unknown or malformed argument: the module then fails closed.
std::optional<Options> parse_options(int argc, const char** argv, std::string& error);

}  // namespace pp::module
