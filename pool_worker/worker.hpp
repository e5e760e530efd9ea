// The network worker's work: one request of the root helper, carried out against the user pool.
#pragma once

#include <cstdint>
#include <functional>

#include "pool_protocol.hpp"

namespace pp::pool {

// Carries out one request and says what came of it, the pool's failures included (Reply::error). Thread-safe:
// the clients are kept per settings, so the TLS connections of one pool are reused across requests.
Reply carry_out(const Request& request);

// Closes the HTTPS connections kept idle longer than a minute (cognito::HttpClient::max_idle_age); the
// worker's main loop calls it once a minute.
void close_idle_connections();

// How long a connection is kept for the root side's next request after a reply (Reply::kept_for_ms).
inline constexpr std::uint32_t kKeptForMs = 30000;

// Serves one connection: reads a request, carries it out, writes the reply (saying the connection is kept),
// then waits up to kKeptForMs for the next request on it, and so on; closes when the peer hangs up, sends
// garbage or nothing. `waiting(true)` is called as the thread starts to wait for a next request, and
// `waiting(false)` as one arrives (the thread's name says which: tests wait for no request in flight).
void serve_connection(int fd, const std::function<void(bool waiting)>& waiting) noexcept;

}  // namespace pp::pool
