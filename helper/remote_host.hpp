// Whether a login comes from another host, judged from PAM_RHOST: the one place that decides which methods
// (local keys or not) and which limits a login gets.
#pragma once

#include <string_view>

#include "config.hpp"

namespace pp::helper {

// True when `rhost` names another host. An empty rhost (console, sudo, su) is local. A loopback name or
// address (127.0.0.0/8, ::1, ::ffff:127.x.y.z, "localhost") is remote unless [login] loopback_is_local says
// otherwise: sshd reports a connection through a local port forward (ssh -L, a tunnel, a reverse proxy) as
// coming from loopback, and such a person is not sitting at the keys plugged into this machine.
bool is_remote_login(std::string_view rhost, const Config& config);

// True for the loopback names and addresses above, in any case and with an optional trailing dot on the
// name.
bool is_loopback_host(std::string_view rhost);

}  // namespace pp::helper
