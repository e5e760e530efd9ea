// One login (login.hpp): the request, the limits, the account and the offer of methods. Each method is in
// helper/login/ (otp_method.cpp, security_key_method.cpp, pool_passkey_method.cpp, menu.cpp, binding.cpp);
// the walk an unknown user takes is in login/unknown_user.cpp.
#include <pwd.h>
#include <syslog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <stdexcept>

#include "account_policy.hpp"
#include "admission.hpp"
#include "code_offer.hpp"
#include "factor_memory.hpp"
#include "key_verification.hpp"
#include "login/key_status.hpp"
#include "login/method.hpp"
#include "login/pool_session_memory.hpp"
#include "login_log.hpp"
#include "login_steps.hpp"
#include "pool_health.hpp"
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

}  // namespace

namespace {

// The stack's unknown_user= argument, carried in Begin, wins over the helper's setting: only the stack knows
// whether a password module follows.
// (An unknown value never gets here: protocol::Begin::decode refuses it before admission.)
UnknownUser unknown_user_for(const protocol::Begin& begin, UnknownUser configured) {
    if (!begin.unknown_user) return configured;
    return *begin.unknown_user == wire::UnknownUser::Ignore ? UnknownUser::Ignore : UnknownUser::Fail;
}

}  // namespace

Verdict key_status_finish(wire::DeviceStatus s) {
    return login::key_status_verdict(s, login::KeyUse::SignIn);
}

// (Which of these failures tell decoys of an outage: PoolHealth::outage_of, pool_health.cpp.)
Verdict service_failure(const ServiceError& e) {
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
        if (lower.find("session") != std::string::npos) return {Outcome::AuthErr, kSessionExpired, reason};
    }
    if (n == "ExpiredCodeException") return {Outcome::AuthErr, kCodeExpired, reason};
    if (n == "UserNotFoundException") return {Outcome::UserUnknown, kSignInFailed, reason};
    return {Outcome::AuthErr, kSignInFailed, reason};
}

namespace {

// The ending of a login the pool took to another challenge than the one it was asked for.
Verdict unexpected_challenge(const cognito::Step& step) {
    return Verdict{Outcome::AuthErr, kSignInFailed,
                   "the user pool answered with challenge '" + loggable(step.challenge, 40) + "'"};
}

// A pool's refusal of PREFERRED_CHALLENGE itself, rather than of the person or of the request.
bool refuses_preference(const ServiceError& e) {
    return e.failure() == Failure::Rejected &&
           (e.name() == "InvalidParameterException" || e.name() == "OperationNotEnabledException");
}

std::int64_t now_unix() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

// The destination in canonical form (what was resolved, the mapped address of the chosen kind, what was
// typed) and the pool's own user name when the pool announced it, so that every spelling the pool takes as
// the same person shares one count.
SendKeys Login::send_keys(const Identifier& ident, Method m, const cognito::Step& step) const {
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
bool Login::remote_budget() const {
    return is_remote_login(facts_.rhost, cfg());
}

// Who runs a local login for the user, when that is another local user (rate_limits.cpp, budgets_of): then
// its failures spend that user's budget, not the owner's. Only a root caller's login has a runner (the
// account of the real uid of the setuid program the module runs in, else PAM_RUSER: local_runner.hpp); a
// caller that is not root may only authenticate itself (authorize_caller), so its login is the user's own.
std::string Login::run_by() const {
    if (remote_budget() || ctx_.peer.uid != 0 || facts_.runner == facts_.user) return {};
    return facts_.runner;
}

MaybeEnd Login::take_send(SendKeys keys) {
    // Armed before the send is counted: a login that may not try sends nothing and counts nothing.
    if (auto end = arm_try()) return end;
    keys.rhost = facts_.rhost;
    keys.remote = remote_budget();
    if (keys.unknown) tally_.unknown_walk();
    SendVerdict v;
    try {
        v = ctx_.limits->take_send(keys, cfg().limits, now_unix());
    } catch (const LimitStoreError& e) {
        return Verdict{Outcome::ServiceErr, kMisconfigured, e.what()};
    }
    if (v.machine || v.wait > 0) tally_.send_refused();
    if (v.machine)
        return Verdict{Outcome::AuthinfoUnavail, machine_send_limit_text(v.wait),
                       "machine send ceiling reached"};
    if (v.wait > 0)
        return Verdict{Outcome::AuthinfoUnavail, send_limit_text(v.wait), "code send limit reached"};
    tally_.code_sent();
    return std::nullopt;
}

// A remote client could otherwise make the user pool answer, for nothing, every connection it opens to an
// enrolled name and hangs up at the menu: the quota every machine and app of the pool's account shares
// (issue #10: nobody at the far end may lock everyone out). Local logins are not counted.
MaybeEnd Login::take_pool_ask() {
    if (!remote_budget()) return std::nullopt;
    const auto wait = ctx_.limits->take_pool_ask(source_network(facts_.rhost), source_site(facts_.rhost),
                                                 cfg().limits, now_unix());
    if (wait.seconds == 0) return std::nullopt;
    if (wait.machine)
        return Verdict{Outcome::AuthinfoUnavail, machine_ask_limit_text(wait.seconds),
                       "remote logins' requests to the user pool used up"};
    return Verdict{Outcome::AuthinfoUnavail, network_ask_limit_text(wait.seconds),
                   "network's requests to the user pool used up"};
}

namespace {

// The ending of a login that must wait (RateLimits::TryWait): for failures, the backoff; for other logins'
// tries in flight, a text that claims no failure, as none may have happened.
MaybeEnd try_wait_ending(const RateLimits::TryWait& wait) {
    if (wait.seconds <= 0) return std::nullopt;
    if (wait.in_flight)
        return Verdict{Outcome::MaxTries, kSignInInProgress, "other sign-ins in progress hold the tries"};
    return Verdict{Outcome::MaxTries, backoff_text(wait.seconds), "backoff after repeated failures"};
}

}  // namespace

MaybeEnd Login::check_backoff() {
    if (!ctx_.runtime)
        return Verdict{Outcome::ServiceErr, kMisconfigured, "configuration: " + ctx_.config_error};
    if (facts_.user.empty()) return std::nullopt;  // nobody to hold back (and settle_limits settles nothing)
    try {
        return try_wait_ending(
            ctx_.limits->check_try(facts_.user, remote_budget(), cfg().limits, now_unix(), run_by()));
    } catch (const LimitStoreError& e) {
        return Verdict{Outcome::ServiceErr, kMisconfigured, e.what()};
    }
}

// The same call for a real login and a decoy's walk, at the same steps (take_send, proof_tried): what it
// answers cannot tell who is enrolled.
MaybeEnd Login::arm_try() {
    if (tally_.holds_try() || facts_.user.empty()) return std::nullopt;
    // Settled already: a try reserved now would never be released (the session's boundary ends the login).
    if (tally_.is_settled()) throw std::logic_error("a try armed after the login was settled");
    try {
        if (auto end = try_wait_ending(
                ctx_.limits->reserve_try(facts_.user, remote_budget(), cfg().limits, now_unix(), run_by())))
            return end;
    } catch (const LimitStoreError& e) {
        return Verdict{Outcome::ServiceErr, kMisconfigured, e.what()};
    }
    tally_.reserved();
    return std::nullopt;
}

MaybeEnd Login::proof_tried() {
    if (auto end = arm_try()) return end;
    tally_.proof_tried();
    return std::nullopt;
}

void Login::settle_limits(Outcome outcome) {
    if (!ctx_.runtime || facts_.user.empty()) return;
    const auto settlement = tally_.settlement(outcome);
    if (!settlement) return;
    try {
        ctx_.limits->settle_try(facts_.user, remote_budget(), settlement->end, settlement->unknown,
                                settlement->reserved, cfg().limits, now_unix(), run_by());
    } catch (const LimitStoreError& e) {
        log_line(LOG_ERR, "%s: the end of this login is not counted", loggable(e.what(), 400).c_str());
    }
    tally_.settled();
}

Login::Login(const LoginContext& ctx, Connection& conn, LoginFacts facts, bool test_login)
    : ctx_(ctx), conn_(conn), facts_(std::move(facts)), test_login_(test_login) {}

const Config& Login::cfg() const {
    return ctx_.runtime->config;
}

cognito::PoolApi& Login::pool() {
    return *ctx_.runtime->client;
}

cognito::TokenVerifier& Login::verifier() {
    return *ctx_.runtime->verifier;
}

void Login::offer_access_token(const Secret& token) {
    if (want_access_token_) access_token_ = token;
}

LoginFacts Login::facts_of(const protocol::Begin& begin, const std::string& runner, bool test_login) {
    return {begin.user, begin.service, begin.rhost, test_login ? kTestLoginTty : begin.tty, runner};
}

MaybeEnd Login::check_facts(const protocol::Begin& begin) const {
    if (!printable_bounded(facts_.service, 128) || !printable_bounded(facts_.rhost, 255) ||
        !printable_bounded(facts_.tty, 64) || !printable_bounded(begin.ruser, 64))
        return Verdict{Outcome::AuthErr, kSignInFailed, "malformed service, rhost, tty or ruser"};
    if (!valid_local_user(facts_.user))
        return Verdict{Outcome::UserUnknown, kSignInFailed, "user name outside the accepted character set"};
    return std::nullopt;
}

std::optional<Secret> Login::take_access_token() {
    std::optional<Secret> token = std::move(access_token_);
    access_token_.reset();
    return token;
}

void Login::forget_known_factors() {
    if (!known_.empty()) forget_factors(known_.front());
}

Verdict Login::run(const protocol::Begin& begin) {
    if (auto end = check_facts(begin)) return *end;
    if (!ctx_.runtime)
        return Verdict{Outcome::ServiceErr, kMisconfigured, "configuration: " + ctx_.config_error};
    unknown_user_ = unknown_user_for(begin, cfg().unknown_user);
    conn_.start_clock(cfg().login_timeout);
    if (auto end = authorize_caller()) return *end;
    if (auto end = check_backoff()) return *end;
    const auto& methods = cfg().methods_for(facts_.service, is_remote_login(facts_.rhost, cfg()));
    trace_policy(methods);
    if (methods.empty())
        return Verdict{Outcome::AuthErr, kNoMethodEnabled, "no method enabled for this service"};
    std::optional<Proof> proof;
    try {
        proof = prove(methods);
    } catch (const DecoyOutage& e) {
        // A decoy's would-be request met the outage a recent real one met: it ends as that login did, its
        // break-glass included (which takes no code here); only the audit reason tells.
        const std::string met =
            std::string(cognito::to_string(e.failure())) + (e.name().empty() ? "" : " ") + e.name();
        return break_glass_unknown(unknown_ending(
            service_failure(e),
            e.walk_reason() + "; ended as the outage a recent real request met (" + met + ")"));
    } catch (const ServiceError& e) {
        // The pool cannot be reached: the break-glass of a local login, or the outage's ending as before.
        proof = break_glass(service_failure(e));
        if (const Verdict* end = ending_of(*proof)) return *end;
    }
    // A send limit met while the pool is down (recovery_login.cpp); any other ending stands.
    if (const Verdict* end = ending_of(*proof); end && tally_.was_send_refused())
        proof = break_glass_after_send_limit(*end);
    if (const Verdict* end = ending_of(*proof)) return *end;
    return Verdict(std::get<Verified>(*proof), "");
}

// root may authenticate anyone; anybody else only themselves, and only where the admin allows it.
MaybeEnd Login::authorize_caller() {
    if (ctx_.peer.uid == 0) return std::nullopt;
    if (cfg().allow_unprivileged_self && local_account_uid(facts_.user) == ctx_.peer.uid) return std::nullopt;
    return Verdict{Outcome::AuthErr, kNotAllowed, "caller may not authenticate this user", true};
}

OrEnd<std::optional<Identifier>> Login::resolve_identity() {
    known_ = ctx_.runtime->identities.lookup(facts_.user);
    if (!known_.empty()) return known_.front();
    // From here only the token's claim binds the account: a pool user who picked the name "root" must not
    // become root.
    if (cfg().claim.empty()) return std::optional<Identifier>();
    const auto uid = local_account_uid(facts_.user);
    if (!uid || !claim_may_bind(cfg(), facts_.user, *uid)) {
        log_line(LOG_NOTICE,
                 "claim binding refused for %s: uid below claim_min_uid and not in claim_allow_users",
                 loggable(facts_.user, 64).c_str());
        return std::optional<Identifier>();
    }
    if (cfg().ask_identifier) return ask_identifier();
    if (valid_pool_username(facts_.user)) return Identifier{IdentifierKind::Username, facts_.user};
    return std::optional<Identifier>();
}

OrEnd<std::optional<Identifier>> Login::ask_identifier() {
    std::string prefix;
    for (int i = 0; i < cfg().max_tries; ++i) {
        const Secret typed = conn_.ask(prefix + identifier_prompt(facts_.user), true);
        identifier_asked_ = true;
        if (typed.empty()) return Verdict{Outcome::Abort, kCancelled, "no identifier given"};
        note_answer(typed.view());
        if (has_control_characters(typed.view())) return std::optional<Identifier>();
        if (auto id = parse_identifier(typed.view(), false)) {
            typed_ = *id;
            return id;
        }
        prefix = kNotAnIdentifier;
    }
    return Verdict{Outcome::AuthErr, kSignInFailed, "no valid identifier given"};
}

OrEnd<std::vector<StoredCredential>> read_user_credentials(const std::string& store_dir,
                                                           const std::string& user) {
    try {
        auto loaded = CredentialStore(store_dir).load(user);
        // A corrupt record is named in the log and skipped; the others still work.
        for (const auto& p : loaded.problems)
            log_line(LOG_ERR, "credential store: %s (record skipped)", loggable(p, 300).c_str());
        return std::move(loaded.credentials);
    } catch (const FileError& e) {
        return Verdict{Outcome::ServiceErr, kMisconfigured, std::string("credential store: ") + e.what()};
    }
}

MaybeEnd Login::read_credentials() {
    auto read = read_user_credentials(cfg().security_key.store_dir, facts_.user);
    if (const Verdict* end = ending_of(read)) return *end;
    credentials_ = std::get<std::vector<StoredCredential>>(std::move(read));
    return std::nullopt;
}

Proof Login::prove(const std::vector<Method>& methods) {
    began_ = verifier().now();
    // sshd passes any name it was given; only a local account may cost a code or a question to the pool.
    if (!local_account_uid(facts_.user)) {
        if (unknown_user_ == UnknownUser::Ignore)
            return Verdict{Outcome::Ignore, "", "not a local account (ignored by configuration)"};
        return decoy(methods, "not a local account", false);
    }
    std::vector<Method> pool_methods;
    std::copy_if(methods.begin(), methods.end(), std::back_inserter(pool_methods), is_pool_method);
    const bool keys_enabled = std::find(methods.begin(), methods.end(), Method::SecurityKey) != methods.end();
    if (keys_enabled) {
        if (auto end = read_credentials()) return *end;
        if (!credentials_.empty()) decoy_twin(methods);
    }
    // The browser sign-in ends in a pool token too, bound as theirs are; it is offered to everyone alike.
    const bool browser = cfg().browser && std::any_of(methods.begin(), methods.end(), is_browser);

    // The menu, in the configuration's order: a local key the person holds, the browser, and `pool`'s
    // methods.
    const auto menu_of = [&](const std::vector<Method>& pool) {
        std::vector<Method> out;
        for (auto m : methods)
            if ((m == Method::SecurityKey && !credentials_.empty()) || (is_browser(m) && browser) ||
                std::find(pool.begin(), pool.end(), m) != pool.end())
                out.push_back(m);
        return out;
    };

    std::optional<Identifier> ident;
    if (!pool_methods.empty() || browser) {
        auto resolved = resolve_identity();
        if (const Verdict* end = ending_of(resolved)) return *end;
        ident = std::get<std::optional<Identifier>>(std::move(resolved));
    }
    // Codes go only to destinations the identity map names: a pool account may also hold an address or number
    // the admin never mapped to this local account. So the menu is the same at the first login as at a
    // remembered one (remembered_menu) and as the decoy of an account mapped alike (login/unknown_user.cpp).
    if (!known_.empty() && !has_kind(known_, IdentifierKind::Username))
        std::erase_if(pool_methods, [&](Method m) {
            return (m == Method::EmailOtp && !has_kind(known_, IdentifierKind::Email)) ||
                   (m == Method::SmsOtp && !has_kind(known_, IdentifierKind::Phone));
        });
    if (!ident && credentials_.empty()) {
        if (unknown_user_ == UnknownUser::Ignore)
            return Verdict{Outcome::Ignore, "",
                           "no identity and no security key for this user (ignored: unknown_user)"};
        return decoy(methods, "no identity and no security key for this user", false);
    }

    // Ask the user pool which methods it offers this person; no code is sent before the person chooses,
    // unless the pool is the only way in and offers one method.
    cognito::Step step;
    std::string username;
    std::vector<Method> pool_offers;
    std::string prefix;
    std::optional<RememberedChoice> chosen_first;  // from the menu shown before the pool was asked
    bool pool_unknown = false;     // the pool does not know the mapped identity; a local key is still there
    bool pool_went_ahead = false;  // the pool skipped its menu; the menu below still offers the browser
    bool at_passkey = false;  // the pool answered the question at WEB_AUTHN: a passkey holder, nothing sent
    // An identity the pool does not know, walked as a member whose code the pool sent before the menu: when
    // that member's code would have been sent.
    std::optional<std::chrono::steady_clock::time_point> unknown_sent_at;
    if (ident && !pool_methods.empty()) {
        auto& client = *ctx_.runtime->client;
        username = ident->value;
        std::optional<std::string_view> preferred;
        // A code is asked for at once only for an identity the admin mapped: for a claimed or typed one the
        // pool first says whether it exists, so a name that is nobody is counted only in the walks' store
        // (decoy()).
        const bool mapped = !known_.empty();
        if (pool_methods.size() == 1 && credentials_.empty() && !browser &&
            (mapped || !is_otp(pool_methods.front()))) {
            preferred = method_challenge(pool_methods.front());
            if (is_otp(pool_methods.front())) {
                // The pool sends the code with its first answer: ask first (echoed, see code_offer.hpp),
                // unless the identifier question already was such a prompt.
                if (!typed_)
                    if (auto end = offer(pool_methods.front(), destination_for(pool_methods.front()), ""))
                        return *end;
                const auto started = std::chrono::steady_clock::now();
                if (auto end = take_send(send_keys(*ident, pool_methods.front(), {}))) return *end;
                if (answers_replaced_)
                    return walk_replaced(pool_methods.front(), sent(PoolStep::Start), started);
            }
        } else if (mapped) {
            // What the pool offered this identity last time: the menu first (factor_memory.hpp).
            auto remembered = choose_remembered(methods, *ident);
            if (auto* end = std::get_if<Verdict>(&remembered)) return *end;
            // A local key, chosen from that menu.
            if (auto* proof = std::get_if<Verified>(&remembered)) return std::move(*proof);
            chosen_first = std::get<std::optional<RememberedChoice>>(std::move(remembered));
        }
        // Asked without a preference, a pool may go straight to a person's one factor and send its code with
        // the answer (spec §2.4): before any prompt that echoes, and before its limits are taken. So the
        // question "which methods?" prefers one that sends nothing. A pool answers a preference the person
        // cannot use with SELECT_CHALLENGE, and a passkey holder's with WEB_AUTHN, the rest announced.
        // (Whatever the service enables: a pool sends the code of a person's one factor even where no code
        // method is on this service's list.)
        const bool probe = !preferred && !chosen_first;
        if (probe) preferred = method_challenge(Method::Passkey);
        // What a refusal of the pool's first answer leaves: its ending, or the login going on without the
        // pool (an outage with local keys) or as an identity the pool does not know. Called while it is
        // handled.
        const auto pool_refused = [&](const ServiceError& e) -> MaybeEnd {
            const bool unknown_to_pool =
                e.failure() == Failure::Rejected && e.name() == "UserNotFoundException";
            // Local keys need no pool: with it unreachable they are what is left, and the login goes on.
            if (!unknown_to_pool &&
                (credentials_.empty() || service_failure(e).outcome() != Outcome::AuthinfoUnavail))
                throw;
            if (!unknown_to_pool)
                log_line(LOG_WARNING, "user pool unreachable, only security keys are offered: %s",
                         loggable(e.message(), 200).c_str());
            if (unknown_to_pool && chosen_first) forget_factors(*ident);
            if (unknown_to_pool && credentials_.empty() && unknown_user_ == UnknownUser::Ignore)
                return Verdict{Outcome::Ignore, "",
                               "identity unknown to the user pool (ignored: unknown_user)"};
            // After a remembered menu the person has chosen already: the walk goes on from the choice.
            if (unknown_to_pool && (credentials_.empty() || chosen_first))
                return decoy(chosen_first ? std::vector<Method>{chosen_first->method} : methods,
                             "identity unknown to the user pool", true);
            // With a local key the menu is what a pool member mapped alike sees (the key and the methods the
            // map allows): a menu of the key alone would tell that the pool does not know the identity.
            pool_unknown = unknown_to_pool;
            if (pool_unknown) pool_offers = pool_methods;
            if (!unknown_to_pool) ident.reset();
            return std::nullopt;
        };
        bool probe_refused = false;
        bool probe_answered = false;
        try {
            if (chosen_first) {
                auto initiated = initiate_chosen(*chosen_first, *ident, prefix);
                if (const Verdict* end = ending_of(initiated)) return *end;
                step = std::get<cognito::Step>(std::move(initiated));
            } else {
                // A code asked for with this request was counted (take_send above); anything else is not.
                if (!tally_.has_sent_code())
                    if (auto end = take_pool_ask()) return *end;
                step = timed(PoolStep::Start, [&] {
                    return client.initiate_user_auth(username, preferred, conn_.deadline(),
                                                     user_context_for(facts_.rhost));
                });
                probe_answered = probe;
            }
        } catch (const ServiceError& e) {
            probe_refused = probe && refuses_preference(e);
            if (probe_refused)
                log_line(
                    LOG_NOTICE,
                    "user pool refused PREFERRED_CHALLENGE %s (%s: %s); the menu comes before it is asked",
                    std::string(*preferred).c_str(), loggable(e.name(), 60).c_str(),
                    loggable(e.message(), 120).c_str());
            else if (auto end = pool_refused(e))
                return *end;
        }
        // Whether this pool answers the question with an error: the decoy's menu then holds no session, as
        // the real one does not (pool_session_memory.hpp). Only a person the preference does not fit tells (a
        // passkey holder's question is answered at WEB_AUTHN whatever the pool does with the others').
        // A pool that goes straight to a person's one factor past the preference (spec, open question 6: its
        // code sent with the answer) says it did not refuse it either.
        const bool probe_skipped = probe_answered && step.challenge != "SELECT_CHALLENGE" &&
                                   step.challenge != method_challenge(Method::Passkey);
        auto& sessions = pool_session_memory(cfg().limits_state_file);
        const PoolSessionMemory::Pool this_pool{cfg().pool_id, cfg().client_id};
        if (probe_refused || probe_skipped || (probe_answered && step.challenge == "SELECT_CHALLENGE"))
            sessions.preference_refused(this_pool, probe_refused);
        // And whether it answers a person with one factor with that factor or with its menu: the decoy of
        // such a shape then takes the send, and starts its session, before its menu, as the real login does
        // (unknown_user.cpp). Only a one-factor person's answer tells: another's menu is the pool's anyway.
        if (probe_skipped ||
            (probe_answered && step.challenge == "SELECT_CHALLENGE" && step.available.size() == 1))
            sessions.question_skipped(this_pool, probe_skipped);
        // A key holder whose identity the pool does not know is shown the menu of a pool member mapped alike
        // (pool_refused). At a pool that answers a one-factor person's question with that factor, such a
        // member's code is sent with the pool's answer and counted (the login armed), its session started,
        // before that menu, or asked for at once with no browser beside it: this login does the same, or a
        // hang-up at the menu, or a wait past the session there, would tell the two apart. The shape is the
        // decoy's (decoy.cpp, one_factor): one destination mapped, and one pool method, a code.
        if (pool_unknown && probe && pool_methods.size() == 1 && is_otp(pool_methods.front()) &&
            !has_kind(known_, IdentifierKind::Username) &&
            has_kind(known_, IdentifierKind::Email) != has_kind(known_, IdentifierKind::Phone) &&
            sessions.skips_to_one_factor(this_pool) && !sessions.refuses_preference(this_pool)) {
            unknown_sent_at = std::chrono::steady_clock::now();
            if (auto end = take_send(send_keys(*ident, pool_methods.front(), {}))) return *end;
            if (!browser)
                return decoy({pool_methods.front()}, "identity unknown to the user pool", true,
                             unknown_sent_at);
        }
        // The other answer the spec allows for a preference the person cannot use: an error. The pool is then
        // asked only for the method chosen from a menu of what the admin allows (factor_memory.cpp).
        if (probe_refused) {
            // Not the passkey: the pool has just refused it for this person.
            std::vector<Method> without_passkey = pool_methods;
            std::erase(without_passkey, Method::Passkey);
            const std::vector<Method> allowed = menu_of(without_passkey);
            if (allowed.empty())
                return Verdict{
                    Outcome::AuthErr, kNoMethodAvailable,
                    "the user pool refused PREFERRED_CHALLENGE WEB_AUTHN, and no other method is enabled"};
            auto first = choose_first(allowed, *ident, "");
            if (auto* end = std::get_if<Verdict>(&first)) return *end;
            if (auto* proof = std::get_if<Verified>(&first)) return std::move(*proof);
            chosen_first = std::get<std::optional<RememberedChoice>>(std::move(first));
            try {
                auto initiated = initiate_chosen(*chosen_first, *ident, prefix);
                if (const Verdict* end = ending_of(initiated)) return *end;
                step = std::get<cognito::Step>(std::move(initiated));
            } catch (const ServiceError& e) {
                if (auto end = pool_refused(e)) return *end;
            }
        }
        if (ident && !pool_unknown) {
            at_passkey = probe && !probe_refused && step.challenge == method_challenge(Method::Passkey);
            if (step.challenge == "SELECT_CHALLENGE" || at_passkey) {
                // At WEB_AUTHN the pool sent nothing, and its menu is what it announced with the challenge
                // (every enabled method when it announced none: the pool judges the one chosen).
                for (auto m : pool_methods)
                    if ((at_passkey && step.available.empty()) ||
                        std::find(step.available.begin(), step.available.end(), method_challenge(m)) !=
                            step.available.end())
                        pool_offers.push_back(m);
            } else {
                // The pool went straight to one method (and for a code has sent it already): no menu.
                for (auto m : pool_methods)
                    if (step.challenge == method_challenge(m)) {
                        method_ = std::string(method_name(m));
                        // A code the pool sent unasked is still counted, and refused past a limit.
                        if (is_otp(m) && !tally_.has_sent_code())
                            if (auto end = take_send(send_keys(*ident, m, step))) return *end;
                        // The pool skipped its menu, not the browser: the person still chooses (the menu
                        // below), and the next login shows that menu before the pool is asked. (A method
                        // chosen from that remembered menu was chosen already.)
                        if (browser && !chosen_first) {
                            if (is_otp(m))
                                learn_factors(*ident, step.available, announced_user(step.parameters));
                            pool_offers.push_back(m);
                            pool_went_ahead = true;
                            break;
                        }
                        const auto announced = step.available;
                        const auto pool_user = announced_user(step.parameters);
                        Proof proof =
                            answered(login_method(m).prove(*this, {ident, std::move(step), username}));
                        if (m == Method::Passkey && !ending_of(proof))
                            learn_factors(*ident, announced, pool_user);
                        return proof;
                    }
                if (!pool_went_ahead) {
                    // A code this service does not offer, sent all the same: counted, as any code sent is.
                    for (auto m : factors_from({step.challenge}))
                        if (is_otp(m) && !tally_.has_sent_code())
                            if (auto end = take_send(send_keys(*ident, m, step))) return *end;
                    return unexpected_challenge(step);
                }
            }
        }
    }

    std::vector<Method> offered = menu_of(pool_offers);
    if (offered.empty())
        return Verdict{Outcome::AuthErr, kNoMethodAvailable,
                       "neither the user pool nor the credential store offers an enabled method"};

    auto picked = choose_method(offered, prefix);
    if (auto* end = std::get_if<Verdict>(&picked)) return *end;
    if (auto* proof = std::get_if<Verified>(&picked)) return std::move(*proof);  // a local key
    const Method chosen = std::get<Method>(picked);
    if (is_browser(chosen)) {
        if (!pool_unknown) return answered(login_method(chosen).prove(*this, {ident, {}, {}}));
        LatencyWalk walk(ctx_.runtime->client.get(), "identity unknown to the user pool");
        return answered(
            login_method(chosen).walk_unknown(*this, {"identity unknown to the user pool", {}, walk}));
    }
    // The code such a member was sent before the menu asks the pool nothing more (pool_went_ahead, below).
    if (unknown_sent_at && is_otp(chosen))
        return decoy({chosen}, "identity unknown to the user pool", true, unknown_sent_at);
    // The pool is at the chosen method already (a code sent with its first answer, or the passkey's challenge
    // with the answer to the question).
    if (pool_went_ahead || (at_passkey && chosen == Method::Passkey)) {
        // A passkey holder's passkey asks the pool nothing more; a code the pool sent unasked is spent
        // already.
        if (answers_replaced_ && !pool_went_ahead) return decoy({chosen}, kAnswersReplaced, true);
        const auto announced = step.available;
        const auto pool_user = announced_user(step.parameters);
        Proof proof = answered(login_method(chosen).prove(*this, {ident, std::move(step), username}));
        if (chosen == Method::Passkey && !ending_of(proof)) learn_factors(*ident, announced, pool_user);
        return proof;
    }
    auto& client = *ctx_.runtime->client;
    // One method left and no menu shown: the answer to SELECT_CHALLENGE sends the code, so offer it
    // first.
    // (The identifier question, when it was asked, was such a prompt already.)
    if (is_otp(chosen) && offered.size() == 1 && !typed_)
        if (auto end = offer(chosen, destination_for(chosen), prefix)) return *end;
    const auto chosen_at = std::chrono::steady_clock::now();  // the step's wait includes the send limit
    if (is_otp(chosen))
        if (auto end = take_send(send_keys(*ident, chosen, step))) return *end;
    // A pool method chosen for an identity the pool does not know: the walk goes on from the choice, after
    // the wait a member's answer to it takes.
    if (pool_unknown) {
        LatencyWalk(&client, "identity unknown to the user pool")
            .pause(is_otp(chosen) ? sent(PoolStep::Choose) : PoolStep::Choose, chosen_at);
        return decoy({chosen}, "identity unknown to the user pool", true);
    }
    // Answers sshd stood in for (note_answer): the step the choice would take, and the decoy's walk.
    if (answers_replaced_) {
        const PoolStep next = at_passkey ? PoolStep::Preferred : PoolStep::Choose;
        return walk_replaced(chosen, is_otp(chosen) ? sent(next) : next, chosen_at);
    }
    if (at_passkey) {
        // A code chosen by a passkey holder: the pool's session waits at WEB_AUTHN, so the code is asked for
        // anew, the limits taken above.
        const std::string challenge(method_challenge(chosen));
        step = timed(PoolStep::Preferred, chosen_at, [&] {
            auto next = client.initiate_user_auth(username, challenge, conn_.deadline(),
                                                  user_context_for(facts_.rhost));
            if (next.challenge == challenge && !next.available.empty())
                learn_factors(*ident, next.available, announced_user(next.parameters));
            return next;
        });
        if (step.challenge != challenge) return unexpected_challenge(step);
        return answered(login_method(chosen).prove(*this, {ident, std::move(step), username}));
    }
    std::vector<std::pair<std::string, Secret>> answer;
    answer.emplace_back("ANSWER", Secret(method_challenge(chosen)));
    // The menu's answer names the person as the pool announced them, as the later steps do: a pool checks
    // a challenge response's SECRET_HASH over its internal name, not over the alias (spec §4).
    if (auto pool_name = announced_user(step.parameters); !pool_name.empty()) username = std::move(pool_name);
    const Secret session = step.session;
    const auto announced = step.available;
    // The menu's session, as old as the person took to choose: what the pool's answer tells of how long its
    // sessions last is the decoy's (pool_session_memory.hpp).
    const auto session_age =
        std::chrono::duration_cast<PoolSessionMemory::Age>(std::chrono::steady_clock::now() - step.received);
    const bool timed_session = step.received != std::chrono::steady_clock::time_point{};
    auto& sessions = pool_session_memory(cfg().limits_state_file);
    const PoolSessionMemory::Pool pool{cfg().pool_id, cfg().client_id};
    const auto configured = std::chrono::duration_cast<PoolSessionMemory::Age>(cfg().session_validity);
    try {
        step = timed(PoolStep::Choose, chosen_at, [&] {
            auto next = client.respond("SELECT_CHALLENGE", session, username, answer, conn_.deadline(),
                                       user_context_for(facts_.rhost));
            // The code is on its way: what the pool offered is remembered for the next login if this one
            // lets the person in.
            if (is_otp(chosen) && next.challenge == method_challenge(chosen))
                learn_factors(*ident, announced, announced_user(next.parameters));
            return next;
        });
    } catch (const ServiceError& e) {
        if (timed_session && session_expired_error(e)) sessions.expired(pool, session_age, configured);
        throw;
    }
    if (timed_session) sessions.taken(pool, session_age, configured);
    if (step.challenge != method_challenge(chosen)) return unexpected_challenge(step);
    const auto pool_user = announced_user(step.parameters);
    Proof proof = answered(login_method(chosen).prove(*this, {ident, std::move(step), username}));
    if (chosen == Method::Passkey && !ending_of(proof)) learn_factors(*ident, announced, pool_user);
    return proof;
}

}  // namespace pp::helper
