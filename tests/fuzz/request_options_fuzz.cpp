// The WEB_AUTHN challenge's CREDENTIAL_REQUEST_OPTIONS (helper/cognito/webauthn_json.cpp:
// parse_request_options), then the clientDataJSON the helper builds from what it accepted (client_data_json),
// read back.
#include <string>

#include "base64.hpp"
#include "fuzz_support.hpp"
#include "json_document.hpp"
#include "service_error.hpp"
#include "webauthn_json.hpp"

using namespace pp::cognito;
using namespace pp::webauthn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    RequestOptions options;
    try {
        options = parse_request_options(pp::fuzz::text(data, size));
    } catch (const ServiceError& e) {
        PP_FUZZ_CHECK(e.failure() == Failure::Malformed);
        return 0;
    }
    const auto challenge = pp::base64url_decode(options.challenge);
    PP_FUZZ_CHECK(challenge && challenge->size() >= 16 && challenge->size() <= 64);
    PP_FUZZ_CHECK(!options.rp_id.empty());
    PP_FUZZ_CHECK(options.allow_credentials.size() <= max_listed_credentials);
    for (const std::string& id : options.allow_credentials)
        PP_FUZZ_CHECK(!id.empty() && id.size() <= max_credential_id_bytes);
    PP_FUZZ_CHECK(options.user_verification == "required" || options.user_verification == "preferred" ||
                  options.user_verification == "discouraged");

    // Whatever challenge the parser accepts, the writer takes, and the key signs what it says.
    const std::string origin = "https://" + options.rp_id;
    const std::string client_data = client_data_json(webauthn_get, options.challenge, origin);
    const json::Document doc = json::parse_object(client_data);
    PP_FUZZ_CHECK(json::string_member(doc.get(), "type") == webauthn_get);
    PP_FUZZ_CHECK(json::string_member(doc.get(), "challenge") == options.challenge);
    PP_FUZZ_CHECK(json::string_member(doc.get(), "origin") == origin);
    return 0;
}
