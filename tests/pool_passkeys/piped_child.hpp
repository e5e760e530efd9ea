// A program of the scenario that the test talks to while it runs: its standard input is a pipe the test
// writes one line at a time, and its standard output and error are read as they come. The command line then
// reads its answers from standard input (it has no terminal), so the test can answer a prompt with what only
// exists once the prompt is there (a code the user pool has just sent), or act on the world between two steps
// of a login.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "unique_fd.hpp"

namespace pp::test {

class PipedChild {
  public:
    // argv[0] is an absolute path; env is the whole environment. The child runs in a session of its own (no
    // controlling terminal).
    PipedChild(const std::vector<std::string>& argv, const std::vector<std::string>& env);
    ~PipedChild();  // a child still running is killed and reaped
    PipedChild(const PipedChild&) = delete;
    PipedChild& operator=(const PipedChild&) = delete;

    // Reads output until the program waits for an answer (it is blocked reading its standard input) and has
    // written to standard error since offset `from`: returns that text, which ends with the prompt. Returns
    // "" when the program ended or `limit` passed first.
    std::string next_prompt(std::size_t from, std::chrono::milliseconds limit = std::chrono::seconds(20));
    void send_line(const std::string& line) const;
    void close_input();

    struct Ended {
        int exit_code = -1;
        int signal = 0;
        bool timed_out = false;
    };
    // Waits at most `limit` for the program to end (then SIGKILL), reaps it and collects all its output.
    Ended wait_exit(std::chrono::milliseconds limit = std::chrono::seconds(20));

    [[nodiscard]] const std::string& out() const { return out_; }
    [[nodiscard]] const std::string& err() const { return err_; }
    [[nodiscard]] std::string describe(const Ended& e) const;

  private:
    // Reads whatever arrives within `limit`; false once both outputs are at their end.
    bool pump(std::chrono::milliseconds limit);
    [[nodiscard]] bool waiting_for_input() const;
    UniqueFd in_, out_fd_, err_fd_;
    pid_t pid_ = -1;
    std::string out_, err_;
};

}  // namespace pp::test
