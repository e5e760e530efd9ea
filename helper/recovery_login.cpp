// The break-glass of a local login while the user pool cannot be reached: one recovery code, once.
//
// When it is offered: only when the pool failed as unreachable (PAM_AUTHINFO_UNAVAIL from a pool request, or
// a send limit met while the pool's last contact failed), so the everyday menu stays as it is and a code
// sheet is not a second everyday way in; only to a login with no remote host at all (the console, sudo, su),
// whatever loopback_is_local says, as a port forward reaches loopback from anywhere and a code is a secret
// that can be phished; only where the service allows it
// ([recovery] enabled, [service NAME] recovery); and only once root has made a set for anyone on this
// machine, so that a machine without a break-glass plan ends an outage as it always did. Whether this user
// has a set plays no part: a user without one gets the same prompt, the same hash's wait and the same
// failure.
//
// One code per login: a wrong one ends the login as a failure, which counts in the user's local backoff
// budget (limits), so guessing at the console pays the backoff for every try, against 80 bits.
#include <syslog.h>

#include "helper_state.hpp"
#include "login_log.hpp"
#include "login_steps.hpp"
#include "recovery_codes.hpp"
#include "session.hpp"

namespace pp::helper {

using wire::Outcome;

// The one check that turns a recovery code into a proof: RecoveryStore::consume found it and spent it.
class RecoveryCodeCheck {
  public:
    static std::variant<Verified, Verdict> accepted(const std::string& user, const RecoveryStore::Use& use,
                                                    const Verdict& outage) {
        if (!use.used) return refused(outage);
        return Verified(user, Verified::By::RecoveryCode, std::nullopt, "",
                        "recovery code used, " + std::to_string(use.left) +
                            " left, while the user pool was unreachable (" + outage.audit_reason() + ")");
    }

    static Verdict refused(const Verdict& outage) {
        return Verdict{
            Outcome::AuthErr, kSignInFailed,
            "wrong recovery code while the user pool was unreachable (" + outage.audit_reason() + ")"};
    }
};

// The sends are counted before the pool is asked, also while it is down and nothing goes out: from the
// network an attacker can run up a user's send limit then. When the pool's last contact failed, the local
// login that meets the limit is offered the break-glass as an outage would offer it (Enter keeps the limit's
// ending).
Proof Login::break_glass_after_send_limit(const Verdict& refusal) {
    const PoolContact::Seen seen = ctx_.state ? ctx_.state->pool_seen() : PoolContact::Seen{};
    if (seen.last_failure == 0 || seen.last_failure < seen.last_answer) return refusal;
    return break_glass(refusal);
}

bool Login::break_glass_offered(const Verdict& outage) const {
    if (outage.outcome() != Outcome::AuthinfoUnavail || !facts_.rhost.empty() ||
        !cfg().recovery_for(facts_.service))
        return false;
    try {
        return RecoveryStore(cfg().recovery.store_dir).any_set();
    } catch (const RecoveryError& e) {
        log_line(LOG_ERR, "%s: recovery codes not offered", loggable(e.what(), 300).c_str());
        return false;
    }
}

std::optional<Secret> Login::recovery_code_typed(const Verdict& outage) {
    if (!break_glass_offered(outage)) return std::nullopt;
    Secret typed = conn_.ask(kRecoveryPrompt, false);
    // No code at hand: the outage ends the login as it would have without the offer, so a stack that lets
    // PAM_AUTHINFO_UNAVAIL through to another module still does.
    if (typed.empty()) return std::nullopt;
    method_ = "recovery_code";
    return typed;
}

Proof Login::break_glass(const Verdict& outage) {
    const auto typed = recovery_code_typed(outage);
    if (!typed) return outage;
    if (auto end = proof_tried()) return *end;
    RecoveryStore::Use use;
    try {
        use = RecoveryStore(cfg().recovery.store_dir).consume(facts_.user, typed->view());
    } catch (const RecoveryError& e) {
        return Verdict{Outcome::ServiceErr, kMisconfigured, e.what()};
    }
    return RecoveryCodeCheck::accepted(facts_.user, use, outage);
}

// A decoy's outage is drawn from real logins' recent ones, not met: whatever is typed, even a code of this
// name's own set (an account whose identity the pool does not know may have one), it is refused, after the
// same read and hash a wrong code costs (RecoveryStore::refuse).
Verdict Login::break_glass_unknown(const Verdict& outage) {
    const auto typed = recovery_code_typed(outage);
    if (!typed) return outage;
    if (auto end = proof_tried()) return *end;
    try {
        RecoveryStore(cfg().recovery.store_dir).refuse(facts_.user, typed->view());
    } catch (const RecoveryError& e) {
        return Verdict{Outcome::ServiceErr, kMisconfigured, e.what()};
    }
    return RecoveryCodeCheck::refused(outage);
}

}  // namespace pp::helper
