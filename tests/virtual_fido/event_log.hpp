// What the virtual keys were asked and when (VFIDO_LOG): one line per event, appended to a file that a test
// may share with other writers of the same process (the login driver writes the conversation there), so the
// order of lines is the order of events, and each line carries CLOCK_MONOTONIC so spans can be read off the
// keys' own clock.
#pragma once

#include <string_view>

namespace vfido {

// Appends "vfido <monotonic seconds> key=<index> <what>" to VFIDO_LOG; does nothing without the knob.
void log_event(unsigned key_index, std::string_view what);

}  // namespace vfido
