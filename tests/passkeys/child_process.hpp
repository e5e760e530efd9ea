// Running one program of the scenario (the login driver, the command line, pamtester, the pamu2fcfg stand-in)
// as a child process with an environment of its own: the virtual keys read their knobs when they load, so
// every run that needs other knobs is a new process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pp::test {

struct ChildSpec {
    std::vector<std::string> argv;  // argv[0] is an absolute path
    std::vector<std::string> env;   // the whole environment: nothing of the test's own leaks in
    std::string input;              // standard input
    std::filesystem::path work;     // where the input and the captured output are kept
    std::optional<uid_t> uid;       // run as this uid and gid (from root), keeping only directory search
    std::chrono::milliseconds limit{20000};
    // When set, standard input is a pipe instead of `input`: what this returns (called in the test while the
    // child runs, e.g. once a code has been sent) is written to it and the pipe closed.
    std::function<std::string()> late_input;
};

struct ChildResult {
    int exit_code = -1;  // -1 when it did not exit normally
    int signal = 0;      // the signal that ended it, if one did
    bool timed_out = false;
    std::string out, err;
    std::chrono::milliseconds elapsed{0};
    [[nodiscard]] std::string describe() const;  // for failure messages
};

// Starts the program in a new session (so it has no controlling terminal and reads answers from standard
// input), waits for it at most `limit` (then SIGKILL), reaps it and returns what it wrote.
ChildResult run_child(const ChildSpec& spec);

}  // namespace pp::test
