// The pool's side of a cold start. A socket-activated helper starts because a login is waiting, and that
// login's first request to the user pool would otherwise pay for loading libcurl, the first TLS handshake
// with the pool and the download of its key set (JWKS). Once the helper has sent its first answer to a login
// (the first prompt, which needs none of them), one background thread loads libcurl and downloads the JWKS:
// the keys are then held in memory and the HTTPS connection that brought them stays open for the next request
// (the JWKS lives on the pool's API host, cognito-idp.REGION.amazonaws.com). Nothing is written to disk.
//
// Only an optimisation: if any of it fails (the pool unreachable, a bad answer), one log line says so and the
// logins do exactly what they did without it, each loading and downloading what it needs itself.
#pragma once

#include <memory>
#include <mutex>
#include <thread>

#include "runtime.hpp"

namespace pp::helper {

class PoolWarmUp {
  public:
    PoolWarmUp() = default;
    // Waits for the warm-up to end (at most the configured request_timeout).
    ~PoolWarmUp();
    PoolWarmUp(const PoolWarmUp&) = delete;
    PoolWarmUp& operator=(const PoolWarmUp&) = delete;

    // Called after each answer a login sends; the first call with a runtime starts the warm-up, the others
    // return at once.
    void answered(const std::shared_ptr<const Runtime>& runtime) noexcept;

  private:
    std::once_flag once_;
    std::thread thread_;
};

// The helper's one warm-up, shared by every login (the server joins it when it stops).
PoolWarmUp& pool_warm_up();

}  // namespace pp::helper
