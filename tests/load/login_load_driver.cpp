// The benchmark's hands (bench/login_latency.py): writes the pool of load users, and runs logins through the
// real module and helper, each in a process of its own, at a chosen concurrency.
//
//   login_load_driver pool --users N --pool FILE --identities FILE
//   login_load_driver run --pam-dir DIR --service NAME --users N --logins L --concurrency C --outbox FILE
//                         --work DIR [--think-ms MS]
//
// "run" needs root: it moves into a mount namespace of its own where DIR is /etc/pam.d (see load_rig.hpp), so
// the real libpam reads DIR/NAME. Login k is for user k mod N. It prints one JSON line per login, {"user",
// "pam_code", "own_prompt", "seconds", "first_answer_seconds"} (pam_authenticate, start to end, and start to
// the first prompt, measured in the child), then
// {"logins", "succeeded", "wall_seconds"}. Exit status 0 when every login succeeded.
#include <security/pam_appl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "load_rig.hpp"

namespace {

int usage() {
    std::fputs(
        "usage: login_load_driver pool --users N --pool FILE --identities FILE\n"
        "       login_load_driver run --pam-dir DIR --service NAME --users N --logins L --concurrency C\n"
        "                             --outbox FILE --work DIR [--think-ms MS]\n",
        stderr);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    const std::string command = argv[1];
    std::map<std::string, std::string> opt;
    for (int i = 2; i + 1 < argc; i += 2) opt[argv[i]] = argv[i + 1];
    auto need = [&](const char* key) -> std::string {
        const auto it = opt.find(key);
        if (it == opt.end()) {
            std::fprintf(stderr, "login_load_driver: %s is required\n", key);
            std::exit(2);
        }
        return it->second;
    };
    const auto users = pp::load::load_users(std::atoi(need("--users").c_str()));
    if (users.empty()) return usage();

    if (command == "pool") {
        std::ofstream(need("--pool"), std::ios::trunc) << pp::load::pool_json(users);
        std::ofstream(need("--identities"), std::ios::trunc) << pp::load::identity_map(users);
        return 0;
    }
    if (command != "run") return usage();
    const int logins = std::atoi(need("--logins").c_str());
    const int concurrency = std::atoi(need("--concurrency").c_str());
    if (logins <= 0 || concurrency <= 0) return usage();
    try {
        pp::load::private_pam_dir(need("--pam-dir"));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "login_load_driver: %s\n", e.what());
        return 2;
    }
    std::vector<int> who;
    for (int k = 0; k < logins; ++k) who.push_back(k % static_cast<int>(users.size()));

    const auto start = std::chrono::steady_clock::now();
    const auto outcomes = pp::load::run_logins(
        users, who,
        {.service = need("--service"),
         .outbox = need("--outbox"),
         .work = need("--work"),
         .concurrency = static_cast<std::size_t>(concurrency),
         .limit = std::chrono::seconds(600),
         .think =
             std::chrono::milliseconds(opt.count("--think-ms") ? std::atoi(opt["--think-ms"].c_str()) : 0)});
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int succeeded = 0;
    for (const auto& r : outcomes) {
        std::printf(
            "{\"user\": %d, \"pam_code\": %d, \"own_prompt\": %s, \"seconds\": %.6f, "
            "\"first_answer_seconds\": %.6f}\n",
            r.user, r.pam_code, r.own_prompt ? "true" : "false", r.seconds, r.first_answer_seconds);
        succeeded += r.pam_code == PAM_SUCCESS;
    }
    std::printf("{\"logins\": %d, \"succeeded\": %d, \"wall_seconds\": %.6f}\n", logins, succeeded, wall);
    return succeeded == logins ? 0 : 1;
}
