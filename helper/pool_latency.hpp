// How long the user pool takes to answer, step by step, so that a login that never reaches the pool (the
// decoy) waits as long as a real one at every point where a real one waits for the pool.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "service_error.hpp"

namespace pp::cognito {
class PoolApi;
}

namespace pp::helper {

// The kinds of wait of a login: InitiateAuth (which may send a code), the answer to the method menu
// (SELECT_CHALLENGE, which sends the code), the answer to a code or a passkey that the pool refused (a wrong
// code), InitiateAuth asking for the factor chosen from a remembered menu (factor_memory.hpp; for a code, it
// sends it), and the answer to a code or a passkey that the pool accepted.
//
// Accepted is kept apart from Answer because a decoy's code is always wrong: its pause must copy how long the
// pool takes to refuse a code, not to accept one, which issues the tokens and so takes longer (with the local
// stand-in ~2 ms more; the live service's figure is not measured here). Until session 16 both were Answer:
// the history is mostly successful logins, so a probed name that is nobody waited at each wrong code as a
// real user does at a right one, longer than a real user does at a wrong one (bench/decoy_timing.py).
//
// For the same reason each of Start, Choose and Preferred has a "Sent" twin: the same request answered with
// a code challenge (EMAIL_OTP, SMS_OTP), that is, the pool sent a code with its answer, which may take it
// longer than an answer that sends nothing (the method menu, a passkey's options). A decoy copying a user
// whose step sends nothing must not wait as one whose step sends a code: with users of both shapes in one
// map, the history mixes the two.
enum class PoolStep { Start, Choose, Answer, Preferred, Accepted, StartSent, ChooseSent, PreferredSent };

// The step's twin when its answer sent a code (see above); Answer and Accepted have none.
constexpr PoolStep sent(PoolStep step) {
    switch (step) {
        case PoolStep::Start:
            return PoolStep::StartSent;
        case PoolStep::Choose:
            return PoolStep::ChooseSent;
        case PoolStep::Preferred:
            return PoolStep::PreferredSent;
        default:
            return step;
    }
}

// A bounded reservoir of the most recent real waits, each tagged with its step, in the order they ended.
// A decoy login draws its pauses by walking forward through that history from a random place (LatencyWalk):
// each pause is the next recorded wait when that is of its step (a real login's steps were recorded one after
// another, so a decoy lives through one moment of the pool as a real login does: a slow spell slows each of
// its steps), and otherwise one of its step's waits chosen uniformly. The pauses follow the pool's recent
// distribution, its spread included (not a mean), and no wait counts more than another.
class PoolLatency {
  public:
    static constexpr std::size_t kCapacity = 768;  // some 150 real logins
    // Used until the first real wait has been recorded.
    static constexpr std::chrono::milliseconds kDefault{250};

    // In microseconds: a wait rounded down to the millisecond would make each decoy pause shorter than the
    // step it copies by half a millisecond on average.
    using Wait = std::chrono::microseconds;

    void record(PoolStep step, Wait d);
    // The wait at `cursor` (a position in the history, oldest first, wrapping) when it is of `step`, else one
    // of `step`'s waits chosen uniformly; the cursor moved past it. With no wait of that step recorded, the
    // wait at the cursor whatever its step (the same pool answers them all); with nothing recorded, kDefault.
    [[nodiscard]] Wait draw(PoolStep step, std::size_t& cursor) const;
    [[nodiscard]] std::size_t size() const;
    [[nodiscard]] std::size_t size(PoolStep step) const;

  private:
    struct Entry {
        PoolStep step;
        Wait d;
    };
    mutable std::mutex m_;
    std::vector<Entry> ring_;  // at most kCapacity
    std::size_t oldest_ = 0;   // once full, the next one overwritten
};

// The helper's one model, shared by every login.
PoolLatency& pool_latency();

// How late a decoy's pause ends after its deadline (the worker's timer slack and its answer's way back, the
// scheduler on a loaded machine). A real step's recorded wait already holds the one wake-up of its thread
// (when the pool's reply arrived); a pause that waited the whole recorded wait would add a second one and
// outlast the step it copies (by 0.2-0.7 ms a step on a loaded 2-core machine, enough to tell the decoy apart
// over many logins). So pauses aim earlier by the mean lateness of the recent ones.
class WakeLateness {
  public:
    static constexpr std::size_t kCapacity = 64;
    // A longer stall is the machine's load, not the timer: it would make the next pauses far too short.
    static constexpr std::chrono::microseconds kMax{5000};

    void record(std::chrono::microseconds late);           // clamped to 0..kMax
    [[nodiscard]] std::chrono::microseconds lead() const;  // the mean of the recent ones; 0 before any

  private:
    mutable std::mutex m_;
    std::vector<std::chrono::microseconds> ring_;  // at most kCapacity
    std::size_t next_ = 0;                         // once full, the one overwritten next
};

// The helper's one estimate, shared by every decoy login.
WakeLateness& wake_lateness();

// The pauses of one decoy login, starting at a random place in the history: each stands for a request a
// real login makes, and ends as one of the recent real requests did (pool_health.hpp).
class LatencyWalk {
  public:
    // `waiter`: what ends each pause. The helper's pool client, whose network worker answers when the pause
    // is over (cognito::PoolApi::wait_until), so that the thread is woken as after a real request; a real
    // step ends so, and a thread woken by its own timer found the machine's CPUs idle and reached the person
    // later (session 17, bench/README.md). Without one (unit tests), the thread sleeps.
    // `walk_reason`: the decoy's audit reason, carried by the outage it may meet.
    explicit LatencyWalk(cognito::PoolApi* waiter = nullptr, std::string walk_reason = {});
    // Waits until `since` (when the person's answer arrived) plus the next recorded wait of `step`, so the
    // decoy's own work in between (a send-limit check, say) counts as the real login's does; it aims earlier
    // by wake_lateness() and teaches it how late this wait woke.
    // Where the recent real request it draws (pool_health().draw) met an outage, it waits as long as that
    // request took instead and throws DecoyOutage, as a real login's request throws its ServiceError.
    void pause(PoolStep step, std::chrono::steady_clock::time_point since);

  private:
    void wait_until(std::chrono::steady_clock::time_point deadline);
    cognito::PoolApi* waiter_;
    std::size_t cursor_;
    std::string walk_reason_;
};

// Runs `call` (the work of one step: a request to the pool and what precedes it) and records its duration,
// also when the pool refuses (a wrong code is an answer too: without it the decoy would copy only successful
// logins). A step that got no answer (timeout, connection refused, a limit) is not recorded: its duration
// says nothing about the pool's.
// `start`: when the step began, if before the call (the person's answer arrived, then a limit was checked).
template <typename F>
auto timed(PoolStep step, std::chrono::steady_clock::time_point start, F&& call) {
    struct Clock {
        PoolStep step;
        std::chrono::steady_clock::time_point start;
        bool answered = true;
        ~Clock() {
            if (answered)
                pool_latency().record(step, std::chrono::duration_cast<PoolLatency::Wait>(
                                                std::chrono::steady_clock::now() - start));
        }
    } clock{step, start};
    try {
        auto result = call();
        // The pool took the answer: a wait no decoy copies (see PoolStep).
        if (step == PoolStep::Answer) clock.step = PoolStep::Accepted;
        // The answer is a code challenge: the pool sent a code with it.
        if constexpr (requires { std::string_view(result.challenge); })
            if (step != PoolStep::Answer && (result.challenge == method_challenge(Method::EmailOtp) ||
                                             result.challenge == method_challenge(Method::SmsOtp)))
                clock.step = sent(step);
        return result;
    } catch (const cognito::ServiceError& e) {
        clock.answered = e.failure() == cognito::Failure::Rejected;
        throw;
    } catch (...) {
        clock.answered = false;
        throw;
    }
}

template <typename F>
auto timed(PoolStep step, F&& call) {
    return timed(step, std::chrono::steady_clock::now(), std::forward<F>(call));
}

}  // namespace pp::helper
