// The cryptography a FIDO2 authenticator needs, on OpenSSL 3. Failures of OpenSSL itself throw
// std::runtime_error (the authenticator answers CTAP1_ERR_OTHER); bad input from the host returns nullopt.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <optional>

#include "bytes.hpp"

namespace vfido::crypto {

struct EvpPkeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

Bytes sha256(ByteView data);
Bytes hmac_sha256(ByteView key, ByteView data);
Bytes random_bytes(std::size_t count);

// Constant-time comparison; different lengths compare unequal.
bool equal(ByteView a, ByteView b);

// PIN protocol one's cipher: AES-256-CBC with an all-zero IV and no padding. nullopt when the input is not a
// whole number of blocks.
std::optional<Bytes> aes256_cbc_zero_iv(ByteView key, ByteView data, bool encrypt);

// AES-256-GCM with a 16-byte tag appended to the ciphertext.
Bytes aes256_gcm_seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext);
std::optional<Bytes> aes256_gcm_open(ByteView key, ByteView nonce, ByteView aad, ByteView sealed);

enum class Algorithm { es256, eddsa };

// A credential's key pair. The private part round-trips through 32 raw bytes so that a credential id can
// carry it.
class SigningKey {
  public:
    static SigningKey generate(Algorithm algorithm);
    static std::optional<SigningKey> from_private(Algorithm algorithm, ByteView raw);

    [[nodiscard]] Algorithm algorithm() const { return algorithm_; }
    [[nodiscard]] Bytes private_raw() const;
    // ES256: x || y (64 bytes); EdDSA: the 32-byte Ed25519 public key.
    [[nodiscard]] Bytes public_raw() const;
    // ES256: DER ECDSA signature over SHA-256(message); EdDSA: the 64-byte Ed25519 signature.
    [[nodiscard]] Bytes sign(ByteView message) const;

  private:
    SigningKey(Algorithm algorithm, EvpPkeyPtr key) : algorithm_(algorithm), key_(std::move(key)) {}
    Algorithm algorithm_;
    EvpPkeyPtr key_;
};

// The authenticator's P-256 key-agreement key of PIN protocol one.
class EcdhKey {
  public:
    static EcdhKey generate();
    [[nodiscard]] Bytes public_x() const;
    [[nodiscard]] Bytes public_y() const;
    // The x coordinate of the shared point; nullopt when the peer's point is not on the curve.
    [[nodiscard]] std::optional<Bytes> shared_x(ByteView peer_x, ByteView peer_y) const;

  private:
    explicit EcdhKey(EvpPkeyPtr key) : key_(std::move(key)) {}
    EvpPkeyPtr key_;
};

}  // namespace vfido::crypto
