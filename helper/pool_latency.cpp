#include "pool_latency.hpp"

#include <algorithm>
#include <random>
#include <thread>

namespace pp::helper {

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
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t age = (cursor + k) % n;
        if (at(age).step == step) {
            cursor = age + 1;
            return at(age).d;
        }
    }
    const std::size_t age = cursor % n;
    cursor = age + 1;
    return at(age).d;
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

LatencyWalk::LatencyWalk() {
    // Where the walk starts needs no secrecy, only independence from the name being tried.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    cursor_ = static_cast<std::size_t>(rng() % std::max<std::size_t>(pool_latency().size(), 1));
}

void LatencyWalk::pause(PoolStep step, std::chrono::steady_clock::time_point since) {
    const auto deadline = since + pool_latency().draw(step, cursor_) - wake_lateness().lead();
    // Only a sleep that had time left says how late the timer wakes: a deadline already past returns at once.
    if (std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_until(deadline);
    wake_lateness().record(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - deadline));
}

}  // namespace pp::helper
