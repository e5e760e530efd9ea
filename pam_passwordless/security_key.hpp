// Asking a connected FIDO2 key for an assertion over data the helper chose.
#pragma once

#include "conversation.hpp"
#include "wire.hpp"

namespace pp::module {

// Answers a KeyRequest with an Assertion message (its DeviceStatus says what happened at the key), or with a
// Cancel message when the person cancelled the PIN prompt.
wire::Message get_assertion(const wire::Message& request, Conversation& conv, bool silent);

}  // namespace pp::module
