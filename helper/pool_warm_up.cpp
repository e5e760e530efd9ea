#include "pool_warm_up.hpp"

#include <openssl/crypto.h>
#include <syslog.h>

#include <chrono>
#include <exception>

#include "audit.hpp"

namespace pp::helper {

PoolWarmUp::~PoolWarmUp() {
    if (thread_.joinable()) thread_.join();
}

void PoolWarmUp::answered(const std::shared_ptr<const Runtime>& runtime) noexcept {
    // With pinned keys ([pool] jwks_file) there is no key set to fetch: logins never download one.
    if (!runtime || runtime->verifier->pinned()) return;
    try {
        std::call_once(once_, [&] {
            thread_ = std::thread([runtime] {
                const auto started = std::chrono::steady_clock::now();
                try {
                    runtime->verifier->prefetch(started + runtime->config.request_timeout);
                    syslog(LOG_INFO, "pool warm-up: the user pool's key set fetched in %lld ms",
                           static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      std::chrono::steady_clock::now() - started)
                                                      .count()));
                } catch (const std::exception& e) {
                    syslog(LOG_WARNING,
                           "pool warm-up failed (%s); each login fetches what it needs itself, as before",
                           loggable(e.what(), 300).c_str());
                }
                // As for a login thread (server.cpp): OpenSSL's per-thread state freed before the thread
                // ends.
                OPENSSL_thread_stop();
            });
        });
    } catch (const std::exception& e) {
        // No thread to be had: the logins do the work themselves.
        syslog(LOG_WARNING, "pool warm-up not started: %s", loggable(e.what(), 200).c_str());
    }
}

PoolWarmUp& pool_warm_up() {
    static PoolWarmUp warm_up;
    return warm_up;
}

}  // namespace pp::helper
