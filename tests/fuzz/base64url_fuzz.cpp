// base64url as JWTs and credential ids use it, and the standard base64 of SECRET_HASH
// (helper/cognito/base64.cpp).
#include <span>

#include "base64.hpp"
#include "fuzz_support.hpp"

using namespace pp::cognito;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = pp::fuzz::text(data, size);
    // Decoding accepts only the canonical spelling, so what it accepts encodes back to the same text.
    if (const auto decoded = base64url_decode(input)) PP_FUZZ_CHECK(base64url_encode(*decoded) == input);
    // Any bytes survive the round trip.
    const std::string encoded = base64url_encode(input);
    PP_FUZZ_CHECK(encoded.find('=') == std::string::npos);
    const auto back = base64url_decode(encoded);
    PP_FUZZ_CHECK(back && *back == input);
    const pp::Secret standard = base64_encode(std::span(data, size));
    PP_FUZZ_CHECK(standard.size() == (size + 2) / 3 * 4);
    return 0;
}
