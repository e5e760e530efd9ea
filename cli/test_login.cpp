#include "test_login.hpp"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "channel.hpp"
#include "defaults.hpp"
#include "helper_connection.hpp"
#include "messages.hpp"
#include "relay.hpp"
#include "result_mapping.hpp"
#include "terminal_asker.hpp"
#include "wire.hpp"

namespace pp::cli {
namespace {

constexpr int kExitSuccess = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUnavailable = 3;
constexpr int kExitNoAccount = 4;

// As long as the module's default wait: the helper bounds each step itself (login_timeout).
constexpr auto kHelperTimeout = protocol::kClientWait;

void step(const std::string& text) {
    // Flushed at once: the person's prompts go to the terminal, and each step must show before the prompt
    // it leads to.
    std::cout << printable(text) << std::endl;
}

int unavailable(const std::string& why) {
    std::cerr << "pam-passwordless: the helper is unavailable: " << printable(why) << "\n";
    return kExitUnavailable;
}

}  // namespace

int run_test_login(const TestLogin& request) {
    // The helper refuses it too; refused here first so that nothing is asked of it.
    if (::geteuid() != 0) {
        std::cerr << "pam-passwordless: test-login is for root only: it starts a real login for any account "
                     "and sends a real code\n";
        return kExitFailure;
    }
    if (::getpwnam(request.user.c_str()) == nullptr) {
        std::cerr << "pam-passwordless: " << printable(request.user) << " is not a local account\n";
        return kExitNoAccount;
    }
    step(
        "test-login: " + request.user + ", service " + request.service + ", " +
        (request.rhost.empty() ? "local login (no remote host)" : "login from remote host " + request.rhost));

    protocol::Begin begin;
    begin.user = request.user;
    begin.service = request.service;
    begin.rhost = request.rhost;
    begin.unknown_user = request.unknown_user;
    begin.test_login = true;
    TerminalAsker asker;
    client::Verdict verdict;
    try {
        auto helper = client::HelperConnection::open(request.socket, kHelperTimeout);
        step("connected to the helper at " + request.socket + " (root owns the socket and runs the helper)");
        verdict = client::relay(helper, begin.encode(), asker, {},
                                [](std::string_view text) { step("helper: " + std::string(text)); });
    } catch (const client::HelperUnavailable& e) {
        return unavailable(e.what());
    } catch (const wire::ChannelError& e) {
        return unavailable(e.what());
    } catch (const wire::ProtocolError& e) {
        std::cerr << "pam-passwordless: the helper broke the protocol: " << printable(e.what()) << "\n";
        return kExitUnavailable;
    }

    const int pam_code = module::pam_code_for(verdict.outcome);
    if (!verdict.text.empty()) step("the person reads: " + verdict.text);
    const bool success = verdict.outcome == wire::Outcome::Success && verdict.user == request.user;
    std::string meaning = "pam_passwordless.so would not let " + request.user + " in";
    if (success)
        meaning = "pam_passwordless.so would let " + request.user + " in";
    else if (verdict.outcome == wire::Outcome::Ignore)
        meaning = "pam_passwordless.so would step aside: the next module of the stack decides";
    step(std::string("outcome: ") + wire::outcome_name(verdict.outcome) + " (" +
         module::pam_code_name(pam_code) + "): " + meaning);
    if (verdict.audit_line.empty())
        step("audit line: (none: the helper refused this test login before any login work)");
    else
        step("audit line: " + verdict.audit_line);
    return success ? kExitSuccess : kExitFailure;
}

}  // namespace pp::cli
