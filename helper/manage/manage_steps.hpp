// What the management requests' files share (management.cpp, local_keys.cpp, pool_passkeys.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config.hpp"
#include "verdict.hpp"
#include "wire.hpp"

namespace pp::helper::manage {

// The ending of a request for an account that does not exist here.
Verdict no_such_account(const std::string& user);
// The helper takes the id as the person typed it (whole or a unique prefix, as 'list' shows it) and answers
// for what it names, or with the ending of an id that names none or several.
std::variant<std::string, Verdict> resolve_typed_id(std::string_view typed,
                                                    const std::vector<std::string>& ids, const char* what,
                                                    const std::string& op);
// The ending of a key that did not make the credential asked for (the one mapping, login/key_status.hpp);
// nullopt when it made one.
std::optional<Verdict> credential_refused(wire::DeviceStatus status);
// How long a security key waits for a touch, from the configuration.
std::uint32_t touch_timeout_ms(const Config& c);

}  // namespace pp::helper::manage
