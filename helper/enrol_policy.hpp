// What a user must prove before enrolling a security key for themselves: a new key opens every service that
// accepts keys, so its proof must be at least as strong as the weakest way into the strictest of those.
#pragma once

#include <string>
#include <vector>

#include "config.hpp"

namespace pp::helper {

// The name the command line's own proof of presence goes by in [service NAME] and the audit log.
inline constexpr const char* kManageService = "pam-passwordless";

// How strongly a method proves that the person is the account's owner, higher is stronger:
//  3 a local security key: the credential lives on a key held by the person, checked here;
//  2 a passkey registered with the user pool: also a key, but registered through the pool, which lets any of
//    its own sign-ins add one;
//  1 an email or text-message code: whoever reads the mailbox or the phone.
int method_strength(Method m);

// The strength a self-enrolment must prove: over every method list that accepts a local security key
// ([login] and each [service NAME], local and remote), the highest of their weakest methods. 0 when no list
// accepts keys.
int self_enrol_strength_needed(const Config& c);

// The methods of [service pam-passwordless] strong enough to prove a self-enrolment (maybe none).
std::vector<Method> self_enrol_methods(const Config& c);

// The service whose method list sets self_enrol_strength_needed ("" for [login]), for messages.
std::string strictest_key_service(const Config& c);

}  // namespace pp::helper
