// Verifying the ID token the user pool returns at sign-in: an RS256 JWS under a key from the pool's JWKS,
// with the claims that tie it to this pool, this app client and this moment (spec §5).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "deadline.hpp"
#include "id_claims.hpp"
#include "token_error.hpp"

namespace pp::cognito {

class JsonWebKeySet;

// Thread-safe. Caches the JWKS; a token whose key id is not in it causes a new download, at most one per
// refetch_interval, so a rotated key is picked up at once while a stream of unknown ids cannot hammer the
// service. Within the interval such a token is a ServiceError (try again), not a TokenError: a right code
// must not count as a wrong one because the pool rotated its keys a moment ago. Tokens reach the verifier
// only from the pool's own answers over verified TLS, so one download a second at most is no lever for
// anyone.
//
// With keys pinned by the admin ([pool] jwks_file), the verifier holds those alone and never downloads: a
// token under any other key is refused as one whose key the pool does not publish, so not even the network
// worker, which otherwise brings the key set, can make a token this side accepts.
class TokenVerifier {
  public:
    static constexpr std::size_t max_token_size = 16 * 1024;
    static constexpr std::int64_t refetch_interval = 1;  // seconds, on the now_unix clock

    // fetch_jwks returns the JWKS document or throws ServiceError. now_unix: Unix seconds; empty for the
    // system clock.
    TokenVerifier(std::string issuer, std::string client_id, std::function<std::string(Deadline)> fetch_jwks,
                  std::chrono::seconds max_skew = std::chrono::seconds(60),
                  std::function<std::int64_t()> now_unix = {});
    // The admin's pinned keys: a type of its own, so that no argument can be taken for a key source by
    // mistake.
    struct Pinned {
        std::shared_ptr<const JsonWebKeySet> keys;
    };
    // Verifies with `pinned.keys` only (not null, not empty): nothing is ever fetched.
    TokenVerifier(std::string issuer, std::string client_id, Pinned pinned,
                  std::chrono::seconds max_skew = std::chrono::seconds(60),
                  std::function<std::int64_t()> now_unix = {});
    ~TokenVerifier();
    TokenVerifier(const TokenVerifier&) = delete;
    TokenVerifier& operator=(const TokenVerifier&) = delete;

    // Throws TokenError for a token that must be refused, and ServiceError when the keys cannot be had (the
    // download failed, timed out or was not a key set): then nothing is known about the token.
    IdClaims verify_id_token(std::string_view jwt, Deadline deadline);
    // As above, with `audience` (not empty) instead of the pool's client id: the browser sign-in's app client
    // ([browser] client_id). Signature, iss, token_use and the times are checked alike.
    IdClaims verify_id_token(std::string_view jwt, Deadline deadline, std::string_view audience);

    // Downloads the key set ahead of the first token when none is held yet, so that the first login does not
    // wait for it (helper/pool_warm_up.cpp). It stays out of the logins' download bookkeeping: a login that
    // needs keys while a prefetch runs downloads them itself, as it would have without one, so a prefetch
    // that hangs or fails changes nothing for it. The keys are checked as any downloaded set is, when a
    // token is verified with them. Throws ServiceError as a login's download would. Does nothing with pinned
    // keys.
    void prefetch(Deadline deadline);
    [[nodiscard]] bool pinned() const noexcept { return pinned_ != nullptr; }
    // The clock tokens are checked on (Unix seconds) and the clock difference tolerated, for checks of a
    // token's times that only its caller can make (helper/login/fresh_sign_in.hpp).
    [[nodiscard]] std::int64_t now() const { return now_unix_(); }
    [[nodiscard]] std::int64_t skew() const noexcept { return skew_; }

  private:
    static std::int64_t issued_at_hint(std::string_view payload);
    std::shared_ptr<const JsonWebKeySet> keys_with(const std::string& kid, std::string_view payload,
                                                   Deadline deadline);

    const std::string issuer_;
    const std::string client_id_;
    const std::function<std::string(Deadline)> fetch_jwks_;
    const std::int64_t skew_;
    const std::function<std::int64_t()> now_unix_;
    const std::shared_ptr<const JsonWebKeySet> pinned_;  // when set, the only keys; fetch_jwks_ is empty

    // Marks the end of a download, however it ends, and wakes those waiting for it.
    class DownloadEnd {
      public:
        explicit DownloadEnd(TokenVerifier& verifier) : verifier_(verifier) {}
        ~DownloadEnd();
        DownloadEnd(const DownloadEnd&) = delete;
        DownloadEnd& operator=(const DownloadEnd&) = delete;

      private:
        TokenVerifier& verifier_;
    };

    std::mutex mutex_;  // guards the members below
    std::condition_variable download_done_;
    bool downloading_ = false;  // one download at a time; those waiting use its result
    std::shared_ptr<const JsonWebKeySet> keys_;
    std::int64_t last_fetch_ = 0;
};

}  // namespace pp::cognito
