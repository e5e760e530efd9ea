#include "device_functions.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "ctaphid.hpp"

namespace vfido {
namespace {

std::optional<unsigned> key_index(const char* path) {
    if (path == nullptr) return std::nullopt;
    const std::string_view text(path);
    if (!text.starts_with(path_prefix)) return std::nullopt;
    const std::string_view digits = text.substr(std::strlen(path_prefix));
    unsigned index = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        index >= knobs().keys)
        return std::nullopt;
    return index;
}

VirtualHid* hid_of(fido_dev_t* dev) {
    return static_cast<VirtualHid*>(fido_dev_io_handle(dev));
}

// libfido2 is C: nothing may unwind into it.
void* io_open(const char* path) noexcept {
    try {
        const auto index = key_index(path);
        if (!index) return nullptr;
        return std::make_unique<VirtualHid>(*index).release();
    } catch (...) {
        return nullptr;
    }
}

void io_close(void* handle) noexcept {
    std::unique_ptr<VirtualHid> owner(static_cast<VirtualHid*>(handle));
}

int io_read(void* handle, unsigned char* buffer, std::size_t length, int timeout_ms) noexcept {
    try {
        Report report;
        if (handle == nullptr || length != report_size ||
            !static_cast<VirtualHid*>(handle)->read_report(report, timeout_ms))
            return -1;
        std::copy(report.begin(), report.end(), buffer);
        return static_cast<int>(report_size);
    } catch (...) {
        return -1;
    }
}

int io_write(void* handle, const unsigned char* buffer, std::size_t length) noexcept {
    try {
        // libfido2 prefixes each output report with the HID report id (0).
        if (handle == nullptr || length != report_size + 1) return -1;
        Report report;
        std::copy_n(buffer + 1, report_size, report.begin());
        static_cast<VirtualHid*>(handle)->write_report(report);
        return static_cast<int>(length);
    } catch (...) {
        return -1;
    }
}

int transport_tx(fido_dev_t* dev, std::uint8_t cmd, const unsigned char* buffer, std::size_t count) noexcept {
    try {
        VirtualHid* hid = hid_of(dev);
        if (hid == nullptr || count > ctaphid::max_payload) return -1;
        const ByteView payload(buffer, buffer == nullptr ? 0 : count);
        // INIT always goes out on the broadcast channel; libfido2 learns the new channel from the reply.
        const std::uint32_t cid =
            cmd == ctaphid::cmd_init ? ctaphid::broadcast_cid : hid->transport_cid.load();
        for (const Report& report : ctaphid::frame(cid, cmd, payload)) hid->write_report(report);
        return static_cast<int>(count);
    } catch (...) {
        return -1;
    }
}

// Reassembles one message the way libfido2's own HID receive loop does: skips keepalives and other channels,
// and spends one time budget across all reports.
int transport_rx(fido_dev_t* dev, std::uint8_t cmd, unsigned char* buffer, std::size_t count,
                 int timeout_ms) noexcept {
    try {
        using Clock = std::chrono::steady_clock;
        VirtualHid* hid = hid_of(dev);
        if (hid == nullptr) return -1;
        const auto start = Clock::now();
        auto remaining = [&]() -> int {
            if (timeout_ms < 0) return -1;
            const auto spent =
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
            return static_cast<int>(std::max<long long>(0, timeout_ms - spent));
        };
        const std::uint32_t cid =
            cmd == ctaphid::cmd_init ? ctaphid::broadcast_cid : hid->transport_cid.load();

        Report report;
        do {
            if (!hid->read_report(report, remaining())) return -1;
        } while (read_be32(report.data()) != cid ||
                 report[4] == (ctaphid::frame_init | ctaphid::cmd_keepalive));
        if (report[4] != (ctaphid::frame_init | cmd))
            return -1;  // CTAPHID_ERROR or a reply to something else

        const std::size_t length = (std::size_t{report[5]} << 8) | report[6];
        if (length > count) return -1;
        Bytes message(report.begin() + 7, report.begin() + 7 + std::min(length, ctaphid::init_data_size));
        for (std::uint8_t seq = 0; message.size() < length; ++seq) {
            if (!hid->read_report(report, remaining()) || read_be32(report.data()) != cid || report[4] != seq)
                return -1;
            const std::size_t chunk = std::min(length - message.size(), ctaphid::cont_data_size);
            message.insert(message.end(), report.begin() + 5, report.begin() + 5 + chunk);
        }
        if (cmd == ctaphid::cmd_init && message.size() >= 12)
            hid->transport_cid = read_be32(message.data() + 8);
        std::copy(message.begin(), message.end(), buffer);
        return static_cast<int>(message.size());
    } catch (...) {
        return -1;
    }
}

}  // namespace

const fido_dev_io_t io_functions = {io_open, io_close, io_read, io_write};
const fido_dev_transport_t transport_functions = {transport_rx, transport_tx};

}  // namespace vfido
