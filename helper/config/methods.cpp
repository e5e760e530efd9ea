// The login methods by name, and which of them a service is offered.
#include <algorithm>

#include "config.hpp"
#include "config/parser.hpp"

namespace pp::helper {

std::string_view method_name(Method m) {
    switch (m) {
        case Method::EmailOtp:
            return "email_otp";
        case Method::SmsOtp:
            return "sms_otp";
        case Method::SecurityKey:
            return "security_key";
        case Method::Passkey:
            return "passkey";
        case Method::Browser:
            return "browser";
    }
    return "unknown";
}

std::string_view method_challenge(Method m) {
    switch (m) {
        case Method::EmailOtp:
            return "EMAIL_OTP";
        case Method::SmsOtp:
            return "SMS_OTP";
        case Method::SecurityKey:
            return "";
        case Method::Passkey:
            return "WEB_AUTHN";
        case Method::Browser:
            return "";
    }
    return "";
}

bool is_otp(Method m) {
    return m == Method::EmailOtp || m == Method::SmsOtp;
}
bool is_pool_method(Method m) {
    return is_otp(m) || m == Method::Passkey;
}
bool is_browser(Method m) {
    return m == Method::Browser;
}

namespace config {

std::vector<Method> without_local_keys(std::vector<Method> ms) {
    std::erase(ms, Method::SecurityKey);
    std::erase(ms, Method::Passkey);
    return ms;
}

std::string join(const std::vector<Method>& ms) {
    std::string out;
    for (auto m : ms) out += (out.empty() ? "" : " ") + std::string(method_name(m));
    return out.empty() ? "(none)" : out;
}

}  // namespace config

const std::vector<Method>& Config::methods_for(const std::string& service, bool remote) const {
    const auto it = services.find(service);
    const MethodPolicy& p = it == services.end() ? methods : it->second;
    return remote ? p.remote : p.local;
}

bool Config::recovery_for(const std::string& service) const {
    const auto it = recovery.services.find(service);
    return it == recovery.services.end() ? recovery.enabled : it->second;
}

}  // namespace pp::helper
