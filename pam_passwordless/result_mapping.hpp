// The helper's outcome as a PAM return code.
#pragma once

#include "wire.hpp"

namespace pp::module {

int pam_code_for(wire::Outcome outcome) noexcept;
// The code's name as the PAM headers spell it ("PAM_MAXTRIES"), for the command line's test-login.
const char* pam_code_name(int code) noexcept;

}  // namespace pp::module
