// The one base64 codec (common/base64.cpp): base64url as JWTs, WebAuthn and the credential store use it, the
// standard base64 of SECRET_HASH, and the lenient reading of pam-u2f's files.
#include <span>

#include "base64.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = pp::fuzz::text(data, size);
    // Decoding accepts only the canonical spelling, so what it accepts encodes back to the same text.
    if (const auto decoded = pp::base64url_decode(input)) {
        PP_FUZZ_CHECK(pp::base64url_encode(*decoded) == input);
        PP_FUZZ_CHECK(pp::is_base64url(input));
        // What the strict reading takes, the lenient one reads alike.
        PP_FUZZ_CHECK(pp::base64_decode_lenient(input, pp::Base64Alphabet::Url) == decoded);
    }
    // Any bytes survive the round trip.
    const std::string encoded = pp::base64url_encode(input);
    PP_FUZZ_CHECK(encoded.find('=') == std::string::npos);
    const auto back = pp::base64url_decode(encoded);
    PP_FUZZ_CHECK(back && *back == input);
    const pp::Secret standard = pp::base64_encode(std::span(data, size));
    PP_FUZZ_CHECK(standard.size() == (size + 2) / 3 * 4);
    const auto lenient = pp::base64_decode_lenient(standard.view(), pp::Base64Alphabet::Standard);
    PP_FUZZ_CHECK(lenient && *lenient == input);
    // The lenient reading of arbitrary text never yields more bytes than its characters carry.
    for (const auto alphabet : {pp::Base64Alphabet::Standard, pp::Base64Alphabet::Url})
        if (const auto read = pp::base64_decode_lenient(input, alphabet))
            PP_FUZZ_CHECK(read->size() * 4 <= size * 3);
    return 0;
}
