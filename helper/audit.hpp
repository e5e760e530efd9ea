// One line to syslog (LOG_AUTHPRIV) per login outcome. Never a code, PIN, session or token.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "text.hpp"
#include "wire.hpp"

namespace pp::helper {

struct AuditRecord {
    std::string login_id;
    std::string user, service, rhost, tty;
    std::string ruser;  // PAM_RUSER of a login (su, sudo: who ran it); in the line only when set
    uid_t caller_uid = 0;
    std::string method = "-";
    wire::Outcome outcome = wire::Outcome::AuthErr;
    std::string reason;
};

void audit(const AuditRecord& r);
// The line audit() logs, without syslog's prefix: what a test login shows the admin.
std::string audit_line(const AuditRecord& r);

// The one rule for a text in a log line (common/text.hpp), under the name every helper file uses.
using text::loggable;

}  // namespace pp::helper
