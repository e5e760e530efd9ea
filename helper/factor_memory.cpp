#include "factor_memory.hpp"

#include <syslog.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <system_error>

#include "credential.hpp"
#include "login/method.hpp"
#include "login_log.hpp"
#include "login_steps.hpp"
#include "pool_latency.hpp"
#include "session.hpp"
#include "user_context.hpp"

namespace pp::helper {
namespace {

using cognito::Failure;
using cognito::ServiceError;

constexpr Method kPoolMethods[] = {Method::EmailOtp, Method::SmsOtp, Method::Passkey};

std::int64_t now_unix() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

bool contains(const std::vector<Method>& ms, Method m) {
    return std::find(ms.begin(), ms.end(), m) != ms.end();
}

}  // namespace

std::vector<Method> factors_from(const std::vector<std::string>& available) {
    std::vector<Method> out;
    for (auto m : kPoolMethods)
        if (std::find(available.begin(), available.end(), method_challenge(m)) != available.end())
            out.push_back(m);
    return out;
}

std::string encode_factors(const std::vector<Method>& factors) {
    std::string out;
    for (auto m : factors) out += (out.empty() ? "" : " ") + std::string(method_challenge(m));
    return out;
}

std::vector<Method> decode_factors(std::string_view text) {
    std::vector<std::string> names;
    while (!text.empty()) {
        const auto space = text.find(' ');
        names.emplace_back(text.substr(0, space));
        text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
    }
    return factors_from(names);
}

std::vector<Method> remembered_menu(const std::vector<Method>& enabled, const std::vector<Method>& remembered,
                                    const std::vector<Identifier>& mapped, bool has_keys) {
    const bool by_name = has_kind(mapped, IdentifierKind::Username);
    std::vector<Method> out;
    for (auto m : enabled) {
        bool shown = false;
        switch (m) {
            case Method::SecurityKey:
                shown = has_keys;
                break;
            case Method::EmailOtp:
                shown = contains(remembered, m) && (by_name || has_kind(mapped, IdentifierKind::Email));
                break;
            case Method::SmsOtp:
                shown = contains(remembered, m) && (by_name || has_kind(mapped, IdentifierKind::Phone));
                break;
            case Method::Passkey:
                shown = contains(remembered, m) && !mapped.empty();
                break;
            case Method::Browser:  // offered to everyone (login.cpp); asks nothing of the pool first
                shown = true;
                break;
        }
        if (shown) out.push_back(m);
    }
    return out;
}

std::string encode_passkey_lengths(const std::vector<std::size_t>& lengths) {
    std::string out;
    for (std::size_t i = 0; i < lengths.size() && i < kMaxPasskeysKept; ++i)
        out += (out.empty() ? "" : ",") + std::to_string(lengths[i]);
    return out;
}

std::vector<std::size_t> decode_passkey_lengths(std::string_view text) {
    std::vector<std::size_t> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        std::size_t n = 0;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
        if (ec != std::errc() || end != item.data() + item.size() || n < 1 || n > kMaxCredentialIdBytes ||
            out.size() == kMaxPasskeysKept)
            return {};
        out.push_back(n);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
        if (text.empty()) return {};  // a trailing comma
    }
    return out;
}

std::string announced_user(const std::map<std::string, std::string>& parameters) {
    const auto it = parameters.find("USERNAME");
    return it != parameters.end() && valid_pool_username(it->second) ? it->second : std::string();
}

// Returns the pool method chosen from the remembered menu, or nothing when nothing is remembered (the login
// asks the pool first, as it always did); or the proof of a local key chosen from the menu, or the ending.
Login::RememberedMenu Login::choose_remembered(const std::vector<Method>& methods, const Identifier& ident) {
    const std::optional<RememberedChoice> nothing;
    const auto ttl = cfg().remember_factors.count();
    if (ttl == 0) return nothing;
    const std::int64_t now = now_unix();
    std::optional<FactorRow> row;
    try {
        row = ctx_.limits->recall_factors(canonical_key(ident), now);
    } catch (const LimitStoreError& e) {
        log_line(LOG_WARNING, "factor memory not read (the pool is asked first): %s",
                 loggable(e.what()).c_str());
        return nothing;
    }
    // A row is kept for the remember_factors of when it was written; a shorter one since applies at once.
    if (!row || row->seen + ttl <= now) return nothing;
    std::vector<Method> offered =
        remembered_menu(methods, decode_factors(row->factors), known_, !credentials_.empty());
    if (std::none_of(offered.begin(), offered.end(), is_pool_method)) return nothing;
    return choose_first(offered, ident, row->pool_user);
}

// The menu shown before the pool is asked (`offered`: what is remembered, or every method the admin allows
// when the pool refused to say without sending), and the choice made from it.
Login::RememberedMenu Login::choose_first(std::vector<Method> offered, const Identifier& ident,
                                          const std::string& pool_user) {
    std::string prefix;
    Choice choice = choose_method(offered, prefix);
    if (auto* end = std::get_if<Verdict>(&choice)) return std::move(*end);
    if (auto* proof = std::get_if<Verified>(&choice)) return std::move(*proof);  // a local key
    const Method chosen = std::get<Method>(choice);
    if (is_browser(chosen)) {
        Proof proof = answered(login_method(chosen).prove(*this, {ident, {}, {}}));
        if (auto* end = std::get_if<Verdict>(&proof)) return std::move(*end);
        return std::get<Verified>(std::move(proof));
    }
    // Asking for a code sends it: with no menu shown, it is offered first (code_offer.hpp), unless the
    // identifier question already was such a prompt.
    if (is_otp(chosen) && offered.size() == 1 && !typed_)
        if (auto end = offer(chosen, destination_for(chosen), prefix)) return std::move(*end);
    return std::optional<RememberedChoice>(RememberedChoice{chosen, pool_user});
}

// InitiateAuth with the factor chosen before the pool was asked: for a code, the pool sends it with its
// answer. When the pool no longer offers that factor, the memory is forgotten and the answer (or, after a
// refusal, a plain InitiateAuth's) goes back to the flow of a login with nothing remembered, with `prefix`
// saying why the person sees another menu.
OrEnd<cognito::Step> Login::initiate_chosen(const RememberedChoice& choice, const Identifier& ident,
                                            std::string& prefix) {
    auto& client = *ctx_.runtime->client;
    const std::string challenge(method_challenge(choice.method));
    const auto chosen_at = std::chrono::steady_clock::now();  // the step's wait includes the send limit
    if (is_otp(choice.method)) {
        cognito::Step announced;
        if (!choice.pool_user.empty()) announced.parameters.emplace("USERNAME", choice.pool_user);
        if (auto end = take_send(send_keys(ident, choice.method, announced))) return std::move(*end);
    } else if (auto end = take_pool_ask()) {
        // A passkey's ask sends nothing that is counted: a remote login offered one (remote_methods lists
        // passkey) would otherwise ask the pool for free at each hang-up after it (review 31b).
        return std::move(*end);
    }
    // Answers sshd stood in for (note_answer): nothing is asked for; the decoy's walk.
    if (answers_replaced_)
        return walk_replaced(choice.method,
                             is_otp(choice.method) ? sent(PoolStep::Preferred) : PoolStep::Preferred,
                             chosen_at);
    cognito::Step step;
    try {
        step = timed(PoolStep::Preferred, chosen_at, [&] {
            auto answer = client.initiate_user_auth(ident.value, challenge, conn_.deadline(),
                                                    user_context_for(facts_.rhost));
            // The code is on its way: a pool that announces its factors with the answer refreshes the memory.
            if (is_otp(choice.method) && answer.challenge == challenge && !answer.available.empty())
                learn_factors(ident, answer.available, announced_user(answer.parameters));
            return answer;
        });
    } catch (const ServiceError& e) {
        // A refusal of the request itself (not an outage, a throttle or an unknown person, which end the
        // login as they would without the memory): perhaps the factor, so ask again without a preference.
        if (e.failure() != Failure::Rejected ||
            (e.name() != "InvalidParameterException" && e.name() != "NotAuthorizedException"))
            throw;
        forget_factors(ident);
        // Asked without a preference, the pool may send a code unasked (spec §2.4): only after a code was
        // chosen, its offer answered and its limits taken. The passkey's preference was the one question that
        // sends nothing; refused, the login ends, and the next one asks afresh.
        if (!is_otp(choice.method))
            return Verdict{wire::Outcome::AuthErr, kRememberedGone,
                           "the user pool refused " + challenge + " (" + loggable(e.name(), 60) + ": " +
                               loggable(e.message(), 120) + ")"};
        log_line(LOG_NOTICE, "user pool refused the chosen %s (%s: %s); asking without a preference",
                 challenge.c_str(), loggable(e.name(), 60).c_str(), loggable(e.message(), 120).c_str());
        step = timed(PoolStep::Start, [&] {
            return client.initiate_user_auth(ident.value, std::nullopt, conn_.deadline(),
                                             user_context_for(facts_.rhost));
        });
        // A code of the other kind, sent unasked: counted on its own destination too.
        for (auto m : factors_from({step.challenge}))
            if (is_otp(m) && m != choice.method)
                if (auto end = take_send(send_keys(ident, m, step))) return std::move(*end);
    }
    if (step.challenge == challenge) return step;
    forget_factors(ident);
    if (step.challenge != "SELECT_CHALLENGE")
        return Verdict{wire::Outcome::AuthErr, kRememberedGone,
                       "the user pool answered the remembered " + challenge + " with challenge '" +
                           loggable(step.challenge, 40) + "'"};
    if (std::find(step.available.begin(), step.available.end(), challenge) == step.available.end())
        prefix = menu_label(choice.method, "") + " is no longer available for this account.\n";
    return step;
}

// What the pool offered, from an answer that sent a code or before a passkey's proof: kept with the login
// until its end. Never fails the login: the memory only saves a request next time.
void Login::learn_factors(const Identifier& ident, const std::vector<std::string>& available,
                          const std::string& pool_user) {
    const auto ttl = cfg().remember_factors.count();
    const auto factors = factors_from(available);
    if (ttl == 0 || known_.empty() || factors.empty()) return;
    learned_factors_.emplace(canonical_key(ident),
                             FactorRow{encode_factors(factors), pool_user, now_unix(), seen_pool_passkeys_});
}

// Only a login that let the person in writes the memory. A failed one (a wrong code, a login abandoned after
// the send: what someone probing names does) writes nothing, so a probe cannot make a real user's next
// login, or any decoy that copies that user, show the menu first (see factor_memory.hpp).
void Login::remember_learned_factors() {
    if (!learned_factors_) return;  // set only by learn_factors, which runs with a configuration
    const auto ttl = cfg().remember_factors.count();
    auto [key, row] = std::move(*learned_factors_);
    learned_factors_.reset();
    if (ttl == 0) return;
    try {
        ctx_.limits->remember_factors(key, row, row.seen + ttl);
    } catch (const LimitStoreError& e) {
        log_line(LOG_WARNING, "factor memory not written: %s", loggable(e.what()).c_str());
    }
}

void Login::forget_factors(const Identifier& ident) {
    learned_factors_.reset();
    try {
        ctx_.limits->forget_factors(canonical_key(ident));
    } catch (const LimitStoreError& e) {
        log_line(LOG_WARNING, "factor memory not cleared: %s", loggable(e.what()).c_str());
    }
}

// What is remembered of the real user a decoy copies (`model`, a key in the file; "" for none): that user's
// own successful logins decide it, as they decide a real user's menu and the passkeys a real user's key is
// asked for. The decoy keeps no memory of its own: a failed login remembers nothing for a real user either.
std::optional<FactorRow> Login::decoy_memory(const std::string& model) {
    const auto ttl = cfg().remember_factors.count();
    if (ttl == 0 || model.empty()) return std::nullopt;
    const std::int64_t now = now_unix();
    try {
        auto row = ctx_.limits->recall_factors(model, now);
        if (row && row->seen + ttl > now) return row;
    } catch (const LimitStoreError&) {
    }
    return std::nullopt;
}

// A real passkey login's ask: kept with the login, for learn_factors.
void Login::saw_pool_passkeys(const std::vector<std::size_t>& lengths) {
    seen_pool_passkeys_ = encode_passkey_lengths(lengths);
}

}  // namespace pp::helper
