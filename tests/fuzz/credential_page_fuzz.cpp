// One answer of ListWebAuthnCredentials (helper/cognito/webauthn_management.cpp:
// parse_webauthn_credential_page): what `pam-passwordless pool-list` shows and pool-delete sends back.
#include <algorithm>
#include <string>

#include "fuzz_support.hpp"
#include "json_document.hpp"
#include "service_error.hpp"
#include "webauthn_management.hpp"

using namespace pp::cognito;
using namespace pp::webauthn;

namespace {

bool has_control(const std::string& text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const WebAuthnCredentialPage page = parse_webauthn_credential_page(pp::fuzz::text(data, size));
        PP_FUZZ_CHECK(page.credentials.size() <= max_listed_credentials);
        for (const WebAuthnCredential& c : page.credentials) {
            PP_FUZZ_CHECK(!c.credential_id.empty() && !has_control(c.credential_id));
            PP_FUZZ_CHECK(!has_control(c.friendly_name) && !has_control(c.relying_party_id));
            // The id goes back unchanged in the delete request.
            const pp::Secret request =
                delete_webauthn_credential_request(pp::Secret(std::string_view("token")), c.credential_id);
            const json::Document doc = json::parse_object(request.view());
            PP_FUZZ_CHECK(json::string_member(doc.get(), "CredentialId") == c.credential_id);
        }
        if (page.next_token) {
            PP_FUZZ_CHECK(!page.next_token->empty());
            (void)list_webauthn_credentials_request(pp::Secret(std::string_view("token")), page.next_token);
        }
    } catch (const ServiceError& e) {
        PP_FUZZ_CHECK(e.failure() == Failure::Malformed);
    }
    return 0;
}
