// The defaults both sides of the socket agree on, written once: where the helper listens, how long a client
// waits for it, how long a key waits for a touch, and what the person is told meanwhile.
#pragma once

#include <chrono>
#include <cstdint>

namespace pp::protocol {

// The helper's socket (systemd's pam-passwordless-helper.socket makes it); --socket and socket= change it.
inline constexpr const char* kSocketPath = "/run/pam_passwordless/helper.sock";

// The longest a client (the module, the command line) waits for any one message from the helper; the
// helper bounds each step (a prompt, a touch) itself.
inline constexpr std::chrono::seconds kClientWait{120};

// How long a key waits for a touch: the helper's [security_key] touch_timeout default, and what a client
// assumes when a request does not say.
inline constexpr std::chrono::seconds kTouchTimeout{30};
inline constexpr std::uint32_t kTouchTimeoutMs = static_cast<std::uint32_t>(kTouchTimeout.count() * 1000);

// Shown while a key waits for a touch, and the question for the key's PIN, when a request does not say.
inline constexpr const char* kTouchText = "Touch your security key.";
inline constexpr const char* kPinPrompt = "Security key PIN: ";

}  // namespace pp::protocol
