// One line to syslog (LOG_AUTHPRIV) per login outcome. Never a code, PIN, session or token.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "text.hpp"
#include "wire.hpp"

namespace pp::helper {

struct AuditRecord {
    std::string login_id;
    std::string user, service, rhost, tty;
    std::string ruser;  // PAM_RUSER of a login (su, sudo: who ran it); in the line only when set
    // The real uid of a root caller's login process (a setuid program's: who started it); in the line only
    // when not 0, the uid a login's budget and share are counted on (local_runner.hpp).
    std::uint32_t real_uid = 0;
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
