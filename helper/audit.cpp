#include "audit.hpp"

#include <syslog.h>

namespace pp::helper {

std::string audit_line(const AuditRecord& r) {
    return "login=" + r.login_id + " user=\"" + loggable(r.user, 64) + "\" service=\"" +
           loggable(r.service, 128) + "\" rhost=\"" + loggable(r.rhost, 255) + "\" tty=\"" +
           loggable(r.tty, 64) + "\"" + (r.ruser.empty() ? "" : " ruser=\"" + loggable(r.ruser, 64) + "\"") +
           (r.real_uid == 0 ? "" : " ruid=" + std::to_string(r.real_uid)) +
           " caller_uid=" + std::to_string(r.caller_uid) + " method=" + loggable(r.method, 32) +
           " outcome=" + wire::outcome_name(r.outcome) + " reason=\"" + loggable(r.reason, 300) + "\"";
}

void audit(const AuditRecord& r) {
    syslog(LOG_AUTHPRIV | (r.outcome == wire::Outcome::Success ? LOG_NOTICE : LOG_WARNING), "%s",
           audit_line(r).c_str());
}

}  // namespace pp::helper
