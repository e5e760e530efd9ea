// The client's half of a conversation with the helper: it does what the helper asks (prompt the person, show
// a link to open on another device, ask a key for an assertion or a new credential) until the helper's
// verdict arrives.
#pragma once

#include <functional>
#include <string>
#include <string_view>
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
    std::string audit_line;            // a test login's: the line the helper logged for it
    std::string login_id;              // the helper's id for this login (empty before it said one)
};

// Told each step of the relay, for the PAM module's debug lines: the message's kind and nothing it carries
// (a prompt's text may name an address; an answer is a code). `login_id` is empty until the helper sent it.
using RelayTrace = std::function<void(std::string_view login_id, std::string_view step)>;

// Where a test login's steps go (wire::Type::Trace), as the helper sends them.
using Tracer = std::function<void(std::string_view step)>;

// Sends `request` (Begin or Manage) and relays until the Result. Throws HelperUnavailable, wire::ChannelError
// or wire::ProtocolError when the helper breaks the protocol or goes away. Only a caller that passes a tracer
// (the command line's test-login) accepts the helper's Trace messages; for the module they are a protocol
// error, so nothing meant for an admin can reach a person's screen.
Verdict relay(HelperConnection& helper, const wire::Message& request, Asker& asker,
              const RelayTrace& trace = {}, const Tracer& tracer = nullptr);

}  // namespace pp::client
