#include "sign_counter.hpp"

#include <functional>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <utility>

#include "crypto.hpp"

namespace vfido {
namespace {

constexpr std::uint32_t regress_start = 100;

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    [[nodiscard]] int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

  private:
    int fd_;
};

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": errno " + std::to_string(errno));
}

std::uint32_t advance(std::optional<std::uint32_t> last, CounterMode mode) {
    switch (mode) {
        case CounterMode::zero:
            return 0;
        case CounterMode::regress:
            if (!last) return regress_start;
            return *last == 0 ? 0 : *last - 1;
        case CounterMode::normal:
            break;
    }
    return last.value_or(0) + 1;
}

}  // namespace

std::optional<std::uint32_t> read_state_number(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::nullopt;
        fail("open " + path);
    }
    char buffer[32];
    const ssize_t length = ::read(fd.get(), buffer, sizeof buffer);
    std::uint32_t value = 0;
    const char* end = length > 0 ? buffer + length : buffer;
    if (end > buffer && end[-1] == '\n') --end;
    const auto [stop, error] = std::from_chars(buffer, end, value);
    // A damaged file must not silently restart the count: that could hide exactly what a test looks for.
    if (length <= 0 || error != std::errc() || stop != end)
        throw std::runtime_error("corrupt counter " + path);
    return value;
}

void write_state_number(const std::string& path, std::uint32_t value) {
    // One temporary per process: the PIN retry counter is written without the counters' lock.
    const std::string temporary = path + ".tmp." + std::to_string(::getpid());
    const std::string text = std::to_string(value) + "\n";
    Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) fail("open " + temporary);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        fail("write " + temporary);
    // No fsync: a test key need not survive a power cut, and the rename alone keeps readers from a torn file.
    if (::close(fd.release()) != 0) fail("close " + temporary);
    if (::rename(temporary.c_str(), path.c_str()) != 0) fail("rename " + temporary);
}

std::uint32_t SignCounters::next(ByteView credential_id, CounterMode mode) {
    const std::string name = to_hex(crypto::sha256(credential_id));
    const std::lock_guard lock(mutex_);
    if (!state_dir_.empty()) return advance_in_file(name, mode);
    const auto it = in_memory_.find(name);
    const std::uint32_t value =
        advance(it == in_memory_.end() ? std::nullopt : std::optional<std::uint32_t>(it->second), mode);
    if (mode != CounterMode::zero) in_memory_[name] = value;
    return value;
}

std::uint32_t change_state_number(const std::string& dir, const std::string& name,
                                  const std::function<std::uint32_t(std::optional<std::uint32_t>)>& change) {
    // One lock for the whole directory serialises read-modify-write across processes; flock is released by
    // close, including when a forked child exits.
    const std::string lock_path = dir + "/vfido.lock";
    Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (lock.get() < 0) fail("open " + lock_path);
    while (::flock(lock.get(), LOCK_EX) != 0)
        if (errno != EINTR) fail("flock " + lock_path);
    const std::string path = dir + "/" + name;
    const std::uint32_t value = change(read_state_number(path));
    write_state_number(path, value);
    return value;
}

std::uint32_t SignCounters::advance_in_file(const std::string& name, CounterMode mode) {
    if (mode == CounterMode::zero) return 0;
    return change_state_number(state_dir_, name + ".counter",
                               [mode](std::optional<std::uint32_t> last) { return advance(last, mode); });
}

}  // namespace vfido
