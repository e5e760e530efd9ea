#include "syslog_capture.hpp"

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace pp::helper::test {

SyslogCapture::SyslogCapture(const TestDir& dir) : path_(dir.file("syslog")) {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0600);
    if (saved_ < 0 || fd < 0 || ::dup2(fd, STDERR_FILENO) < 0) {
        if (fd >= 0) ::close(fd);
        if (saved_ >= 0) ::close(saved_);
        throw std::runtime_error("cannot capture stderr");
    }
    ::close(fd);
    ::openlog("pp-test", LOG_PERROR | LOG_NDELAY, LOG_AUTHPRIV);
}

SyslogCapture::~SyslogCapture() {
    ::closelog();
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
}

std::string SyslogCapture::text() const {
    std::ifstream in(path_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int SyslogCapture::count(std::string_view needle) const {
    const std::string t = text();
    int n = 0;
    for (auto at = t.find(needle); at != std::string::npos; at = t.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace pp::helper::test
