// The one reader of a CBOR byte string (RFC 8949 §3.1, major type 2): how libfido2 wraps the authenticator
// data it hands out, read both where the helper checks what a local key signed (key_verification) and where
// it passes a key's answer on to the user pool (webauthn_json).
#pragma once

#include <string_view>

namespace pp::webauthn::cbor {

// Whether a length written in more bytes than it needs is taken. Answers for the user pool take only the
// shortest form (one value, one encoding, as libfido2 writes it); the local checks take any definite length,
// as they always have, and then hold the content itself to account.
enum class LengthForm { Any, Shortest };

struct ByteString {
    std::string_view content;       // the bytes inside, when problem is nullptr
    const char* problem = nullptr;  // else what is wrong, in words that follow the caller's subject
};

// The content of the byte string that is all of `cbor`: a definite length that covers exactly the rest of
// the input (a truncated or padded blob is not what the key sent). Indefinite lengths and the reserved
// values are refused, as libfido2 refuses them.
ByteString read_byte_string(std::string_view cbor, LengthForm form);

}  // namespace pp::webauthn::cbor
