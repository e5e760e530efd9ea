// Asking a connected FIDO2 key for an assertion over data the helper chose.
#pragma once

#include "asker.hpp"
#include "wire.hpp"

namespace pp::client {

// Answers a KeyRequest with an Assertion message (its DeviceStatus says what happened at the key), or with a
// Cancel message when the person cancelled the PIN prompt.
wire::Message get_assertion(const wire::Message& request, Asker& asker);

// Answers a CredentialRequest (enrolment) with a Credential message made by the first connected key that
// accepts it, or with a Cancel message when the person cancelled the PIN prompt.
wire::Message make_credential(const wire::Message& request, Asker& asker);

}  // namespace pp::client
