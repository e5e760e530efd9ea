#include "binding.hpp"

#include <algorithm>

#include "audit.hpp"
#include "login/fresh_sign_in.hpp"
#include "person_texts.hpp"
#include "token_error.hpp"

namespace pp::helper {

using wire::Outcome;

bool claims_match(const Identifier& id, const cognito::IdClaims& c) {
    switch (id.kind) {
        case IdentifierKind::Email: {
            if (!c.email || !c.email_verified) return false;
            const auto e = parse_email(*c.email);
            return e && e->value == id.value;
        }
        case IdentifierKind::Phone:
            return c.phone_number && c.phone_number_verified && *c.phone_number == id.value;
        case IdentifierKind::Username:
            return c.cognito_username && *c.cognito_username == id.value;
    }
    return false;
}

std::variant<Verified, std::string> TokenBinding::bound(const cognito::IdClaims& claims,
                                                        const Account& account,
                                                        std::optional<Method> method) {
    bool bound = !account.known.empty()
                     ? std::any_of(account.known.begin(), account.known.end(),
                                   [&](const Identifier& k) { return claims_match(k, claims); })
                     : claims_match(account.used, claims);
    if (!account.claim.empty()) {
        const auto it = claims.strings.find(account.claim);
        bound = bound && it != claims.strings.end() && it->second == account.user;
    }
    if (!bound) return "identity sub=" + loggable(claims.sub, 64) + " is not bound to this user";
    return Verified(account.user, Verified::By::IdToken, method, claims.sub,
                    "verified " + std::string(kind_name(account.used.kind)) +
                        " identity sub=" + loggable(claims.sub, 64));
}

std::variant<Verified, Verdict> TokenBinding::bind(cognito::TokenVerifier& verifier, const Secret& id_token,
                                                   Deadline deadline, const Account& account,
                                                   std::optional<Method> method, const ClaimCheck& then) {
    cognito::IdClaims claims;
    try {
        claims = verifier.verify_id_token(id_token.view(), deadline);
    } catch (const cognito::TokenError& e) {
        return Verdict{Outcome::AuthErr, kSignInFailed, std::string("ID token refused: ") + e.what()};
    }
    auto result = bound(claims, account, method);
    if (auto* why = std::get_if<std::string>(&result))
        return Verdict{Outcome::AuthErr, "This sign-in is not linked to the account " + account.user + ".",
                       std::move(*why)};
    if (then) {
        if (auto why = then(claims))
            return Verdict{Outcome::AuthErr, kSignInFailed, "ID token refused: " + std::move(*why)};
    }
    return std::get<Verified>(std::move(result));
}

std::variant<Verified, Verdict, TokenBinding::Refused> TokenBinding::bind_checked(
    cognito::TokenVerifier& verifier, const Secret& id_token, Deadline deadline, std::string_view audience,
    const ClaimCheck& check, const Account& account, std::optional<Method> method) {
    cognito::IdClaims claims;
    try {
        claims = verifier.verify_id_token(id_token.view(), deadline, audience);
    } catch (const cognito::TokenError& e) {
        return Verdict{Outcome::AuthErr, kSignInFailed, std::string("ID token refused: ") + e.what()};
    }
    if (auto why = check(claims)) return Refused{std::move(*why)};
    auto result = bound(claims, account, method);
    if (auto* why = std::get_if<std::string>(&result)) return Refused{std::move(*why)};
    return std::get<Verified>(std::move(result));
}

Proof verify_and_bind(MethodContext& login, const Secret& id_token, const Identifier& ident, Method method) {
    auto& verifier = login.verifier();
    auto result =
        TokenBinding::bind(verifier, id_token, login.person().deadline(),
                           {login.facts().user, login.known(), ident, login.config().claim}, method,
                           [&](const cognito::IdClaims& claims) {
                               return refuse_unless_fresh_and_unused(claims, login.began(), verifier.now(),
                                                                     verifier.skew(), used_sign_ins());
                           });
    if (const auto* proof = std::get_if<Verified>(&result)) login.trace_bound(ident, proof->subject());
    return result;
}

}  // namespace pp::helper
