// The helper's listening socket: accepts module connections, runs one login per connection, reloads on
// SIGHUP.
#pragma once

#include <string>

#include "unique_fd.hpp"

namespace pp::helper {

// Blocks SIGHUP, SIGTERM, SIGINT and SIGPIPE in the calling thread (and the threads it starts later); serve()
// takes them from a signalfd. Call before the socket exists, so a reload signal can never kill a helper that
// has just started.
void block_handled_signals();

// A socket handed over by systemd (LISTEN_FDS), or an invalid fd when there is none.
UniqueFd socket_from_systemd();
// Binds a SOCK_SEQPACKET socket at `path` (mode 0666: who may log in is decided per request, from
// SO_PEERCRED). The socket appears at `path` only once it is listening, so a client that sees it can connect.
UniqueFd bind_socket(const std::string& path);

// Serves until SIGTERM or SIGINT. Returns the process exit status.
int serve(UniqueFd listener, const std::string& config_path);

}  // namespace pp::helper
