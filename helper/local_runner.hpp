// Who runs a login at this machine: the person whose budget of failures (rate_limits.hpp) and whose fair
// share of the local logins in flight (admission.hpp) it counts on.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace pp::helper {

// The runner of a root caller's local login, from its Begin: `real_uid`, the real uid of the process the
// module runs in, and `ruser`, its PAM_RUSER.
//
// A real uid other than 0 is a setuid program's (su, chsh, chfn, passwd, polkit-agent-helper-1) and names
// who started it, whatever PAM_RUSER says: polkit's helper sets PAM_RUSER to the user to authenticate, not to
// its caller, so it was PAM_RUSER that let anyone spend that user's own budget. The runner is then that
// account's name, or "uid:N" where the uid has no name (or one longer than a budget key takes, or the lookup
// failed), which no user name can equal (':' is outside valid_local_user), so it is never the owner's own.
//
// Real uid 0 (login, sshd, root's own su, and a setuid program that made its real uid root before it ran
// PAM) leaves today's rule: PAM_RUSER, as such a program names the invoking user; empty when it names none
// (the console: the login is the PAM user's own). A Begin from a module that sends no real uid reads as 0.
//
// Only a root caller's login asks: a caller that is not root may authenticate only itself, and its Begin
// says whatever that caller wants.
std::string local_runner(std::uint32_t real_uid, const std::string& ruser);

}  // namespace pp::helper
