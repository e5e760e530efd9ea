// The user pool's signing keys (helper/cognito/json_web_key_set.cpp).
#include <json-c/json.h>

#include <string>

#include "fuzz_support.hpp"
#include "json_document.hpp"
#include "json_web_key_set.hpp"

using namespace pp::cognito;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = pp::fuzz::text(data, size);
    try {
        const JsonWebKeySet set = JsonWebKeySet::parse(text);
        PP_FUZZ_CHECK(set.find("") == nullptr);
        // Every kid in the document is either a usable RSA key of 2048..8192 bits or absent.
        const json::Document doc = json::parse_object(text);
        std::size_t found = 0;
        json::for_each_element(json::array_member(doc.get(), "keys"), [&](json_object* entry) {
            if (!json_object_is_type(entry, json_type_object)) return;
            json_object* kid = nullptr;
            if (!json_object_object_get_ex(entry, "kid", &kid) || !json_object_is_type(kid, json_type_string))
                return;
            if (EVP_PKEY* key = set.find(json::as_string(kid, "kid"))) {
                PP_FUZZ_CHECK(EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA);
                PP_FUZZ_CHECK(EVP_PKEY_get_bits(key) >= 2048 && EVP_PKEY_get_bits(key) <= 8192);
                ++found;
            }
        });
        PP_FUZZ_CHECK(set.size() <= found);
    } catch (const json::Error&) {
    }
    return 0;
}
