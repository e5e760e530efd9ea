// A security key's assertion at login (helper/key_verification.cpp: verify_assertion, which reads the CBOR
// authData itself before libfido2 checks the signature; helper/cognito/webauthn_json.cpp: authdata_from_cbor
// for passkeys in the user pool). Input: a flag byte (bit 0: UV required, bit 1: the
// Ed25519 credential instead of the P-256 one, bit 2: the stored counter is 5 instead of 0), authData (a
// field), the signature (the rest). The credential id, the relying party and the challenge are fixed.
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_keys.hpp"
#include "fuzz_support.hpp"
#include "key_verification.hpp"
#include "webauthn_json.hpp"

using namespace pp::helper;

namespace {

StoredCredential credential(KeyAlgorithm alg, std::uint32_t counter) {
    StoredCredential c{pp::RpId(std::string(pp::fuzz::kRpId))};
    c.user = "alice";
    c.cred_id = alg == KeyAlgorithm::Es256 ? "fuzz-credential-es256" : "fuzz-credential-eddsa";
    c.alg = alg;
    c.public_key = pp::fuzz::raw_public_key(alg);
    c.nickname = "fuzz key";
    c.counter = counter;
    return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::vector<std::vector<StoredCredential>> candidates = {
        {credential(KeyAlgorithm::Es256, 0)},
        {credential(KeyAlgorithm::EdDsa, 0)},
        {credential(KeyAlgorithm::Es256, 5)},
        {credential(KeyAlgorithm::EdDsa, 5)},
    };
    pp::fuzz::Input in(data, size);
    const std::uint8_t flags = in.byte();
    const auto& enrolled = candidates[(flags >> 1) & 3];
    const AssertionPolicy policy{std::string(pp::fuzz::kRpId), pp::fuzz::client_data_hash(),
                                 (flags & 1) != 0};
    const AssertionInput input{enrolled.front().cred_id, std::string(in.field()), std::string(in.rest())};

    // The same authData on its way to the user pool instead (passkeys there): only its CBOR wrapping is read.
    try {
        const std::string raw = pp::webauthn::authdata_from_cbor(input.auth_data);
        PP_FUZZ_CHECK(raw.size() >= 37 && raw.size() <= 4096 && input.auth_data.ends_with(raw));
    } catch (const std::invalid_argument&) {
    }

    const AssertionResult r = verify_assertion(policy, input, enrolled);
    (void)verdict_text(r.verdict);
    if (r.verdict == AssertionVerdict::Ok) {
        // Only a signed, present (and, when required, verified) user with a counter that moved on passes.
        PP_FUZZ_CHECK(input.auth_data.size() >= 2 + 37);
        PP_FUZZ_CHECK(!policy.require_uv || r.uv);
        PP_FUZZ_CHECK(enrolled.front().counter == 0 ? true : r.counter > enrolled.front().counter);
    }
    return 0;
}
