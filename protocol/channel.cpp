#include "channel.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace pp::wire {

void send_message(int fd, const Message& m) {
    const Secret bytes = m.encode();
    for (;;) {
        const ssize_t n = ::send(fd, bytes.c_str(), bytes.size(), MSG_NOSIGNAL);
        if (n == static_cast<ssize_t>(bytes.size())) return;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            throw ChannelError(ChannelError::Kind::Closed, "peer closed the connection");
        throw ChannelError(ChannelError::Kind::Io, std::string("send: ") + std::strerror(errno));
    }
}

Message receive_message(int fd, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            throw ChannelError(ChannelError::Kind::Timeout, "timed out waiting for the peer");
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw ChannelError(ChannelError::Kind::Io, std::string("poll: ") + std::strerror(errno));
        if (r == 0) continue;
        break;
    }
    // One byte more than the limit, so an over-long datagram is seen as such instead of silently cut.
    std::array<char, kMaxMessage + 1> buf;
    ssize_t n;
    do {
        n = ::recv(fd, buf.data(), buf.size(), MSG_TRUNC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == ECONNRESET) throw ChannelError(ChannelError::Kind::Closed, "peer reset the connection");
        throw ChannelError(ChannelError::Kind::Io, std::string("recv: ") + std::strerror(errno));
    }
    if (n == 0) throw ChannelError(ChannelError::Kind::Closed, "peer closed the connection");
    const std::size_t got = static_cast<std::size_t>(n);
    if (got > kMaxMessage) {
        wipe(buf.data(), buf.size());
        throw ChannelError(ChannelError::Kind::Protocol, "message over the size limit");
    }
    try {
        Message m = Message::decode(std::string_view(buf.data(), got));
        wipe(buf.data(), got);
        return m;
    } catch (const ProtocolError& e) {
        wipe(buf.data(), got);
        throw ChannelError(ChannelError::Kind::Protocol, e.what());
    }
}

}  // namespace pp::wire
