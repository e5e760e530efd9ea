#include "test_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

namespace pp::helper::test {

TestDir::TestDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
    for (char& ch : name)
        if (ch == '/') ch = '_';
    path_ = std::string(PP_TEST_TMP_DIR) + "/" + name + "." + std::to_string(::getpid());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
    if (::chmod(path_.c_str(), 0755) != 0) throw std::runtime_error("chmod " + path_);
}

TestDir::~TestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string TestDir::write(std::string_view name, std::string_view contents, mode_t mode) const {
    const std::string p = file(name);
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("open " + p);
    const bool ok = ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()) &&
                    ::fchmod(fd, mode) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("write " + p);
    return p;
}

std::string TestDir::subdir(std::string_view name, mode_t mode) const {
    const std::string p = file(name);
    if (::mkdir(p.c_str(), 0700) != 0 || ::chmod(p.c_str(), mode) != 0)
        throw std::runtime_error("mkdir " + p);
    return p;
}

bool running_as_root() {
    return ::geteuid() == 0;
}

}  // namespace pp::helper::test
