#include "ctaphid.hpp"

#include <algorithm>
#include <atomic>

#include "authenticator.hpp"
#include "ctap_status.hpp"
#include "event_log.hpp"

namespace vfido {
namespace {

std::atomic<unsigned long> keepalive_count{0};

constexpr std::uint8_t keepalive_up_needed = 2;
constexpr std::uint8_t error_invalid_command = 0x01;
constexpr std::uint8_t error_invalid_length = 0x03;
constexpr std::uint8_t error_invalid_sequence = 0x04;
constexpr std::uint8_t error_invalid_channel = 0x0b;
constexpr std::uint8_t protocol_version = 2;
constexpr std::uint8_t capability_cbor = 0x04;
// We do not speak U2F (CTAPHID_MSG); saying so keeps libfido2 from falling back to it.
constexpr std::uint8_t capability_no_msg = 0x08;

std::string cbor_command_name(std::uint8_t command) {
    switch (command) {
        case 0x01:
            return "makeCredential";
        case 0x02:
            return "getAssertion";
        case 0x04:
            return "getInfo";
        case 0x06:
            return "clientPin";
        default:
            return "command " + std::to_string(command);
    }
}

bool waits_for_touch_when_mute(std::uint8_t command) {
    return command == 0x01 || command == 0x02;
}

void put_be32(std::uint8_t* out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
}

}  // namespace

std::vector<Report> ctaphid::frame(std::uint32_t cid, std::uint8_t cmd, ByteView payload) {
    std::vector<Report> reports;
    Report first{};
    put_be32(first.data(), cid);
    first[4] = frame_init | cmd;
    first[5] = static_cast<std::uint8_t>(payload.size() >> 8);
    first[6] = static_cast<std::uint8_t>(payload.size());
    std::size_t offset = std::min(payload.size(), init_data_size);
    std::copy_n(payload.begin(), offset, first.begin() + 7);
    reports.push_back(first);
    for (std::uint8_t seq = 0; offset < payload.size(); ++seq) {
        Report next{};
        put_be32(next.data(), cid);
        next[4] = seq;
        const std::size_t count = std::min(payload.size() - offset, cont_data_size);
        std::copy_n(payload.begin() + static_cast<std::ptrdiff_t>(offset), count, next.begin() + 5);
        offset += count;
        reports.push_back(next);
    }
    return reports;
}

unsigned long keepalives_sent() {
    return keepalive_count.load();
}

VirtualHid::VirtualHid(unsigned key_index) : key_index_(key_index), knobs_(knobs().per_key.at(key_index)) {
    log_event(key_index_, "open");
}

VirtualHid::~VirtualHid() {
    log_event(key_index_, "close");
}

void VirtualHid::write_report(const Report& report) {
    const std::lock_guard lock(mutex_);
    const std::uint32_t cid = read_be32(report.data());
    const std::uint8_t type = report[4];
    if ((type & ctaphid::frame_init) != 0) {
        const std::uint8_t cmd = type & ~ctaphid::frame_init;
        const std::size_t length = (std::size_t{report[5]} << 8) | report[6];
        if (cmd == ctaphid::cmd_cancel) {
            log_event(key_index_, pending_ && pending_->cid == cid ? "cancel" : "cancel (nothing waits)");
            // CANCEL has no reply of its own: the cancelled request answers CTAP2_ERR_KEEPALIVE_CANCEL.
            if (pending_ && pending_->cid == cid) {
                pending_.reset();
                queue(cid, ctaphid::cmd_cbor, Bytes{status::keepalive_cancel});
            }
            changed_.notify_all();
            return;
        }
        const bool known = std::find(channels_.begin(), channels_.end(), cid) != channels_.end();
        if (cid == 0 || (cid == ctaphid::broadcast_cid ? cmd != ctaphid::cmd_init : !known)) {
            queue(cid, ctaphid::cmd_error, Bytes{error_invalid_channel});
        } else if (length > ctaphid::max_payload) {
            queue(cid, ctaphid::cmd_error, Bytes{error_invalid_length});
        } else {
            // A new request ends whatever the host abandoned, e.g. after libfido2 stopped waiting for a
            // silent key.
            output_.clear();
            pending_.reset();
            const std::size_t count = std::min(length, ctaphid::init_data_size);
            assembly_ = Assembly{cid, cmd, length, 0, Bytes(report.begin() + 7, report.begin() + 7 + count)};
        }
    } else if (assembly_ && assembly_->cid == cid) {
        if (type != assembly_->next_seq) {
            assembly_.reset();
            queue(cid, ctaphid::cmd_error, Bytes{error_invalid_sequence});
        } else {
            ++assembly_->next_seq;
            const std::size_t count =
                std::min(assembly_->expected - assembly_->data.size(), ctaphid::cont_data_size);
            assembly_->data.insert(assembly_->data.end(), report.begin() + 5, report.begin() + 5 + count);
        }
    }
    // Continuations for nobody are dropped, as real keys do.
    if (assembly_ && assembly_->data.size() == assembly_->expected) {
        Assembly complete = std::move(*assembly_);
        assembly_.reset();
        dispatch(complete.cid, complete.cmd, std::move(complete.data));
    }
    changed_.notify_all();
}

void VirtualHid::dispatch(std::uint32_t cid, std::uint8_t cmd, Bytes payload) {
    switch (cmd) {
        case ctaphid::cmd_init: {
            if (payload.size() != 8) {
                queue(cid, ctaphid::cmd_error, Bytes{error_invalid_length});
                return;
            }
            std::uint32_t assigned = cid;
            if (cid == ctaphid::broadcast_cid) {
                assigned = next_cid_++;
                channels_.push_back(assigned);
            }
            // nonce | channel | CTAPHID version | device version major, minor, build | capabilities
            Bytes reply = std::move(payload);
            append_be32(reply, assigned);
            append(reply, Bytes{protocol_version, 1, 0, 0, capability_cbor | capability_no_msg});
            queue(cid, ctaphid::cmd_init, reply);
            return;
        }
        case ctaphid::cmd_ping:
            queue(cid, ctaphid::cmd_ping, payload);
            return;
        case ctaphid::cmd_cbor: {
            if (payload.empty()) {
                queue(cid, ctaphid::cmd_error, Bytes{error_invalid_length});
                return;
            }
            log_event(key_index_, "cbor " + cbor_command_name(payload[0]));
            Outcome outcome = authenticator(key_index_).handle(payload);
            // A mute key answers no getAssertion or makeCredential, not even the touch-less probe, until
            // cancelled or abandoned: like a key that ignores up=false and waits for a touch nobody gives.
            if (knobs_.touch == TouchMode::mute && waits_for_touch_when_mute(payload[0]) &&
                !outcome.after_touch)
                outcome.after_touch = [reply = outcome.reply] { return reply; };
            if (!outcome.after_touch) {
                queue(cid, ctaphid::cmd_cbor, outcome.reply);
                return;
            }
            // A denying user still lets the key blink a little first, like a real one.
            unsigned keepalives = knobs_.keepalives;
            if (knobs_.touch == TouchMode::deny) keepalives = std::max(keepalives, 1U);
            const bool waits =
                keepalives > 0 || knobs_.touch == TouchMode::silent || knobs_.touch == TouchMode::mute;
            const auto first_event = Clock::now() + (waits ? std::chrono::milliseconds(knobs_.keepalive_ms)
                                                           : std::chrono::milliseconds(0));
            pending_ = Transaction{cid, first_event, keepalives, std::move(outcome.after_touch)};
            return;
        }
        default:
            queue(cid, ctaphid::cmd_error, Bytes{error_invalid_command});
            return;
    }
}

void VirtualHid::step_transaction() {
    Transaction& transaction = *pending_;
    const bool silent = knobs_.touch == TouchMode::silent || knobs_.touch == TouchMode::mute;
    if (silent || transaction.keepalives_left > 0) {
        queue(transaction.cid, ctaphid::cmd_keepalive, Bytes{keepalive_up_needed});
        ++keepalive_count;
        if (transaction.keepalives_left > 0) --transaction.keepalives_left;
        // The touch lands together with the last keepalive; a silent key just keeps blinking.
        if (silent || transaction.keepalives_left > 0)
            transaction.next_event += std::chrono::milliseconds(knobs_.keepalive_ms);
        return;
    }
    const Bytes reply =
        knobs_.touch == TouchMode::deny ? Bytes{status::operation_denied} : transaction.after_touch();
    const std::uint32_t cid = transaction.cid;
    pending_.reset();
    queue(cid, ctaphid::cmd_cbor, reply);
}

bool VirtualHid::read_report(Report& report, int timeout_ms) {
    // A key configured with an invalid knob never answers: nothing can succeed because of a typo.
    if (!knobs().valid) return false;
    std::unique_lock lock(mutex_);
    std::optional<Clock::time_point> deadline;
    if (timeout_ms >= 0) deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        if (!output_.empty()) {
            report = output_.front();
            output_.pop_front();
            return true;
        }
        const auto now = Clock::now();
        if (pending_ && pending_->next_event <= now) {
            step_transaction();
            continue;
        }
        if (deadline && *deadline <= now) return false;
        std::optional<Clock::time_point> wake = deadline;
        if (pending_ && (!wake || pending_->next_event < *wake)) wake = pending_->next_event;
        // Waiting on the condition lets a CANCEL from another thread end the wait at once.
        if (wake)
            changed_.wait_until(lock, *wake);
        else
            changed_.wait(lock);
    }
}

void VirtualHid::queue(std::uint32_t cid, std::uint8_t cmd, ByteView payload) {
    if (cmd == ctaphid::cmd_cbor && !payload.empty())
        log_event(key_index_, "answer " + std::to_string(payload[0]));
    for (const Report& report : ctaphid::frame(cid, cmd, payload)) output_.push_back(report);
}

}  // namespace vfido
