#include "pool_latency.hpp"

#include <random>
#include <thread>

namespace pp::helper {

void PoolLatency::record(PoolStep step, std::chrono::milliseconds d) {
    std::lock_guard lock(m_);
    auto& r = rings_[static_cast<std::size_t>(step)];
    if (r.values.size() < kCapacity) {
        r.values.push_back(d);
        return;
    }
    r.values[r.next] = d;
    r.next = (r.next + 1) % kCapacity;
}

std::chrono::milliseconds PoolLatency::sample(PoolStep step, std::uint64_t random) const {
    std::lock_guard lock(m_);
    const auto& own = rings_[static_cast<std::size_t>(step)].values;
    if (!own.empty()) return own[random % own.size()];
    std::size_t total = 0;
    for (const auto& r : rings_) total += r.values.size();
    if (total == 0) return kDefault;
    std::size_t i = random % total;
    for (const auto& r : rings_) {
        if (i < r.values.size()) return r.values[i];
        i -= r.values.size();
    }
    return kDefault;  // not reached: i < total
}

std::size_t PoolLatency::size(PoolStep step) const {
    std::lock_guard lock(m_);
    return rings_[static_cast<std::size_t>(step)].values.size();
}

PoolLatency& pool_latency() {
    static PoolLatency model;
    return model;
}

void pause_like_the_pool(PoolStep step) {
    // Which draw is taken needs no secrecy, only independence from the name being tried.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::this_thread::sleep_for(pool_latency().sample(step, rng()));
}

}  // namespace pp::helper
