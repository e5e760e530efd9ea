// A private directory under the build tree for one test, with the properties the trusted-file checks ask for.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace pp::helper::test {

class TestDir {
  public:
    // Named for the running test and the process, so tests run in parallel do not meet. Mode 0755.
    TestDir();
    ~TestDir();
    TestDir(const TestDir&) = delete;
    TestDir& operator=(const TestDir&) = delete;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
    // Writes `name` with exactly `mode` (whatever the umask) and returns its path.
    std::string write(std::string_view name, std::string_view contents, mode_t mode = 0644) const;
    // Makes a subdirectory with exactly `mode` and returns its path.
    std::string subdir(std::string_view name, mode_t mode = 0755) const;

  private:
    std::string path_;
};

// Files read through the trusted-file checks must be owned by root, and so must their directory.
bool running_as_root();

}  // namespace pp::helper::test
