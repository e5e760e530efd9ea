// What the real login and the decoy (decoy.cpp) both show and decide, in one place each, so that a change to
// a prompt or an ending reaches both: a decoy that drifts from the real flow tells who is enrolled.
#pragma once

#include <string>
#include <string_view>

#include "messages.hpp"
#include "session.hpp"
#include "wire.hpp"

namespace pp::helper {

// The ending of a login with wrong codes: the same for a real user and the decoy.
Finish too_many_wrong_codes(std::string reason);
// sshd's stand-in for the answers of a name that is no local account (no person types these).
bool has_control_characters(std::string_view s);
// A code worth sending to the user pool.
bool valid_code(std::string_view code);
// What the key's answer means for the person and PAM.
Finish key_status_finish(wire::DeviceStatus s);

}  // namespace pp::helper
