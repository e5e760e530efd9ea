// The ID token at sign-in (helper/cognito/token_verifier.cpp): the token string is fuzzed, the key set and
// the clock are fixed (fuzz_keys.cpp), so seeds signed with the fixed key reach the claim checks and every
// run of an input gives the same answer.
#include <chrono>
#include <memory>

#include "fuzz_keys.hpp"
#include "fuzz_support.hpp"
#include "service_error.hpp"
#include "token_verifier.hpp"

using namespace pp::cognito;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // One verifier for the whole run, as the helper keeps one: its key set is read at the first token.
    static TokenVerifier verifier(
        std::string(pp::fuzz::kIssuer), std::string(pp::fuzz::kClientId),
        [](pp::Deadline) { return pp::fuzz::jwks(); }, std::chrono::seconds(60),
        [] { return pp::fuzz::kNow; });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    try {
        const IdClaims claims = verifier.verify_id_token(pp::fuzz::text(data, size), deadline);
        PP_FUZZ_CHECK(claims.issuer == pp::fuzz::kIssuer);
        PP_FUZZ_CHECK(claims.audience == pp::fuzz::kClientId);
        PP_FUZZ_CHECK(claims.token_use == "id" && !claims.sub.empty());
        PP_FUZZ_CHECK(claims.exp > pp::fuzz::kNow - 60 && claims.iat <= pp::fuzz::kNow + 60);
    } catch (const TokenError&) {
    } catch (const ServiceError& e) {
        // A key id not in the set while the set is fresh (the clock stands still here): "try again", never
        // a verdict on the token. Any other ServiceError (the fixed key set could not be had) fails the run.
        PP_FUZZ_CHECK(e.failure() == Failure::ServerError);
    }
    return 0;
}
