// The client's half of a conversation with the helper: it does what the helper asks (prompt the person, ask
// a key for an assertion or a new credential) until the helper's verdict arrives.
#pragma once

#include <string>
#include <vector>

#include "asker.hpp"
#include "helper_connection.hpp"
#include "wire.hpp"

namespace pp::client {

struct Verdict {
    wire::Outcome outcome = wire::Outcome::AuthinfoUnavail;
    std::string user;                  // who the helper verified, on success
    std::string text;                  // for the person
    std::vector<std::string> records;  // credential listings, when the request asked for them
};

// Sends `request` (Begin or Manage) and relays until the Result. Throws HelperUnavailable, wire::ChannelError
// or wire::ProtocolError when the helper breaks the protocol or goes away.
Verdict relay(HelperConnection& helper, const wire::Message& request, Asker& asker);

}  // namespace pp::client
