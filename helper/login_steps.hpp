// What the real login and the decoy (login/unknown_user.cpp) both show and decide, in one place each, so that
// a change to a prompt or an ending reaches both: a decoy that drifts from the real flow tells who is
// enrolled.
#pragma once

#include <string>
#include <string_view>

#include "person_texts.hpp"
#include "session.hpp"
#include "text.hpp"
#include "wire.hpp"

namespace pp::helper {

// The ending of a login with wrong codes: the same for a real user and the decoy.
Verdict too_many_wrong_codes(std::string reason);
// sshd replaces every answer given for a name that is not a local account with a fixed string of control
// characters. No person types those, so such an answer is treated as an ordinary one would be and the walk
// continues as for any unknown user, instead of revealing the account's absence with a different error.
using text::has_control_characters;
// A code worth sending to the user pool.
bool valid_code(std::string_view code);
// What the key's answer means for the person and PAM.
Verdict key_status_finish(wire::DeviceStatus s);
// The user's enrolled keys from the credential store: a damaged record is named in the log and skipped; a
// store that cannot be read is a misconfiguration. Read by the login and by management's self-enrolment
// check.
OrEnd<std::vector<StoredCredential>> read_user_credentials(const std::string& store_dir,
                                                           const std::string& user);

}  // namespace pp::helper
