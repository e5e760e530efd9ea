// The lock around every read-change-write of a store of root-only files (security-key credentials, recovery
// codes): one file of its own in the store's directory, held with flock.
#pragma once

#include <string>
#include <string_view>

#include "unique_fd.hpp"

namespace pp::helper {

// The lock file's name in a store's directory. '~' cannot occur in a user name, so it never shadows an
// account's file; a store's listing skips it.
inline constexpr std::string_view kStoreLockName = "~lock";

// Concurrent logins and management commands, in this process or another, would otherwise overwrite each
// other's changes. The stores replace their files by rename, so a lock on one of them would not outlive it:
// the lock is a file of its own. flock locks belong to the open file description, so each holder opens its
// own, and holders in one process exclude each other too.
class StoreLock {
  public:
    // Checks that root alone controls `dir` and the lock file (check_trusted_directory, check_trusted_file:
    // a lock another user could open, they could hold), creates the file if missing (mode 0600) and waits for
    // the lock. Throws FileError naming the path and the problem.
    explicit StoreLock(const std::string& dir);

  private:
    UniqueFd fd_;
};

}  // namespace pp::helper
