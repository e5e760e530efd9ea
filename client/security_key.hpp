// Asking a connected FIDO2 key for an assertion over data the helper chose.
#pragma once

#include <variant>

#include "asker.hpp"
#include "messages.hpp"

namespace pp::client {

// What goes back to the helper: the key's reply, or a Cancel when the person cancelled the PIN prompt.
using AssertionReply = std::variant<protocol::Assertion, protocol::Cancel>;
using CredentialReply = std::variant<protocol::Credential, protocol::Cancel>;

// Answers an AssertionRequest with an Assertion (its DeviceStatus says what happened at the key).
AssertionReply get_assertion(const protocol::AssertionRequest& request, Asker& asker);

// Answers a CredentialRequest (enrolment) with a Credential made by the first connected key that accepts it.
CredentialReply make_credential(const protocol::CredentialRequest& request, Asker& asker);

}  // namespace pp::client
