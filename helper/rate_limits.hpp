// Limits on how often codes are sent and how often a user may fail, shared by every login the helper
// serves (that is why they live in the helper and not in each sshd process), kept across restarts.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace pp::helper {

struct LimitPolicy {
    int sends_per_identifier = 5;  // codes sent to one email/phone/user per window
    int sends_per_rhost = 20;      // codes requested from one remote host per window
    std::chrono::seconds send_window{900};
    int failures_before_backoff = 5;  // failed logins of one user before each further try waits
    std::chrono::seconds backoff_max{3600};
    int logins_per_rhost = 8;  // logins in flight from one remote host
};

class RateLimits {
  public:
    // `state_file` empty: kept in memory only. An unreadable or damaged state file starts empty and says so
    // in the log: a limit that forgets is better than a helper that refuses every login.
    explicit RateLimits(std::string state_file);

    // Seconds to wait before a code may be sent for this identifier from this host; 0 means allowed, and
    // the send is counted.
    std::int64_t take_send(const std::string& identifier, const std::string& rhost, const LimitPolicy& p,
                           std::int64_t now);
    // Seconds this user must wait before trying again; 0 means they may.
    std::int64_t user_wait(const std::string& user, const LimitPolicy& p, std::int64_t now);
    void record_failure(const std::string& user, std::int64_t now);
    void record_success(const std::string& user);

    // Logins in flight per remote host, so a flood from one host can't take every slot.
    bool enter_rhost(const std::string& rhost, const LimitPolicy& p);
    void leave_rhost(const std::string& rhost);

  private:
    void prune(std::int64_t now, std::int64_t window);
    void save();
    void load();

    std::mutex m_;
    std::string state_file_;
    std::map<std::string, std::deque<std::int64_t>> sends_;  // "id:<identifier>" / "host:<rhost>" -> times
    struct Failures {
        int count = 0;
        std::int64_t last = 0;
    };
    std::map<std::string, Failures> failures_;
    std::map<std::string, int> in_flight_;
};

}  // namespace pp::helper
