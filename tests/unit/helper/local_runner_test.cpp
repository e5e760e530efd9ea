// Who runs a local login (helper/local_runner.hpp): the account of a setuid program's real uid whatever
// PAM_RUSER says, "uid:N" for a uid without one, and PAM_RUSER only for a root process's login.
#include "local_runner.hpp"

#include <gtest/gtest.h>
#include <pwd.h>

#include <string>

namespace pp::helper {
namespace {

TEST(LocalRunner, ARootProcessNamesItsRunnerInPamRuser) {
    EXPECT_EQ(local_runner(0, "mallory"), "mallory");
    EXPECT_EQ(local_runner(0, ""), "") << "the console: the user's own login";
}

TEST(LocalRunner, ASetuidProgramsRunnerIsItsRealUidsAccountWhateverPamRuserSays) {
    const passwd* nobody = ::getpwuid(65534);
    ASSERT_NE(nobody, nullptr) << "the test machine has no account of uid 65534";
    const std::string name = nobody->pw_name;
    // polkit-agent-helper-1 alice run by nobody: PAM_RUSER is alice, the user to authenticate.
    EXPECT_EQ(local_runner(65534, "alice"), name);
    EXPECT_EQ(local_runner(65534, ""), name);
    EXPECT_EQ(local_runner(65534, "root"), name);
}

TEST(LocalRunner, AUidWithoutAnAccountIsNamedByNumberAndIsNoUsersOwn) {
    ASSERT_EQ(::getpwuid(3999999999u), nullptr);
    EXPECT_EQ(local_runner(3999999999u, "alice"), "uid:3999999999");
}

}  // namespace
}  // namespace pp::helper
