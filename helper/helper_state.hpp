// What the running helper knows about itself, for `pam-passwordless-helper status`, and the one place where
// its configuration is loaded: at start, on SIGHUP and on a reload request (control.hpp).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "audit.hpp"
#include "runtime.hpp"
#include "wire.hpp"

namespace pp::helper {

// The user pool's reachability as the helper's requests found it. Shared with the clients of every loaded
// configuration, which login threads may hold after the helper has moved on.
class PoolContact {
  public:
    struct Seen {
        std::time_t last_answer = 0, last_failure = 0;  // 0: never
        std::string last_failure_reason;
        std::uint64_t answers = 0, failures = 0;
    };
    void record(bool answered, const std::string& why) noexcept;
    [[nodiscard]] Seen seen() const;

  private:
    mutable std::mutex mutex_;
    Seen seen_;
};

class HelperState {
  public:
    explicit HelperState(std::string config_path);

    // Reads the file and puts it in force. When it is refused, the configuration in force stays (none at
    // start: every login is then refused with PAM_SERVICE_ERR and the reason). `trigger` names the cause in
    // the log ("SIGHUP", "reload request"); nullptr is the start. Returns why the file was refused, or the
    // empty string. One load at a time.
    std::string load(const char* trigger);

    [[nodiscard]] std::shared_ptr<const Runtime> runtime() const { return runtime_.load(); }
    // Why no configuration is in force; empty when one is.
    [[nodiscard]] std::string config_error() const;
    [[nodiscard]] const std::string& config_path() const { return config_path_; }
    // The SHA-256 (hex) of the file in force as it was read; empty when none is.
    [[nodiscard]] std::string config_sha256() const;

    // A login ended with this outcome (one per login, whatever its path).
    void count(wire::Outcome outcome) noexcept;
    // A connection refused at accept, before its first message was read (too many at once, no thread).
    void count_refused_at_accept() noexcept;
    // The login that ended last, as its audit line names it (test_login: root's test-login ran it), so that
    // status shows it: an admin checks a test-login's login id there.
    void record_login(const AuditRecord& r, bool test_login) noexcept;

    // What the helper's requests last found of the user pool (the break-glass asks whether it is down).
    [[nodiscard]] PoolContact::Seen pool_seen() const { return pool_->seen(); }

    // The report, one "name: value" line each, in display order. started_by_this_request: the request was
    // the connection that woke a socket-activated helper, which the first line then says.
    [[nodiscard]] std::vector<std::string> status(bool started_by_this_request = false) const;

  private:
    const std::string config_path_;
    const std::time_t started_ = std::time(nullptr);
    const std::shared_ptr<PoolContact> pool_ = std::make_shared<PoolContact>();
    std::atomic<std::shared_ptr<const Runtime>> runtime_;

    std::mutex load_mutex_;  // one load at a time
    mutable std::mutex mutex_;
    std::string config_error_;
    std::string config_sha256_;  // of the file in force, as read when it was loaded
    std::time_t config_loaded_ = 0;
    std::time_t last_reload_ = 0;  // 0: none since start
    std::string last_reload_trigger_, last_reload_error_;
    std::time_t last_login_ = 0;  // 0: none since start
    std::string last_login_text_;

    static constexpr std::size_t kOutcomes = 10;  // wire::Outcome's values, 0..9
    std::array<std::atomic<std::uint64_t>, kOutcomes> outcomes_{};
    std::atomic<std::uint64_t> refused_at_accept_{0};
};

}  // namespace pp::helper
