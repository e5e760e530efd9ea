// Base64 (RFC 4648), the one codec of the project: the standard alphabet with padding for SECRET_HASH, strict
// base64url for JWTs, WebAuthn's binary fields and the credential store, and the lenient reading that
// pam-u2f's files need. Every padding and canonical-form rule is named at the function that applies it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "secret.hpp"

namespace pp {

// §4 ('+', '/') or §5, the URL- and file-safe one ('-', '_').
enum class Base64Alphabet { Standard, Url };

// The standard alphabet with '=' padding to a whole number of quads. The result is a Secret because its one
// use is SECRET_HASH: the text never sits in a buffer that is freed unwiped.
Secret base64_encode(std::span<const std::uint8_t> bytes);

// base64url without padding: the form WebAuthn and JWTs use for binary fields, and the credential store's.
std::string base64url_encode(std::string_view bytes);

// base64url without padding, canonical only (JWS compact serialisation, WebAuthn JSON, the credential store):
// no '=', no white space, no character of another alphabet, no length that leaves a lone character (4n+1),
// and zero bits in whatever the last character leaves unused, so each value has exactly one spelling and
// decoding then encoding gives back the text. The empty text is the empty value.
std::optional<std::string> base64url_decode(std::string_view text);

// The lenient reading of pam-u2f's files (pamu2fcfg writes standard base64 through OpenSSL's encoder; the old
// U2F format wrote base64url): one or two '=' at the end are taken whether or not the length needs them, and
// not required (as OpenSSL's decoder, which pam-u2f reads with, does not require them); the unused bits of
// the last character are ignored. Still refused: a character of neither the alphabet nor a final padding, '='
// before the end or more than two, and a length that leaves a lone character once the padding is set aside.
std::optional<std::string> base64_decode_lenient(std::string_view text, Base64Alphabet alphabet);

// Whether every character is of the base64url alphabet. The command line accepts a credential id typed whole
// or as a start of it, so any length is a candidate (the empty text too: the caller decides about that).
bool is_base64url(std::string_view text);

}  // namespace pp
