// Random bytes and SHA-256: the one place the project draws randomness and hashes bytes, through OpenSSL.
// Both fail closed: when OpenSSL cannot draw or hash, they throw std::runtime_error; they never hand back
// fewer, predictable or unhashed bytes.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace pp {

using Sha256Digest = std::array<unsigned char, 32>;

// n bytes from OpenSSL's generator.
std::string random_bytes(std::size_t n);
// Fills `out` in place, for callers that keep the bytes in a buffer of their own (and wipe it).
void random_fill(std::span<unsigned char> out);

// SHA-256, fetched once: with EVP_sha256() OpenSSL 3 fetches the provider's implementation again on every
// use (a lock and a lookup in its store). The object may be shared between threads; nullptr when the
// provider has none (every use then fails).
const EVP_MD* sha256_md();
Sha256Digest sha256(std::string_view data);
// The same 32 bytes as a string.
std::string sha256_bytes(std::string_view data);

}  // namespace pp
