#include "store_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "trusted_file.hpp"

namespace pp::helper {

StoreLock::StoreLock(const std::string& dir) {
    check_trusted_directory(dir);
    const std::string path = dir + "/" + std::string(kStoreLockName);
    const auto fail = [&](const std::string& what) { throw FileError(path + ": " + what); };
    fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
    if (!fd_) fail(errno == ELOOP ? "is a symlink" : std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) fail(std::strerror(errno));
    // A regular file root alone can change (not_root_alone), and that nobody else can open to hold.
    check_trusted_file(path, st, Confidentiality::Secret);
    while (::flock(fd_.get(), LOCK_EX) != 0) {
        if (errno != EINTR) fail(std::strerror(errno));
    }
}

}  // namespace pp::helper
