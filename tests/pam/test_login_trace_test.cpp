// test-login's steps (wire::Type::Trace) are for root's command line only: through the real module under the
// real libpam, a helper that sends one (a helper of another version, or one that mixed up its connections)
// ends the login closed, PAM_AUTHINFO_UNAVAIL, and none of its text reaches the person, even when a success
// for this very user follows.
#include <security/pam_appl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <string>

#include "channel.hpp"
#include "login_harness.hpp"
#include "messages.hpp"
#include "unique_fd.hpp"
#include "wire.hpp"

namespace pp::test {
namespace {

constexpr const char* kStep = "policy: service 'sshd' has [service sshd]; local login: methods = email_otp";

// A stand-in for the helper on the test's socket: takes one connection, reads its Begin, sends a Trace and
// then a Result of success for the user the Begin named. Returns the Begin's type, or -1.
int serve_one_traced_login(UniqueFd listener) {
    UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return -1;
    const wire::Message begin = wire::receive_message(conn.get(), std::chrono::seconds(20));
    try {
        wire::send_message(conn.get(), protocol::Trace{kStep}.encode());
        wire::send_message(conn.get(), protocol::Result{wire::Outcome::Success, "",
                                                        protocol::Begin::decode(begin).user, std::nullopt}
                                           .encode());
    } catch (const wire::ChannelError&) {
        // The module hung up at the Trace: what it must do.
    }
    return static_cast<int>(begin.type());
}

TEST(TestLoginTrace, AHelpersTraceNeverReachesAPersonThroughTheModule) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root: the module trusts only a root-owned socket served by root";
    fresh_dir(test_dir().filename());
    UniqueFd listener(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = test_socket();
    ASSERT_LT(path.size(), sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    auto served = std::async(std::launch::async, serve_one_traced_login, std::move(listener));

    const PamRun run = run_pam(test_service(), "alice",
                               [](int, const std::string&) { return std::optional<std::string>(""); });
    EXPECT_EQ(served.get(), static_cast<int>(wire::Type::Begin));
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL);
    EXPECT_FALSE(contains(run.all_text(), "policy:")) << run.all_text();
}

}  // namespace
}  // namespace pp::test
