#include "trusted_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "fs_trust.hpp"
#include "unique_fd.hpp"

namespace pp::helper {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw FileError(path + ": " + what);
}

std::string parent_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Opens `path` after the checks read_trusted_file promises; `st` is the open file's.
UniqueFd open_trusted(const std::string& path, Confidentiality c, struct stat& st) {
    if (path.empty() || path.front() != '/') fail(path, "not an absolute path");
    check_trusted_directory(parent_of(path));
    // O_NONBLOCK: opening a FIFO planted in place of the file must not wait for a writer.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) fail(path, errno == ELOOP ? "is a symlink" : std::strerror(errno));
    if (::fstat(fd.get(), &st) != 0) fail(path, std::strerror(errno));
    check_trusted_file(path, st, c);
    return fd;
}

// Reads up to `limit` bytes, and one more when there is one (so the caller can tell the file is larger). The
// buffer starts at the size fstat gave, not at the limit: zero-filling a 16 MiB limit for a file of a few KiB
// cost a cold start ~90 ms of page faults. It grows only when the file grew while being read; the buffer left
// behind is wiped, as it may hold a secret.
std::string read_up_to(const std::string& path, int fd, std::size_t size_hint, std::size_t limit) {
    std::string out(std::min(size_hint, limit) + 1, '\0');
    std::size_t got = 0;
    for (;;) {
        if (got == out.size()) {
            if (got > limit) break;
            std::string bigger(std::min(2 * out.size(), limit + 1), '\0');
            std::memcpy(bigger.data(), out.data(), got);
            wipe(out.data(), out.size());
            out.swap(bigger);
        }
        const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const std::string err = std::strerror(errno);
            wipe(out.data(), out.size());
            fail(path, err);
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
}

}  // namespace

void check_trusted_file(const std::string& path, const struct stat& st, Confidentiality c) {
    if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
    if (const char* flaw = not_root_alone(st)) fail(path, flaw);
    if (c == Confidentiality::Secret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        fail(path, "readable by group or others (a secret must be mode 0600 or 0400)");
}

void check_trusted_directory(const std::string& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) fail(dir, std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) fail(dir, "not a directory");
    if (const char* flaw = not_root_alone(st)) fail(dir, std::string("directory is ") + flaw);
}

void make_private_directory(const std::string& dir) {
    if (dir.empty() || dir.front() != '/') fail(dir, "not an absolute path");
    for (std::size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
        const std::string prefix = dir.substr(0, slash);
        if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) fail(prefix, std::strerror(errno));
        if (slash == std::string::npos) break;
    }
    check_trusted_directory(dir);
}

std::string read_trusted_file(const std::string& path, std::size_t max_size, Confidentiality c) {
    struct stat st {};
    const UniqueFd fd = open_trusted(path, c, st);
    if (static_cast<std::size_t>(st.st_size) > max_size)
        fail(path, "larger than " + std::to_string(max_size) + " bytes");
    std::string out = read_up_to(path, fd.get(), static_cast<std::size_t>(st.st_size), max_size);
    if (out.size() > max_size) {
        wipe(out.data(), out.size());
        fail(path, "larger than " + std::to_string(max_size) + " bytes");
    }
    return out;
}

std::string read_trusted_head(const std::string& path, std::size_t n, Confidentiality c) {
    struct stat st {};
    const UniqueFd fd = open_trusted(path, c, st);
    std::string out = read_up_to(path, fd.get(), n, n);
    out.resize(std::min(out.size(), n));
    return out;
}

bool check_trusted_path(const std::string& path, Confidentiality c) {
    if (path.empty() || path.front() != '/') fail(path, "not an absolute path");
    check_trusted_directory(parent_of(path));
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return false;
        fail(path, std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode)) fail(path, "is a symlink");
    check_trusted_file(path, st, c);
    return true;
}

Secret read_secret_file(const std::string& path, std::size_t max_size) {
    std::string raw = read_trusted_file(path, max_size, Confidentiality::Secret);
    std::size_t end = raw.size();
    while (end > 0 && (raw[end - 1] == '\n' || raw[end - 1] == '\r')) --end;
    Secret s(std::string_view(raw.data(), end));
    wipe(raw.data(), raw.size());
    return s;
}

void write_file_atomically(const std::string& path, std::string_view contents) {
    const std::string dir = parent_of(path);
    check_trusted_directory(dir);
    std::random_device rd;
    const std::string tmp = path + ".tmp." + std::to_string(rd());
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) fail(tmp, std::strerror(errno));
    std::size_t done = 0;
    while (done < contents.size()) {
        const ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const std::string err = std::strerror(errno);
            ::unlink(tmp.c_str());
            fail(tmp, err);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd.get(), 0600) != 0 || ::fsync(fd.get()) != 0) {
        const std::string err = std::strerror(errno);
        ::unlink(tmp.c_str());
        fail(tmp, err);
    }
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string err = std::strerror(errno);
        ::unlink(tmp.c_str());
        fail(path, err);
    }
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd) ::fsync(dfd.get());
}

}  // namespace pp::helper
