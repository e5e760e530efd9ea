// CTAP status codes the virtual key answers with (first byte of every CTAPHID_CBOR reply). libfido2 returns
// them unchanged as FIDO_ERR_* of the same value.
#pragma once

#include <cstdint>

namespace vfido::status {

inline constexpr std::uint8_t ok = 0x00;
inline constexpr std::uint8_t invalid_command = 0x01;
inline constexpr std::uint8_t invalid_parameter = 0x02;
inline constexpr std::uint8_t invalid_length = 0x03;
inline constexpr std::uint8_t cbor_unexpected_type = 0x11;
inline constexpr std::uint8_t invalid_cbor = 0x12;
inline constexpr std::uint8_t missing_parameter = 0x14;
inline constexpr std::uint8_t credential_excluded = 0x19;
inline constexpr std::uint8_t unsupported_algorithm = 0x26;
inline constexpr std::uint8_t operation_denied = 0x27;
inline constexpr std::uint8_t unsupported_option = 0x2b;
inline constexpr std::uint8_t invalid_option = 0x2c;
inline constexpr std::uint8_t keepalive_cancel = 0x2d;
inline constexpr std::uint8_t no_credentials = 0x2e;
inline constexpr std::uint8_t not_allowed = 0x30;
inline constexpr std::uint8_t pin_invalid = 0x31;
inline constexpr std::uint8_t pin_blocked = 0x32;
inline constexpr std::uint8_t pin_auth_invalid = 0x33;
inline constexpr std::uint8_t pin_auth_blocked = 0x34;
inline constexpr std::uint8_t pin_not_set = 0x35;
inline constexpr std::uint8_t pin_required = 0x36;
inline constexpr std::uint8_t invalid_subcommand = 0x3e;
inline constexpr std::uint8_t unauthorized_permission = 0x40;
inline constexpr std::uint8_t other = 0x7f;

}  // namespace vfido::status
