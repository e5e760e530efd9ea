// The CTAPHID side of one open virtual key: 64-byte reports in and out, channels, INIT/PING/CBOR/CANCEL, and
// the keepalives a real key sends while it waits for a touch. Both libfido2 paths end up here: the io path
// hands us raw reports; the transport path frames whole messages into reports first (see
// device_functions.cpp), so the keepalive and cancel logic exists once.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "bytes.hpp"
#include "knobs.hpp"

namespace vfido {

inline constexpr std::size_t report_size = 64;
using Report = std::array<std::uint8_t, report_size>;

namespace ctaphid {
inline constexpr std::uint32_t broadcast_cid = 0xffffffff;
inline constexpr std::uint8_t frame_init = 0x80;
inline constexpr std::uint8_t cmd_ping = 0x01;
inline constexpr std::uint8_t cmd_msg = 0x03;
inline constexpr std::uint8_t cmd_init = 0x06;
inline constexpr std::uint8_t cmd_cbor = 0x10;
inline constexpr std::uint8_t cmd_cancel = 0x11;
inline constexpr std::uint8_t cmd_keepalive = 0x3b;
inline constexpr std::uint8_t cmd_error = 0x3f;
inline constexpr std::size_t init_data_size = report_size - 7;
inline constexpr std::size_t cont_data_size = report_size - 5;
inline constexpr std::size_t max_payload = init_data_size + 128 * cont_data_size;

// Splits one message into the reports that carry it.
std::vector<Report> frame(std::uint32_t cid, std::uint8_t cmd, ByteView payload);
}  // namespace ctaphid

// How many keepalive reports all virtual keys of this process have sent (the self-test's window on them).
unsigned long keepalives_sent();

class VirtualHid {
  public:
    explicit VirtualHid(unsigned key_index);
    ~VirtualHid();
    VirtualHid(const VirtualHid&) = delete;
    VirtualHid& operator=(const VirtualHid&) = delete;

    void write_report(const Report& report);
    // Waits up to `timeout_ms` (negative: without limit) for the next report from the key; false on timeout.
    bool read_report(Report& report, int timeout_ms);

    // The channel the transport path talks on (the io path's libfido2 keeps its own copy).
    // Atomic because fido_dev_cancel() may send from another thread.
    std::atomic<std::uint32_t> transport_cid{ctaphid::broadcast_cid};

  private:
    using Clock = std::chrono::steady_clock;

    struct Assembly {
        std::uint32_t cid;
        std::uint8_t cmd;
        std::size_t expected;
        std::uint8_t next_seq;
        Bytes data;
    };
    // A CBOR request waiting for the user's touch.
    struct Transaction {
        std::uint32_t cid;
        Clock::time_point next_event;
        unsigned keepalives_left;
        std::function<Bytes()> after_touch;
    };

    void dispatch(std::uint32_t cid, std::uint8_t cmd, Bytes payload);
    void step_transaction();
    void queue(std::uint32_t cid, std::uint8_t cmd, ByteView payload);

    unsigned key_index_;
    const KeyKnobs& knobs_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Report> output_;
    std::optional<Assembly> assembly_;
    std::optional<Transaction> pending_;
    std::vector<std::uint32_t> channels_;
    std::uint32_t next_cid_ = 1;
};

}  // namespace vfido
