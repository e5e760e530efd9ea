// What a security key would produce, made inside the tests with OpenSSL: keys, authData, signatures and an
// attestation certificate. Nothing comes from a real key or from another project.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "credential.hpp"

namespace pp::helper::test {

// authData flags.
inline constexpr std::uint8_t kUp = 0x01;
inline constexpr std::uint8_t kUv = 0x04;
inline constexpr std::uint8_t kAt = 0x40;
inline constexpr std::uint8_t kEd = 0x80;

std::string sha256(std::string_view data);
std::string random_bytes(std::size_t n);
// Standard base64 with padding, as pamu2fcfg writes it, and base64url without, as old U2F lines hold it.
std::string base64(std::string_view bytes);
std::string base64url(std::string_view bytes);
std::string hex(std::string_view bytes);

class TestKey {
  public:
    static TestKey p256();
    static TestKey ed25519();

    [[nodiscard]] KeyAlgorithm alg() const noexcept { return alg_; }
    [[nodiscard]] int cose() const noexcept { return cose_number(alg_); }
    // As libfido2's fido_cred_pubkey_ptr gives it: x||y for P-256, the 32-byte point for Ed25519.
    [[nodiscard]] std::string public_key() const;
    // The COSE_Key map an authenticator puts in the attested credential data.
    [[nodiscard]] std::string cose_key() const;
    // ES256: DER ECDSA over SHA-256(message); EdDSA: the 64-byte signature of the message.
    [[nodiscard]] std::string sign(std::string_view message) const;
    // A self-signed X.509 certificate for this key, DER.
    [[nodiscard]] std::string self_signed_certificate() const;

  private:
    struct Free {
        void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    };
    TestKey(KeyAlgorithm alg, EVP_PKEY* key) : alg_(alg), key_(key, Free{}) {}
    KeyAlgorithm alg_;
    std::shared_ptr<EVP_PKEY> key_;
};

// A definite-length CBOR byte string holding `raw`, as libfido2 hands authData over.
std::string cbor_bytes(std::string_view raw);
// rpIdHash || flags || signCount, followed by `rest` (attested credential data, extensions).
std::string raw_auth_data(std::string_view rp_id, std::uint8_t flags, std::uint32_t counter,
                          std::string_view rest = {});
// aaguid (zeros) || length || credential id || COSE key.
std::string attested_credential(std::string_view cred_id, const TestKey& key);

}  // namespace pp::helper::test
