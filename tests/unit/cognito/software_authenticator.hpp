// What a FIDO2 security key and libfido2 would hand the helper, made inside the tests with OpenSSL: a P-256
// credential key, authenticator data per WebAuthn L3 §6.1 with attested credential data and a COSE key, and
// an attestation certificate for "packed". The CBOR here is written by hand, apart from the library's
// encoder, so one cannot hide a mistake of the other.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace pp::cognito::test {

// authData flags (WebAuthn L3 §6.1).
inline constexpr std::uint8_t flag_up = 0x01;
inline constexpr std::uint8_t flag_uv = 0x04;
inline constexpr std::uint8_t flag_at = 0x40;

std::string sha256(std::string_view data);
std::string random_bytes(std::size_t n);

// A CBOR head with the shortest argument (RFC 8949 §3), and a byte string as libfido2 wraps authData.
std::string cbor_head(unsigned major, std::uint64_t argument);
std::string cbor_bytes(std::string_view raw);

class P256Key {
  public:
    P256Key();
    static P256Key from_pem(const std::string& private_pem);

    [[nodiscard]] std::string private_pem() const;
    // x || y, as fido_cred_pubkey_ptr gives an ES256 key.
    [[nodiscard]] std::string raw_public_key() const;
    // The COSE_Key map {1: 2, 3: -7, -1: 1, -2: x, -3: y} in CTAP2 canonical order.
    [[nodiscard]] std::string cose_key() const;
    // DER ECDSA over SHA-256(message), as an authenticator signs.
    [[nodiscard]] std::string sign(std::string_view message) const;
    // A self-signed certificate for this key that meets WebAuthn L3 §8.2.1 (packed attestation): version 3,
    // C, O, OU "Authenticator Attestation", CN, CA false, and the id-fido-gen-ce-aaguid extension. DER.
    [[nodiscard]] std::string attestation_certificate(std::string_view aaguid) const;

  private:
    struct Free {
        void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    };
    explicit P256Key(EVP_PKEY* key) : key_(key) {}
    std::unique_ptr<EVP_PKEY, Free> key_;
};

// aaguid (16) || credentialIdLength (2, big endian) || credentialId || COSE key.
std::string attested_credential_data(std::string_view aaguid, std::string_view cred_id,
                                     std::string_view cose_key);
// SHA-256(rp_id) || flags || signCount (big endian) || attested (present when flags has flag_at).
std::string authenticator_data(std::string_view rp_id, std::uint8_t flags, std::uint32_t counter,
                               std::string_view attested = {});

}  // namespace pp::cognito::test
