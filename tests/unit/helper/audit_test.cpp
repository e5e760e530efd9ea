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
