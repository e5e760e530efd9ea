// The helper's outcome as a PAM return code.
#pragma once

#include "wire.hpp"

namespace pp::module {

int pam_code_for(wire::Outcome outcome) noexcept;

}  // namespace pp::module
