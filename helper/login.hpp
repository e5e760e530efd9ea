// One connection from a client of the helper (the PAM module or the command line): a login, or a
// credential-management request, driven by the helper over that connection.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>

#include "admission.hpp"
#include "helper_state.hpp"
#include "rate_limits.hpp"
#include "runtime.hpp"

namespace pp::helper {

struct LoginContext {
    int fd;                                  // the client's connection; owned by the caller
    ucred peer;                              // from SO_PEERCRED: who is really asking
    std::shared_ptr<const Runtime> runtime;  // null when the configuration could not be loaded
    std::string config_error;                // why, for the audit line
    RateLimits* limits;                      // shared by every connection; outlives them
    Admission* admission;                    // shared by every connection; outlives them
    HelperState* state;                      // counts, status and reloads; outlives every connection
    bool started_helper = false;             // this connection woke the idle socket-activated helper
};

// Serves the connection to its end: always one Result message (while the client is still there) and one
// audit line. Never throws.
void run_connection(const LoginContext& ctx) noexcept;

}  // namespace pp::helper
