#include "helper_connection.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "channel.hpp"
#include "fs_trust.hpp"

namespace pp::client {
namespace {

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

void check_owned_by_root(const std::string& path, bool must_be_socket) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        const int error = errno;
        throw HelperUnavailable(errno_text(("cannot stat " + path).c_str()), error);
    }
    if (must_be_socket && !S_ISSOCK(st.st_mode)) throw HelperUnavailable(path + " is not a socket");
    if (!must_be_socket && !S_ISDIR(st.st_mode)) throw HelperUnavailable(path + " is not a directory");
    // Anyone may write to the socket (that is how a client connects): of the socket only the owner counts.
    if (must_be_socket && st.st_uid != 0) throw HelperUnavailable(path + " is not owned by root");
    if (const char* flaw = must_be_socket ? nullptr : not_root_alone(st))
        throw HelperUnavailable(path + " is " + flaw);
}

}  // namespace

HelperConnection HelperConnection::open(const std::string& socket_path, std::chrono::milliseconds timeout) {
    const auto slash = socket_path.find_last_of('/');
    check_owned_by_root(slash == 0 ? "/" : socket_path.substr(0, slash), false);
    check_owned_by_root(socket_path, true);

    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd) throw HelperUnavailable(errno_text("socket"));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) throw HelperUnavailable("socket path too long");
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    // A helper that stops accepting (wedged) leaves connections queued until its backlog is full; then a
    // connect waits for room, as long as the send timeout says (unix(7)): bounded by `timeout`, as the
    // answers are, so that sshd, sudo and login fall through to the next method instead of hanging.
    const timeval bound{static_cast<time_t>(timeout.count() / 1000),
                        static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound) != 0)
        throw HelperUnavailable(errno_text("SO_SNDTIMEO"));
    int r;
    do {
        r = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
        const int error = errno;
        if (error == EAGAIN || error == EWOULDBLOCK)
            throw HelperUnavailable("the helper at " + socket_path + " did not take the connection within " +
                                        std::to_string(timeout.count()) + " ms",
                                    error);
        throw HelperUnavailable(errno_text(("cannot connect to " + socket_path).c_str()), error);
    }
    // Sends stay as before: whole messages the helper reads at once.
    const timeval unbounded{};
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &unbounded, sizeof unbounded) != 0)
        throw HelperUnavailable(errno_text("SO_SNDTIMEO"));

    ucred peer{};
    socklen_t len = sizeof peer;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0)
        throw HelperUnavailable(errno_text("SO_PEERCRED"));
    if (peer.uid != 0)
        throw HelperUnavailable("the process behind " + socket_path + " is not running as root");
    return HelperConnection(std::move(fd), timeout);
}

void HelperConnection::send(const wire::Message& m) {
    wire::send_message(fd_.get(), m);
}

wire::Message HelperConnection::receive() {
    return wire::receive_message(fd_.get(), timeout_);
}

}  // namespace pp::client
