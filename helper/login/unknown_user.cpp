// The walk of a login that cannot succeed (a name that is no account, an account without identity or key, an
// identity the user pool does not know): the prompts, waits and ending of the real user whose shape it takes
// (shape_decoy, decoy.hpp), through the real menu loop (menu.cpp) and the chosen method's unknown mode
// (method.hpp). Nothing is sent to anyone.
#include <syslog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "credential_store.hpp"
#include "decoy.hpp"
#include "factor_memory.hpp"
#include "login/method.hpp"
#include "login/pool_session_memory.hpp"
#include "login/state_files.hpp"
#include "login_log.hpp"
#include "login_steps.hpp"
#include "pool_health.hpp"
#include "pool_latency.hpp"
#include "session.hpp"
#include "trusted_file.hpp"

namespace pp::helper {

using wire::Outcome;

namespace {

// The key behind decoy destinations. It is kept beside the rate-limit state, so a user without an identity
// sees the same made-up address across helper restarts, as a real user sees the same real one; a key that
// cannot be kept is made per process (the decoy still works, only a restart changes it).
std::string decoy_key_beside(const std::string& limits_state_file) {
    static std::mutex m;
    static std::map<std::string, std::string> keys;
    std::lock_guard lock(m);
    auto& key = keys[limits_state_file];
    if (!key.empty()) return key;
    const std::string path = beside_limits_state(limits_state_file, "decoy.key");
    try {
        key = std::string(read_secret_file(path, 256).view());
    } catch (const FileError&) {
    }
    if (key.size() < 32) {
        key = random_bytes(32);
        try {
            write_file_atomically(path, key);
        } catch (const FileError& e) {
            log_line(LOG_WARNING, "decoy key not kept: %s", loggable(e.what()).c_str());
        }
    }
    return key;
}

// What the chosen method's unknown mode walked to. It proves no one; were it ever to (or to ask nothing), the
// walk ends as a key error would end it, failing.
Verdict walked_to(const std::optional<Proof>& walked, const std::string& reason) {
    if (walked)
        if (const Verdict* end = ending_of(*walked)) return *end;
    return unknown_ending(key_status_finish(wire::DeviceStatus::Error), reason);
}

}  // namespace

// sshd's keyboard-interactive conversation stands in for every answer of a login it will refuse whatever PAM
// says (auth-pam.c: an invalid user, root when PermitRootLogin is not "yes", a user AllowUsers, DenyUsers,
// AllowGroups or DenyGroups turns away): its bad-password string, "\b\n\r\177INCORRECT" repeated to the
// answer's length. The menu reads it as its first entry and the offer as "send" (code_offer.hpp), as the
// decoy of a name that is no account must (the screens a real user's answers would reach). For a real account
// that was a real code sent, and counted, for every such login: texts to root's phone for anyone at the far
// end of an sshd with the default PermitRootLogin, and code prompts walked without the decoy's waits, which
// told an enrolled account from one without an identity. Such a login now sends nothing and walks the decoy's
// way (kAnswersReplaced, login.hpp).
// Only where sshd can be the one asking: it always sets PAM_RHOST. At the console or in sudo a control
// character is the person's (an arrow key at the offer) and is read as it always was.
void Login::note_answer(std::string_view answer) {
    if (!facts_.rhost.empty() && has_control_characters(answer)) answers_replaced_ = true;
}

Verdict Login::walk_replaced(Method chosen, PoolStep step, std::chrono::steady_clock::time_point since) {
    LatencyWalk(ctx_.runtime->client.get(), kAnswersReplaced).pause(step, since);
    return decoy({chosen}, kAnswersReplaced, true);
}

std::string Login::decoy_key() const {
    return decoy_key_beside(cfg().limits_state_file);
}

// A login's time must not tell a name whose key ask is made up (the decoy below, for a name without
// credentials) from a key holder's. Each does the store work of the other's kind (reserve_made_up), and the
// decoy's own work, the walk it takes (shape_decoy_among) and the made-up ids it asks (key_login), is done by
// the key holder's login too, for its own name, and thrown away: ten microseconds or so of a login of about
// a millisecond that a timing attacker at the console measured, run after run (bench/key_decoy_timing.py).
// The listing is the one the store was last seen with: the holder's login has already looked at the
// directory for its own file, as the decoy has for the listing.
void Login::decoy_twin(const std::vector<Method>& methods) {
    KeyHolders key_users;
    try {
        key_users = CredentialStore(cfg().security_key.store_dir).holders_seen_within();
    } catch (const std::exception&) {
        // As the decoy: a walk copied from the identity map alone.
    }
    const DecoyWalk twin = shape_decoy_among(decoy_key(), facts_.user, methods, ctx_.runtime->identities,
                                             key_users, !cfg().claim.empty());
    static_cast<void>(twin);
}

// The walk of a login that cannot succeed: the prompts, waits and ending of a real user of its shape
// (shape_decoy: a user the map names takes their own mapping's), failing the same way. Nothing is sent.
Verdict Login::decoy(std::vector<Method> methods, const std::string& reason, bool service_already_asked,
                     std::optional<std::chrono::steady_clock::time_point> session_since) {
    KeyHolders key_users;
    if (std::find(methods.begin(), methods.end(), Method::SecurityKey) != methods.end()) {
        try {
            key_users = CredentialStore(cfg().security_key.store_dir).holders();
        } catch (const std::exception& e) {
            // The real flow read this store moments ago; a walk copied from the identity map alone is the
            // loss.
            log_line(LOG_WARNING, "decoy: credential store: %s", loggable(e.what()).c_str());
        }
    }
    const std::string key = decoy_key();
    DecoyWalk walk = shape_decoy_among(key, facts_.user, methods, ctx_.runtime->identities, key_users,
                                       !cfg().claim.empty());
    // A real user mapped alike is offered nothing either: the pool offers none of the methods the map allows.
    if (walk.offered.empty()) return Verdict{Outcome::AuthErr, kNoMethodAvailable, reason};
    tally_.unknown_walk();  // limited like a real walk, in the walks' store (see settle_limits)
    // Limited like a real send, so the limit's message cannot tell who exists either: counted on what a real
    // login of this shape counts (send_keys), the identifier typed, the mapped identity or the name a claim
    // binds, never on the PAM user alone, or the limit's answer would tell an address that is nobody's from
    // an enrolled one typed after it. Kept in the walks' store (unknown): a walk leaves nothing in the
    // file of real counts, and spends the remote host's count but not the machine's (rate_limits.cpp).
    const auto send_key = [&](Method m) {
        const Identifier counted = typed_            ? *typed_
                                   : !known_.empty() ? known_.front()
                                                     : Identifier{IdentifierKind::Username, facts_.user};
        SendKeys k = send_keys(counted, m, {});
        k.unknown = true;
        return k;
    };
    std::vector<Method> offered = walk.offered;
    auto menu_dest = [&](Method m) {
        const auto it = walk.menu_dest.find(m);
        return it == walk.menu_dest.end() ? std::string() : it->second;
    };
    LatencyWalk pool(ctx_.runtime->client.get(), reason);
    // Once a real user of this shape has logged in, the next logins show the menu before the pool is asked,
    // and wait for the pool after the choice instead (factor_memory.hpp); so does the decoy while the user it
    // copies is remembered. A failed login, the decoy's included, remembers nothing.
    // The copied user's memory is read once, where a real login reads its own (choose_remembered): for the
    // menu, and for the passkeys a made-up pool passkey ask copies.
    const bool passkey_offered = std::find(offered.begin(), offered.end(), Method::Passkey) != offered.end();
    std::optional<FactorRow> memory;
    if ((walk.remembers && !service_already_asked) || passkey_offered) memory = decoy_memory(walk.model);
    const bool remembered = walk.remembers && !service_already_asked && memory.has_value();
    const std::vector<std::size_t> pool_passkeys =
        passkey_offered && memory ? decode_passkey_lengths(memory->passkeys) : std::vector<std::size_t>{};
    // The step after the choice, as the real one is recorded: the "Sent" twin when it sends a code. A real
    // login asks with the chosen preference after a remembered menu, and after a menu the pool made with a
    // passkey's challenge (a passkey holder's: the passkey is on the menu); otherwise it answers the menu.
    const auto after_choice = [&](Method chosen) {
        const bool code = is_otp(chosen);
        const PoolStep preferred = code ? sent(PoolStep::Preferred) : PoolStep::Preferred;
        const PoolStep choose = code ? sent(PoolStep::Choose) : PoolStep::Choose;
        // Until such a real login has been timed, the closest: the menu's answer.
        return (remembered || passkey_offered) && pool_latency().size(preferred) > 0 ? preferred : choose;
    };
    // Under ask_identifier every local account the pool may serve is asked for its email or phone before
    // anything else (resolve_identity); a name that is no account, or one the claim may not bind, is asked
    // too, or the first screen would tell. What is typed goes nowhere; only its mask is shown, below.
    // (Asked once: a login whose identifier question this login has asked already, its answer one sshd stood
    // in for, walks on from there.)
    if (cfg().ask_identifier && walk.asks_pool && !service_already_asked && !identifier_asked_) {
        const auto typed = ask_identifier();
        if (const Verdict* end = ending_of(typed)) return *end;
    }
    // Beside a typed identifier a real menu names its mask for its kind and no other destination
    // (destination_for), and the pool's code prompt names it too.
    if (typed_ && known_.empty())
        for (const auto m : {Method::EmailOtp, Method::SmsOtp}) {
            if (typed_->kind == (m == Method::EmailOtp ? IdentifierKind::Email : IdentifierKind::Phone))
                walk.menu_dest[m] = walk.code_dest[m] = mask(*typed_);
            else
                walk.menu_dest.erase(m);
        }
    // A real user with one code method is offered the code before the pool is asked (code_offer.hpp),
    // unless the identifier question came first.
    if (walk.direct && is_otp(offered.front()) && !service_already_asked && !cfg().ask_identifier)
        if (auto end = offer(offered.front(), menu_dest(offered.front()), "")) return *end;
    // The pool session a real login of this shape holds where the walk is (method.hpp): made by the pool's
    // answer the walk last stood for (the real question just asked, when the pool was asked already), lasting
    // as long as the pool's and taking as many wrong codes (pool_session_memory.hpp).
    const auto& sessions = pool_session_memory(cfg().limits_state_file);
    const PoolSessionMemory::Pool pool_key{cfg().pool_id, cfg().client_id};
    MadeUpSession session{std::nullopt,
                          sessions.validity(pool_key, std::chrono::duration_cast<PoolSessionMemory::Age>(
                                                          cfg().session_validity)),
                          sessions.wrong_codes(pool_key).value_or(cfg().code_attempts)};
    // (A pool that answers the question with an error holds none at a real menu: below.)
    if (service_already_asked && !(sessions.refuses_preference(pool_key) && !passkey_offered))
        session.since = session_since.value_or(std::chrono::steady_clock::now());
    // A pool that answers a one-factor person's question with that factor (pool_session_memory.hpp) sends the
    // code with its first answer: a real login of such a shape counts the send then, and arms its try, before
    // its menu (login.cpp, pool_went_ahead), and the code chosen from that menu asks the pool nothing more.
    // So a hang-up at the menu is a failure and a wait past the session there ends at the code typed, for the
    // decoy as for the real login. (Not after a remembered menu: the real one asks after the choice.)
    const std::optional<Method> skipped_to =
        walk.one_factor && !walk.direct && walk.asks_pool && !remembered && !passkey_offered &&
                !sessions.refuses_preference(pool_key) && sessions.skips_to_one_factor(pool_key)
            ? std::optional<Method>(*std::find_if(offered.begin(), offered.end(), is_pool_method))
            : std::nullopt;
    bool sent_before_menu = false;
    const auto started = std::chrono::steady_clock::now();
    // After the pool was asked (and answered that it does not know the identity) the real flow has counted
    // the send already, before that request: counted again here, one walk would take two of the host's
    // sends where a real login takes one.
    if (walk.direct && is_otp(offered.front()) && !service_already_asked)
        if (auto end = take_send(send_key(offered.front()))) return *end;
    // The real flow asked the pool already (it answered that it does not know the identity), counted its
    // question and sends nothing: the send the pool's answer would have made is counted here, as a real
    // login counts it after that answer.
    if (skipped_to && service_already_asked) {
        if (auto end = take_send(send_key(*skipped_to))) return *end;
        sent_before_menu = true;
    }
    // A real user offered one code at once asks for it with the first request, which then sends it.
    if (walk.asks_pool && !service_already_asked && !remembered) {
        // Counted on the network as a real login's question is, unless its code was counted (take_send).
        if (!tally_.has_sent_code())
            if (auto end = take_pool_ask()) return *end;
        try {
            pool.pause((walk.direct && is_otp(offered.front())) || skipped_to ? sent(PoolStep::Start)
                                                                              : PoolStep::Start,
                       started);
            // A pool that answers the question with an error holds no session at a real menu (login.cpp,
            // probe_refused): the code is asked for after the choice, on a fresh one.
            const bool question = !(walk.direct && is_otp(offered.front()));
            if (!(question && !passkey_offered && sessions.refuses_preference(pool_key)))
                session.since = std::chrono::steady_clock::now();
            if (skipped_to) {
                if (auto end = take_send(send_key(*skipped_to))) return *end;
                sent_before_menu = true;
            }
        } catch (const DecoyOutage&) {
            // A key holder's login goes on without the pool when its first request meets an outage, offering
            // the keys (and the browser) alone (login.cpp, pool_refused); anyone else's ends there.
            if (std::find(offered.begin(), offered.end(), Method::SecurityKey) == offered.end()) throw;
            std::erase_if(offered, is_pool_method);
        }
    }

    // The real menu loop (menu.cpp) with the key's unknown mode: no key answers for this name, so the menu
    // goes on without it while a method is left; a key's other answers, and no key with nothing left, end the
    // walk as they end a real one, with the decoy's reason.
    const UnknownWalk unknown{reason, {}, pool, walk.key_model, key, pool_passkeys};
    const auto try_key = [&]() -> std::optional<Proof> {
        auto proof = login_method(Method::SecurityKey).walk_unknown(*this, unknown);
        if (!proof && offered.size() <= 1)
            return Proof(unknown_ending(key_status_finish(wire::DeviceStatus::NoDevice), reason));
        return proof;
    };
    std::string prefix;
    // Where the pool went straight to the code, a real login shows its menu only for the browser beside it;
    // without one it asks for the code at once (login.cpp, pool_went_ahead).
    const bool menu = !sent_before_menu || std::any_of(offered.begin(), offered.end(), is_browser);
    const Choice choice = menu ? choose_method(offered, prefix, menu_dest, try_key) : Choice(*skipped_to);
    if (const auto* end = std::get_if<Verdict>(&choice)) return *end;
    // No key holds a credential made up here, so no Verified comes back; were one ever to, the walk ends as a
    // key error would end it, failing.
    if (!std::holds_alternative<Method>(choice))
        return unknown_ending(key_status_finish(wire::DeviceStatus::Error), reason);
    const Method chosen = std::get<Method>(choice);
    // The browser's walk has its own waits and no send (browser_method.cpp).
    if (is_browser(chosen)) return walked_to(login_method(chosen).walk_unknown(*this, unknown), reason);
    // The code the pool sent with its first answer (sent_before_menu) asks the pool nothing at the choice:
    // its prompt comes at once, on the session of that answer.
    if (!walk.direct && !(sent_before_menu && is_otp(chosen))) {
        // One method left and no menu shown: the real walk offers the code first.
        if (is_otp(chosen) && offered.size() == 1 && !cfg().ask_identifier)
            if (auto end = offer(chosen, menu_dest(chosen), prefix)) return *end;
        const auto chosen_at = std::chrono::steady_clock::now();
        if (is_otp(chosen))
            if (auto end = take_send(send_key(chosen))) return *end;
        // A real code chosen from the menu the pool made (not a remembered one, not a passkey holder's, whose
        // code is asked for anew) is sent on the menu's session: one the person let expire ends the login
        // there, after the pool's refusal.
        if (is_otp(chosen) && !remembered && !passkey_offered && session.expired_at(chosen_at)) {
            pool.pause(PoolStep::Choose, chosen_at);
            return session_expired_ending(reason);
        }
        // A passkey after a remembered menu is asked for as a real one is (initiate_chosen): on the network.
        if (chosen == Method::Passkey && remembered)
            if (auto end = take_pool_ask()) return *end;
        // A passkey holder's passkey, chosen from the menu the pool made with its challenge, asks the pool
        // nothing more before the key is asked.
        if (!(chosen == Method::Passkey && !remembered)) {
            pool.pause(after_choice(chosen), chosen_at);
            session.since = std::chrono::steady_clock::now();
        }
    }
    // The chosen method's unknown mode: the code prompts naming the made-up destination, or the passkey's
    // ask.
    const auto dest = walk.code_dest.find(chosen);
    const std::string where = dest == walk.code_dest.end() ? std::string() : dest->second;
    return walked_to(login_method(chosen).walk_unknown(
                         *this, {reason, where, pool, walk.key_model, key, pool_passkeys, session}),
                     reason);
}

}  // namespace pp::helper
