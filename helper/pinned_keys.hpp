// [pool] jwks_file: the user pool's signing keys, pinned by the admin in a root-owned file. With it the root
// helper verifies every ID token with these keys alone and never asks the network worker for the pool's key
// set, so a compromised worker (or anyone between it and the pool) cannot have a token of its own accepted.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "json_web_key_set.hpp"

namespace pp::helper {

// The pool's key set is about 1 KiB: a larger file is not one.
inline constexpr std::size_t kMaxJwksFileSize = 64 * 1024;

// The command that makes the file, as the man page gives it: what every refusal below says to do.
std::string pinned_keys_fix(const std::string& path, const std::string& jwks_url);

// Reads `path` through the trusted-file checks (owned by root, writable by root alone, not a symlink, at most
// kMaxJwksFileSize bytes) as a JWKS holding at least one key usable for RS256. Throws ConfigError naming the
// file, [pool] jwks_file and the fix.
std::shared_ptr<const cognito::JsonWebKeySet> load_pinned_keys(const std::string& path,
                                                               const std::string& jwks_url);

// The pinned keys against those the pool publishes (check-config --online), by key id.
struct PinnedComparison {
    std::vector<std::string> not_pinned;   // published, not in the file: tokens signed with them are refused
    std::vector<std::string> unpublished;  // in the file, no longer published
    std::vector<std::string> different;    // the same id for another key
    [[nodiscard]] bool agree() const {
        return not_pinned.empty() && unpublished.empty() && different.empty();
    }
};
PinnedComparison compare_pinned(const cognito::JsonWebKeySet& pinned,
                                const cognito::JsonWebKeySet& published);

}  // namespace pp::helper
