#include "account_policy.hpp"

#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

namespace pp::helper {

namespace {

// Account lookups are made one at a time. glibc's own are thread-safe, but an NSS module need not be: the
// tests' nss_wrapper crashes or misses entries when asked from several threads at once, and a login that
// took a missed account for "no account" would walk the decoy. One lookup per login costs little.
std::mutex lookups;

}  // namespace

std::string local_account_name(uid_t uid) {
    const std::lock_guard lock(lookups);
    passwd pw{}, *found = nullptr;
    std::vector<char> buf(16384);
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return {};
    return found->pw_name;
}

std::optional<uid_t> local_account_uid(const std::string& name) {
    const std::lock_guard lock(lookups);
    passwd pw{}, *found = nullptr;
    std::vector<char> buf(16384);
    int rc = 0;
    // A large entry (many fields from a directory service) asks for a bigger buffer, up to a bound.
    while ((rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
           buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    // glibc and nss modules report "no such user" as 0 with no entry, some as ENOENT (or ESRCH, EBADF, EPERM,
    // as getpwnam(3) lists); anything else is a failed lookup.
    if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) {
        if (found == nullptr) return std::nullopt;
        return found->pw_uid;
    }
    throw AccountLookupError("looking up the account failed: " + std::string(std::strerror(rc)));
}

bool claim_may_bind(const Config& c, const std::string& name, uid_t uid) {
    if (std::find(c.claim_allow_users.begin(), c.claim_allow_users.end(), name) != c.claim_allow_users.end())
        return true;
    return uid != 0 && uid >= c.claim_min_uid;
}

}  // namespace pp::helper
