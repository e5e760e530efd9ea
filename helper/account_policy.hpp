// Which local account a PAM user name is, and whether a token claim alone may bind a pool user to it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "config.hpp"

namespace pp::helper {

// The uid of the local account `name` (getpwnam_r), or nullopt when there is none (or it cannot be looked
// up: fail closed, such a name gets no code).
std::optional<uid_t> local_account_uid(const std::string& name);

// Whether claim binding (claim = ..., with no identity-map line for the account) may serve this account:
// root and accounts below [binding] claim_min_uid (default 1000, the system accounts) only when listed in
// claim_allow_users. A pool that lets people sign themselves up would otherwise let anyone choose the
// user name "root".
bool claim_may_bind(const Config& c, const std::string& name, uid_t uid);

}  // namespace pp::helper
