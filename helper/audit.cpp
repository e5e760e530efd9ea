#include "audit.hpp"

#include <syslog.h>

namespace pp::helper {

std::string loggable(std::string_view s, std::size_t max) {
    std::string out;
    for (char c : s.substr(0, max)) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u >= 0x20 && u < 0x7f && c != '"' ? c : '?');
    }
    if (s.size() > max) out += "...";
    return out.empty() ? "-" : out;
}

void audit(const AuditRecord& r) {
    syslog(LOG_AUTHPRIV | (r.outcome == wire::Outcome::Success ? LOG_NOTICE : LOG_WARNING),
           "login=%s user=\"%s\" service=\"%s\" rhost=\"%s\" tty=\"%s\" caller_uid=%u method=%s outcome=%s "
           "reason=\"%s\"",
           r.login_id.c_str(), loggable(r.user, 64).c_str(), loggable(r.service, 128).c_str(),
           loggable(r.rhost, 255).c_str(), loggable(r.tty, 64).c_str(), static_cast<unsigned>(r.caller_uid),
           loggable(r.method, 32).c_str(), wire::outcome_name(r.outcome), loggable(r.reason, 300).c_str());
}

}  // namespace pp::helper
