// The methods' registry (method.hpp): which class serves which method.
#include "login/method.hpp"

#include <stdexcept>
#include <utility>

namespace pp::helper {

const LoginMethod& login_method(Method m) {
    switch (m) {
        case Method::EmailOtp:
        case Method::SmsOtp:
            return code_method(m);
        case Method::SecurityKey:
            return security_key_method();
        case Method::Passkey:
            return pool_passkey_method();
        case Method::Browser:
            return browser_method();
    }
    throw std::logic_error("no login method for this value");
}

Proof answered(std::optional<Proof> proof) {
    if (proof) return std::move(*proof);
    return Verdict{wire::Outcome::AuthErr, kSignInFailed,
                   std::string("internal error: ") + "the method asked nothing"};
}

Verdict unknown_ending(const Verdict& real, const std::string& reason) {
    return {real.outcome(), real.person_text(), reason, real.summarised()};
}

}  // namespace pp::helper
