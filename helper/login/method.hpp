// One way of proving who the person is (a code by email or text message, a local security key, a passkey of
// the user pool), one file each. A method runs twice over: for a real account (prove) and, with the same
// prompts and pauses, for a name that is nobody (walk_unknown), so that the two cannot drift apart and a new
// method is written once.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config.hpp"
#include "connection.hpp"
#include "credential_store.hpp"
#include "identifiers.hpp"
#include "verdict.hpp"

namespace pp::helper::login {

using MethodKind = pp::helper::Method;

// What the login knows of the account it proves, read once before the menu.
struct Account {
    std::string user;                           // the local account
    std::vector<Identifier> known;              // from the identity map; empty: bound by the token's claim
    std::optional<Identifier> typed;            // what the person typed when asked for an identifier
    std::vector<StoredCredential> credentials;  // the enrolled local keys
};

// The walk of a name that is nobody, as the real account it copies would take it (decoy.hpp): made-up
// destinations and the pauses of the pool's real answers.
struct UnknownWalk;
// What one login carries from step to step (the pool's step, what was tried, what was sent); login.cpp.
struct Attempt;

// The chosen method could not run here (no key holds any of the credentials): the menu goes on without it.
struct NotHere {};

// How a method ended: proven, an ending, or not here.
using Proof = std::variant<Verified, Verdict, NotHere>;

class Method {
  public:
    virtual ~Method() = default;
    virtual MethodKind kind() const = 0;
    std::string_view name() const { return method_name(kind()); }
    // Whether the menu lists it for this account.
    virtual bool offered(const Account& account, const Attempt& attempt) const = 0;
    virtual Proof prove(Connection& conn, Account& account, Attempt& attempt) = 0;
    // The same prompts, for a name that is nobody: never a success.
    virtual Verdict walk_unknown(Connection& conn, UnknownWalk& walk, Attempt& attempt) = 0;
};

// What a key's answer means for the person and PAM, on each use of a key: the one mapping of
// wire::DeviceStatus (security_key_method.cpp), used by the login and by management alike.
enum class KeyUse { SignIn, Enrol };
Verdict key_status_verdict(wire::DeviceStatus status, KeyUse use);

}  // namespace pp::helper::login
