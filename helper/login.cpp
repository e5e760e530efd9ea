// Proving who the person is: the method menu, codes through the user pool and local security keys. The walk
// an unknown user takes is in decoy.cpp.
#include <pwd.h>
#include <syslog.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "account_policy.hpp"
#include "code_offer.hpp"
#include "factor_memory.hpp"
#include "key_verification.hpp"
#include "login_log.hpp"
#include "login_steps.hpp"
#include "pool_latency.hpp"
#include "remote_host.hpp"
#include "session.hpp"
#include "token_verifier.hpp"
#include "trusted_file.hpp"
#include "user_context.hpp"
#include "webauthn_json.hpp"

namespace pp::helper {
namespace {

using cognito::Failure;
using cognito::ServiceError;
using wire::Outcome;

constexpr const char* kUnavailable = "The sign-in service cannot be reached; try again later.";

}  // namespace

namespace {

// The stack's unknown_user= argument, carried in Begin, wins over the helper's setting: only the stack knows
// whether a password module follows.
UnknownUser unknown_user_for(const wire::Message& begin, UnknownUser configured) {
    const auto v = begin.get_u32(wire::Tag::UnknownUser);
    if (!v) return configured;
    if (*v == static_cast<std::uint32_t>(wire::UnknownUser::Ignore)) return UnknownUser::Ignore;
    if (*v == static_cast<std::uint32_t>(wire::UnknownUser::Fail)) return UnknownUser::Fail;
    throw Finish{Outcome::AuthErr, kSignInFailed, "unknown unknown_user value from the module"};
}

}  // namespace

bool valid_code(std::string_view code) {
    return code.size() >= 4 && code.size() <= 12 &&
           std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// After a wrong code the prompt says that the code already sent stays valid: "Wrong code. Code sent to ..."
// read as if a new code had just been sent, and people waited for it.
std::string code_prompt(const std::string& where, bool after_wrong) {
    if (after_wrong) return "Wrong code. Try again. Code sent to " + where + " is still valid: ";
    return "Code sent to " + where + ": ";
}

Finish too_many_wrong_codes(std::string reason) {
    return {Outcome::MaxTries, kTooManyWrong, std::move(reason)};
}

namespace {

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

// After wrong codes the pool may end the session itself (its own attempt limit): it then refuses the next
// answer with NotAuthorizedException. For the person that is the same ending as the helper's own limit; an
// expired session or a refused secret hash keeps its own meaning.
bool pool_ended_after_wrong_codes(const ServiceError& e, bool after_wrong) {
    if (!after_wrong || e.failure() != Failure::Rejected || e.name() != "NotAuthorizedException")
        return false;
    std::string lower = e.message();
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower.find("expired") == std::string::npos && lower.find("secret") == std::string::npos;
}

}  // namespace

std::string menu_label(Method m, const std::string& dest) {
    std::string base;
    switch (m) {
        case Method::EmailOtp:
            base = "Email code";
            break;
        case Method::SmsOtp:
            base = "Text message code";
            break;
        case Method::SecurityKey:
            base = "Security key";
            break;
        case Method::Passkey:
            base = "Passkey";
            break;
    }
    return dest.empty() ? base : base + " to " + dest;
}

Finish key_status_finish(wire::DeviceStatus s) {
    using wire::DeviceStatus;
    switch (s) {
        case DeviceStatus::Denied:
            return {Outcome::AuthErr, "The security key refused the touch.", "touch refused at the key"};
        case DeviceStatus::Timeout:
            return {Outcome::AuthErr, "Security key timed out: no touch in time.",
                    "no touch before the timeout; the key was cancelled"};
        case DeviceStatus::PinRequired:
            return {Outcome::CredInsufficient, "This sign-in needs the security key's PIN.",
                    "user verification required and no PIN given"};
        case DeviceStatus::PinInvalid:
            return {Outcome::AuthErr, "Wrong security key PIN.", "wrong PIN"};
        case DeviceStatus::PinBlocked:
            return {Outcome::AuthErr, "The security key's PIN is blocked.", "PIN blocked at the key"};
        case DeviceStatus::NoDevice:
            return {Outcome::AuthinfoUnavail, kNoKey, "no security key"};
        case DeviceStatus::Ok:
        case DeviceStatus::Error:
            break;
    }
    return {Outcome::AuthinfoUnavail, "The security key did not answer properly.", "key error"};
}

Finish service_failure(const ServiceError& e) {
    const std::string reason = "user pool: " + std::string(cognito::to_string(e.failure())) +
                               (e.name().empty() ? "" : " " + e.name()) + ": " + e.message();
    if (e.failure() != Failure::Rejected) return {Outcome::AuthinfoUnavail, kUnavailable, reason};
    const std::string& n = e.name();
    static const char* const unavailable[] = {"TooManyRequestsException",
                                              "LimitExceededException",
                                              "InternalErrorException",
                                              "ForbiddenException",
                                              "UnexpectedLambdaException",
                                              "InvalidLambdaResponseException",
                                              "UserLambdaValidationException",
                                              "InvalidSmsRoleAccessPolicyException",
                                              "InvalidSmsRoleTrustRelationshipException",
                                              "InvalidEmailRoleAccessPolicyException",
                                              "CodeDeliveryFailureException"};
    static const char* const misconfigured[] = {
        "ResourceNotFoundException", "InvalidUserPoolConfigurationException", "UnsupportedOperationException",
        "OperationNotEnabledException", "InvalidParameterException"};
    for (const char* u : unavailable)
        if (n == u) return {Outcome::AuthinfoUnavail, kUnavailable, reason};
    for (const char* m : misconfigured)
        if (n == m) return {Outcome::ServiceErr, kMisconfigured, reason};
    if (n == "NotAuthorizedException") {
        std::string lower = e.message();
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lower.find("secret hash") != std::string::npos || lower.find("secret_hash") != std::string::npos)
            return {Outcome::ServiceErr, kMisconfigured, reason};
        if (lower.find("session") != std::string::npos)
            return {Outcome::AuthErr, "The sign-in session has expired; please start again.", reason};
    }
    if (n == "ExpiredCodeException")
        return {Outcome::AuthErr, "The code has expired; please start again.", reason};
    if (n == "UserNotFoundException") return {Outcome::UserUnknown, kSignInFailed, reason};
    return {Outcome::AuthErr, kSignInFailed, reason};
}

namespace {

std::string minutes(std::int64_t seconds) {
    const std::int64_t m = (seconds + 59) / 60;
    return std::to_string(m) + (m == 1 ? " minute" : " minutes");
}

std::int64_t now_unix() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

// The destination in canonical form (what was resolved, the mapped address of the chosen kind, what was
// typed) and the pool's own user name when the pool announced it, so that every spelling the pool takes as
// the same person shares one count.
SendKeys Session::send_keys(const Identifier& ident, Method m, const cognito::Step& step) const {
    SendKeys k;
    k.destinations.push_back(canonical_key(ident));
    const auto want = m == Method::EmailOtp ? IdentifierKind::Email : IdentifierKind::Phone;
    for (const auto& id : known_)
        if (id.kind == want) k.destinations.push_back(canonical_key(id));
    if (typed_) k.destinations.push_back(canonical_key(*typed_));
    if (auto pool_name = announced_user(step.parameters); !pool_name.empty())
        k.destinations.push_back(canonical_key(Identifier{IdentifierKind::Username, std::move(pool_name)}));
    return k;
}

// Remote and local logins have budgets of their own, so failures from the network never lock out the
// person at the console. The one place that says which a login is.
bool Session::remote_budget() const {
    return is_remote_login(rec_.rhost, cfg());
}

void Session::take_send(SendKeys keys) {
    keys.rhost = rec_.rhost;
    unknown_walk_ = unknown_walk_ || keys.unknown;
    SendVerdict v;
    try {
        v = ctx_.limits->take_send(keys, cfg().limits, now_unix());
    } catch (const LimitStoreError& e) {
        throw Finish{Outcome::ServiceErr, kMisconfigured, e.what()};
    }
    send_refused_ = v.machine || v.wait > 0;
    if (v.machine)
        throw Finish{Outcome::AuthinfoUnavail,
                     "Too many codes have been sent from this machine; try again in " + minutes(v.wait) + ".",
                     "machine send ceiling reached"};
    if (v.wait > 0)
        throw Finish{Outcome::AuthinfoUnavail,
                     "Too many codes requested; try again in " + minutes(v.wait) + ".",
                     "code send limit reached"};
    code_sent_ = true;
}

void Session::settle_limits(Outcome outcome) {
    if (!ctx_.runtime || rec_.user.empty()) return;
    using TryEnd = RateLimits::TryEnd;
    TryEnd end = TryEnd::Untried;
    if (outcome == Outcome::Success && verified_) end = TryEnd::Success;
    // A code sent and then hung up on counts as a wrong one would; an outage of the pool or the store counts
    // against nobody.
    else if ((tried_proof_ || code_sent_) && outcome != Outcome::AuthinfoUnavail &&
             outcome != Outcome::ServiceErr)
        end = TryEnd::Failure;
    if (!holds_try_ && end != TryEnd::Failure) return;
    try {
        ctx_.limits->settle_try(rec_.user, remote_budget(), end, unknown_walk_, holds_try_, cfg().limits,
                                now_unix());
    } catch (const LimitStoreError& e) {
        log_line(LOG_ERR, "%s: the end of this login is not counted", loggable(e.what(), 400).c_str());
    }
    holds_try_ = false;
}

void Session::login(const wire::Message& begin) {
    read_identity_fields(begin);
    if (!ctx_.runtime)
        throw Finish{Outcome::ServiceErr, kMisconfigured, "configuration: " + ctx_.config_error};
    unknown_user_ = unknown_user_for(begin, cfg().unknown_user);
    start_clock();
    authorize_caller();
    std::int64_t wait = 0;
    try {
        wait = ctx_.limits->reserve_try(rec_.user, remote_budget(), cfg().limits, now_unix());
    } catch (const LimitStoreError& e) {
        throw Finish{Outcome::ServiceErr, kMisconfigured, e.what()};
    }
    if (wait > 0)
        throw Finish{Outcome::MaxTries, "Too many failed sign-ins; try again in " + minutes(wait) + ".",
                     "backoff after repeated failures"};
    holds_try_ = true;
    const auto& methods = cfg().methods_for(rec_.service, is_remote_login(rec_.rhost, cfg()));
    trace_policy(methods);
    if (methods.empty())
        throw Finish{Outcome::AuthErr, "No sign-in method is enabled here.",
                     "no method enabled for this service"};
    try {
        authenticate(methods);
    } catch (const ServiceError& e) {
        // The pool cannot be reached: the break-glass of a local login, or the outage's ending as before.
        break_glass(service_failure(e));
    } catch (const Finish& f) {
        // A send limit met while the pool is down (recovery_login.cpp); any other ending stands.
        if (!send_refused_) throw;
        break_glass_after_send_limit(f);
    }
    // authenticate() and break_glass() return only after verified_ was set by a verification; the check keeps
    // it that way.
    if (!verified_)
        throw Finish{Outcome::AuthErr, kSignInFailed, "authentication ended without a verification"};
    throw Finish{Outcome::Success, "", rec_.reason};
}

// root may authenticate anyone; anybody else only themselves, and only where the admin allows it.
void Session::authorize_caller() {
    if (ctx_.peer.uid == 0) return;
    if (cfg().allow_unprivileged_self && local_account_uid(rec_.user) == ctx_.peer.uid) return;
    throw Finish{Outcome::AuthErr, "Not allowed to authenticate this user.",
                 "caller may not authenticate this user", true};
}

std::optional<Identifier> Session::resolve_identity() {
    known_ = ctx_.runtime->identities.lookup(rec_.user);
    if (!known_.empty()) return known_.front();
    // From here only the token's claim binds the account: a pool user who picked the name "root" must not
    // become root.
    if (cfg().claim.empty()) return std::nullopt;
    const auto uid = local_account_uid(rec_.user);
    if (!uid || !claim_may_bind(cfg(), rec_.user, *uid)) {
        log_line(LOG_NOTICE,
                 "claim binding refused for %s: uid below claim_min_uid and not in claim_allow_users",
                 loggable(rec_.user, 64).c_str());
        return std::nullopt;
    }
    if (cfg().ask_identifier) return ask_identifier();
    if (valid_pool_username(rec_.user)) return Identifier{IdentifierKind::Username, rec_.user};
    return std::nullopt;
}

std::optional<Identifier> Session::ask_identifier() {
    std::string prefix;
    for (int i = 0; i < cfg().max_tries; ++i) {
        const Secret typed = ask(prefix + "Email or phone for " + rec_.user + ": ", true);
        if (typed.empty()) throw Finish{Outcome::Abort, "Sign-in cancelled.", "no identifier given"};
        if (has_control_characters(typed.view())) return std::nullopt;
        if (auto id = parse_identifier(typed.view(), false)) {
            typed_ = *id;
            return *id;
        }
        prefix = "That is not an email address or phone number. ";
    }
    throw Finish{Outcome::AuthErr, kSignInFailed, "no valid identifier given"};
}

// The menu of `offered` (none for one method) with a local key tried in its place: the pool method chosen,
// or nothing once a key verified the person. A key that holds no enrolled credential leaves the others.
std::optional<Method> Session::choose_method(std::vector<Method>& offered, std::string& prefix) {
    for (;;) {
        Method chosen = offered.front();
        if (offered.size() > 1) {
            std::vector<std::string> dests;
            for (auto m : offered) dests.push_back(destination_for(m));
            chosen = menu(offered, dests, prefix);
        }
        rec_.method = std::string(method_name(chosen));
        if (chosen != Method::SecurityKey) return chosen;
        if (key_login()) return std::nullopt;
        std::erase(offered, Method::SecurityKey);
        if (offered.empty()) throw key_status_finish(wire::DeviceStatus::NoDevice);
        prefix = kNoKeyAgain;
    }
}

std::string Session::destination_for(Method m) const {
    if (!is_otp(m)) return {};
    const auto want = m == Method::EmailOtp ? IdentifierKind::Email : IdentifierKind::Phone;
    for (const auto& id : known_)
        if (id.kind == want) return mask(id);
    if (typed_ && typed_->kind == want) return mask(*typed_);
    return {};
}

Method Session::menu(const std::vector<Method>& offered, const std::vector<std::string>& dests,
                     const std::string& prefix) {
    std::string text = prefix + "Choose how to sign in:\n";
    for (std::size_t i = 0; i < offered.size(); ++i)
        text += "  " + std::to_string(i + 1) + ") " + menu_label(offered[i], dests[i]) + "\n";
    text += "Choice [1-" + std::to_string(offered.size()) + "]: ";
    std::string again;
    for (int i = 0; i < cfg().max_tries; ++i) {
        const Secret answer = ask(again + text, true);
        if (answer.empty()) throw Finish{Outcome::Abort, "Sign-in cancelled.", "no method chosen"};
        const auto v = answer.view();
        if (has_control_characters(v)) return offered.front();
        if (v.size() <= 2 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            const std::size_t n = std::stoul(std::string(v));
            if (n >= 1 && n <= offered.size()) return offered[n - 1];
        }
        again = "Please answer with a number from the list.\n";
    }
    throw Finish{Outcome::AuthErr, kSignInFailed, "no valid method chosen"};
}

void Session::load_credentials() {
    try {
        const CredentialStore store(cfg().security_key.store_dir);
        auto loaded = store.load(rec_.user);
        // A corrupt record is named in the log and skipped; the others still work.
        for (const auto& p : loaded.problems)
            log_line(LOG_ERR, "credential store: %s (record skipped)", loggable(p, 300).c_str());
        credentials_ = std::move(loaded.credentials);
    } catch (const FileError& e) {
        throw Finish{Outcome::ServiceErr, kMisconfigured, std::string("credential store: ") + e.what()};
    }
}

void Session::authenticate(const std::vector<Method>& methods) {
    // sshd passes any name it was given; only a local account may cost a code or a question to the pool.
    if (!local_account_uid(rec_.user)) {
        if (unknown_user_ == UnknownUser::Ignore)
            throw Finish{Outcome::Ignore, "", "not a local account (ignored by configuration)"};
        decoy(methods, "not a local account", false);
    }
    std::vector<Method> pool_methods;
    std::copy_if(methods.begin(), methods.end(), std::back_inserter(pool_methods), is_pool_method);
    const bool keys_enabled = std::find(methods.begin(), methods.end(), Method::SecurityKey) != methods.end();
    if (keys_enabled) load_credentials();

    std::optional<Identifier> ident;
    if (!pool_methods.empty()) ident = resolve_identity();
    // Codes go only to destinations the identity map names: a pool account may also hold an address or number
    // the admin never mapped to this local account. So the menu is the same at the first login as at a
    // remembered one (remembered_menu) and as the decoy of an account mapped alike (decoy.cpp).
    if (!known_.empty() && !has_kind(known_, IdentifierKind::Username))
        std::erase_if(pool_methods, [&](Method m) {
            return (m == Method::EmailOtp && !has_kind(known_, IdentifierKind::Email)) ||
                   (m == Method::SmsOtp && !has_kind(known_, IdentifierKind::Phone));
        });
    if (!ident && credentials_.empty()) {
        if (unknown_user_ == UnknownUser::Ignore)
            throw Finish{Outcome::Ignore, "",
                         "no identity and no security key for this user (ignored: unknown_user)"};
        decoy(methods, "no identity and no security key for this user", false);
    }

    // Ask the user pool which methods it offers this person; no code is sent before the person chooses,
    // unless the pool is the only way in and offers one method.
    cognito::Step step;
    std::string username;
    std::vector<Method> pool_offers;
    std::string prefix;
    std::optional<RememberedChoice> chosen_first;  // from the menu shown before the pool was asked
    if (ident) {
        auto& client = *ctx_.runtime->client;
        username = ident->value;
        std::optional<std::string_view> preferred;
        // A code is asked for at once only for an identity the admin mapped: for a claimed or typed one the
        // pool first says whether it exists, so a name that is nobody is counted only in memory (decoy()).
        const bool mapped = !known_.empty();
        if (pool_methods.size() == 1 && credentials_.empty() && (mapped || !is_otp(pool_methods.front()))) {
            preferred = method_challenge(pool_methods.front());
            if (is_otp(pool_methods.front())) {
                // The pool sends the code with its first answer: ask first (echoed, see code_offer.hpp),
                // unless the identifier question already was such a prompt.
                if (!typed_) offer(pool_methods.front(), destination_for(pool_methods.front()), "");
                take_send(send_keys(*ident, pool_methods.front(), {}));
            }
        } else if (mapped) {
            // What the pool offered this identity last time: the menu first (factor_memory.hpp).
            chosen_first = choose_remembered(methods, *ident);
            if (verified_) return;  // a local key, chosen from that menu
        }
        try {
            if (chosen_first)
                step = initiate_chosen(*chosen_first, *ident, prefix);
            else
                step = timed(PoolStep::Start, [&] {
                    return client.initiate_user_auth(username, preferred, deadline_,
                                                     user_context_for(rec_.rhost));
                });
        } catch (const ServiceError& e) {
            const bool unknown_to_pool =
                e.failure() == Failure::Rejected && e.name() == "UserNotFoundException";
            // Local keys need no pool: with it unreachable they are what is left, and the login goes on.
            if (!unknown_to_pool &&
                (credentials_.empty() || service_failure(e).outcome != Outcome::AuthinfoUnavail))
                throw;
            if (!unknown_to_pool)
                log_line(LOG_WARNING, "user pool unreachable, only security keys are offered: %s",
                         loggable(e.message(), 200).c_str());
            if (unknown_to_pool && chosen_first) forget_factors(*ident);
            if (unknown_to_pool && credentials_.empty()) {
                if (unknown_user_ == UnknownUser::Ignore)
                    throw Finish{Outcome::Ignore, "",
                                 "identity unknown to the user pool (ignored: unknown_user)"};
                // After a remembered menu the person has chosen already: the walk goes on from the choice.
                decoy(chosen_first ? std::vector<Method>{chosen_first->method} : methods,
                      "identity unknown to the user pool", true);
            }
            ident.reset();
        }
        if (ident) {
            if (step.challenge == "SELECT_CHALLENGE") {
                for (auto m : pool_methods)
                    if (std::find(step.available.begin(), step.available.end(), method_challenge(m)) !=
                        step.available.end())
                        pool_offers.push_back(m);
            } else {
                // The pool went straight to one method (and for a code has sent it already): no menu.
                for (auto m : pool_methods)
                    if (step.challenge == method_challenge(m)) {
                        rec_.method = std::string(method_name(m));
                        // A code the pool sent unasked is still counted, and refused past a limit.
                        if (is_otp(m) && !code_sent_) take_send(send_keys(*ident, m, step));
                        if (m == Method::Passkey) {
                            const auto announced = step.available;
                            const auto pool_user = announced_user(step.parameters);
                            pool_passkey_login(*ident, std::move(step), username);
                            return remember_factors(*ident, announced, pool_user);
                        }
                        return otp_code_loop(*ident, std::move(step), username, m);
                    }
                throw Finish{Outcome::AuthErr, kSignInFailed,
                             "the user pool answered with challenge '" + loggable(step.challenge, 40) + "'"};
            }
        }
    }

    std::vector<Method> offered;
    for (auto m : methods)
        if ((m == Method::SecurityKey && !credentials_.empty()) ||
            std::find(pool_offers.begin(), pool_offers.end(), m) != pool_offers.end())
            offered.push_back(m);
    if (offered.empty())
        throw Finish{Outcome::AuthErr, "No sign-in method is available for this account.",
                     "neither the user pool nor the credential store offers an enabled method"};

    const auto picked = choose_method(offered, prefix);
    if (!picked) return;  // a local key verified the person
    const Method chosen = *picked;
    auto& client = *ctx_.runtime->client;
    // One method left and no menu shown: the answer to SELECT_CHALLENGE sends the code, so offer it
    // first.
    // (The identifier question, when it was asked, was such a prompt already.)
    if (is_otp(chosen) && offered.size() == 1 && !typed_) offer(chosen, destination_for(chosen), prefix);
    const auto chosen_at = std::chrono::steady_clock::now();  // the step's wait includes the send limit
    if (is_otp(chosen)) take_send(send_keys(*ident, chosen, step));
    std::vector<std::pair<std::string, Secret>> answer;
    answer.emplace_back("ANSWER", Secret(method_challenge(chosen)));
    // The menu's answer names the person as the pool announced them, as the later steps do: a pool checks
    // a challenge response's SECRET_HASH over its internal name, not over the alias (spec §4).
    if (auto pool_name = announced_user(step.parameters); !pool_name.empty()) username = std::move(pool_name);
    const Secret session = step.session;
    const auto announced = step.available;
    step = timed(PoolStep::Choose, chosen_at, [&] {
        auto next = client.respond("SELECT_CHALLENGE", session, username, answer, deadline_,
                                   user_context_for(rec_.rhost));
        // The code is on its way: what the pool offered is remembered for the next login, inside the
        // step's wait as the decoy's remembering is inside its pause.
        if (is_otp(chosen) && next.challenge == method_challenge(chosen))
            remember_factors(*ident, announced, announced_user(next.parameters));
        return next;
    });
    if (step.challenge != method_challenge(chosen))
        throw Finish{Outcome::AuthErr, kSignInFailed,
                     "the user pool answered with challenge '" + loggable(step.challenge, 40) + "'"};
    if (chosen == Method::Passkey) {
        const auto pool_user = announced_user(step.parameters);
        pool_passkey_login(*ident, std::move(step), username);
        return remember_factors(*ident, announced, pool_user);
    }
    return otp_code_loop(*ident, std::move(step), username, chosen);
}

// A passkey registered with the user pool: the pool's options name the challenge and the allowed
// credentials; a key connected here signs clientDataJSON built as a browser on the relying party would.
void Session::pool_passkey_login(const Identifier& ident, cognito::Step step, std::string username) {
    if (auto pool_name = announced_user(step.parameters); !pool_name.empty()) username = std::move(pool_name);
    // Read from the pool's JSON by the network worker, never here.
    if (!step.request_options && step.request_options_error.empty())
        throw Finish{Outcome::AuthinfoUnavail, kUnavailable, "user pool: WEB_AUTHN without request options"};
    if (!step.request_options)
        throw cognito::ServiceError(cognito::Failure::Malformed, "", step.request_options_error);
    const cognito::RequestOptions options = std::move(*step.request_options);
    const auto& policy = cfg().passkey;
    if (options.rp_id != policy.rp_id)
        throw Finish{Outcome::ServiceErr, kMisconfigured,
                     "user pool passkey rpId '" + loggable(options.rp_id, 128) + "' is not the configured '" +
                         policy.rp_id + "'"};
    if (options.allow_credentials.empty())
        throw Finish{Outcome::AuthErr, kSignInFailed, "user pool offers no passkey credential"};
    const std::string client_data =
        cognito::client_data_json(cognito::webauthn_get, options.challenge, policy.origin);
    const bool uv = options.user_verification == "required";
    const auto timeout = std::min<std::uint32_t>(options.timeout_ms.value_or(UINT32_MAX), touch_timeout_ms());

    wire::Message req =
        key_request(wire::Type::KeyRequest, options.rp_id, sha256_bytes(client_data), uv, timeout, kTouchKey);
    for (const auto& id : options.allow_credentials) req.add(wire::Tag::CredId, id);
    tried_proof_ = true;
    const wire::Message reply = exchange_with_key(req, wire::Type::Assertion);
    if (const auto status = device_status(reply); status != wire::DeviceStatus::Ok)
        throw key_status_finish(status);

    std::string credential;
    try {
        credential = cognito::authentication_response_json(
            std::string(reply.get_or(wire::Tag::CredId, "")), client_data,
            cognito::authdata_from_cbor(reply.get_or(wire::Tag::AuthData, "")),
            std::string(reply.get_or(wire::Tag::Signature, "")),
            std::string(reply.get_or(wire::Tag::UserHandle, "")));
    } catch (const std::invalid_argument& e) {
        throw Finish{Outcome::AuthErr, kSignInFailed,
                     std::string("the key's assertion is unusable: ") + e.what()};
    }
    std::vector<std::pair<std::string, Secret>> answer;
    answer.emplace_back("CREDENTIAL", Secret(credential));
    auto& client = *ctx_.runtime->client;
    cognito::Step next;
    try {
        const Secret session = step.session;
        next = timed(PoolStep::Answer, [&] {
            return client.respond("WEB_AUTHN", session, username, answer, deadline_,
                                  user_context_for(rec_.rhost));
        });
    } catch (const ServiceError& e) {
        if (e.failure() == Failure::Rejected && e.name() == "NotAuthorizedException" &&
            e.message().find("session") == std::string::npos)
            throw Finish{Outcome::AuthErr, "The user pool did not accept the passkey.",
                         "user pool refused the passkey: " + e.message()};
        throw;
    }
    if (!next.id_token)
        throw Finish{Outcome::AuthErr, kSignInFailed,
                     "the user pool asked for a further step ('" + loggable(next.challenge, 40) + "')"};
    if (next.access_token && want_access_token_) access_token_ = *next.access_token;
    verify_and_bind(*next.id_token, ident);
}

void Session::otp_code_loop(const Identifier& ident, cognito::Step step, std::string username,
                            Method method) {
    auto& client = *ctx_.runtime->client;
    if (auto pool_name = announced_user(step.parameters); !pool_name.empty()) username = std::move(pool_name);
    std::string dest;
    if (const auto it = step.parameters.find("CODE_DELIVERY_DESTINATION");
        it != step.parameters.end() && printable_bounded(it->second, 64))
        dest = it->second;
    if (dest.empty()) dest = destination_for(method);
    const std::string code_key = method == Method::EmailOtp ? "EMAIL_OTP_CODE" : "SMS_OTP_CODE";
    const std::string where =
        dest.empty() ? std::string(method == Method::EmailOtp ? "your email" : "your phone") : dest;
    trace("method " + std::string(method_name(method)) + ": the user pool sent a code to " + where);

    bool wrong = false;
    for (int attempt = 1;; ++attempt) {
        Secret code = ask(code_prompt(where, wrong), false);
        if (code.empty()) throw Finish{Outcome::Abort, "Sign-in cancelled.", "no code given"};
        tried_proof_ = true;
        if (valid_code(code.view())) {
            std::vector<std::pair<std::string, Secret>> answer;
            answer.emplace_back(code_key, std::move(code));
            try {
                const Secret session = step.session;
                const auto next = timed(PoolStep::Answer, [&] {
                    return client.respond(step.challenge, session, username, answer, deadline_,
                                          user_context_for(rec_.rhost));
                });
                if (!next.id_token)
                    throw Finish{
                        Outcome::AuthErr, kSignInFailed,
                        "the user pool asked for a further step ('" + loggable(next.challenge, 40) + "')"};
                if (next.access_token && want_access_token_) access_token_ = *next.access_token;
                return verify_and_bind(*next.id_token, ident);
            } catch (const ServiceError& e) {
                if (pool_ended_after_wrong_codes(e, wrong))
                    throw too_many_wrong_codes(
                        "wrong code " + std::to_string(attempt - 1) +
                        " times; the user pool then ended the session: " + loggable(e.message(), 120));
                if (e.failure() != Failure::Rejected || e.name() != "CodeMismatchException") throw;
            }
        }
        if (attempt >= cfg().max_tries)
            throw too_many_wrong_codes("wrong code " + std::to_string(attempt) + " times");
        wrong = true;
    }
}

void Session::verify_and_bind(const Secret& id_token, const Identifier& ident) {
    cognito::IdClaims claims;
    try {
        claims = ctx_.runtime->verifier->verify_id_token(id_token.view(), deadline_);
    } catch (const cognito::TokenError& e) {
        throw Finish{Outcome::AuthErr, kSignInFailed, std::string("ID token refused: ") + e.what()};
    }
    bool bound = !known_.empty() ? std::any_of(known_.begin(), known_.end(),
                                               [&](const Identifier& k) { return claims_match(k, claims); })
                                 : claims_match(ident, claims);
    if (!cfg().claim.empty()) {
        const auto it = claims.strings.find(cfg().claim);
        bound = bound && it != claims.strings.end() && it->second == rec_.user;
    }
    if (!bound)
        throw Finish{Outcome::AuthErr, "This sign-in is not linked to the account " + rec_.user + ".",
                     "identity sub=" + loggable(claims.sub, 64) + " is not bound to this user"};
    trace_bound(ident, claims.sub);
    verified_ = true;
    rec_.reason =
        "verified " + std::string(kind_name(ident.kind)) + " identity sub=" + loggable(claims.sub, 64);
}

// Asks the connected keys for an assertion over a fresh challenge, for each relying party the user's
// credentials were made for. Returns false when no key holds any of them.
bool Session::key_login() {
    const auto& policy = cfg().security_key;
    std::vector<std::string> rps{policy.rp_id};
    for (const auto& c : credentials_)
        if (std::find(rps.begin(), rps.end(), c.rp_id) == rps.end()) rps.push_back(c.rp_id);
    // A credential may demand user verification of its own (imported with pam-u2f's +pin, or enrolled
    // while it was required): those are asked for apart, with the PIN, so the others need no PIN.
    const auto needs_uv = [&](const StoredCredential& c) {
        return c.uv_required || policy.user_verification == UserVerification::Required;
    };
    std::vector<std::pair<std::string, bool>> asks;
    for (const auto& rp : rps)
        for (const bool uv : {false, true}) asks.emplace_back(rp, uv);
    for (const auto& [rp, uv] : asks) {
        std::vector<StoredCredential> group;
        for (const auto& c : credentials_)
            if (c.rp_id == rp && needs_uv(c) == uv) group.push_back(c);
        if (group.empty()) continue;
        const std::string challenge = random_bytes(32);
        wire::Message req =
            key_request(wire::Type::KeyRequest, rp, challenge, uv, touch_timeout_ms(), kTouchKey);
        for (const auto& c : group) req.add(wire::Tag::CredId, c.cred_id);
        tried_proof_ = true;
        const wire::Message reply = exchange_with_key(req, wire::Type::Assertion);
        const auto status = device_status(reply);
        if (status == wire::DeviceStatus::NoDevice) continue;
        if (status != wire::DeviceStatus::Ok) throw key_status_finish(status);

        const AssertionInput input{std::string(reply.get_or(wire::Tag::CredId, "")),
                                   std::string(reply.get_or(wire::Tag::AuthData, "")),
                                   std::string(reply.get_or(wire::Tag::Signature, ""))};
        const auto r = verify_assertion(AssertionPolicy{rp, challenge, uv}, input, group);
        if (r.verdict == AssertionVerdict::CounterRegressed)
            throw Finish{Outcome::AuthErr, kSignInFailed,
                         "signature counter did not increase for security key '" +
                             loggable(group[r.index].nickname, 64) + "': possible clone"};
        if (r.verdict != AssertionVerdict::Ok)
            throw Finish{Outcome::AuthErr, kSignInFailed,
                         "security key assertion refused: " + std::string(verdict_text(r.verdict))};
        const StoredCredential& used = group[r.index];
        try {
            CredentialStore(policy.store_dir)
                .record_use(rec_.user, used.cred_id, r.counter, std::time(nullptr));
        } catch (const CredentialError& e) {
            // Another login with the same credential got there first with this counter, or it was removed.
            throw Finish{Outcome::AuthErr, kSignInFailed,
                         std::string("credential store refused the use: ") + e.what()};
        } catch (const std::exception& e) {
            // Without the new counter stored, a clone could replay later: refuse rather than forget.
            throw Finish{Outcome::ServiceErr, kMisconfigured, std::string("credential store: ") + e.what()};
        }
        verified_ = true;
        rec_.reason =
            "security key '" + loggable(used.nickname, 64) + "' verified" + (r.uv ? " with PIN" : "");
        return true;
    }
    return false;
}

}  // namespace pp::helper
