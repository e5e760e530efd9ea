#include "recovery_command.hpp"

#include <syslog.h>
#include <unistd.h>

#include <iostream>

#include "account_policy.hpp"
#include "audit.hpp"
#include "config.hpp"
#include "recovery_codes.hpp"

namespace pp::helper {
namespace {

constexpr const char* kProgram = "pam-passwordless-helper: ";

}  // namespace

// Why a command of the helper's program and not of pam-passwordless: the codes are the helper's state, made
// by root for another person (there is no self-service: a user who could make their own codes would turn any
// everyday sign-in into a break-glass), and this way they are written here under the same lock the logins
// take, without a running helper (an admin prepares the break-glass before enabling the module, or while
// the helper is idle) and without a protocol message that would carry the codes through the socket.
int recovery_codes_command(const std::vector<std::string>& args, const std::string& config_path) {
    std::string user;
    int count = kDefaultRecoveryCodes;
    bool left = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if ((a == "--user" || a == "--count") && i + 1 < args.size()) {
            const std::string v = args[++i];
            if (a == "--user") {
                user = v;
                continue;
            }
            try {
                std::size_t used = 0;
                count = std::stoi(v, &used);
                if (used != v.size()) throw std::invalid_argument(v);
            } catch (const std::exception&) {
                count = 0;
            }
            if (count < 1 || count > kMaxRecoveryCodes) {
                std::cerr << kProgram << "--count must be from 1 to " << kMaxRecoveryCodes << "\n";
                return 2;
            }
        } else if (a == "--left") {
            left = true;
        } else {
            std::cerr << kProgram << "recovery-codes: unknown or incomplete argument '" << a
                      << "' (see --help)\n";
            return 2;
        }
    }
    if (user.empty() && !left) {
        std::cerr << kProgram << "recovery-codes needs --user NAME (or --left for everyone)\n";
        return 2;
    }
    if (::geteuid() != 0) {
        std::cerr << kProgram << "recovery-codes is for root only\n";
        return 1;
    }
    try {
        const Config config = load_config(config_path);
        RecoveryStore store(config.recovery.store_dir);
        if (left) {
            if (!user.empty()) {
                std::cout << user << ": " << store.left(user) << " recovery code(s) left\n";
                return 0;
            }
            const auto all = store.all();
            for (const auto& [name, n] : all) std::cout << name << ": " << n << " recovery code(s) left\n";
            if (all.empty()) std::cout << "no recovery codes have been made\n";
            return 0;
        }
        if (!local_account_uid(user)) {
            std::cerr << kProgram << "no such local account: " << loggable(user, 64) << "\n";
            return 4;
        }
        openlog("pam-passwordless-helper", LOG_PID | LOG_PERROR, LOG_AUTHPRIV);
        const auto made = store.generate(user, count);
        // The audit line names who and how many, never a code; on standard error too, so root sees what the
        // log holds.
        syslog(LOG_NOTICE, "audit: recovery codes for %s: new set of %d, replacing %d unused (by uid %u)",
               loggable(user, 64).c_str(), count, made.replaced, static_cast<unsigned>(::getuid()));
        std::cout
            << "Recovery codes for " << user
            << ". Each works once, only at this machine (console, sudo, su: never over SSH), only while "
               "the sign-in service cannot be reached. They are shown this once and kept only as "
               "hashes; making a new set voids these.\n";
        for (std::size_t i = 0; i < made.codes.size(); ++i)
            std::cout << (i + 1 < 10 ? "   " : "  ") << i + 1 << ". " << made.codes[i].view() << "\n";
        std::cout.flush();
        return 0;
    } catch (const ConfigError& e) {
        std::cerr << kProgram << "error: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << kProgram << "error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace pp::helper
