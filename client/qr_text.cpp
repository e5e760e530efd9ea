#include "qr_text.hpp"

#include <dlfcn.h>
#include <qrencode.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace pp::client {
namespace {

// The quiet zone around the code, in modules: the blocks of the light border.
constexpr int kQuietZone = 2;

// libqrencode is loaded only while a code is drawn, not linked: libpam loads the module for every PAM handle
// and unloads it at pam_end, and a linked libqrencode (with the libpthread it needs) came and went with it,
// about 1 ms of every login, a security-key login included, for a code that only a browser sign-in draws
// (bench/README.md, session 13). The SONAME is the one the project is built against (Debian's libqrencode4,
// named in debian/control since dpkg-shlibdeps cannot see it); found as the dynamic linker finds linked
// libraries.
constexpr const char* kLibrary = "libqrencode.so.4";

// The library while one code is drawn: opened, used and closed again, so that nothing of it outlives the
// module that loaded it.
class QrLibrary {
  public:
    QrLibrary() : handle_(::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL)) {
        if (handle_ == nullptr) {
            const char* err = ::dlerror();
            throw QrUnavailable(std::string("libqrencode: ") + (err != nullptr ? err : "cannot load"));
        }
        void* encode = ::dlsym(handle_, "QRcode_encodeString");
        void* release = ::dlsym(handle_, "QRcode_free");
        if (encode == nullptr || release == nullptr) {
            ::dlclose(handle_);
            throw QrUnavailable("libqrencode: a symbol is missing");
        }
        encode_ = reinterpret_cast<decltype(&QRcode_encodeString)>(encode);
        free_ = reinterpret_cast<decltype(&QRcode_free)>(release);
    }
    ~QrLibrary() { ::dlclose(handle_); }
    QrLibrary(const QrLibrary&) = delete;
    QrLibrary& operator=(const QrLibrary&) = delete;

    [[nodiscard]] QRcode* encode(const char* text) const {
        return encode_(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    }
    void free(QRcode* code) const noexcept { free_(code); }

  private:
    void* handle_;
    decltype(&QRcode_encodeString) encode_ = nullptr;
    decltype(&QRcode_free) free_ = nullptr;
};

}  // namespace

std::string render_qr(std::string_view url) {
    // libqrencode reads a C string: the URL is copied to have its terminator (Link refuses a NUL in it).
    const std::string text(url);
    const QrLibrary lib;
    const auto release = [&lib](QRcode* c) { lib.free(c); };
    const std::unique_ptr<QRcode, decltype(release)> code(lib.encode(text.c_str()), release);
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
    if (!link.qr) return out;
    try {
        out += "\n\n" + render_qr(link.url);
    } catch (const QrUnavailable&) {
        // Without the library the person still has the link to open: the sign-in goes on without its code.
    }
    return out;
}

}  // namespace pp::client
