// The layout of WebAuthn authenticator data (WebAuthn L3 §6.1), the one place both readers of it take it
// from: local keys' assertions (key_verification.cpp) and the user pool's passkeys (webauthn_json.cpp).
// rpIdHash (32) | flags (1) | signCount (4) | attested credential data | extensions, where the attested
// credential data is aaguid (16) | credentialIdLength (2) | credentialId | credentialPublicKey.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pp::webauthn {

// The flags byte.
inline constexpr std::uint8_t flag_user_present = 0x01;
inline constexpr std::uint8_t flag_user_verified = 0x04;
inline constexpr std::uint8_t flag_attested = 0x40;
inline constexpr std::uint8_t flag_extensions = 0x80;

inline constexpr std::size_t flags_offset = 32;
inline constexpr std::size_t sign_count_offset = 33;
// rpIdHash, flags and signCount: the fixed part, and the shortest authenticator data there is.
inline constexpr std::size_t min_authenticator_data_bytes = 37;
// The fixed 37 bytes, attested credential data with the largest id and an RSA key, and a few extensions
// fit; anything larger did not come from a security key.
inline constexpr std::size_t max_authenticator_data_bytes = 4096;
inline constexpr std::size_t aaguid_bytes = 16;

}  // namespace pp::webauthn
