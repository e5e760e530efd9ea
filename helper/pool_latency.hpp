// How long the user pool takes to answer, step by step, so that a login that never reaches the pool (the
// decoy) waits as long as a real one at every point where a real one waits for the pool.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "service_error.hpp"

namespace pp::helper {

// The kinds of request a login waits for: InitiateAuth (which may send a code), the answer to the method
// menu (SELECT_CHALLENGE, which sends the code), and the answer to a code or a passkey.
enum class PoolStep { Start, Choose, Answer };

// A bounded reservoir of the most recent real request durations per step. Draws are uniform over what it
// holds, so a pause follows the pool's recent distribution (its spread included), not a mean.
class PoolLatency {
  public:
    static constexpr std::size_t kCapacity = 256;
    // Used until the first real request of any kind has been timed.
    static constexpr std::chrono::milliseconds kDefault{250};

    void record(PoolStep step, std::chrono::milliseconds d);
    // A duration drawn from the step's reservoir; while that is empty, from all the steps' together (the same
    // pool answers them all); while all are empty, kDefault. `random` picks the draw.
    [[nodiscard]] std::chrono::milliseconds sample(PoolStep step, std::uint64_t random) const;
    [[nodiscard]] std::size_t size(PoolStep step) const;

  private:
    struct Ring {
        std::vector<std::chrono::milliseconds> values;  // at most kCapacity
        std::size_t next = 0;                           // the oldest, overwritten next once full
    };
    mutable std::mutex m_;
    std::array<Ring, 3> rings_;
};

// The helper's one model, shared by every login.
PoolLatency& pool_latency();

// Sleeps for a duration drawn from the real logins' recent durations of this step.
void pause_like_the_pool(PoolStep step);

// Runs `call` (a request to the pool) and records its duration, also when the pool refuses (a wrong code is
// an answer too: without it the decoy would copy only successful logins). A request that got no answer
// (timeout, connection refused) is not recorded: its duration says nothing about the pool's.
template <typename F>
auto timed(PoolStep step, F&& call) {
    struct Clock {
        PoolStep step;
        std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
        bool answered = true;
        ~Clock() {
            if (answered)
                pool_latency().record(step, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - start));
        }
    } clock{step};
    try {
        return call();
    } catch (const cognito::ServiceError& e) {
        clock.answered = e.failure() == cognito::Failure::Rejected;
        throw;
    } catch (...) {
        clock.answered = false;
        throw;
    }
}

}  // namespace pp::helper
