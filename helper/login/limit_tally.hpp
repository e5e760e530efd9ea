// The limits' bookkeeping of one login (rate_limits.hpp): what it reserved and what it spent, noted where it
// happens, and settled once, at the login's end (Session::settle_limits), by the one rule in settlement().
#pragma once

#include <optional>

#include "rate_limits.hpp"
#include "wire.hpp"

namespace pp::helper {

class LimitTally {
  public:
    // The login is armed: its try is reserved against the user's backoff budget (Login::arm_try), before
    // anything below can be noted.
    void reserved() { holds_try_ = true; }
    bool holds_try() const { return holds_try_; }
    // A code went out: ending without success now counts as a failure.
    void code_sent() { code_sent_ = true; }
    // A code was submitted or a key asked: a failure now counts against the user.
    void proof_tried() { proof_tried_ = true; }
    // A send limit ended the login (recovery_login.cpp may still offer a code).
    void send_refused() { send_refused_ = true; }
    // The decoy's walk: limited like a real one, but its counts are kept in the walks' store.
    void unknown_walk() { unknown_walk_ = true; }

    bool has_sent_code() const { return code_sent_; }
    bool was_send_refused() const { return send_refused_; }
    bool is_unknown_walk() const { return unknown_walk_; }

    // What RateLimits::settle_try is told of this login.
    struct Settlement {
        RateLimits::TryEnd end;
        bool unknown;   // counted in the walks' store
        bool reserved;  // the try reserved when the login was armed is released
    };
    // How a login that ends with `outcome` is settled; nothing when there is nothing to settle (no try held,
    // and no failure that counts). A code sent and then hung up on counts as a wrong one would; an outage of
    // the pool or the store counts against nobody.
    std::optional<Settlement> settlement(wire::Outcome outcome) const;
    // The reserved try is settled: a second settlement finds none to release, and no try is armed after it
    // (it would never be released).
    void settled() {
        holds_try_ = false;
        settled_ = true;
    }
    bool is_settled() const { return settled_; }

  private:
    bool holds_try_ = false;
    bool code_sent_ = false;
    bool proof_tried_ = false;
    bool send_refused_ = false;
    bool unknown_walk_ = false;
    bool settled_ = false;
};

}  // namespace pp::helper
