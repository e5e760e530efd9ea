// What the user pool learns about where a login comes from: UserContextData.IpAddress for its threat
// protection (model: UserContextDataType, in InitiateAuth and RespondToAuthChallenge).
#pragma once

#include <string_view>

#include "pool_types.hpp"

namespace pp::helper {

// The address in PAM_RHOST, in canonical form (inet_ntop; an IPv4-mapped IPv6 address as IPv4), when it is an
// IP address of another host. Nothing for a local login (no rhost), a loopback address (the end of a tunnel
// or port forward on this machine, not the person's address), or a host name: a name is not an address, and
// resolving it here would cost a DNS lookup per login and let whoever controls the name's DNS choose what the
// pool sees.
cognito::UserContext user_context_for(std::string_view rhost);

}  // namespace pp::helper
