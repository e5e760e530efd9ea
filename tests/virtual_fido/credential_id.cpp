#include "credential_id.hpp"

#include <array>

namespace vfido {
namespace {

// Deliberately public: a virtual test key protects nothing. Anyone with this file can forge its credentials,
// which is one more reason the library must never be loaded outside tests.
constexpr std::array<std::uint8_t, 32> test_secret = {
    0x70, 0x61, 0x6d, 0x5f, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x6c, 0x65, 0x73, 0x73,
    0x20, 0x76, 0x69, 0x72, 0x74, 0x75, 0x61, 0x6c, 0x20, 0x6b, 0x65, 0x79, 0x20, 0x76, 0x31, 0x00};

// The first byte names the layout, so a future change cannot misread old ids; it is also the AEAD's AAD.
constexpr std::uint8_t format_v1 = 0x01;
constexpr std::size_t nonce_size = 12;
constexpr std::size_t rp_id_hash_size = 32;
constexpr std::size_t private_key_size = 32;

Bytes wrapping_key(unsigned key_index) {
    Bytes label;
    append(label, as_bytes("pp_virtual_fido credential wrapping key "));
    label.push_back(static_cast<std::uint8_t>(key_index));
    return crypto::hmac_sha256(test_secret, label);
}

std::uint8_t algorithm_tag(crypto::Algorithm algorithm) {
    return algorithm == crypto::Algorithm::es256 ? 1 : 2;
}

}  // namespace

Bytes wrap_credential(unsigned key_index, const CredentialSecret& secret) {
    // Layout of the sealed plaintext: algorithm | rpIdHash | private key | user handle length | user handle.
    Bytes plaintext{algorithm_tag(secret.algorithm)};
    append(plaintext, secret.rp_id_hash);
    append(plaintext, secret.private_key);
    plaintext.push_back(static_cast<std::uint8_t>(secret.user_id.size()));
    append(plaintext, secret.user_id);

    const Bytes nonce = crypto::random_bytes(nonce_size);
    const std::array<std::uint8_t, 1> aad{format_v1};
    const Bytes sealed = crypto::aes256_gcm_seal(wrapping_key(key_index), nonce, aad, plaintext);
    Bytes id;
    id.reserve(1 + nonce.size() + sealed.size());
    id.push_back(format_v1);
    append(id, nonce);
    append(id, sealed);
    return id;
}

std::optional<CredentialSecret> unwrap_credential(unsigned key_index, ByteView id) {
    if (id.size() < 1 + nonce_size || id[0] != format_v1) return std::nullopt;
    const std::array<std::uint8_t, 1> aad{format_v1};
    const auto plaintext = crypto::aes256_gcm_open(wrapping_key(key_index), id.subspan(1, nonce_size), aad,
                                                   id.subspan(1 + nonce_size));
    constexpr std::size_t fixed = 1 + rp_id_hash_size + private_key_size + 1;
    if (!plaintext || plaintext->size() < fixed) return std::nullopt;
    const ByteView text(*plaintext);
    if (text[0] != 1 && text[0] != 2) return std::nullopt;
    const std::size_t user_size = text[fixed - 1];
    if (text.size() != fixed + user_size) return std::nullopt;

    CredentialSecret secret;
    secret.algorithm = text[0] == 1 ? crypto::Algorithm::es256 : crypto::Algorithm::eddsa;
    const auto rp = text.subspan(1, rp_id_hash_size);
    const auto key = text.subspan(1 + rp_id_hash_size, private_key_size);
    const auto user = text.subspan(fixed, user_size);
    secret.rp_id_hash.assign(rp.begin(), rp.end());
    secret.private_key.assign(key.begin(), key.end());
    secret.user_id.assign(user.begin(), user.end());
    return secret;
}

}  // namespace vfido
