#include "process_memory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pp::test {
namespace {

struct Region {
    unsigned long start = 0, end = 0;
    std::string line;
};

std::vector<Region> private_readable_regions(pid_t pid) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    if (!maps) throw std::runtime_error("cannot open /proc/" + std::to_string(pid) + "/maps");
    std::vector<Region> regions;
    std::string line;
    while (std::getline(maps, line)) {
        std::istringstream fields(line);
        std::string range, perms;
        fields >> range >> perms;
        // [vvar] and [vsyscall] are the kernel's, not the process's, and cannot be read this way.
        if (perms.size() < 4 || perms[0] != 'r' || perms[3] != 'p') continue;
        if (line.find("[vvar]") != std::string::npos || line.find("[vsyscall]") != std::string::npos)
            continue;
        Region r;
        r.start = std::stoul(range.substr(0, range.find('-')), nullptr, 16);
        r.end = std::stoul(range.substr(range.find('-') + 1), nullptr, 16);
        r.line = line;
        regions.push_back(r);
    }
    return regions;
}

}  // namespace

std::vector<MemoryHit> find_in_memory(pid_t pid, const std::vector<Needle>& needles) {
    const std::string mem_path = "/proc/" + std::to_string(pid) + "/mem";
    const int fd = ::open(mem_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + mem_path + ": " + std::strerror(errno));
    std::vector<MemoryHit> hits;
    std::size_t read_any = 0;
    for (const Region& region : private_readable_regions(pid)) {
        std::string bytes(region.end - region.start, '\0');
        std::size_t got = 0;
        while (got < bytes.size()) {
            const ssize_t n =
                ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(region.start + got));
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
        bytes.resize(got);
        read_any += got;
        for (const Needle& needle : needles) {
            for (auto at = bytes.find(needle.bytes); at != std::string::npos;
                 at = bytes.find(needle.bytes, at + 1)) {
                hits.push_back({needle.name, region.line, region.start + at});
            }
        }
    }
    ::close(fd);
    if (read_any == 0) throw std::runtime_error("nothing of " + mem_path + " could be read");
    return hits;
}

std::vector<Needle> needles_for(const std::string& name, const std::string& secret) {
    constexpr std::size_t window = 24;
    std::vector<Needle> out{{name, secret}};
    if (secret.size() >= 3 * window) {
        for (const std::size_t at :
             {std::size_t{0}, secret.size() / 2 - window / 2, secret.size() - window}) {
            out.push_back({name + " (bytes " + std::to_string(at) + ".." + std::to_string(at + window) + ")",
                           secret.substr(at, window)});
        }
    }
    return out;
}

}  // namespace pp::test
