// One long-lived process that runs pam_start / pam_authenticate / pam_end again and again, the way a screen
// locker or a login daemon does, taking turns between PAM services (our module, pam_u2f.so) so that both see
// the same machine at the same moments.
//
//   key_login_loop [--pin] USER ROUNDS SERVICE[@USER]...
//
// Writes one line per login: "<service>[@<user>] <nanoseconds> <pam code>". A service given as SERVICE@USER
// logs in that user instead of the first argument's (two accounts through one service, side by side). The
// conversation shows nothing and answers every prompt with an empty string; with --pin it reads the key's PIN
// from the first line of standard input and answers every hidden prompt (the PIN's) with it.
// Exit status 1 if any login failed.
#include <security/pam_appl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

int quiet(int n, const pam_message** msgs, pam_response** resp, void* data) {
    const auto* pin = static_cast<const std::string*>(data);
    auto* replies =
        static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
    if (replies == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < n; ++i)
        if (msgs[i]->msg_style == PAM_PROMPT_ECHO_OFF || msgs[i]->msg_style == PAM_PROMPT_ECHO_ON)
            replies[i].resp = ::strdup(msgs[i]->msg_style == PAM_PROMPT_ECHO_OFF ? pin->c_str() : "");
    *resp = replies;
    return PAM_SUCCESS;
}

int one_login(const char* service, const char* user, const std::string& pin) {
    const pam_conv conv{quiet, const_cast<std::string*>(&pin)};
    pam_handle_t* pamh = nullptr;
    int r = pam_start(service, user, &conv, &pamh);
    if (r != PAM_SUCCESS) return r;
    r = pam_authenticate(pamh, 0);
    pam_end(pamh, r);
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    std::string pin;  // empty: every prompt is answered with an empty string
    if (argc > 1 && std::strcmp(argv[1], "--pin") == 0) {
        if (!std::getline(std::cin, pin) || pin.empty()) {
            std::fprintf(stderr, "key_login_loop: --pin: no PIN on standard input\n");
            return 2;
        }
        --argc;
        ++argv;
    }
    if (argc < 4) {
        std::fprintf(stderr, "usage: key_login_loop [--pin] USER ROUNDS SERVICE[@USER]...\n");
        return 2;
    }
    const char* user = argv[1];
    const long rounds = std::strtol(argv[2], nullptr, 10);
    // Each round takes the services in the next of all their orders, so that each follows each other
    // equally often: a login runs a little slower or faster after some services than after others (the
    // other helper's end of its last login, what the key's work left in the caches), and with three
    // services a plain rotation would let one follow the same service twice as often as another.
    std::vector<int> order(static_cast<std::size_t>(argc - 3));
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int>(k);
    std::vector<std::vector<int>> orders;
    do {
        orders.push_back(order);
    } while (std::next_permutation(order.begin(), order.end()));
    bool all_ok = true;
    for (long i = 0; i < rounds; ++i) {
        for (const int k : orders[static_cast<std::size_t>(i) % orders.size()]) {
            const char* arg = argv[3 + k];
            const std::string spec(arg);
            const auto at = spec.find('@');
            const std::string service = spec.substr(0, at);
            const std::string who = at == std::string::npos ? user : spec.substr(at + 1);
            const auto start = std::chrono::steady_clock::now();
            const int r = one_login(service.c_str(), who.c_str(), pin);
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now() - start);
            std::printf("%s %lld %d\n", arg, static_cast<long long>(ns.count()), r);
            all_ok = all_ok && r == PAM_SUCCESS;
        }
    }
    return all_ok ? 0 : 1;
}
