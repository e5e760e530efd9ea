#include "login/limit_tally.hpp"

namespace pp::helper {

std::optional<LimitTally::Settlement> LimitTally::settlement(wire::Outcome outcome) const {
    using wire::Outcome;
    using TryEnd = RateLimits::TryEnd;
    TryEnd end = TryEnd::Untried;
    if (outcome == Outcome::Success)
        end = TryEnd::Success;
    else if ((proof_tried_ || code_sent_) && outcome != Outcome::AuthinfoUnavail &&
             outcome != Outcome::ServiceErr)
        end = TryEnd::Failure;
    if (!holds_try_ && end != TryEnd::Failure) return std::nullopt;
    return Settlement{end, unknown_walk_, holds_try_};
}

}  // namespace pp::helper
