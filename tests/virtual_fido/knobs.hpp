// The knobs that shape the virtual keys. They are read once, when the library is loaded: sshd clears the
// environment of its PAM child long before pam_authenticate(), so a read at call time would see nothing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vfido {

enum class TouchMode { ok, deny, silent, mute };
enum class CounterMode { normal, regress, zero };
enum class CtapVersion { v2_0, v2_1 };
enum class RogueMode { off, claim, unlisted };

// What one virtual key does; VFIDO_<NAME> sets it for every key, VFIDO_KEY<i>_<NAME> for key i alone.
struct KeyKnobs {
    TouchMode touch = TouchMode::ok;
    std::string pin;  // empty: no PIN set on the key
    bool garbage = false;
    bool wrong_rpid = false;
    // A rogue device, not a key: it answers every getAssertion as if it held the first credential of the
    // allowList (claim), or one not in it (unlisted: that id with its last byte changed), signed with a key
    // of its own (so the signature is valid, but under no enrolled public key), and with a PIN set it takes
    // any PIN. What it is after is the PIN's hash (pinHashEnc), which a host sends in getPINToken before the
    // key has proven anything.
    RogueMode rogue = RogueMode::off;
    CounterMode counter = CounterMode::normal;
    unsigned keepalives = 0;
    unsigned keepalive_ms = 100;
    CtapVersion ctap = CtapVersion::v2_0;
    // The empty-pinAuth touch probe (libfido2's fido_dev_get_touch_begin) answered at once, as if touched,
    // the way firmware that predates that part of CTAP does (OpenSK before its PR #200 answered PIN_INVALID
    // without asking for a touch).
    bool instant_touch_probe = false;
    // How long the key takes to check a PIN (getPINToken), as a real key's on-chip ECDH and flash write do.
    unsigned pin_check_ms = 0;
    // A getAssertion with up=false refused (CTAP2_ERR_INVALID_OPTION), as a key that cannot be asked without
    // a touch whether it holds a credential: it says so only after one.
    bool refuse_silent_probe = false;
};

struct Knobs {
    // False after any invalid knob: every listed key then stays mute, so a typo fails a test instead of
    // passing it.
    bool valid = true;
    unsigned keys = 1;
    std::string state_dir;  // empty: signature counters live in memory only
    std::string log;        // empty: no event log (see event_log.hpp)
    std::vector<KeyKnobs> per_key;
};

inline constexpr unsigned max_keys = 8;

struct ParsedKnobs {
    Knobs knobs;
    std::string error;  // one line naming the first bad knob; empty when all are valid
};

// Reads the VFIDO_* entries of an environment ("NAME=value" strings). Unknown VFIDO_* names are errors.
ParsedKnobs parse_knobs(const std::vector<std::string_view>& environment);

// The process's knobs, parsed from environ on first use (the library's constructor makes that the load time).
const Knobs& knobs();

}  // namespace vfido
