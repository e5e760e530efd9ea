// What a browser sign-in's link looks like on the person's screen, in the module's PAM conversation and on
// the command line's terminal alike: text only, so that any terminal (and sshd's keyboard-interactive)
// shows it.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "messages.hpp"

namespace pp::client {

// The QR code of `url` (8-bit mode, error correction L, case kept) drawn with UTF-8 half blocks, two module
// rows per line, lines separated by '\n' and no newline at the end. The light modules and a quiet zone of 2
// modules are the blocks, the dark ones spaces: on a dark terminal the code then shows dark on light, as a
// scanner expects (on a light terminal it shows inverted, which phone scanners read too). Throws
// std::runtime_error when libqrencode cannot encode it (protocol::Link bounds a URL well within a QR code),
// QrUnavailable when libqrencode cannot be loaded (it is loaded only while a code is drawn).
std::string render_qr(std::string_view url);

class QrUnavailable : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The one informational message for a Link: the text, a blank line, the URL on a line of its own, and when
// link.qr a blank line and the QR code (left out when libqrencode cannot be loaded: the link alone remains).
std::string link_screen(const protocol::Link& link);

}  // namespace pp::client
