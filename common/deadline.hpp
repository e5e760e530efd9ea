// The point in time by which a login step must be done; every network wait is cut to it.
#pragma once

#include <chrono>

namespace pp {

using Deadline = std::chrono::steady_clock::time_point;

// Never negative, so callers can compare the result with zero.
inline std::chrono::milliseconds time_left(Deadline deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(0);
}

}  // namespace pp
