#include "person_texts.hpp"

#include "config.hpp"

namespace pp::helper {
namespace {

std::string minutes(std::int64_t seconds) {
    const std::int64_t m = (seconds + 59) / 60;
    return std::to_string(m) + (m == 1 ? " minute" : " minutes");
}

}  // namespace

std::string identifier_prompt(const std::string& user) {
    return "Email or phone for " + user + ": ";
}

std::string menu_label(Method m, const std::string& dest) {
    std::string base;
    switch (m) {
        case Method::EmailOtp:
            base = "Email code";
            break;
        case Method::SmsOtp:
            base = "Text message code";
            break;
        case Method::SecurityKey:
            base = "Security key";
            break;
        case Method::Passkey:
            base = "Passkey";
            break;
        case Method::Browser:
            base = kBrowserMenuEntry;
            break;
    }
    return dest.empty() ? base : base + " to " + dest;
}

// After a wrong code the prompt says that the code already sent stays valid: "Wrong code. Code sent to ..."
// read as if a new code had just been sent, and people waited for it.
std::string code_prompt(const std::string& where, bool after_wrong) {
    if (after_wrong) return "Wrong code. Try again. Code sent to " + where + " is still valid: ";
    return "Code sent to " + where + ": ";
}

std::string browser_link_text(const std::string& user, const std::string& host) {
    return "Open this link on your phone or computer and sign in. The page then shows a code for " + user +
           " on " + host + ".";
}

std::string code_offer_prompt(Method method, const std::string& masked) {
    const std::string where = !masked.empty()              ? masked
                              : method == Method::EmailOtp ? "your email"
                                                           : "your phone";
    return "Send a code to " + where + "? [Y/n] ";
}

std::string send_limit_text(std::int64_t wait_seconds) {
    return "Too many codes requested; try again in " + minutes(wait_seconds) + ".";
}

std::string machine_send_limit_text(std::int64_t wait_seconds) {
    return "Too many codes have been sent from this machine; try again in " + minutes(wait_seconds) + ".";
}

std::string network_ask_limit_text(std::int64_t wait_seconds) {
    return "Too many sign-ins from your network; try again in " + minutes(wait_seconds) + ".";
}

std::string machine_ask_limit_text(std::int64_t wait_seconds) {
    return "Too many sign-ins from other networks; try again in " + minutes(wait_seconds) + ".";
}

std::string backoff_text(std::int64_t wait_seconds) {
    return "Too many failed sign-ins; try again in " + minutes(wait_seconds) + ".";
}

}  // namespace pp::helper
