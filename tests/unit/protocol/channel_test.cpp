#include "channel.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "unique_fd.hpp"

namespace pp::wire {
namespace {

using namespace std::chrono_literals;

struct SocketPair {
    UniqueFd a, b;
    SocketPair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
            throw std::runtime_error("socketpair");
        a.reset(fds[0]);
        b.reset(fds[1]);
    }
};

void send_raw(int fd, const std::string& bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
}

ChannelError::Kind receive_error(int fd, std::chrono::milliseconds timeout) {
    try {
        (void)receive_message(fd, timeout);
    } catch (const ChannelError& e) {
        return e.kind();
    }
    ADD_FAILURE() << "receive_message did not throw";
    return ChannelError::Kind::Io;
}

TEST(Channel, MessageRoundTrips) {
    SocketPair s;
    Message m(Type::Prompt);
    m.add(Tag::Style, static_cast<std::uint32_t>(PromptStyle::EchoOff))
        .add(Tag::Text, "Code sent to a***@e***:");
    send_message(s.a.get(), m);
    const Message got = receive_message(s.b.get(), 5s);
    EXPECT_EQ(got.type(), Type::Prompt);
    EXPECT_EQ(got.get_u32(Tag::Style), static_cast<std::uint32_t>(PromptStyle::EchoOff));
    EXPECT_EQ(got.get(Tag::Text), "Code sent to a***@e***:");
}

TEST(Channel, MessagesKeepTheirBoundaries) {
    SocketPair s;
    send_message(s.a.get(), Message(Type::Answer).add(Tag::Text, "one"));
    send_message(s.a.get(), Message(Type::Answer).add(Tag::Text, "two"));
    EXPECT_EQ(receive_message(s.b.get(), 5s).get(Tag::Text), "one");
    EXPECT_EQ(receive_message(s.b.get(), 5s).get(Tag::Text), "two");
}

TEST(Channel, MessageOfExactlyTheLimitPasses) {
    SocketPair s;
    Message m(Type::Result);
    m.add(Tag::Text, std::string(kMaxMessage - 5, 'a'));
    send_message(s.a.get(), m);
    EXPECT_EQ(receive_message(s.b.get(), 5s).get(Tag::Text)->size(), kMaxMessage - 5);
}

TEST(Channel, NothingSentTimesOutWithinTheBound) {
    SocketPair s;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(receive_error(s.b.get(), 150ms), ChannelError::Kind::Timeout);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 140ms);
    EXPECT_LT(took, 2s);
}

TEST(Channel, ZeroTimeoutFailsAtOnce) {
    SocketPair s;
    EXPECT_EQ(receive_error(s.b.get(), 0ms), ChannelError::Kind::Timeout);
}

TEST(Channel, PeerClosedIsClosed) {
    SocketPair s;
    s.a.reset();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(receive_error(s.b.get(), 5s), ChannelError::Kind::Closed);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(Channel, PeerClosedAfterAMessageDeliversItFirst) {
    SocketPair s;
    send_message(s.a.get(), Message(Type::Cancel));
    s.a.reset();
    EXPECT_EQ(receive_message(s.b.get(), 5s).type(), Type::Cancel);
    EXPECT_EQ(receive_error(s.b.get(), 5s), ChannelError::Kind::Closed);
}

TEST(Channel, SendToClosedPeerIsClosed) {
    SocketPair s;
    s.b.reset();
    try {
        send_message(s.a.get(), Message(Type::Cancel));
        FAIL() << "send_message did not throw";
    } catch (const ChannelError& e) {
        EXPECT_EQ(e.kind(), ChannelError::Kind::Closed);
    }
}

TEST(Channel, OversizeDatagramIsAProtocolError) {
    SocketPair s;
    std::string big = std::string{static_cast<char>(kVersion), static_cast<char>(Type::Answer)};
    big.resize(kMaxMessage + 1, '\0');
    send_raw(s.a.get(), big);
    EXPECT_EQ(receive_error(s.b.get(), 5s), ChannelError::Kind::Protocol);
}

TEST(Channel, FarOversizeDatagramIsAProtocolError) {
    SocketPair s;
    std::string big(4 * kMaxMessage, 'x');
    send_raw(s.a.get(), big);
    EXPECT_EQ(receive_error(s.b.get(), 5s), ChannelError::Kind::Protocol);
    // The oversize datagram is consumed whole; the next one arrives intact.
    send_message(s.a.get(), Message(Type::Cancel));
    EXPECT_EQ(receive_message(s.b.get(), 5s).type(), Type::Cancel);
}

TEST(Channel, MalformedDatagramIsAProtocolError) {
    SocketPair s;
    send_raw(s.a.get(), std::string("\x01\x02\x06\x00\x09"
                                    "abc",
                                    8));  // field promises 9 bytes, has 3
    EXPECT_EQ(receive_error(s.b.get(), 5s), ChannelError::Kind::Protocol);
    send_raw(s.a.get(), std::string("\x02\x02", 2));  // version 2
    EXPECT_EQ(receive_error(s.b.get(), 5s), ChannelError::Kind::Protocol);
    send_raw(s.a.get(), std::string("\x01", 1));  // too short for a header
    EXPECT_EQ(receive_error(s.b.get(), 5s), ChannelError::Kind::Protocol);
}

TEST(Channel, DescriptorThatIsNoSocketIsAnIoError) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const UniqueFd r(fds[0]), w(fds[1]);
    ASSERT_EQ(::write(w.get(), "x", 1), 1);
    EXPECT_EQ(receive_error(r.get(), 5s), ChannelError::Kind::Io);
    try {
        send_message(-1, Message(Type::Cancel));
        FAIL() << "send_message did not throw";
    } catch (const ChannelError& e) {
        EXPECT_EQ(e.kind(), ChannelError::Kind::Io);
    }
}

}  // namespace
}  // namespace pp::wire
