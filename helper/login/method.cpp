// The methods' registry (method.hpp): which class serves which method.
#include "login/method.hpp"

#include <stdexcept>
#include <utility>

namespace pp::helper {

namespace {

struct Registered {
    Method method;
    const LoginMethod& (*object)();
};

}  // namespace

// One line per method: its Method value and its class (defined in its own file, which makes its one object:
// method_object.hpp). The class is declared by its line; nothing else names it outside its file.
static constexpr Registered kRegistry[] = {
    {Method::EmailOtp, method_object<class EmailCodeMethod>},       // otp_method.cpp
    {Method::SmsOtp, method_object<class SmsCodeMethod>},           // otp_method.cpp
    {Method::SecurityKey, method_object<class SecurityKeyMethod>},  // security_key_method.cpp
    {Method::Passkey, method_object<class PoolPasskeyMethod>},      // pool_passkey_method.cpp
    {Method::Browser, method_object<class BrowserMethod>},          // browser_method.cpp
};

const LoginMethod& login_method(Method m) {
    for (const auto& r : kRegistry)
        if (r.method == m) return r.object();
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

Verdict session_expired_ending(std::string reason) {
    return {wire::Outcome::AuthErr, kSessionExpired, std::move(reason)};
}

}  // namespace pp::helper
