// How a client of the helper talks to the person: the PAM conversation in the module, the terminal in the
// command line.
#pragma once

#include <string>

#include "secret.hpp"

namespace pp::client {

class Asker {
  public:
    enum class Status { Ok, Failed, Cancelled };
    struct Reply {
        Status status;
        Secret text;
    };
    virtual ~Asker() = default;
    virtual Reply ask(const std::string& text, bool echo) = 0;
    virtual void error(const std::string& text) = 0;
    virtual void info(const std::string& text) = 0;
};

}  // namespace pp::client
