// What syslog(3) writes while one of these is alive, for tests of log and audit lines: the ident is opened
// with LOG_PERROR, which copies every line to stderr, and stderr goes to a file under the build tree.
#pragma once

#include <string>
#include <string_view>

#include "test_dir.hpp"

namespace pp::helper::test {

class SyslogCapture {
  public:
    explicit SyslogCapture(const TestDir& dir);
    ~SyslogCapture();
    SyslogCapture(const SyslogCapture&) = delete;
    SyslogCapture& operator=(const SyslogCapture&) = delete;

    // Everything written so far; the capture stays on.
    [[nodiscard]] std::string text() const;
    // How many times `needle` occurs in it.
    [[nodiscard]] int count(std::string_view needle) const;

  private:
    std::string path_;
    int saved_ = -1;
};

}  // namespace pp::helper::test
