#include "local_runner.hpp"

#include "account_policy.hpp"
#include "rate_limits.hpp"
#include "text.hpp"

namespace pp::helper {

// The uid comes from the module, in the root process it runs in, rather than from /proc/<pid>/status of the
// SO_PEERCRED pid: that pid may have exited and been reused by the time the file is read, and a root caller
// is trusted with every other field of its Begin anyway.
std::string local_runner(std::uint32_t real_uid, const std::string& ruser) {
    if (real_uid == 0) return ruser;
    std::string name = local_account_name(static_cast<uid_t>(real_uid));
    if (name.empty() || !text::printable_bounded(name, RateLimits::kMaxRunBy))
        return "uid:" + std::to_string(real_uid);
    return name;
}

}  // namespace pp::helper
