// One login, driven by the helper over the module's connection: prompts, the user pool, the verdict.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "audit.hpp"
#include "cognito_client.hpp"
#include "identifiers.hpp"
#include "runtime.hpp"
#include "wire.hpp"

namespace pp::helper {

struct LoginContext {
    int fd;                                  // the module's connection; owned by the caller
    ucred peer;                              // from SO_PEERCRED: who is really asking
    std::shared_ptr<const Runtime> runtime;  // null when the configuration could not be loaded
    std::string config_error;                // why, for the audit line
};

// Runs the whole login and always ends it with one Result message (when the module is still there) and one
// audit line. Never throws.
void run_login(const LoginContext& ctx) noexcept;

}  // namespace pp::helper
