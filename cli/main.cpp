// pam-passwordless: enrol and manage the FIDO2 security keys that sign people in through pam_passwordless.so,
// and the passkeys registered with the user pool.
// The helper decides everything (who may manage whom, what is stored); this program only asks it and does
// what it says at the key and the terminal, over the same protocol the PAM module speaks.
#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base64.hpp"
#include "channel.hpp"
#include "credential_table.hpp"
#include "defaults.hpp"
#include "helper_connection.hpp"
#include "messages.hpp"
#include "relay.hpp"
#include "rp_id.hpp"
#include "terminal_asker.hpp"
#include "test_login.hpp"
#include "text.hpp"
#include "wire.hpp"

namespace {

using pp::cli::printable;

constexpr int kExitSuccess = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnavailable = 3;
constexpr int kExitNoAccount = 4;

constexpr const char* kDefaultSocket = pp::protocol::kSocketPath;
// The longest wait for any one message from the helper; the helper bounds each step (a touch, a prompt).
constexpr auto kHelperTimeout = pp::protocol::kClientWait;
// An authfile has one line per user; the whole text travels in one message of at most 32 KiB.
constexpr std::size_t kMaxImport = 30 * 1024;

constexpr const char* kHelp =
    "usage: pam-passwordless [--socket PATH] COMMAND [ARGUMENTS]\n"
    "\n"
    "Enrol and manage the FIDO2 security keys that sign people in through pam_passwordless.so, and the\n"
    "passkeys registered with the user pool.\n"
    "\n"
    "Commands:\n"
    "  enroll [--user USER] [--name NICKNAME]\n"
    "        Make a new credential on the connected security key and enrol it for USER. The key asks\n"
    "        for a touch, and for its PIN if it has one. NICKNAME tells the user's keys apart in 'list'\n"
    "        (the helper picks one when it is not given).\n"
    "  list [--user USER]\n"
    "        Show USER's enrolled credentials: ID, NAME, ALG, UV (whether the key verified the user\n"
    "        when it was enrolled), CREATED, LAST USED and RP ID (the relying party the credential\n"
    "        belongs to). ID is the shortest start of the credential id (8 characters or more) that\n"
    "        tells it from USER's others.\n"
    "  rename ID NEW-NAME [--user USER]\n"
    "        Give the credential ID a new nickname. ID is the whole credential id or any start of it\n"
    "        of 8 characters or more that names one of USER's credentials, as 'list' prints it.\n"
    "  remove ID [--user USER]\n"
    "        Remove the credential ID: that key no longer signs USER in.\n"
    "  import FILE --rp-id ORIGIN\n"
    "        Import the credentials of every user in a pam-u2f authfile (lines\n"
    "        'user:KeyHandle,PublicKey,es256,+presence[:...]', as pamu2fcfg writes them). ORIGIN is\n"
    "        the origin pam-u2f used (its 'origin' option, by default pam://HOSTNAME); imported\n"
    "        credentials keep it as their relying party, so they go on working. Lines that cannot be\n"
    "        imported are reported; when none is imported the command fails. FILE may be readable\n"
    "        by root only. Root only.\n"
    "\n"
    "Passkeys registered with the user pool (the 'passkey' sign-in method):\n"
    "  pool-register [--user USER]\n"
    "        Make a new credential on the connected security key and register it with the user pool\n"
    "        as a passkey of USER's pool account. The key asks for a touch, and for its PIN if it has\n"
    "        one.\n"
    "  pool-list [--user USER]\n"
    "        Show the passkeys of USER's pool account: ID (shortened as in 'list'), NAME, RP ID,\n"
    "        ATTACHMENT, TRANSPORTS and CREATED.\n"
    "  pool-delete ID [--user USER]\n"
    "        Delete the passkey ID (whole, or a start of 8 characters or more, as 'pool-list'\n"
    "        prints it) from the user pool: it no longer signs USER in.\n"
    "  Each first signs USER in with the user pool, as the helper asks (a method, a code sent by\n"
    "  email or text message, a touch of a registered passkey): the pool allows changes to an\n"
    "  account's passkeys only to a sign-in of that account, so root signs in too.\n"
    "\n"
    "Trying a login before any PAM stack uses the module (root only):\n"
    "  test-login USER [--service SERVICE] [--rhost ADDRESS] [--unknown-user ignore|fail]\n"
    "        A real login of USER through the helper, as pam_passwordless.so in SERVICE's stack would\n"
    "        run it (default service: login): the helper applies [service SERVICE] of its\n"
    "        configuration, or [login] where there is none, sends a real code and counts the login in\n"
    "        its limits and status. Each step is printed (the policy in force, the method, where the\n"
    "        code went, the identity bound, the outcome and its PAM code), the person's prompts are\n"
    "        asked at the terminal, and the command ends with the helper's audit line for the login.\n"
    "        --rhost: as a login from that remote host (remote_methods, remote limits; the address\n"
    "        reaches the user pool as sshd's would). --unknown-user: as a stack whose line passes\n"
    "        unknown_user= (the pam-auth-update profile passes ignore); without it the helper's\n"
    "        unknown_user setting holds. Exit status 0 only when the login succeeded.\n"
    "\n"
    "Options:\n"
    "  --user USER      the local account to manage (all commands but import);\n"
    "                   default: the account running this command\n"
    "  --name NICKNAME  the nickname of a new credential (enroll)\n"
    "  --rp-id ORIGIN   the pam-u2f origin of the credentials in FILE (import)\n"
    "  --service NAME   the PAM service whose policy a test login follows (test-login)\n"
    "  --rhost ADDRESS  the remote host a test login comes from (test-login)\n"
    "  --unknown-user ignore|fail\n"
    "                   the stack's choice for users without an identity (test-login)\n"
    "  --socket PATH    the helper's socket; default: /run/pam_passwordless/helper.sock\n"
    "  -h, --help       show this text\n"
    "  --version        show the version\n"
    "\n"
    "Who may do what: root may manage any account's security keys. Anybody else may manage only\n"
    "their own: list them as they are, and change them after signing in as the helper asks, with\n"
    "the methods of [service pam-passwordless] in the helper's configuration, or of [login] where\n"
    "there is none. Pool passkeys: root may manage any account's, anybody else only their own, and\n"
    "always after signing in with the user pool as that account. The helper decides; this command\n"
    "holds no policy.\n"
    "\n"
    "Answers (a PIN, a choice, a code) are read from the controlling terminal, a PIN or a code with\n"
    "echo off; without a terminal, from standard input, one line per prompt. No secret is ever taken\n"
    "from the command line or the environment.\n"
    "\n"
    "Exit status: 0 done; 1 the helper refused or the operation failed, an import that imported\n"
    "nothing included, a test login that did not succeed (the reason is printed on standard error,\n"
    "for test-login in its steps and audit line); 2 usage error; 3 the helper cannot\n"
    "be reached or cannot be trusted (its socket and its process must belong to root); 4 USER is\n"
    "not a local account, or (pool-*) has no identity in the user pool.\n";

class UsageError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Invocation {
    std::string command;
    std::vector<std::string> operands;
    std::optional<std::string> socket, user, name, rp_id, service, rhost, unknown_user;
    bool help = false;
    bool version = false;
};

Invocation parse(int argc, char** argv) {
    Invocation inv;
    bool options_done = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (options_done || arg == "-" || !arg.starts_with("-")) {
            if (inv.command.empty())
                inv.command = arg;
            else
                inv.operands.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        if (arg == "-h" || arg == "--help") {
            inv.help = true;
            continue;
        }
        if (arg == "--version") {
            inv.version = true;
            continue;
        }
        std::optional<std::string> inline_value;
        if (const auto eq = arg.find('='); eq != std::string::npos) {
            inline_value = arg.substr(eq + 1);
            arg.resize(eq);
        }
        std::optional<std::string>* target = nullptr;
        if (arg == "--user")
            target = &inv.user;
        else if (arg == "--name")
            target = &inv.name;
        else if (arg == "--rp-id")
            target = &inv.rp_id;
        else if (arg == "--socket")
            target = &inv.socket;
        else if (arg == "--service")
            target = &inv.service;
        else if (arg == "--rhost")
            target = &inv.rhost;
        else if (arg == "--unknown-user")
            target = &inv.unknown_user;
        else
            throw UsageError("unknown option '" + arg + "'");
        if (target->has_value()) throw UsageError(arg + " given twice");
        if (inline_value) {
            *target = *inline_value;
        } else {
            if (i + 1 >= argc) throw UsageError(arg + " needs a value");
            *target = argv[++i];
        }
    }
    return inv;
}

// Catches typing mistakes early; the helper checks everything again and has the last word.
void check_text(const std::string& what, const std::string& value) {
    if (value.empty()) throw UsageError(what + " must not be empty");
    if (pp::text::has_control_characters(value))
        throw UsageError(what + " must not contain control characters");
}

std::string invoking_user() {
    const passwd* pw = ::getpwuid(::getuid());
    if (pw == nullptr || pw->pw_name == nullptr || *pw->pw_name == '\0')
        throw std::runtime_error("cannot tell which account runs this command; name it with --user");
    return pw->pw_name;
}

// Shorter starts are refused by the helper too; refused here first, as for pool-delete the helper can tell
// only after a sign-in with the pool, which may have cost a code.
constexpr std::size_t kMinIdPrefix = 8;

void check_id_length(const std::string& text) {
    if (text.size() < kMinIdPrefix)
        throw UsageError("an ID is typed with at least " + std::to_string(kMinIdPrefix) +
                         " characters, as 'list' and 'pool-list' show it");
}

// A user-pool credential id is the pool's own string, or a start of it: the helper resolves it against the
// account's passkeys.
std::string pool_credential_id(const std::string& text) {
    check_text("the passkey ID", text);
    check_id_length(text);
    return text;
}

// The credential id as typed (whole or a start of it, base64url as 'list' prints it): the helper resolves it
// against the account's credentials, which this program does not see before the helper's checks.
std::string credential_id(const std::string& text) {
    if (text.empty() || !pp::is_base64url(text))
        throw UsageError("'" + text + "' is not a credential ID as 'list' prints it");
    check_id_length(text);
    return text;
}

std::string read_import_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    std::string text;
    std::array<char, 4096> buf{};
    while (in.read(buf.data(), buf.size()) || in.gcount() > 0) {
        text.append(buf.data(), static_cast<std::size_t>(in.gcount()));
        if (text.size() > kMaxImport)
            throw std::runtime_error(path + " is larger than " + std::to_string(kMaxImport / 1024) +
                                     " KiB; import it in parts");
    }
    if (in.bad()) throw std::runtime_error("cannot read " + path);
    return text;
}

void expect_operands(const Invocation& inv, std::size_t n, const char* synopsis) {
    if (inv.operands.size() != n) throw UsageError(std::string("usage: pam-passwordless ") + synopsis);
}

void refuse_option(const std::optional<std::string>& given, const char* option, const std::string& command) {
    if (given) throw UsageError(std::string(option) + " does not apply to '" + command + "'");
}

// The Manage request for the command line, or a UsageError.
pp::protocol::Manage request_for(const Invocation& inv) {
    using Op = pp::protocol::Manage::Op;
    pp::protocol::Manage m;
    const std::string& cmd = inv.command;
    if (cmd != "import") refuse_option(inv.rp_id, "--rp-id", cmd);
    if (cmd != "enroll") refuse_option(inv.name, "--name", cmd);
    refuse_option(inv.service, "--service", cmd);
    refuse_option(inv.rhost, "--rhost", cmd);
    refuse_option(inv.unknown_user, "--unknown-user", cmd);
    if (inv.user) check_text("--user", *inv.user);
    auto target = [&] { return inv.user ? *inv.user : invoking_user(); };

    if (cmd == "enroll") {
        expect_operands(inv, 0, "enroll [--user USER] [--name NICKNAME]");
        m.op = Op::Enroll;
        m.user = target();
        if (inv.name) {
            check_text("the nickname", *inv.name);
            m.text = *inv.name;
        }
    } else if (cmd == "list") {
        expect_operands(inv, 0, "list [--user USER]");
        m.op = Op::List;
        m.user = target();
    } else if (cmd == "rename") {
        expect_operands(inv, 2, "rename ID NEW-NAME [--user USER]");
        check_text("the new name", inv.operands[1]);
        m.op = Op::Rename;
        m.user = target();
        m.cred_id = credential_id(inv.operands[0]);
        m.text = inv.operands[1];
    } else if (cmd == "remove") {
        expect_operands(inv, 1, "remove ID [--user USER]");
        m.op = Op::Remove;
        m.user = target();
        m.cred_id = credential_id(inv.operands[0]);
    } else if (cmd == "pool-register") {
        expect_operands(inv, 0, "pool-register [--user USER]");
        m.op = Op::PoolRegister;
        m.user = target();
    } else if (cmd == "pool-list") {
        expect_operands(inv, 0, "pool-list [--user USER]");
        m.op = Op::PoolList;
        m.user = target();
    } else if (cmd == "pool-delete") {
        expect_operands(inv, 1, "pool-delete ID [--user USER]");
        m.op = Op::PoolDelete;
        m.user = target();
        m.cred_id = pool_credential_id(inv.operands[0]);
    } else if (cmd == "import") {
        expect_operands(inv, 1, "import FILE --rp-id ORIGIN");
        refuse_option(inv.user, "--user", cmd);
        if (!inv.rp_id) throw UsageError("import needs --rp-id ORIGIN (the origin pam-u2f used)");
        check_text("--rp-id", *inv.rp_id);
        if (!pp::RpId::valid(*inv.rp_id))
            throw UsageError("--rp-id must be 1 to 128 of letters, digits and :/._-");
        // The file names the accounts; User is who asks, which the helper checks like any request.
        m.op = Op::Import;
        m.user = invoking_user();
        m.rp_id = *inv.rp_id;
        m.import_data = read_import_file(inv.operands[0]);
    } else if (cmd.empty()) {
        throw UsageError("no command given");
    } else {
        throw UsageError("unknown command '" + cmd + "'");
    }
    return m;
}

std::string done_text(const std::string& cmd) {
    if (cmd == "enroll") return "The security key is enrolled.";
    if (cmd == "rename") return "The credential is renamed.";
    if (cmd == "remove") return "The credential is removed.";
    if (cmd == "import") return "The credentials are imported.";
    if (cmd == "pool-register") return "The passkey is registered with the user pool.";
    if (cmd == "pool-delete") return "The passkey is deleted from the user pool.";
    return {};
}

// test-login is a login, not a Manage request: test_login.hpp.
pp::cli::TestLogin test_login_for(const Invocation& inv) {
    expect_operands(inv, 1,
                    "test-login USER [--service SERVICE] [--rhost ADDRESS] [--unknown-user ignore|fail]");
    refuse_option(inv.user, "--user", inv.command);
    refuse_option(inv.name, "--name", inv.command);
    refuse_option(inv.rp_id, "--rp-id", inv.command);
    check_text("USER", inv.operands[0]);
    pp::cli::TestLogin t{inv.operands[0], inv.service.value_or("login"), inv.rhost.value_or(""),
                         inv.socket.value_or(kDefaultSocket), std::nullopt};
    check_text("--service", t.service);
    if (inv.rhost) check_text("--rhost", t.rhost);
    if (inv.unknown_user == "ignore")
        t.unknown_user = pp::wire::UnknownUser::Ignore;
    else if (inv.unknown_user == "fail")
        t.unknown_user = pp::wire::UnknownUser::Fail;
    else if (inv.unknown_user)
        throw UsageError("--unknown-user takes ignore or fail");
    return t;
}

int run(const Invocation& inv) {
    if (inv.command == "test-login") return pp::cli::run_test_login(test_login_for(inv));
    const pp::wire::Message request = request_for(inv).encode();
    pp::cli::TerminalAsker asker;
    pp::client::Verdict verdict;
    try {
        auto helper = pp::client::HelperConnection::open(inv.socket.value_or(kDefaultSocket), kHelperTimeout);
        verdict = pp::client::relay(helper, request, asker);
    } catch (const pp::client::HelperUnavailable& e) {
        std::cerr << "pam-passwordless: the helper is unavailable: " << printable(e.what()) << "\n";
        return kExitUnavailable;
    } catch (const pp::wire::ChannelError& e) {
        std::cerr << "pam-passwordless: the helper is unavailable: " << printable(e.what()) << "\n";
        return kExitUnavailable;
    } catch (const pp::wire::ProtocolError& e) {
        std::cerr << "pam-passwordless: the helper broke the protocol: " << printable(e.what()) << "\n";
        return kExitUnavailable;
    }

    if (verdict.outcome != pp::wire::Outcome::Success) {
        // Every line of a many-line reason (an import's problems) carries the program's name.
        std::string reason = verdict.text.empty()
                                 ? std::string("refused (") + pp::wire::outcome_name(verdict.outcome) + ")"
                                 : printable(verdict.text);
        for (std::size_t nl = reason.find('\n'); nl != std::string::npos; nl = reason.find('\n', nl + 1))
            reason.insert(nl + 1, "pam-passwordless: ");
        std::cerr << "pam-passwordless: " << reason << "\n";
        return verdict.outcome == pp::wire::Outcome::UserUnknown ? kExitNoAccount : kExitFailure;
    }
    if (inv.command == "list") {
        if (!verdict.records.empty()) std::cout << pp::cli::credential_table(verdict.records);
        // The helper's summary: how many, and which damaged records it skipped.
        if (!verdict.text.empty())
            std::cout << printable(verdict.text) << "\n";
        else if (verdict.records.empty())
            std::cout << "No security key is enrolled.\n";
    } else if (inv.command == "pool-list") {
        if (!verdict.records.empty()) std::cout << pp::cli::pool_passkey_table(verdict.records);
        if (!verdict.text.empty())
            std::cout << printable(verdict.text) << "\n";
        else if (verdict.records.empty())
            std::cout << "No passkey is registered with the user pool.\n";
    } else {
        std::cout << (verdict.text.empty() ? done_text(inv.command) : printable(verdict.text)) << "\n";
    }
    std::cout.flush();
    return std::cout ? kExitSuccess : kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
    Invocation inv;
    try {
        inv = parse(argc, argv);
        if (inv.help) {
            std::cout << kHelp;
            return kExitSuccess;
        }
        if (inv.version) {
            std::cout << "pam-passwordless " PP_VERSION "\n";
            return kExitSuccess;
        }
        return run(inv);
    } catch (const UsageError& e) {
        std::cerr << "pam-passwordless: " << printable(e.what())
                  << "\npam-passwordless: try 'pam-passwordless --help'.\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "pam-passwordless: " << printable(e.what()) << "\n";
        return kExitFailure;
    }
}
