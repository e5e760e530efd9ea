// The module's end of the connection to the privileged helper.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include "unique_fd.hpp"
#include "wire.hpp"

namespace pp::client {

// The helper cannot be trusted or reached; the message says why, for the log.
// error_number: the errno of a failed connect (0 otherwise), so that an administrator's command can tell a
// helper that is not running (ENOENT, ECONNREFUSED) from one it may not reach.
class HelperUnavailable : public std::runtime_error {
  public:
    explicit HelperUnavailable(const std::string& what, int error_number = 0)
        : std::runtime_error(what), error_number_(error_number) {}
    [[nodiscard]] int error_number() const noexcept { return error_number_; }

  private:
    int error_number_;
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
