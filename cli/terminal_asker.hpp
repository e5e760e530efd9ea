// How the command line talks to the person: prompts and PINs at the controlling terminal, or, without one,
// answers read from standard input line by line (scripts and tests).
#pragma once

#include <string>

#include "asker.hpp"
#include "text.hpp"
#include "unique_fd.hpp"

namespace pp::cli {

class TerminalAsker : public client::Asker {
  public:
    // Uses /dev/tty when the process has a controlling terminal; otherwise stdin for answers and stderr for
    // prompts and messages, so standard output carries only what the command prints.
    TerminalAsker();

    // A secret (echo == false) is read with echo off; the terminal is put back on every path, including a
    // signal that ends or stops the process while the person types.
    Reply ask(const std::string& text, bool echo) override;
    void error(const std::string& text) override;
    void info(const std::string& text) override;

  private:
    [[nodiscard]] int in() const { return tty_ ? tty_.get() : 0; }
    [[nodiscard]] int out() const { return tty_ ? tty_.get() : 2; }
    UniqueFd tty_;
};

// The text with every control character but newline and tab shown as '?': what the helper relays may carry
// a nickname somebody else chose, and it must not drive the terminal.
inline std::string printable(std::string_view text) {
    return text::controls_replaced(text, std::string_view::npos, text::LineBreaks::Keep);
}

}  // namespace pp::cli
