// A new credential at enrolment (helper/key_verification.cpp: verify_new_credential; the authData header is
// read by the helper, the attested credential data and the statement by libfido2). Input: a flag byte
// (bits 0-1: fmt none / packed / fido-u2f / the fmt field; bit 2: UV required; bits 3-4: COSE algorithm -7 /
// -8 / -257 / 0), then fields: fmt, authData, signature, x5c, credential id, public key.
#include <string>

#include "fuzz_keys.hpp"
#include "fuzz_support.hpp"
#include "key_verification.hpp"

using namespace pp::helper;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    pp::fuzz::Input in(data, size);
    const std::uint8_t flags = in.byte();
    const std::string_view fmt_field = in.field();
    static constexpr const char* formats[] = {"none", "packed", "fido-u2f"};
    static constexpr int algorithms[] = {-7, -8, -257, 0};
    AttestationInput input;
    input.fmt = (flags & 3) == 3 ? std::string(fmt_field) : formats[flags & 3];
    input.auth_data = std::string(in.field());
    input.signature = std::string(in.field());
    input.x5c = std::string(in.field());
    input.cred_id = std::string(in.field());
    input.public_key = std::string(in.field());
    input.cose_alg = algorithms[(flags >> 3) & 3];
    const AttestationPolicy policy{std::string(pp::fuzz::kRpId), pp::fuzz::client_data_hash(),
                                   (flags & 4) != 0};
    try {
        const StoredCredential c = verify_new_credential(policy, input);
        // What enrolment stores must be what the store accepts and what the key attested.
        PP_FUZZ_CHECK(c.cred_id == input.cred_id && c.public_key == input.public_key);
        PP_FUZZ_CHECK(!c.cred_id.empty() && c.cred_id.size() <= kMaxCredentialIdBytes);
        PP_FUZZ_CHECK(cose_number(c.alg) == input.cose_alg);
        PP_FUZZ_CHECK(valid_public_key(c.alg, c.public_key));
        PP_FUZZ_CHECK(!policy.require_uv || c.uv);
    } catch (const CredentialError&) {
    }
    return 0;
}
