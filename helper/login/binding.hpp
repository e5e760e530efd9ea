// The one check that turns an ID token of the user pool into a proof: its signature and claims verified
// (cognito::TokenVerifier), then bound to the local account, by the identity map's identifiers or, when the
// map names none, by the identifier the login used and the configured claim.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config.hpp"
#include "identifiers.hpp"
#include "login/method_context.hpp"
#include "pool_types.hpp"
#include "secret.hpp"
#include "token_verifier.hpp"
#include "verdict.hpp"

namespace pp::helper {

// Whether the verified claims name this identifier (a verified email or phone number, or the pool's user
// name).
bool claims_match(const Identifier& id, const cognito::IdClaims& claims);

class TokenBinding {
  public:
    struct Account {
        const std::string& user;               // the local account
        const std::vector<Identifier>& known;  // the identity map's identifiers for it (may be empty)
        const Identifier& used;                // the identifier the login asked the pool for
        const std::string& claim;              // the configured claim that must name the account ("": none)
    };
    // The claims a login checks beyond the binding: a refusal's reason, or nullopt to go on.
    using ClaimCheck = std::function<std::optional<std::string>(const cognito::IdClaims&)>;
    // The proof, or the ending of a token that does not verify or does not belong to the account. `then`,
    // when given, is run on claims bound to the account: a refusal ends the login as a token that does not
    // verify.
    static std::variant<Verified, Verdict> bind(cognito::TokenVerifier& verifier, const Secret& id_token,
                                                Deadline deadline, const Account& account,
                                                std::optional<Method> method, const ClaimCheck& then = {});

    // Verified claims refused by a login that counts such a refusal as a wrong answer (the browser method):
    // why, for the audit line.
    struct Refused {
        std::string reason;
    };
    // As bind(), for a token issued to the app client `audience`, with `check` run on the verified claims
    // before the binding: a refusal of `check` or claims not bound to the account are Refused; a token that
    // does not verify ends the login as in bind().
    static std::variant<Verified, Verdict, Refused> bind_checked(cognito::TokenVerifier& verifier,
                                                                 const Secret& id_token, Deadline deadline,
                                                                 std::string_view audience,
                                                                 const ClaimCheck& check,
                                                                 const Account& account,
                                                                 std::optional<Method> method);

  private:
    // The proof for claims bound to the account, or why they are not.
    static std::variant<Verified, std::string> bound(const cognito::IdClaims& claims, const Account& account,
                                                     std::optional<Method> method);
};

// The binding of a method's ID token (a code's, the pool passkey's) to the login's account: the proof, or the
// ending of a token that does not verify, is not the account's, or is not of a fresh and unused sign-in
// (login/fresh_sign_in.hpp). A test-login is told the binding.
Proof verify_and_bind(MethodContext& login, const Secret& id_token, const Identifier& ident, Method method);

}  // namespace pp::helper
