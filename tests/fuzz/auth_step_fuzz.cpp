// A successful InitiateAuth / RespondToAuthChallenge answer from the user pool
// (helper/cognito/auth_step.cpp).
#include "auth_step.hpp"
#include "fuzz_support.hpp"
#include "service_error.hpp"

using namespace pp::cognito;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const Step step = parse_step(pp::fuzz::text(data, size));
        // Either a challenge with a session and no tokens, or signed in with an ID token.
        if (!step.challenge.empty()) {
            PP_FUZZ_CHECK(!step.session.empty() && !step.id_token && !step.access_token);
        } else {
            PP_FUZZ_CHECK(step.id_token.has_value());
        }
    } catch (const ServiceError& e) {
        PP_FUZZ_CHECK(e.failure() == Failure::Malformed);
    }
    return 0;
}
