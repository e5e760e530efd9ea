// The network worker's work: one request of the root helper, carried out against the user pool.
#pragma once

#include "pool_protocol.hpp"

namespace pp::pool {

// Carries out one request and says what came of it, the pool's failures included (Reply::error). Thread-safe:
// the clients are kept per settings, so the TLS connections of one pool are reused across requests.
Reply carry_out(const Request& request);

// Serves one connection: reads a request, carries it out, writes the reply, closes. A peer that sends
// garbage or nothing gets the connection closed; nothing else happens.
void serve_connection(int fd) noexcept;

}  // namespace pp::pool
