// Which local account a PAM user name is, and whether a token claim alone may bind a pool user to it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "config.hpp"

namespace pp::helper {

// The lookup itself failed (getpwnam_r's error, e.g. a directory service that did not answer): whether the
// account exists is not known, so the login cannot go on, and must not take the unknown-user walk either.
class AccountLookupError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The uid of the local account `name` (getpwnam_r), or nullopt when there is none; throws
// AccountLookupError when that cannot be told.
std::optional<uid_t> local_account_uid(const std::string& name);

// The name of the local account with this uid, or empty when there is none or the lookup failed (the
// callers refuse then).
std::string local_account_name(uid_t uid);

// Whether claim binding (claim = ..., with no identity-map line for the account) may serve this account:
// root and accounts below [binding] claim_min_uid (default 1000, the system accounts) only when listed in
// claim_allow_users. A pool that lets people sign themselves up would otherwise let anyone choose the
// user name "root".
bool claim_may_bind(const Config& c, const std::string& name, uid_t uid);

}  // namespace pp::helper
