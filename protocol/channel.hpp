// Sending and receiving whole messages on a connected SOCK_SEQPACKET socket, with a bounded wait.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>

#include "wire.hpp"

namespace pp::wire {

class ChannelError : public std::runtime_error {
  public:
    enum class Kind { Closed, Timeout, Io, Protocol };
    ChannelError(Kind k, const std::string& what) : std::runtime_error(what), kind_(k) {}
    [[nodiscard]] Kind kind() const noexcept { return kind_; }

  private:
    Kind kind_;
};

void send_message(int fd, const Message& m);
// Waits at most `timeout` for one message. Throws ChannelError (Closed when the peer hung up).
Message receive_message(int fd, std::chrono::milliseconds timeout);

}  // namespace pp::wire
