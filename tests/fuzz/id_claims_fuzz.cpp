// The claims of a verified ID token (helper/cognito/id_claims.cpp): the decoded payload, fuzzed directly,
// since few fuzzed tokens would carry a valid signature.
#include "fuzz_keys.hpp"
#include "fuzz_support.hpp"
#include "id_claims.hpp"
#include "token_error.hpp"

using namespace pp::cognito;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ClaimRules rules{
        .issuer = pp::fuzz::kIssuer, .client_id = pp::fuzz::kClientId, .now = pp::fuzz::kNow, .skew = 60};
    try {
        const IdClaims claims = check_id_claims(pp::fuzz::text(data, size), rules);
        PP_FUZZ_CHECK(claims.issuer == rules.issuer && claims.audience == rules.client_id);
        PP_FUZZ_CHECK(claims.token_use == "id" && !claims.sub.empty());
        PP_FUZZ_CHECK(claims.exp > rules.now - rules.skew && claims.iat <= rules.now + rules.skew);
        PP_FUZZ_CHECK(claims.strings.count("iss") == 1 && claims.strings.count("sub") == 1);
    } catch (const TokenError&) {
    }
    return 0;
}
