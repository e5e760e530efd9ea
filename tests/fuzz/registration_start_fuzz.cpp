// StartWebAuthnRegistration's answer (helper/cognito/webauthn_management.cpp: parse_registration_start, with
// webauthn_json.cpp's parse_creation_options). The options are kept re-serialised: that text must read back
// as the same options.
#include <string>

#include "base64.hpp"
#include "fuzz_support.hpp"
#include "service_error.hpp"
#include "webauthn_management.hpp"

using namespace pp::cognito;
using namespace pp::webauthn;

namespace {

bool same(const CreationOptions& a, const CreationOptions& b) {
    return a.challenge == b.challenge && a.rp_id == b.rp_id && a.rp_name == b.rp_name &&
           a.user_id == b.user_id && a.user_name == b.user_name && a.display_name == b.display_name &&
           a.algorithms == b.algorithms && a.exclude_credentials == b.exclude_credentials &&
           a.resident_key == b.resident_key && a.user_verification == b.user_verification &&
           a.timeout_ms == b.timeout_ms;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    RegistrationStart start;
    try {
        start = parse_registration_start(pp::fuzz::text(data, size));
    } catch (const ServiceError& e) {
        PP_FUZZ_CHECK(e.failure() == Failure::Malformed);
        return 0;
    }
    const CreationOptions& o = start.options;
    const auto challenge = pp::base64url_decode(o.challenge);
    PP_FUZZ_CHECK(challenge && challenge->size() >= 16 && challenge->size() <= 64);
    PP_FUZZ_CHECK(!o.rp_id.empty() && !o.user_id.empty() && o.user_id.size() <= max_user_handle_bytes);
    PP_FUZZ_CHECK(!o.algorithms.empty() && o.exclude_credentials.size() <= max_listed_credentials);
    // Names go to libfido2 as C strings.
    for (const std::string* name : {&o.rp_name, &o.user_name, &o.display_name})
        PP_FUZZ_CHECK(name->find('\0') == std::string::npos);
    PP_FUZZ_CHECK(same(parse_creation_options(start.options_json), o));
    (void)client_data_json(webauthn_create, o.challenge, "https://" + o.rp_id);
    return 0;
}
