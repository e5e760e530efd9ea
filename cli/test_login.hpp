// `pam-passwordless test-login USER [--service S] [--rhost ADDR]`: what an admin runs before putting the
// module in a PAM stack. A real login through the helper, with no PAM stack involved: the command speaks the
// module's protocol itself (client/relay, the module's own relay), and the helper serves it as any login of
// service S, telling its steps on the way.
#pragma once

#include <optional>
#include <string>

#include "wire.hpp"

namespace pp::cli {

struct TestLogin {
    std::string user;
    std::string service;  // whose policy applies: [service S], else [login]
    std::string rhost;    // empty: a local login; else a login from that remote host (remote_methods, limits)
    std::string socket;
    // A stack's unknown_user= argument (the pam-auth-update profile passes ignore); none: the helper's
    // setting.
    std::optional<wire::UnknownUser> unknown_user;
};

// Prints each step on standard output, asks the person's questions at the terminal, and returns the exit
// status: 0 the login succeeded; 1 it did not (or the caller is not root); 3 the helper cannot be reached or
// trusted; 4 USER is not a local account.
int run_test_login(const TestLogin& request);

}  // namespace pp::cli
