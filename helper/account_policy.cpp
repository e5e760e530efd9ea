#include "account_policy.hpp"

#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace pp::helper {

std::optional<uid_t> local_account_uid(const std::string& name) {
    passwd pw{}, *found = nullptr;
    std::vector<char> buf(16384);
    int rc = 0;
    // A large entry (many fields from a directory service) asks for a bigger buffer, up to a bound.
    while ((rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
           buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    if (rc != 0 || found == nullptr) return std::nullopt;
    return found->pw_uid;
}

bool claim_may_bind(const Config& c, const std::string& name, uid_t uid) {
    if (std::find(c.claim_allow_users.begin(), c.claim_allow_users.end(), name) != c.claim_allow_users.end())
        return true;
    return uid != 0 && uid >= c.claim_min_uid;
}

}  // namespace pp::helper
