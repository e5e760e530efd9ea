// Administration of the running helper by root: `pam-passwordless-helper status` and `reload`, over the
// helper's own socket (wire::Type::Control). Both ends live here: the helper's answer and the command.
#pragma once

#include <sys/socket.h>

#include <string>

#include "helper_state.hpp"
#include "wire.hpp"

namespace pp::helper {

// The helper's side: answers one Control request on `fd` (status: a Status message; reload: a Result).
// Callers other than root are refused: the status names files and counts, and a reload is root's act.
// started_helper: this request's connection woke the idle socket-activated helper (the header of
// helper.conf tells admins to reload after an edit, helper running or not); both answers say so, and a reload
// then loads the file the start has just loaded, which is what the admin asked for. Never throws.
void serve_control(int fd, const ucred& peer, HelperState& state, const wire::Message& request,
                   bool started_helper) noexcept;

// The commands. Exit codes follow systemctl's: status 0 running, 3 not running, 4 unknown (refused or no
// answer); reload 0 loaded (or nothing running: the next start reads the file), 1 refused.
int status_command(const std::string& socket_path);
// config_path: the file the command checks before asking (the unit passes the helper's own), so that a
// refused file is reported without waking a socket-activated helper only to refuse it.
int reload_command(const std::string& socket_path, const std::string& config_path);

}  // namespace pp::helper
