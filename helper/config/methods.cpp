// The login methods by name, and which of them a service is offered.
#include <algorithm>
#include <cctype>
#include <utility>

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

// Debian's programs that authenticate under a second PAM name, the login-shell form of the same program
// with the same account at the end: `sudo -i` (/etc/pam.d/sudo-i), `su -` (su-l, whose auth includes su)
// and `runuser -l` (runuser-l). And the other ways a member of group sudo becomes root with their own
// sign-in: pkexec and polkit's other admin prompts (polkit-1) and doas. Were these names looked up alone,
// they would fall to [login], and the README's own `[service sudo] methods = security_key` would let an
// email code through `sudo -i` or `pkexec bash` to root (reviews 31a, 31b). So a section of the first name
// holds for them, unless they have one of their own.
namespace {
struct SameWay {
    std::string_view name, follows, what;
};
constexpr SameWay kSameWays[] = {{"sudo-i", "sudo", "sudo -i"},
                                 {"su-l", "su", "su -"},
                                 {"runuser-l", "runuser", "runuser -l"},
                                 {"polkit-1", "sudo", "pkexec"},
                                 {"doas", "sudo", "doas"}};

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}
}  // namespace

std::string_view service_family(std::string_view service) {
    for (const auto& w : kSameWays)
        if (service == w.name) return w.follows;
    return {};
}

std::vector<std::pair<std::string_view, std::string_view>> held_with(std::string_view service) {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    for (const auto& w : kSameWays)
        if (service == w.follows) out.emplace_back(w.name, w.what);
    return out;
}

// Linux-PAM lower-cases a service's name (pam_start, pam_set_item), and the parser lower-cases a section's
// (review 31b: a [service Sudo] looked up byte for byte held nothing).
std::string Config::section_for(const std::string& service) const {
    const std::string name = lower(service);
    if (services.count(name)) return name;
    const std::string first(service_family(name));
    return !first.empty() && services.count(first) ? first : std::string();
}

const std::vector<Method>& Config::methods_for(const std::string& service, bool remote) const {
    const std::string section = section_for(service);
    const MethodPolicy& p = section.empty() ? methods : services.at(section);
    return remote ? p.remote : p.local;
}

bool Config::recovery_for(const std::string& service) const {
    // Every [service NAME] is in `services`, so the section that holds decides here too; a section of a name
    // service_family holds without a `recovery` line of its own keeps its program's (review 31c: a
    // [service sudo-i] written before it followed [service sudo] reopened the codes sudo closed).
    const std::string section = section_for(service);
    auto it = recovery.services.find(section);
    if (it == recovery.services.end()) {
        const std::string first(service_family(section));
        if (!first.empty()) it = recovery.services.find(first);
    }
    return it == recovery.services.end() ? recovery.enabled : it->second;
}

}  // namespace pp::helper
