// What the user pool's passkey options last asked of user verification (its pool-wide WebAuthn setting),
// kept across restarts: the unknown walk asks its made-up passkey as a real user's key is asked (with the PIN
// or without), from the first login after a restart on (pool_passkey_method.cpp). Without it a person with
// UV-required passkeys could tell an enrolled name from one the pool does not serve right after a restart.
//
// Kept in one small root-owned file beside the limits' state: `pool_passkey_uv` in the directory of
// limits_state_file, written atomically (mode 0600) only when a real login's options ask otherwise than the
// file says. One line: "<pool_id> <rp_id> required" or "... preferred". A line for another pool or relying
// party (the configuration changed), or a file that cannot be read, counts as nothing seen.
//
// Nothing seen: what the configuration states ([passkey] user_verification, default "preferred", the user
// pool's own default: Cognito's WebAuthnConfiguration UserVerification is "preferred" unless the pool's admin
// set "required"). So a pool whose setting the configuration states is matched from the first login after
// install; one that differs is matched from its first real passkey login on this machine, for good, and the
// difference is logged then (and check-config warns of it).
#pragma once

#include <mutex>
#include <optional>
#include <string>

namespace pp::helper {

class PasskeyUvMemory {
  public:
    // Reads the row kept beside `limits_state_file`, once.
    explicit PasskeyUvMemory(const std::string& limits_state_file);

    // Whether the pool `pool_id` asks user verification for passkeys of `rp_id`, as last seen; nothing when
    // nothing was seen of that pool and relying party.
    std::optional<bool> asks_uv(const std::string& pool_id, const std::string& rp_id) const;
    // A real login's options asked this: remembered, and the file rewritten when it changed (never fails
    // the login: a file that cannot be written is logged, and the memory still serves this process). True
    // when it changed what was remembered.
    bool saw(const std::string& pool_id, const std::string& rp_id, bool uv);

    // The file's path for a limits state file.
    static std::string path_for(const std::string& limits_state_file);

  private:
    struct Row {
        std::string pool_id, rp_id;
        bool uv = false;
    };
    const std::string path_;
    mutable std::mutex mutex_;
    std::optional<Row> row_;
};

// The helper's memory for `limits_state_file`: one per file in the process, read at its first use.
PasskeyUvMemory& passkey_uv_memory(const std::string& limits_state_file);

}  // namespace pp::helper
