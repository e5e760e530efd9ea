// The login's small state files (the decoy key, what the pool's passkeys ask): kept beside the rate-limit
// state, in the directory of `[limits] state_file` (an absolute path: config/sections.cpp).
#pragma once

#include <string>
#include <string_view>

namespace pp::helper {

inline std::string beside_limits_state(const std::string& limits_state_file, std::string_view name) {
    const auto slash = limits_state_file.find_last_of('/');
    return limits_state_file.substr(0, slash == std::string::npos ? 0 : slash) + "/" + std::string(name);
}

}  // namespace pp::helper
