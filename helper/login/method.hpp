// A login method (issue #12): one class each, in one file each (otp_method.cpp, security_key_method.cpp,
// pool_passkey_method.cpp, browser_method.cpp), with both of its modes: the real proof, and the unknown mode,
// the walk of a login that cannot succeed (a name that is no account, an account without identity or key, an
// identity the user pool does not know). The unknown mode shows the same prompts, waits and endings as the
// real one, sends nothing to anyone and refuses every answer; Login::decoy (unknown_user.cpp) only shapes the
// walk (decoy.hpp) and runs the chosen method's unknown mode, so no method is written twice.
//
// A method sees the login only through MethodContext (method_context.hpp): no method is a friend of Login,
// and each can be tested alone against a fake context.
//
// A new method is its file plus one line:
//   - its file in helper/login/ (and in helper/CMakeLists.txt's list): a class deriving from LoginMethod,
//     default-constructible, with its helpers beside it, ending with the one object's instantiation
//     `template const LoginMethod& method_object<TheClass>();` (method_object.hpp);
//   - its line in method.cpp's registry: `{Method::TheValue, method_object<class TheClass>}`.
// A method the configuration has never named needs its Method value and its name too (config.hpp: Method,
// method_name, method_challenge), which is the configuration's, not the flow's.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "config.hpp"
#include "identifiers.hpp"
#include "login/method_context.hpp"
#include "pool_types.hpp"
#include "verdict.hpp"

namespace pp::helper {

class LatencyWalk;

// Where a method's real proof starts: the identity its token is bound to (none for the browser when the user
// pool does not know it), the user pool's step for this method and the pool's name of the person (neither
// for a local key or the browser).
struct MethodStart {
    std::optional<Identifier> ident;
    cognito::Step step;
    std::string username;
};

// The pool session a real login of the walk's shape would hold where the walk is
// (login/pool_session_memory.hpp): when the pool's answer that made it would have arrived (nullopt: no
// session is held), how long it lasts and after how many wrong codes the pool ends it (0: not known, the
// helper's max_tries alone).
struct MadeUpSession {
    std::optional<std::chrono::steady_clock::time_point> since;
    std::chrono::steady_clock::duration validity{};
    int wrong_codes = 0;
    // Whether an answer arriving `at` meets a session the pool would refuse as expired.
    [[nodiscard]] bool expired_at(std::chrono::steady_clock::time_point at) const {
        return since && at - *since > validity;
    }
};

// What the unknown mode knows of its walk.
struct UnknownWalk {
    std::string reason;  // the audit reason of every ending (the only thing a real user's differs in)
    std::string code_destination;  // the made-up destination a code prompt names ("": none)
    LatencyWalk& pool;             // the walk's pauses where a real login waits for the pool
    // The key holder whose key asks a made-up one copies (DecoyWalk::key_model; "": none), and the decoy key
    // its made-up credential ids are keyed with ("": made up afresh).
    std::string key_model = {};
    std::string_view decoy_key = {};
    // The pool passkeys of the real user the walk copies, as their last passkey login's ask listed them
    // (their ids' lengths, FactorRow::passkeys; empty: none remembered): a made-up ask lists as many, as
    // long.
    std::vector<std::size_t> pool_passkeys = {};
    MadeUpSession session = {};
};

class LoginMethod {
  public:
    virtual ~LoginMethod() = default;
    // The real proof: the person verified, or the login's ending; nullopt when the method has nothing to ask
    // here (no connected key holds any of the user's credentials): the menu goes on without it.
    virtual std::optional<Proof> prove(MethodContext& login, MethodStart start) const = 0;
    // The unknown mode, from the choice on: the ending a real user of the walk's shape would meet, with the
    // walk's reason (never a Verified); nullopt as for prove().
    virtual std::optional<Proof> walk_unknown(MethodContext& login, const UnknownWalk& walk) const = 0;
};

// The method that serves `m` (method.cpp's registry).
const LoginMethod& login_method(Method m);

// The one object of a method's class. Defined in method_object.hpp, which only the method's own file
// includes: that file instantiates it for its class, so the registry names the class without seeing it.
template <class M>
const LoginMethod& method_object();

// A method's answer where it must give one (only a local key may have nothing to ask): nothing ends the login
// failing.
Proof answered(std::optional<Proof> proof);

// An unknown walk ends as a real user failing the same way would; only the audit line's reason differs.
Verdict unknown_ending(const Verdict& real, const std::string& reason);

// The ending of a login whose pool session expired: the same for a real user and the decoy.
Verdict session_expired_ending(std::string reason);

}  // namespace pp::helper
