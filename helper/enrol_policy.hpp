// What a user must prove before adding a credential for themselves: a security key enrolled here (enroll)
// or a passkey registered with the user pool (pool-register). A new credential opens every service that
// accepts its kind, so its proof must be at least as strong as the weakest way into the strictest of those.
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

// A credential a person adds for themselves, named by the method it then signs in with:
// Method::SecurityKey for a key enrolled here, Method::Passkey for a passkey registered with the user pool.
// The one rule for both (issue #10 finding 6, review 31a): over every method list that accepts `added`
// ([login] and each [service NAME], local and remote), the highest of their weakest methods (`added` itself
// counted among them); 0 when no list accepts it. Both kinds are ranked by method_strength, so a credential
// bought with this proof is never weaker than what it proves in turn: a pool passkey proves a local key's
// enrolment only where that needs no more than a passkey, and a list that lets in with a passkey but no code
// makes registering a passkey need one too.
int strength_to_add(const Config& c, Method added);

// The methods of [service pam-passwordless] strong enough to prove adding `added` (maybe none).
std::vector<Method> methods_to_add(const Config& c, Method added);

// The service whose method list sets strength_to_add ("" for [login]), for messages.
std::string strictest_service_for(const Config& c, Method added);

}  // namespace pp::helper
