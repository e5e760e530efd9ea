// What a login method (method.hpp) may use of the login it serves, and nothing more: the method's whole view
// of Login. Login implements it (privately: only the flow hands itself to a method), and a test of one method
// puts a fake in its place (tests/unit/login/fake_method_context.hpp).
//
// What every method shares lives here: the person (the connection), the request's facts, the configuration,
// the user pool, the account (its mapped identifiers, its enrolled keys, its masked destinations), the proof
// tried for the limits, the access token a management sign-in keeps, and the steps a test-login tells. The
// identity binding (binding.hpp) and the key ask (key_ask.hpp) are built on it. What a method needs for
// itself stays in its own file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "connection.hpp"
#include "credential_store.hpp"
#include "identifiers.hpp"
#include "pool_types.hpp"
#include "secret.hpp"
#include "token_verifier.hpp"
#include "verdict.hpp"

namespace pp::helper {

// What the login knows of its request, and what its audit line names.
struct LoginFacts {
    std::string user, service, rhost, tty;
    // Who runs a local login of a root caller (local_runner.hpp: the account of its real uid, else
    // PAM_RUSER); empty when none is known. Equal to the user, or empty: the user's own login.
    std::string runner;
};

class MethodContext {
  public:
    // The configuration in force for this login.
    virtual const Config& config() const = 0;
    // Who asks, from where (checked before any method runs).
    virtual const LoginFacts& facts() const = 0;
    // The person, through the client: questions, key requests, links, and the login's clock.
    virtual Connection& person() = 0;
    // The user pool (the network worker's client) and the check of its ID tokens.
    virtual cognito::PoolApi& pool() = 0;
    virtual cognito::TokenVerifier& verifier() = 0;
    // When this login began to prove the person, in Unix seconds on the verifier's clock: a pool token of a
    // sign-in made before it proves nothing here (login/fresh_sign_in.hpp).
    virtual std::int64_t began() const = 0;

    // The account: the identity map's identifiers for it (may be empty), its enrolled local keys (read only
    // when keys are enabled), and the masked destination a menu or a code prompt names beside a code method
    // ("" for none).
    virtual const std::vector<Identifier>& known() const = 0;
    virtual const std::vector<StoredCredential>& credentials() const = 0;
    virtual std::string destination_for(Method m) const = 0;

    // A proof is about to be tried (a code submitted, a key asked): the login is armed first (its try
    // reserved against the user's backoff, Login::arm_try), and from now on a failure counts against the
    // user. An ending when the try cannot be reserved: the proof must then not be tried.
    [[nodiscard]] virtual MaybeEnd proof_tried() = 0;
    // A request to the user pool that nothing else counts is about to be made (for a remote login: its
    // network's, its site's and all remote logins' allowance, Login::take_pool_ask). An ending when spent:
    // the request must then not be made.
    [[nodiscard]] virtual MaybeEnd take_pool_ask() = 0;
    // The user pool's access token of this sign-in: kept when the login was asked to keep it (management's
    // sign-in), dropped otherwise.
    virtual void offer_access_token(const Secret& token) = 0;

    // A real user-pool passkey login's ask listed passkey ids of these lengths (in the pool's order): kept
    // with the identity's factors if the login lets the person in (factor_memory.hpp), for the decoys that
    // copy this user.
    virtual void saw_pool_passkeys(const std::vector<std::size_t>& lengths) = 0;

    // The key a decoy's made-up values are keyed with (login/unknown_user.cpp). A real key login makes the
    // made-up ids its name's decoy would ask too, and throws them away (key_login): the two cost alike.
    virtual std::string decoy_key() const = 0;

    // Root's test-login: a step told to the admin running it (nothing otherwise), and the binding's step.
    virtual void trace(const std::string& step) const = 0;
    virtual void trace_bound(const Identifier& ident, std::string_view sub) const = 0;

  protected:
    ~MethodContext() = default;
};

}  // namespace pp::helper
