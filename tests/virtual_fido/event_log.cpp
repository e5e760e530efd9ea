#include "event_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <string>

#include "knobs.hpp"

namespace vfido {

void log_event(unsigned key_index, std::string_view what) {
    const std::string& path = knobs().log;
    if (path.empty()) return;
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "vfido %lld.%06ld key=%u ", static_cast<long long>(now.tv_sec),
                  now.tv_nsec / 1000, key_index);
    std::string line = stamp;
    line.append(what);
    line.push_back('\n');
    // Opened per line with O_APPEND: one write per line keeps lines whole between writers of one file.
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    [[maybe_unused]] const auto written = ::write(fd, line.data(), line.size());
    ::close(fd);
}

}  // namespace vfido
