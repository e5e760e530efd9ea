#include "qr_text.hpp"

#include <qrencode.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace pp::client {
namespace {

// The quiet zone around the code, in modules: the blocks of the light border.
constexpr int kQuietZone = 2;

struct QrFree {
    void operator()(QRcode* code) const noexcept { QRcode_free(code); }
};
using QrOwner = std::unique_ptr<QRcode, QrFree>;

}  // namespace

std::string render_qr(std::string_view url) {
    // libqrencode reads a C string: the URL is copied to have its terminator (Link refuses a NUL in it).
    const std::string text(url);
    const QrOwner code(QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_L, QR_MODE_8, 1));
    if (!code) throw std::runtime_error("the link cannot be drawn as a QR code");
    const int width = code->width;
    const int size = width + 2 * kQuietZone;
    // Light: the quiet zone, and a module whose lowest bit (dark) is clear. Below the last row is the
    // terminal's own background.
    const auto light = [&](int row, int col) {
        if (row >= size) return false;
        const int r = row - kQuietZone;
        const int c = col - kQuietZone;
        if (r < 0 || c < 0 || r >= width || c >= width) return true;
        return (code->data[static_cast<std::size_t>(r) * static_cast<std::size_t>(width) +
                           static_cast<std::size_t>(c)] &
                1u) == 0;
    };
    std::string out;
    out.reserve(static_cast<std::size_t>((size + 1) / 2) * (static_cast<std::size_t>(size) * 3 + 1));
    for (int row = 0; row < size; row += 2) {
        if (row > 0) out += '\n';
        for (int col = 0; col < size; ++col) {
            const bool top = light(row, col);
            const bool bottom = light(row + 1, col);
            if (top && bottom)
                out += "\u2588";  // █
            else if (top)
                out += "\u2580";  // ▀
            else if (bottom)
                out += "\u2584";  // ▄
            else
                out += ' ';
        }
    }
    return out;
}

std::string link_screen(const protocol::Link& link) {
    std::string out = link.text + "\n\n" + link.url;
    if (link.qr) out += "\n\n" + render_qr(link.url);
    return out;
}

}  // namespace pp::client
