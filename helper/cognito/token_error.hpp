// Why an ID token was refused.
#pragma once

#include <stdexcept>

namespace pp::cognito {

// what(): a reason fit for a log; never the token or any part of it.
class TokenError : public std::runtime_error {
    using runtime_error::runtime_error;
};

}  // namespace pp::cognito
