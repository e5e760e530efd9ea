// The audit line (helper/audit.cpp): its fields, bounded and with quotes and control characters replaced.
#include "audit.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pp::helper {
namespace {

AuditRecord su_login() {
    AuditRecord r;
    r.login_id = "0123456789abcdef";
    r.user = "root";
    r.service = "su";
    r.tty = "pts/0";
    r.ruser = "mallory";
    r.method = "email_otp";
    r.outcome = wire::Outcome::AuthErr;
    r.reason = "wrong code";
    return r;
}

TEST(AuditLine, NamesTheRuserAfterTheTtyWhenSet) {
    EXPECT_EQ(
        audit_line(su_login()),
        "login=0123456789abcdef user=\"root\" service=\"su\" rhost=\"-\" tty=\"pts/0\" ruser=\"mallory\" "
        "caller_uid=0 method=email_otp outcome=auth_err reason=\"wrong code\"");
    AuditRecord console = su_login();
    console.ruser.clear();
    EXPECT_EQ(audit_line(console).find("ruser="), std::string::npos) << audit_line(console);
}

// A setuid program's login (su, polkit-agent-helper-1) names the real uid that started it after the ruser,
// which the program chose; a root process's (real uid 0) names none.
TEST(AuditLine, NamesTheRealUidOfASetuidProgramsLogin) {
    AuditRecord r = su_login();
    r.real_uid = 65534;
    EXPECT_NE(audit_line(r).find(" ruser=\"mallory\" ruid=65534 caller_uid=0 "), std::string::npos)
        << audit_line(r);
    EXPECT_EQ(audit_line(su_login()).find("ruid="), std::string::npos) << audit_line(su_login());
}

TEST(AuditLine, TheRuserIsBoundedAndCannotForgeAField) {
    AuditRecord r = su_login();
    r.ruser = "x\" outcome=success\n" + std::string(80, 'y');
    const std::string line = audit_line(r);
    EXPECT_NE(line.find(" ruser=\"x? outcome=success?" + std::string(45, 'y') + "...\" caller_uid=0 "),
              std::string::npos)
        << line;
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_NE(line.find(" outcome=auth_err "), std::string::npos);
}

}  // namespace
}  // namespace pp::helper
