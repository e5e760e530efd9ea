// The one set of rules for text that crosses a trust line: what a person, a stack, the user pool or a file
// hands over, before it reaches a log line, a terminal, a record or libfido2. Every check of "printable" or
// "control characters" in the tree is one of these; where two sites differ on purpose (ASCII only or any
// byte above the controls, a bound, line breaks kept) the difference is a parameter or a second named rule.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pp::text {

// The C0 controls and DEL: what can move a terminal's cursor, split a log line or a record, or end a C
// string. Bytes from 0x80 up are not controls here (UTF-8 passes through); the rules below that need ASCII
// say so.
constexpr bool is_control(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

// Any control character (as is_control) in `s`.
bool has_control_characters(std::string_view s);

// Printable ASCII alone (space to '~'), at most `max` bytes: the fields of a request the helper accepts
// (service, rhost, tty, ruser, a typed management request), which it logs and compares byte for byte.
bool printable_bounded(std::string_view s, std::size_t max);

// Well-formed UTF-8 (no overlong form, surrogate or code point past U+10FFFF) of at most `max` bytes, with no
// control character (C0, DEL, C1) and no bidirectional override or isolate, which could reorder what a
// terminal shows: a text the helper has the module show as it is (a browser sign-in's link text).
bool printable_utf8(std::string_view s, std::size_t max);

// "https://" and then at least one byte, every byte printable ASCII other than space, at most `max` bytes in
// all: a URL that is shown on a line of its own and drawn as a QR code, so nothing in it can drive a
// terminal or split the line.
bool https_url(std::string_view s, std::size_t max);

// `s` made safe for a log line inside quotes: printable ASCII kept, every other byte and '"' shown as '?',
// cut at `max` bytes with "..." after, "-" for nothing; so a user name or a service's message can neither
// forge nor flood a log line.
std::string loggable(std::string_view s, std::size_t max = 200);

// Whether line breaks survive controls_replaced: text shown on a terminal keeps its lines and tabs, a field
// bound for one log line does not.
enum class LineBreaks { Replace, Keep };

// `s` with every control character shown as '?' (UTF-8 and '"' kept), cut at `max` bytes with nothing added:
// the user pool's texts in the worker, the helper's texts on the command line's terminal.
std::string controls_replaced(std::string_view s, std::size_t max = std::string_view::npos,
                              LineBreaks breaks = LineBreaks::Replace);

}  // namespace pp::text
