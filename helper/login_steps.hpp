// What the real login and the decoy (decoy.cpp) both show and decide, in one place each, so that a change to
// a prompt or an ending reaches both: a decoy that drifts from the real flow tells who is enrolled.
#pragma once

#include <string>
#include <string_view>

#include "session.hpp"
#include "text.hpp"
#include "wire.hpp"

namespace pp::helper {

inline constexpr const char* kTooManyWrong = "Sign-in failed: too many wrong codes.";
inline constexpr const char* kNoKey = "No security key found. Plug in your security key and try again.";
// Put before the menu shown again when the chosen security key was not there.
inline constexpr const char* kNoKeyAgain = "No security key found.\n";
inline constexpr const char* kTouchKey = "Touch your security key.";

// A method as the menu lists it ("Email code", "Text message code to +*******0123").
std::string menu_label(Method m, const std::string& dest);
// The prompt for a code sent to `where` (a masked destination); after a wrong code it says so.
std::string code_prompt(const std::string& where, bool after_wrong);
// The ending of a login with wrong codes: the same for a real user and the decoy.
Finish too_many_wrong_codes(std::string reason);
// sshd replaces every answer given for a name that is not a local account with a fixed string of control
// characters. No person types those, so such an answer is treated as an ordinary one would be and the walk
// continues as for any unknown user, instead of revealing the account's absence with a different error.
using text::has_control_characters;
// A code worth sending to the user pool.
bool valid_code(std::string_view code);
// What the key's answer means for the person and PAM.
Finish key_status_finish(wire::DeviceStatus s);

}  // namespace pp::helper
