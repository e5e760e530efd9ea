// What a security key's answer (wire::DeviceStatus) means for the person and PAM: the one mapping, used by
// the login (security_key_method.cpp, pool_passkey_method.cpp) and by management (manage/) alike.
#pragma once

#include "verdict.hpp"
#include "wire.hpp"

namespace pp::helper::login {

// Enrolling words some endings differently from signing in (see security_key_method.cpp).
enum class KeyUse { SignIn, Enrol };
Verdict key_status_verdict(wire::DeviceStatus status, KeyUse use);

}  // namespace pp::helper::login
