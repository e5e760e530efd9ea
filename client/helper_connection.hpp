// The module's end of the connection to the privileged helper.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include "unique_fd.hpp"
#include "wire.hpp"

namespace pp::client {

// The helper cannot be trusted or reached; the message says why, for the log.
class HelperUnavailable : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class HelperConnection {
  public:
    // Connects only to a socket that root owns, in a directory only root can write, served by a uid-0
    // process: anything else could be an impostor collecting codes and PINs.
    static HelperConnection open(const std::string& socket_path, std::chrono::milliseconds timeout);

    void send(const wire::Message& m);
    wire::Message receive();

  private:
    HelperConnection(UniqueFd fd, std::chrono::milliseconds timeout)
        : fd_(std::move(fd)), timeout_(timeout) {}
    UniqueFd fd_;
    std::chrono::milliseconds timeout_;
};

}  // namespace pp::client
