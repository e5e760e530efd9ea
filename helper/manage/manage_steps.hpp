// What the management requests' files share (manage.cpp, local_keys.cpp, pool_passkeys.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "session.hpp"

namespace pp::helper::manage {

// The ending of a request for an account that does not exist here.
Finish no_such_account(const std::string& user);
// The helper takes the id as the person typed it (whole or a unique prefix, as 'list' shows it) and answers
// for what it names; throws the ending of an id that names none or several.
std::string resolve_typed_id(std::string_view typed, const std::vector<std::string>& ids, const char* what,
                             const std::string& op);

}  // namespace pp::helper::manage
