// How a login or a management request ends, as a value: the outcome the module maps to a PAM code, what the
// person reads and what the audit line says. Success is not a value anyone can write: a Verdict of
// Outcome::Success is made only from a Verified, and a Verified only by the code that checks a proof.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "config.hpp"
#include "person_texts.hpp"
#include "wire.hpp"

namespace pp::helper {

// Who was proven, and by what. Its constructor is private: only the checks named as friends below can make
// one, so a success without a proof does not compile instead of being caught at run time.
class Verified {
  public:
    // What proved the person (or, for a management request, what allowed it).
    enum class By {
        IdToken,       // an ID token of the user pool, verified and bound to the account (login/binding.cpp)
        SecurityKey,   // a local key's assertion with a counter that went up (login/security_key_method.cpp)
        RecoveryCode,  // a recovery code of the break-glass (recovery_login.cpp)
        Caller,        // a management request the caller may make (root, or the account's own uid)
    };

    const std::string& user() const { return user_; }
    By by() const { return by_; }
    // The method chosen on the menu, when one was (the audit line's method).
    const std::optional<Method>& method() const { return method_; }
    // The user pool's subject of the token that proved the person (By::IdToken); empty otherwise.
    const std::string& subject() const { return subject_; }
    // What the audit line says of the proof ("verified email identity sub=...").
    const std::string& audit_reason() const { return audit_reason_; }

  private:
    Verified(std::string user, By by, std::optional<Method> method, std::string subject,
             std::string audit_reason)
        : user_(std::move(user)),
          by_(by),
          method_(method),
          subject_(std::move(subject)),
          audit_reason_(std::move(audit_reason)) {}

    friend class TokenBinding;       // login/binding.cpp
    friend class KeyCounterCheck;    // login/security_key_method.cpp
    friend class RecoveryCodeCheck;  // recovery_login.cpp
    friend class CallerAuthority;    // management: the caller's own credentials (SO_PEERCRED)

    std::string user_;
    By by_;
    std::optional<Method> method_;
    std::string subject_;
    std::string audit_reason_;
};

class Verdict {
  public:
    // Every ending but success. An Outcome::Success given here is no proof: it is turned into a failure
    // (fail closed), so only Verdict(const Verified&, ...) can grant.
    Verdict(wire::Outcome outcome, std::string person_text, std::string audit_reason, bool summarised = false)
        : outcome_(outcome == wire::Outcome::Success ? wire::Outcome::AuthErr : outcome),
          person_text_(outcome == wire::Outcome::Success ? std::string(kSignInFailed)
                                                         : std::move(person_text)),
          audit_reason_(outcome == wire::Outcome::Success ? std::string("success without proof")
                                                          : std::move(audit_reason)),
          summarised_(summarised) {}
    // The one way to success.
    Verdict(const Verified& proof, std::string person_text)
        : outcome_(wire::Outcome::Success),
          person_text_(std::move(person_text)),
          audit_reason_(proof.audit_reason()),
          summarised_(false) {}

    wire::Outcome outcome() const { return outcome_; }
    const std::string& person_text() const { return person_text_; }
    const std::string& audit_reason() const { return audit_reason_; }
    // Refused before any login work (admission, a caller not allowed to ask): counted in the helper's
    // refusal summary instead of an audit line each, so a flood cannot drown the audit lines.
    bool summarised() const { return summarised_; }
    // The same ending, summarised: for requests that change nothing and any caller may repeat at will (a
    // listing of one's own keys, answered; session.cpp words it so).
    Verdict as_summarised() const {
        Verdict v = *this;
        v.summarised_ = true;
        return v;
    }
    bool granted() const { return outcome_ == wire::Outcome::Success; }

  private:
    wire::Outcome outcome_;
    std::string person_text_;
    std::string audit_reason_;
    bool summarised_;
};

// A step of the login that either goes on with a T or ends the login (an ending is returned, never thrown:
// only the transport throws, when the client goes away or the deadline passes).
template <class T>
using OrEnd = std::variant<T, Verdict>;
// What a method's check ends with: the person proven, or the login's ending.
using Proof = OrEnd<Verified>;
// A step that has nothing to hand on: nullopt goes on, a Verdict ends the login.
using MaybeEnd = std::optional<Verdict>;

// The ending a step returned, if it returned one.
template <class T>
const Verdict* ending_of(const OrEnd<T>& step) {
    return std::get_if<Verdict>(&step);
}
// Not of a temporary: the pointer would outlive it.
template <class T>
const Verdict* ending_of(const OrEnd<T>&& step) = delete;

}  // namespace pp::helper
