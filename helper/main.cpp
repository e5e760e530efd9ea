// pam-passwordless-helper: the privileged daemon behind pam_passwordless.so, and its admin commands.
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "config.hpp"
#include "runtime.hpp"
#include "server.hpp"

namespace {

constexpr const char* kUsage =
    "usage: pam-passwordless-helper [--config PATH] [--foreground --socket PATH]\n"
    "       pam-passwordless-helper check-config [--config PATH]\n"
    "\n"
    "Without --socket the helper expects the listening socket from systemd "
    "(pam-passwordless-helper.socket).\n"
    "check-config prints the settings in force, or what is wrong, and exits non-zero on an error.\n";

int check_config(const std::string& path) {
    try {
        auto rt = pp::helper::Runtime::load(path);
        std::cout << pp::helper::describe_config(rt->config);
        if (!rt->config.mapping_file.empty())
            std::cout << "identity map: " << rt->identities.size() << " local account(s)\n";
        for (const auto& w : pp::helper::config_warnings(rt->config)) std::cout << "warning: " << w << "\n";
        // A damaged or untrusted limit store refuses every login that needs it: say so here, with its path.
        const auto& limits_file = rt->config.limits_state_file;
        const std::string limits_dir =
            limits_file.substr(0, std::max<std::size_t>(limits_file.rfind('/'), 1));
        struct stat st {};
        if (::stat(limits_dir.c_str(), &st) != 0)
            std::cout << "warning: " << limits_dir
                      << " does not exist: limit counts are kept in memory only\n";
        else if (::lstat(limits_file.c_str(), &st) == 0)
            std::cout << "limit store: "
                      << pp::helper::LimitStore(limits_file, rt->config.limits.state_max_bytes).rows()
                      << " count(s) held\n";
        std::cout << "configuration OK\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string config = pp::helper::kDefaultConfigPath, socket_path, command;
    bool foreground = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) {
                std::cerr << a << " needs a value\n" << kUsage;
                std::exit(2);
            }
            return args[++i];
        };
        if (a == "--config")
            config = value();
        else if (a == "--socket")
            socket_path = value();
        else if (a == "--foreground")
            foreground = true;
        else if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (command.empty() && a == "check-config")
            command = a;
        else {
            std::cerr << "unknown argument '" << a << "'\n" << kUsage;
            return 2;
        }
    }
    if (command == "check-config") return check_config(config);

    pp::helper::block_handled_signals();
    openlog("pam-passwordless-helper", LOG_PID | (foreground ? LOG_PERROR : 0), LOG_AUTHPRIV);
    try {
        pp::UniqueFd listener = pp::helper::socket_from_systemd();
        if (!listener) {
            if (socket_path.empty()) {
                std::cerr << "no socket from systemd and no --socket given\n" << kUsage;
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
