// "Sign in with your browser" (issue #13, specs/cognito-managed-login.md): a link to the user pool's managed
// login, opened on the person's own device; the code its callback page shows, typed back here, is redeemed
// with this attempt's PKCE verifier, and the ID token is verified, tied to this attempt (nonce, auth_time)
// and bound to the account as every method's token is. A refused code or token is a wrong answer, counted as
// a wrong code is. Without an identity to bind (the unknown walk) every step is the same, the redemption too,
// and every token is refused: its screens, its links and its waits are a real user's.
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <ctime>

#include "audit.hpp"
#include "browser/transaction.hpp"
#include "login/binding.hpp"
#include "login/method_object.hpp"
#include "login_steps.hpp"
#include "service_error.hpp"

namespace pp::helper {

using cognito::ServiceError;
using wire::Outcome;

namespace {

std::int64_t now_unix() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

// The name the callback page shows beside the account (the state's label): this machine's.
std::string this_host() {
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "this computer";
    return name;
}

bool signed_in_with_passkey(const cognito::IdClaims& claims) {
    return std::any_of(claims.amr.begin(), claims.amr.end(),
                       [](const std::string& a) { return a == "swk" || a == "hwk"; });
}

// What an ending's audit reason adds after refused answers: each refusal, in order (never a code or a
// token).
std::string refused_before(const std::vector<std::string>& refusals) {
    if (refusals.empty()) return {};
    std::string out = " (refused before: ";
    for (std::size_t i = 0; i < refusals.size(); ++i) out += (i ? "; " : "") + refusals[i];
    return out + ")";
}

// The one walk of both modes: without an identity to bind (the unknown walk, or the pool unreachable beside a
// local key), its screens, every code refused; walk_reason is its audit reason.
Proof browser_login(MethodContext& login, const std::optional<Identifier>& ident,
                    const std::string& walk_reason) {
    const Config& cfg = login.config();
    Connection& conn = login.person();
    if (!cfg.browser)
        return Verdict{Outcome::ServiceErr, kMisconfigured, "browser sign-in chosen without [browser]"};
    const BrowserSignIn& b = *cfg.browser;
    const std::string host = this_host();
    std::optional<browser::Transaction> txn;
    std::vector<std::string> refusals;
    for (int attempt = 1;; ++attempt) {
        // A new link at the start, and after a code was redeemed: one redemption per transaction.
        if (!txn || txn->ended()) {
            const auto left = std::chrono::duration_cast<std::chrono::seconds>(conn.time_left()).count();
            std::string url;
            try {
                txn = browser::Transaction::start(host, login.facts().user, now_unix(),
                                                  std::max<std::int64_t>(left, 1));
                url = b.link == BrowserSignIn::Link::Short
                          ? txn->short_link(b.redirect_uri)
                          : txn->authorize_url(b.domain, b.client_id, b.redirect_uri, b.scopes);
            } catch (const std::invalid_argument& e) {
                return Verdict{Outcome::ServiceErr, kMisconfigured,
                               std::string("browser sign-in unusable: ") + e.what()};
            }
            login.trace("method browser: the link is shown");
            conn.show_link(browser_link_text(login.facts().user, host), url, b.show_qr);
        }
        const std::string prompt =
            attempt > 1 ? std::string(kBrowserCodeRefused) + "\n" + kBrowserCodePrompt : kBrowserCodePrompt;
        // The prompt echoes: the code is of use to this login alone (redeemed with its PKCE verifier), and an
        // echoing prompt is what sshd's password conversation refuses, so a browser offered on its own cannot
        // take the password for a wrong code and count a failure.
        const Secret typed = conn.ask(prompt, true);
        if (typed.empty())
            return Verdict{Outcome::Abort, kCancelled, "no code given" + refused_before(refusals)};
        if (txn->expired(now_unix()))
            return Verdict{Outcome::AuthErr, kBrowserLinkExpired,
                           "browser sign-in link expired" + refused_before(refusals)};
        if (auto end = login.proof_tried()) return std::move(*end);
        // The code, held as a Secret from here on (wiped when this try ends).
        std::optional<Secret> code;
        if (auto normalised = browser::normalise_code(typed.view())) code.emplace(std::move(*normalised));
        if (!code) {
            refusals.emplace_back("not a code");
        } else {
            Secret id_token;
            // Each redemption is a request to the pool's token endpoint that no send counts, and a junk code
            // costs only the typed name's failure, new with each made-up name: a remote client would make the
            // pool answer max_tries times per connection, for free (review 31c). Taken for every name alike,
            // the walk without an identity being this same walk.
            if (auto end = login.take_pool_ask())
                return Verdict{end->outcome(), end->person_text(),
                               end->audit_reason() + refused_before(refusals)};
            try {
                id_token = login.pool().redeem_authorization_code(
                    txn->token_request_body(code->view(), b.redirect_uri, b.client_id), conn.deadline());
            } catch (const ServiceError& e) {
                if (e.failure() == cognito::Failure::Rejected && e.name() == cognito::kInvalidGrant) {
                    refusals.emplace_back("the user pool refused the code (invalid_grant)");
                } else if (cognito::is_oauth_misconfiguration(e)) {
                    return Verdict{Outcome::ServiceErr, kMisconfigured,
                                   "token endpoint refused the app client: " + e.name() + ": " +
                                       loggable(e.message(), 120) + refused_before(refusals)};
                } else {
                    throw;  // the pool cannot be reached: the login's outage ending (and its break-glass)
                }
            }
            if (!id_token.empty()) {
                const auto check = [&](const cognito::IdClaims& claims) -> std::optional<std::string> {
                    if (const auto refusal = txn->check_id_token_claims(claims, claims.auth_time, now_unix()))
                        return std::string(browser::refusal_text(*refusal));
                    if (b.require_passkey && !signed_in_with_passkey(claims))
                        return std::string("the sign-in used no passkey (require_passkey)");
                    if (!ident) return "no identity to bind (" + walk_reason + ")";
                    return std::nullopt;
                };
                // Not read without an identity: the check refuses first.
                const Identifier none{IdentifierKind::Username, {}};
                auto result = TokenBinding::bind_checked(
                    login.verifier(), id_token, conn.deadline(), b.client_id, check,
                    {login.facts().user, login.known(), ident ? *ident : none, cfg.claim}, Method::Browser);
                txn->end();
                if (auto* proof = std::get_if<Verified>(&result)) {
                    login.trace_bound(ident.value(), proof->subject());
                    return std::move(*proof);
                }
                if (const auto* end = std::get_if<Verdict>(&result))
                    return Verdict{end->outcome(), end->person_text(),
                                   end->audit_reason() + refused_before(refusals)};
                refusals.push_back(std::get<TokenBinding::Refused>(result).reason);
            }
        }
        if (attempt >= cfg.max_tries)
            return too_many_wrong_codes("browser sign-in refused " + std::to_string(attempt) + " times" +
                                        refused_before(refusals));
    }
}

}  // namespace

// "Sign in with your browser": both modes are the one walk above, with or without an identity to bind.
class BrowserMethod final : public LoginMethod {
  public:
    std::optional<Proof> prove(MethodContext& login, MethodStart start) const override {
        // An identity may be missing here too (the pool unreachable beside a local key): refused as the
        // unknown walk's is.
        return browser_login(login, start.ident, "identity unknown to the user pool");
    }

    // The link is a real one; without an identity every code typed back is refused.
    std::optional<Proof> walk_unknown(MethodContext& login, const UnknownWalk& walk) const override {
        const Proof walked = browser_login(login, std::nullopt, walk.reason);
        if (const Verdict* end = ending_of(walked)) return Proof(*end);
        return Proof(Verdict{Outcome::AuthErr, kSignInFailed, walk.reason});
    }
};

template const LoginMethod& method_object<BrowserMethod>();

}  // namespace pp::helper
