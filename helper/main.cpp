// pam-passwordless-helper: the privileged daemon behind pam_passwordless.so, and its admin commands.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "config.hpp"
#include "control.hpp"
#include "defaults.hpp"
#include "login_log.hpp"
#include "online_check.hpp"
#include "pool_client.hpp"
#include "rate_limits.hpp"
#include "recovery_command.hpp"
#include "runtime.hpp"
#include "server.hpp"

namespace {

constexpr const char* kProgram = "pam-passwordless-helper: ";
constexpr const char* kUsage =
    "usage: pam-passwordless-helper [--config PATH] [--foreground --socket PATH] [--pool-socket PATH] "
    "[--debug]\n"
    "       pam-passwordless-helper check-config [--config PATH] [--online [--pool-socket PATH]]\n"
    "       pam-passwordless-helper status [--socket PATH]\n"
    "       pam-passwordless-helper reload [--config PATH] [--socket PATH]\n"
    "       pam-passwordless-helper recovery-codes --user NAME [--count N] [--config PATH]\n"
    "       pam-passwordless-helper recovery-codes --left [--user NAME] [--config PATH]\n"
    "       pam-passwordless-helper --version\n"
    "\n"
    "Without --socket the helper expects the listening socket from systemd "
    "(pam-passwordless-helper.socket).\n"
    "check-config prints the settings in force, or what is wrong, and exits non-zero on an error;\n"
    "with --online it also tries them against the user pool with requests that cannot send a code.\n"
    "status (root) asks the running helper for its state; exit 3 when no helper is running.\n"
    "reload (root) checks the file, then asks the running helper to load it and waits for the result;\n"
    "exit 1 when it is refused (the configuration in force stays).\n"
    "recovery-codes (root) prints a new set of one-time break-glass codes for NAME (10 by default), "
    "replacing\n"
    "the old set; --left prints how many are left.\n"
    "The socket's default: /run/pam_passwordless/helper.sock.\n"
    "The helper never talks to the network itself: the network worker does (pam-passwordless-pool, "
    "unprivileged).\n"
    "--pool-socket is the worker's socket (pam-passwordless-pool.socket); without it the helper starts the\n"
    "worker itself, as the user nobody when the helper is root.\n"
    "--debug writes each login's steps (as [log] level = debug does, whatever the file says); never a code,\n"
    "token or secret.\n";

constexpr const char* kDefaultSocket = pp::protocol::kSocketPath;

// No core file, and no reading of this process's memory by another of the same uid that lacks CAP_SYS_PTRACE
// (/proc/PID/mem, ptrace): the helper holds the client secret from the start and codes, PINs, Sessions and
// tokens during logins. Non-dumpable is what stops a core when fs.suid_dumpable is 0; a zero size limit stops
// one when it is 2 ("suidsafe" cores of non-dumpable processes) and tells systemd-coredump to keep none. Only
// the soft limit: lowering the hard one would be for good, and the soft one is what the kernel reads. Fails
// closed: a helper that cannot do this does not start.
void refuse_core_dumps() {
    rlimit core{};
    bool done = ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 && ::getrlimit(RLIMIT_CORE, &core) == 0;
    core.rlim_cur = 0;
    done = done && ::setrlimit(RLIMIT_CORE, &core) == 0;
    if (!done) {
        std::cerr << kProgram << "cannot make the helper non-dumpable: " << std::strerror(errno) << "\n";
        std::exit(1);
    }
}

int check_config(const std::string& path, bool online) {
    try {
        auto rt = pp::helper::Runtime::load(path);
        std::cout << pp::helper::describe_config(rt->config);
        if (!rt->config.mapping_file.empty())
            std::cout << "identity map: " << rt->identities.size() << " local account(s)\n";
        if (const auto w = pp::helper::placeholder_warning(rt->config))
            std::cout << "warning: " << *w << "\n";
        for (const auto& w : pp::helper::config_warnings(rt->config)) std::cout << "warning: " << w << "\n";
        for (const auto& w : rt->identities.warnings()) std::cout << "warning: " << w << "\n";
        // A damaged or untrusted limit store refuses every login that needs it: say so here, with its path.
        const auto& limits_file = rt->config.limits_state_file;
        const std::string limits_dir =
            limits_file.substr(0, std::max<std::size_t>(limits_file.rfind('/'), 1));
        struct stat st {};
        if (::stat(limits_dir.c_str(), &st) != 0)
            std::cout << "warning: " << limits_dir
                      << " does not exist: limit counts are kept in memory only\n";
        else {
            if (::lstat(limits_file.c_str(), &st) == 0)
                std::cout << "limit store: "
                          << pp::helper::LimitStore(limits_file, rt->config.limits.state_max_bytes).rows()
                          << " count(s) held\n";
            const auto walks = pp::helper::RateLimits::walks_path(limits_file);
            if (::lstat(walks.c_str(), &st) == 0)
                std::cout << "limit store of names without an identity: "
                          << pp::helper::LimitStore(walks, pp::helper::RateLimits::kWalksBytes).rows()
                          << " count(s) held\n";
        }
        std::cout << "configuration OK\n";
        if (online) return pp::helper::check_online(*rt, std::cout) == 0 ? 0 : 1;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << kProgram << "error: " << e.what() << "\n";
        return 1;
    }
}

// Every login in flight holds a descriptor (more while it talks to the user pool), and the helper holds
// thousands (admission.hpp): the usual soft limit of 1024 would fail logins long before the pools fill. The
// unit sets LimitNOFILE (soft = hard, so nothing is called there); started any other way, the helper takes
// the hard limit it was given.
void raise_descriptor_limit() {
    rlimit nofile{};
    if (::getrlimit(RLIMIT_NOFILE, &nofile) != 0 || nofile.rlim_cur >= nofile.rlim_max) return;
    nofile.rlim_cur = nofile.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &nofile) != 0)
        syslog(LOG_WARNING, "cannot raise the descriptor limit to %llu: %s",
               static_cast<unsigned long long>(nofile.rlim_max), std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
    // First: check-config reads the client secret too.
    refuse_core_dumps();
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string config = pp::helper::kDefaultConfigPath, socket_path, command;
    bool foreground = false, online = false;
    // recovery-codes takes options of its own; --config may come anywhere on its line.
    if (!args.empty() && args.front() == "recovery-codes") {
        std::vector<std::string> rest;
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "--config" && i + 1 < args.size())
                config = args[++i];
            else
                rest.push_back(args[i]);
        }
        return pp::helper::recovery_codes_command(rest, config);
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) {
                std::cerr << kProgram << a << " needs a value (see --help)\n";
                std::exit(2);
            }
            return args[++i];
        };
        if (a == "--config")
            config = value();
        else if (a == "--socket")
            socket_path = value();
        else if (a == "--pool-socket")
            pp::helper::use_worker_socket(value());
        else if (a == "--foreground")
            foreground = true;
        else if (a == "--online")
            online = true;
        else if (a == "--debug")
            pp::helper::force_debug_logging();
        else if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (a == "--version") {
            std::cout << "pam-passwordless-helper " PP_VERSION "\n";
            return 0;
        } else if (command.empty() && (a == "check-config" || a == "status" || a == "reload"))
            command = a;
        else {
            std::cerr << kProgram << "unknown argument '" << a << "' (see --help)\n";
            return 2;
        }
    }
    if (online && command != "check-config") {
        std::cerr << kProgram << "--online goes with check-config only (see --help)\n";
        return 2;
    }
    if (command == "check-config") return check_config(config, online);
    if (command == "status")
        return pp::helper::status_command(socket_path.empty() ? kDefaultSocket : socket_path);
    if (command == "reload")
        return pp::helper::reload_command(socket_path.empty() ? kDefaultSocket : socket_path, config);

    pp::helper::block_handled_signals();
    openlog("pam-passwordless-helper", LOG_PID | (foreground ? LOG_PERROR : 0), LOG_AUTHPRIV);
    raise_descriptor_limit();
    try {
        pp::UniqueFd listener = pp::helper::socket_from_systemd();
        if (!listener) {
            if (socket_path.empty()) {
                std::cerr << kProgram << "no socket from systemd and no --socket given (see --help)\n";
                return 2;
            }
            listener = pp::helper::bind_socket(socket_path);
        }
        ::umask(077);
        return pp::helper::serve(std::move(listener), config);
    } catch (const std::exception& e) {
        syslog(LOG_ERR, "fatal: %s", e.what());
        return 1;
    }
}
