// Whether the user pool answers real logins' requests, as those requests found it, so that a login that never
// asks the pool (the decoy) ends where a real login's request would have met an outage, and as often.
//
// While the pool refuses every request (throttled: its quota is shared by every machine and every login, and
// an attacker's menu probes cost the attacker only a connection; or unreachable), an enrolled user's login
// ends at its first request with "cannot be reached" (and, at a local login, the break-glass). A decoy that
// walked on would tell, for every name tried, whether it is enrolled. So at each point where a real login
// asks the pool, the decoy draws one of the recent real requests, uniformly: when that one met an outage, the
// decoy meets the same, after as long as it took; otherwise it goes on. The decoy's chance of an outage is
// the recent real failure fraction, and the two cannot be told apart by counting.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "service_error.hpp"

namespace pp::helper {

class PoolHealth {
  public:
    using Clock = std::chrono::steady_clock;
    // The window: the last kCapacity real requests no older than kWindow. A burst of logins fills it in a
    // moment; a quiet machine keeps what it saw for two minutes.
    static constexpr std::size_t kCapacity = 32;
    static constexpr std::chrono::seconds kWindow{120};

    // How a real request met an outage: what a decoy's would-be request meets in its place.
    struct Outage {
        cognito::Failure failure;
        std::string name;  // the pool's error name, one of a fixed list ("" for a transport failure)
        std::chrono::microseconds took;
    };

    // A real login's request that the pool answered (a refusal of the person's answer included).
    void answered(Clock::time_point at);
    // A real login's request that failed after `took`. Kept as an outage when it ends every login alike
    // (outage_of); as an answer when it concerns the person (a wrong code, a user the pool does not know, a
    // limit of their own); not at all when the login's own time cut it short (`full_time` false).
    void failed(const cognito::ServiceError& e, std::chrono::microseconds took, bool full_time,
                Clock::time_point at);

    // One of the window's requests, picked by `pick` (uniform over 64 bits): the outage it met, or nullopt
    // (it was answered). With none in the window, the last request kept, whatever its age (the pool's last
    // known state: see the .cpp); with none ever, nullopt.
    [[nodiscard]] std::optional<Outage> draw(Clock::time_point now, std::uint64_t pick) const;
    // The share of the window's requests that met an outage (the last known one's, 0 or 1, when the window is
    // empty). For the tests and the log.
    [[nodiscard]] double outage_fraction(Clock::time_point now) const;

    // The failures that end every login alike (the pool or the way to it down, throttled, failing), as
    // opposed to a person's own (a wrong code; a limit or a Lambda's verdict on one user; a destination the
    // pool cannot deliver to): nullopt for those. An outage's name is then one of a fixed list.
    static std::optional<std::string> outage_of(const cognito::ServiceError& e);

  private:
    struct Request {
        Clock::time_point at;
        std::optional<Outage> outage;
    };
    void keep(Request r);
    const Request& newest() const;  // under m_, of a ring that is not empty

    mutable std::mutex m_;
    std::vector<Request> ring_;  // at most kCapacity
    std::size_t next_ = 0;       // once full, the one overwritten next (the oldest)
};

// The helper's one record, shared by every login (pool_client.cpp records, LatencyWalk draws).
PoolHealth& pool_health();

// The outage a decoy's would-be request drew (PoolHealth::draw), thrown where a real request's failure is
// thrown, as the same ServiceError: every ending of a real outage (the login's break-glass, a management
// sign-in's, the session's) ends the decoy too. `walk_reason` is the decoy's audit reason.
class DecoyOutage : public cognito::ServiceError {
  public:
    DecoyOutage(const PoolHealth::Outage& outage, std::string walk_reason);
    [[nodiscard]] const std::string& walk_reason() const noexcept { return walk_reason_; }

  private:
    std::string walk_reason_;
};

}  // namespace pp::helper
