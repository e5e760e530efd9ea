// SECRET_HASH, which proves knowledge of the app client's secret on every sign-in call (spec §4).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "secret.hpp"

namespace pp::cognito {

// Base64(HMAC-SHA256(key = client secret, message = username || client id)), standard alphabet with padding.
// username must be the one sent in the same request.
pp::Secret secret_hash(std::string_view username, std::string_view client_id,
                       const pp::Secret& client_secret);
// The raw 32 bytes of HMAC-SHA256(key, message), from the one MAC template the helper sets up; throws
// std::runtime_error when OpenSSL fails, std::invalid_argument for a key longer than INT_MAX.
pp::Secret hmac_sha256(const pp::Secret& key, std::string_view message);

// HMAC-SHA256 under one key, for many short messages: the context is keyed once and re-initialised for each
// message (some 0.2 µs), where hmac_sha256 keys a fresh one every time (0.7 µs in a loop, some 2 µs between
// other work). It holds the key (wiped when it goes) and is not shared between threads.
class KeyedHmac {
  public:
    explicit KeyedHmac(std::string_view key);
    ~KeyedHmac();
    KeyedHmac(const KeyedHmac&) = delete;
    KeyedHmac& operator=(const KeyedHmac&) = delete;

    [[nodiscard]] bool keyed_with(std::string_view key) const noexcept { return key_.view() == key; }
    // The MAC of the parts one after the other, as of their concatenation. Throws std::runtime_error when
    // OpenSSL fails.
    [[nodiscard]] std::array<std::uint8_t, 32> of(std::initializer_list<std::string_view> parts);

  private:
    pp::Secret key_;
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

}  // namespace pp::cognito
