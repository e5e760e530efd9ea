#include "pool_health.hpp"

#include <algorithm>
#include <utility>

namespace pp::helper {

using cognito::Failure;

// When the window is empty, the decoy follows the last real request's outcome, however old, rather than
// taking the pool for healthy. Taken for healthy, a quiet machine under an outage would let every name that
// is nobody walk on (each decoy leaves the record as it found it) until the first enrolled name is tried:
// an attacker who makes the pool refuse (throttling it from elsewhere, its quota being shared) would learn of
// every name tried before it that it is nobody's. Followed, the record changes only through real requests,
// which an attacker's probes of enrolled names make; a name that is nobody then meets what the last real one
// met. The cost: after an outage ends on a machine where no login asks the pool, a name that is nobody's
// still ends as "cannot be reached" until the next real request is answered, failing closed either way.
void PoolHealth::answered(Clock::time_point at) {
    keep({at, std::nullopt});
}

void PoolHealth::failed(const cognito::ServiceError& e, std::chrono::microseconds took, bool full_time,
                        Clock::time_point at) {
    // A request the login's own deadline cut short says nothing of the pool: an attacker with an account
    // could otherwise fill the window with outages of their own making, and decoys alone would then end so.
    if (e.failure() == Failure::Timeout && !full_time) return;
    auto name = outage_of(e);
    if (!name) {
        keep({at, std::nullopt});
        return;
    }
    keep({at, Outage{e.failure(), std::move(*name), took}});
}

std::optional<std::string> PoolHealth::outage_of(const cognito::ServiceError& e) {
    // Transport, TLS, HTTP 5xx, an answer that cannot be read: the way to the pool, for every login.
    if (e.failure() != Failure::Rejected) return std::string();
    // Among the refusals that service_failure (login.cpp) ends as "cannot be reached", those of the pool as a
    // whole (its quota, its own fault, its WAF, its roles and Lambdas). LimitExceededException,
    // UserLambdaValidationException and CodeDeliveryFailureException are about one person or destination:
    // an attacker's own account could make them at will, and a window of them would end decoys alone.
    static const char* const pool_wide[] = {"TooManyRequestsException",
                                            "InternalErrorException",
                                            "ForbiddenException",
                                            "UnexpectedLambdaException",
                                            "InvalidLambdaResponseException",
                                            "InvalidSmsRoleAccessPolicyException",
                                            "InvalidSmsRoleTrustRelationshipException",
                                            "InvalidEmailRoleAccessPolicyException"};
    for (const char* n : pool_wide)
        if (e.name() == n) return std::string(n);
    return std::nullopt;
}

void PoolHealth::keep(Request r) {
    std::lock_guard lock(m_);
    if (ring_.size() < kCapacity) {
        ring_.push_back(std::move(r));
        return;
    }
    ring_[next_] = std::move(r);
    next_ = (next_ + 1) % kCapacity;
}

const PoolHealth::Request& PoolHealth::newest() const {
    return ring_[ring_.size() < kCapacity ? ring_.size() - 1 : (next_ + kCapacity - 1) % kCapacity];
}

std::optional<PoolHealth::Outage> PoolHealth::draw(Clock::time_point now, std::uint64_t pick) const {
    std::lock_guard lock(m_);
    if (ring_.empty()) return std::nullopt;
    std::vector<const Request*> recent;
    for (const auto& r : ring_)
        if (r.at + kWindow >= now) recent.push_back(&r);
    if (recent.empty()) return newest().outage;
    return recent[pick % recent.size()]->outage;
}

double PoolHealth::outage_fraction(Clock::time_point now) const {
    std::lock_guard lock(m_);
    if (ring_.empty()) return 0;
    std::size_t recent = 0, outages = 0;
    for (const auto& r : ring_)
        if (r.at + kWindow >= now) {
            ++recent;
            outages += r.outage ? 1 : 0;
        }
    if (recent == 0) return newest().outage ? 1 : 0;
    return static_cast<double>(outages) / static_cast<double>(recent);
}

PoolHealth& pool_health() {
    static PoolHealth record;
    return record;
}

DecoyOutage::DecoyOutage(const PoolHealth::Outage& outage, std::string walk_reason)
    : cognito::ServiceError(outage.failure, outage.name,
                            "decoy (" + walk_reason + "): the outage a recent real request met"),
      walk_reason_(std::move(walk_reason)) {}

}  // namespace pp::helper
