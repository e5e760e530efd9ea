// The command line at a terminal: a child on a pseudo-terminal that is its controlling terminal, as a person
// would run it, so the test can see what it shows, type into it and read the terminal's modes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "unique_fd.hpp"

namespace pp::test {

class TerminalSession {
  public:
    // argv[0] is an absolute path; env is the whole environment.
    TerminalSession(const std::vector<std::string>& argv, const std::vector<std::string>& env);
    ~TerminalSession();  // a child still running is killed and reaped
    TerminalSession(const TerminalSession&) = delete;
    TerminalSession& operator=(const TerminalSession&) = delete;

    // Reads what the program writes until `text` has appeared (true) or `limit` passed (false).
    bool wait_for(const std::string& text, std::chrono::milliseconds limit = std::chrono::seconds(20));
    void type(const std::string& text) const;
    // Whether the terminal echoes what is typed, right now.
    [[nodiscard]] bool echo() const;
    void signal(int sig) const;

    struct Ended {
        int exit_code = -1;
        int signal = 0;
        bool timed_out = false;
    };
    // Waits at most `limit` for the program to end (then SIGKILL), reaps it and keeps reading its output.
    Ended wait_exit(std::chrono::milliseconds limit = std::chrono::seconds(20));
    [[nodiscard]] const std::string& screen() const { return screen_; }

  private:
    void read_for(std::chrono::milliseconds limit);
    UniqueFd master_, slave_;
    pid_t pid_ = -1;
    std::string screen_;
};

}  // namespace pp::test
