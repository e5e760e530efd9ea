// The link a browser sign-in shows (client/qr_text.hpp), read back the way a person's phone reads it: the
// half blocks parsed into a grid of modules, drawn as a scaled image on a dark terminal's background, and
// decoded by zbarimg, which must give back the very URL.
#include "qr_text.hpp"

#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pp::client {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFull = "\u2588";   // █
constexpr std::string_view kUpper = "\u2580";  // ▀
constexpr std::string_view kLower = "\u2584";  // ▄

// A module grid, true for light; two rows per line of text. The row below the last line is the terminal's.
using Grid = std::vector<std::vector<bool>>;

Grid parse_half_blocks(std::string_view text) {
    Grid grid;
    std::size_t at = 0;
    while (at <= text.size()) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        std::string_view line = text.substr(at, end - at);
        std::vector<bool> top, bottom;
        while (!line.empty()) {
            if (line.front() == ' ') {
                top.push_back(false), bottom.push_back(false);
                line.remove_prefix(1);
            } else if (line.substr(0, 3) == kFull) {
                top.push_back(true), bottom.push_back(true);
                line.remove_prefix(3);
            } else if (line.substr(0, 3) == kUpper) {
                top.push_back(true), bottom.push_back(false);
                line.remove_prefix(3);
            } else if (line.substr(0, 3) == kLower) {
                top.push_back(false), bottom.push_back(true);
                line.remove_prefix(3);
            } else {
                ADD_FAILURE() << "not a half block in line " << grid.size() / 2;
                return {};
            }
        }
        grid.push_back(std::move(top));
        grid.push_back(std::move(bottom));
        at = end + 1;
    }
    return grid;
}

// The grid as a binary PGM, each module `scale` pixels square, with `margin` modules of the dark terminal
// around it: light modules white, dark ones black.
void write_pgm(const fs::path& path, const Grid& grid, int scale, int margin) {
    const int rows = static_cast<int>(grid.size());
    const int cols = static_cast<int>(grid.front().size());
    const int w = (cols + 2 * margin) * scale;
    const int h = (rows + 2 * margin) * scale;
    std::string pixels(static_cast<std::size_t>(w) * static_cast<std::size_t>(h), '\0');
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
            if (!grid[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)]) continue;
            for (int y = 0; y < scale; ++y)
                for (int x = 0; x < scale; ++x)
                    pixels[static_cast<std::size_t>((r + margin) * scale + y) * static_cast<std::size_t>(w) +
                           static_cast<std::size_t>((c + margin) * scale + x)] = static_cast<char>(255);
        }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "P5\n" << w << " " << h << "\n255\n";
    out.write(pixels.data(), static_cast<std::streamsize>(pixels.size()));
    ASSERT_TRUE(out.good()) << path;
}

struct PipeClose {
    void operator()(FILE* f) const noexcept { ::pclose(f); }
};

// What zbarimg reads in the image, as it prints it with --raw (one line per symbol).
std::string zbar_decode(const fs::path& image) {
    const std::string command = std::string(PP_ZBARIMG) +
                                " --quiet --raw --nodbus -Sdisable -Sqrcode.enable '" + image.string() +
                                "' 2>&1";
    FILE* raw = ::popen(command.c_str(), "r");
    if (raw == nullptr) return "popen failed";
    std::string out;
    {
        const std::unique_ptr<FILE, PipeClose> pipe(raw);
        char buf[4096];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, n);
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

fs::path image_path(const std::string& name) {
    const fs::path dir = PP_QR_IMAGE_DIR;
    fs::create_directories(dir);
    return dir / (name + ".pgm");
}

// The code as drawn: a square of an odd number of modules (a QR code's 21 + 4k and 2 × 2 of quiet zone),
// the light quiet zone around it, and the terminal's dark row under the last line.
void expect_shape(const Grid& grid) {
    ASSERT_FALSE(grid.empty());
    const std::size_t size = grid.front().size();
    ASSERT_GE(size, 25u);
    EXPECT_EQ((size - 25) % 4, 0u) << size;
    ASSERT_EQ(grid.size(), size + 1);
    for (const auto& row : grid) ASSERT_EQ(row.size(), size);
    for (std::size_t i = 0; i < size; ++i) {
        for (const std::size_t q : {std::size_t{0}, std::size_t{1}, size - 2, size - 1}) {
            EXPECT_TRUE(grid[q][i]) << "quiet zone row " << q << " column " << i;
            EXPECT_TRUE(grid[i][q]) << "quiet zone column " << q << " row " << i;
        }
        EXPECT_FALSE(grid[size][i]) << "below the code: the terminal's background";
    }
    // The finder pattern's dark outer ring, top left, just inside the quiet zone.
    for (std::size_t i = 2; i < 9; ++i) {
        EXPECT_FALSE(grid[2][i]);
        EXPECT_FALSE(grid[i][2]);
    }
}

void expect_scans_back(const std::string& name, const std::string& url) {
    const std::string drawn = render_qr(url);
    EXPECT_EQ(drawn.find('\r'), std::string::npos);
    EXPECT_NE(drawn.back(), '\n');
    const Grid grid = parse_half_blocks(drawn);
    expect_shape(grid);
    const fs::path image = image_path(name);
    write_pgm(image, grid, 4, 4);
    EXPECT_EQ(zbar_decode(image), url) << "image: " << image;
}

TEST(QrText, AShortLinkScansBackToItself) {
    expect_scans_back("short", "https://a.example/Sign-In?x=1");
}

TEST(QrText, AnAuthorizeLinkOfFiveHundredBytesScansBackToItself) {
    std::string url =
        "https://auth.example.com/oauth2/authorize?response_type=code&client_id=1example23456789abcdefghij"
        "&redirect_uri=https%3A%2F%2Fsignin.example.com%2Fpam-passwordless%2Fcallback.html"
        "&scope=openid+email+phone&code_challenge_method=S256"
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&nonce=n-0S6_WzA2Mj&state=";
    while (url.size() < 500) url += "AbCdEfGhIj";
    EXPECT_GE(url.size(), 500u);
    expect_scans_back("authorize", url);
}

// Issue #13: the short link of a browser sign-in (the callback page, "#1.", the PKCE challenge, the expiry,
// user and host; at most 134 bytes for the stand-in's page, alice and a 20-character host, as
// helper.browser.BrowserShortLink.FitsQrVersion6 asserts) is a QR code of version 6 (41 modules): with the
// quiet zone 45 rows, 23 lines of half blocks, 45 columns, so an 80x24 terminal shows it. It scans back.
TEST(QrText, AShortBrowserLinkIsVersion6AndTwentyThreeLines) {
    const std::string url =
        "https://localhost:65535/cb/#1.E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM.t85s8c.YWxpY2U."
        "YnVpbGQtMDEuZXhhbXBsZS5vcmc";
    ASSERT_LE(url.size(), 134u);
    const std::string padded = url + std::string(134 - url.size(), 'A');  // the bound itself
    for (const std::string& u : {url, padded}) {
        const std::string drawn = render_qr(u);
        EXPECT_EQ(std::count(drawn.begin(), drawn.end(), '\n') + 1, 23) << u;
        const Grid grid = parse_half_blocks(drawn);
        expect_shape(grid);
        ASSERT_FALSE(grid.empty());
        EXPECT_EQ(grid.front().size(), 45u) << u;
    }
    expect_scans_back("browser-short", url);
}

TEST(QrText, TheLongestLinkStillDraws) {
    // protocol::Link's bound: still within a QR code's capacity at error correction L.
    const std::string url = "https://" + std::string(protocol::Link::kMaxLinkUrl - 8, 'a');
    const Grid grid = parse_half_blocks(render_qr(url));
    expect_shape(grid);
}

TEST(QrText, TheScreenIsTextBlankLineUrlAndTheCode) {
    const protocol::Link link{"Open this link.", "https://a.example/x", true};
    EXPECT_EQ(link_screen(link), "Open this link.\n\nhttps://a.example/x\n\n" + render_qr(link.url));
    EXPECT_EQ(link_screen({"Open this link.", "https://a.example/x", false}),
              "Open this link.\n\nhttps://a.example/x");
}

}  // namespace
}  // namespace pp::client
