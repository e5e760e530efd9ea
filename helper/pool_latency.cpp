#include "pool_latency.hpp"

#include <algorithm>
#include <random>
#include <thread>
#include <utility>

#include "pool_health.hpp"
#include "pool_types.hpp"

namespace pp::helper {
namespace {

// Where a walk starts, and which wait it takes after a skip: needs no secrecy, only independence from the
// name being tried.
std::mt19937_64& walk_rng() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng;
}

}  // namespace

void PoolLatency::record(PoolStep step, Wait d) {
    std::lock_guard lock(m_);
    if (ring_.size() < kCapacity) {
        ring_.push_back({step, d});
        return;
    }
    ring_[oldest_] = {step, d};
    oldest_ = (oldest_ + 1) % kCapacity;
}

PoolLatency::Wait PoolLatency::draw(PoolStep step, std::size_t& cursor) const {
    std::lock_guard lock(m_);
    const std::size_t n = ring_.size();
    if (n == 0) return kDefault;
    auto at = [&](std::size_t age) -> const Entry& { return ring_[(oldest_ + age % n) % n]; };
    const std::size_t here = cursor % n;
    // The walk's next wait is of this step: it goes on through the same moment of the pool (a login's code
    // answers after its menu's).
    if (at(here).step == step) {
        cursor = here + 1;
        return at(here).d;
    }
    // Otherwise one of this step's waits, each as likely as any other. (Until session 16 the walk took the
    // first one after its place: a wait that follows a long run of other steps, such as the refusals after
    // a run of accepted logins, was then copied as often as that run is long; bench/README.md.)
    std::size_t count = 0;
    for (std::size_t age = 0; age < n; ++age) count += at(age).step == step ? 1 : 0;
    if (count == 0) {
        cursor = here + 1;
        return at(here).d;
    }
    std::size_t pick = std::uniform_int_distribution<std::size_t>(0, count - 1)(walk_rng());
    for (std::size_t age = 0; age < n; ++age) {
        if (at(age).step != step) continue;
        if (pick-- == 0) {
            cursor = age + 1;
            return at(age).d;
        }
    }
    cursor = here + 1;  // not reached: `count` entries of the step are there
    return at(here).d;
}

std::size_t PoolLatency::size() const {
    std::lock_guard lock(m_);
    return ring_.size();
}

std::size_t PoolLatency::size(PoolStep step) const {
    std::lock_guard lock(m_);
    return static_cast<std::size_t>(
        std::count_if(ring_.begin(), ring_.end(), [&](const Entry& w) { return w.step == step; }));
}

PoolLatency& pool_latency() {
    static PoolLatency model;
    return model;
}

void WakeLateness::record(std::chrono::microseconds late) {
    late = std::clamp(late, std::chrono::microseconds(0), kMax);
    std::lock_guard lock(m_);
    if (ring_.size() < kCapacity) {
        ring_.push_back(late);
        return;
    }
    ring_[next_] = late;
    next_ = (next_ + 1) % kCapacity;
}

std::chrono::microseconds WakeLateness::lead() const {
    std::lock_guard lock(m_);
    if (ring_.empty()) return std::chrono::microseconds(0);
    std::chrono::microseconds sum(0);
    for (auto l : ring_) sum += l;
    return sum / static_cast<std::int64_t>(ring_.size());
}

WakeLateness& wake_lateness() {
    static WakeLateness estimate;
    return estimate;
}

LatencyWalk::LatencyWalk(cognito::PoolApi* waiter, std::string walk_reason)
    : waiter_(waiter), walk_reason_(std::move(walk_reason)) {
    cursor_ = static_cast<std::size_t>(walk_rng()() % std::max<std::size_t>(pool_latency().size(), 1));
}

void LatencyWalk::pause(PoolStep step, std::chrono::steady_clock::time_point since) {
    if (const auto outage = pool_health().draw(std::chrono::steady_clock::now(), walk_rng()())) {
        wait_until(since + outage->took - wake_lateness().lead());
        throw DecoyOutage(*outage, walk_reason_);
    }
    wait_until(since + pool_latency().draw(step, cursor_) - wake_lateness().lead());
}

void LatencyWalk::wait_until(std::chrono::steady_clock::time_point deadline) {
    const bool ahead = std::chrono::steady_clock::now() < deadline;
    // A deadline already past still ends with the worker's answer, as every real step does.
    if (waiter_ != nullptr)
        waiter_->wait_until(deadline);
    else
        std::this_thread::sleep_until(deadline);
    // Only a wait that had time left says how late a pause ends.
    if (ahead)
        wake_lateness().record(std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - deadline));
}

}  // namespace pp::helper
