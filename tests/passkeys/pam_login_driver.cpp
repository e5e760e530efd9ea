// One pam_authenticate through libpamtest, in a process of its own so that the virtual keys it loads read the
// knobs of this one login (they read them once, when the library loads).
//
//   pam_login_driver SERVICE USER < answers
//
// Run under pam_wrapper (LD_PRELOAD, PAM_WRAPPER=1, PAM_WRAPPER_SERVICE_DIR). Each prompt takes the next line
// of standard input as its answer; when the lines run out the conversation fails (PAM_CONV_ERR), as a closed
// terminal would. Standard output gets one line per message, "<style> <text>" (style echo_off, echo_on,
// error or info; a newline in the text is written as \n), and last "pam_code=<N>". Exit status 0 when
// pam_authenticate ran, whatever it returned.
//
// With VFIDO_LOG set (the virtual keys' event log, tests/virtual_fido/event_log.hpp), the same lines also go
// to that file, prefixed "driver <CLOCK_MONOTONIC seconds>": one file then holds, in order, what the person
// was shown and what the keys were asked, on one clock.
#include <fcntl.h>
#include <security/pam_appl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

extern "C" {
#include <libpamtest.h>
}

namespace {

struct Answers {
    std::vector<std::string> lines;
    std::size_t next = 0;
};

std::string escaped(const char* text) {
    std::string out;
    for (const char* p = text; p != nullptr && *p != '\0'; ++p) {
        if (*p == '\n')
            out += "\\n";
        else if (*p == '\\')
            out += "\\\\";
        else
            out.push_back(*p);
    }
    return out;
}

// One line to the shared event log, written with one write() so it stays whole beside the keys' lines.
void log_event(const std::string& what) {
    const char* path = std::getenv("VFIDO_LOG");
    if (path == nullptr) return;
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "driver %lld.%06ld ", static_cast<long long>(now.tv_sec),
                  now.tv_nsec / 1000);
    const std::string line = stamp + what + "\n";
    const int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    [[maybe_unused]] const auto written = ::write(fd, line.data(), line.size());
    ::close(fd);
}

const char* style_name(int style) {
    switch (style) {
        case PAM_PROMPT_ECHO_OFF:
            return "echo_off";
        case PAM_PROMPT_ECHO_ON:
            return "echo_on";
        case PAM_ERROR_MSG:
            return "error";
        case PAM_TEXT_INFO:
            return "info";
        default:
            return "other";
    }
}

int conversation(int n, const pam_message** msgs, pam_response** resp, void* appdata) {
    auto* answers = static_cast<Answers*>(appdata);
    auto* replies =
        static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
    if (replies == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < n; ++i) {
        const int style = msgs[i]->msg_style;
        // Written at once, so a run that hangs and is killed still shows how far it got.
        std::cout << style_name(style) << " " << escaped(msgs[i]->msg) << std::endl;
        log_event(std::string(style_name(style)) + " " + escaped(msgs[i]->msg));
        if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON) continue;
        if (answers->next >= answers->lines.size()) {
            std::cout << "conversation: no answer left" << std::endl;
            for (int j = 0; j < i; ++j) std::free(replies[j].resp);
            std::free(replies);
            return PAM_CONV_ERR;
        }
        replies[i].resp = ::strdup(answers->lines[answers->next++].c_str());
    }
    *resp = replies;
    return PAM_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: pam_login_driver SERVICE USER < answers\n";
        return 2;
    }
    Answers answers;
    for (std::string line; std::getline(std::cin, line);) answers.lines.push_back(line);

    log_event("start");
    pam_testcase cases[] = {pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS)};
    // The macro run_pamtest_conv in Debian's libpamtest 1.1.4 does not compile; the function does the same.
    const auto err = _pamtest_conv(argv[1], argv[2], conversation, &answers, cases, 1, nullptr);
    if (err != PAMTEST_ERR_OK && err != PAMTEST_ERR_CASE) {
        std::cerr << "libpamtest: " << pamtest_strerror(err) << "\n";
        return 1;
    }
    log_event("pam_code=" + std::to_string(cases[0].op_rv));
    std::cout << "pam_code=" << cases[0].op_rv << std::endl;
    return 0;
}
