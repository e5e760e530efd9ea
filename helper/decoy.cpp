#include "decoy.hpp"

#include <openssl/hmac.h>
#include <syslog.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>

#include "credential_store.hpp"
#include "login_log.hpp"
#include "login_steps.hpp"
#include "pool_latency.hpp"
#include "session.hpp"
#include "trusted_file.hpp"

namespace pp::helper {
namespace {

using wire::Outcome;

using Mac = std::array<unsigned char, 32>;

// Keyed with the decoy key, so that nobody without it can tell which real shape a name copies.
Mac keyed(std::string_view key, std::string_view purpose, std::string_view a, std::string_view b = {}) {
    std::string msg(purpose);
    msg.push_back('\0');
    msg.append(a);
    msg.push_back('\0');
    msg.append(b);
    Mac mac{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac.data(), &len);
    return mac;
}

std::uint64_t first_u64(const Mac& mac) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | mac[static_cast<std::size_t>(i)];
    return v;
}

// What a real login offers someone with these identifiers and keys, as authenticate() would compute it with
// a pool that has a factor for each mapped identifier. A pool user name alone names no destination: the pool
// may hold either.
DecoyWalk walk_of(const std::vector<Method>& enabled, const std::vector<Identifier>& ids, bool has_key,
                  bool claim_binding) {
    DecoyWalk w;
    const bool any_id = !ids.empty() || claim_binding;
    const bool by_name = has_kind(ids, IdentifierKind::Username) || (ids.empty() && claim_binding);
    // The pool methods authenticate() keeps: for an identity the admin mapped (not by pool user name), codes
    // only where the map names a destination.
    const bool map_limits = !ids.empty() && !has_kind(ids, IdentifierKind::Username);
    std::vector<Method> pool;
    for (auto m : enabled) {
        bool offers = false;
        switch (m) {
            case Method::SecurityKey:
                offers = has_key;
                break;
            case Method::EmailOtp:
                offers = by_name || has_kind(ids, IdentifierKind::Email);
                break;
            case Method::SmsOtp:
                offers = by_name || has_kind(ids, IdentifierKind::Phone);
                break;
            case Method::Passkey:
                offers = any_id;
                break;
        }
        if (offers) w.offered.push_back(m);
        if (is_pool_method(m) && (!map_limits || !is_otp(m) || offers)) pool.push_back(m);
    }
    w.asks_pool = !pool.empty() && any_id;
    // authenticate() asks for a code at once only for an identity the admin mapped; a claimed one first
    // goes through SELECT_CHALLENGE.
    const bool code_only = !pool.empty() && is_otp(pool.front());
    w.direct = w.asks_pool && pool.size() == 1 && !has_key && (!ids.empty() || !code_only);
    w.remembers = w.asks_pool && !w.direct && !ids.empty();
    return w;
}

// A made-up destination in the shape of `model`, the same for `user` every time.
std::string fake_mask(const Identifier& model, const Mac& r, const std::string& initials) {
    if (model.kind == IdentifierKind::Email) {
        const auto at = model.value.find('@');
        return mask(Identifier{IdentifierKind::Email,
                               std::string(1, initials[r[0] % initials.size()]) + model.value.substr(at)});
    }
    std::string phone = model.value.substr(0, model.value.size() - 4);
    for (std::size_t i = 0; i < 4; ++i) phone.push_back(static_cast<char>('0' + r[1 + i] % 10));
    return mask(Identifier{IdentifierKind::Phone, phone});
}

// The destinations of `w`'s code methods: where `ids` names one of the kind, the mask `masked` makes of it,
// in the menu as in the code prompt; elsewhere the pool names it only in the code prompt, in its own mask
// shapes ("a***@e***", "+*******0123").
template <typename MaskOf>
void fill_destinations(DecoyWalk& w, const std::vector<Identifier>& ids, const Mac& r,
                       const std::string& initials, MaskOf masked) {
    for (auto m : w.offered) {
        if (!is_otp(m)) continue;
        const auto kind = m == Method::EmailOtp ? IdentifierKind::Email : IdentifierKind::Phone;
        const auto it =
            std::find_if(ids.begin(), ids.end(), [&](const Identifier& i) { return i.kind == kind; });
        if (it != ids.end()) {
            w.menu_dest[m] = w.code_dest[m] = masked(*it);
        } else {
            const Identifier shape =
                kind == IdentifierKind::Email
                    ? Identifier{kind, std::string("x@") + initials[r[5] % initials.size()] + ".x"}
                    : Identifier{kind, "+10000000000"};
            w.code_dest[m] = fake_mask(shape, r, initials);
        }
    }
}

}  // namespace

DecoyWalk shape_decoy(std::string_view key, const std::string& user, const std::vector<Method>& enabled,
                      const IdentityMap& identities, const std::vector<std::string>& key_users,
                      bool claim_binding) {
    static const std::vector<Identifier> none;
    // The first letters of the real addresses, so the made-up ones follow the same distribution.
    std::string initials;
    for (const auto& [u, ids] : identities.entries())
        for (const auto& id : ids)
            if (id.kind == IdentifierKind::Email) initials.push_back(id.value.front());
    if (initials.empty()) initials = "abcdefghijklmnopqrstuvwxyz";
    const Mac r = keyed(key, "mask", user);

    const bool keys_enabled = std::find(enabled.begin(), enabled.end(), Method::SecurityKey) != enabled.end();
    const std::vector<std::string> no_keys;
    const auto& with_keys = keys_enabled ? key_users : no_keys;

    // A user the map names (or who has keys) walks their own mapping: the methods and masked destinations a
    // real user mapped the same way is shown. Copying anyone else's would tell a name whose identity the
    // pool does not know from a pool member mapped alike.
    const auto& own_ids = identities.lookup(user);
    const bool own_key = std::find(with_keys.begin(), with_keys.end(), user) != with_keys.end();
    if (!own_ids.empty() || own_key) {
        DecoyWalk own = walk_of(enabled, own_ids, own_key, claim_binding);
        if (own.remembers) own.model = canonical_key(own_ids.front());
        fill_destinations(own, own_ids, r, initials, [](const Identifier& id) { return mask(id); });
        return own;
    }

    // Rendezvous hashing: the real user with the highest keyed score for this name is copied.
    std::vector<std::string> candidates;
    for (const auto& [u, ids] : identities.entries()) candidates.push_back(u);
    candidates.insert(candidates.end(), with_keys.begin(), with_keys.end());
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

    const std::vector<Identifier>* model_ids = nullptr;
    DecoyWalk best;
    std::uint64_t best_score = 0;
    for (const auto& c : candidates) {
        const auto& ids = identities.lookup(c);
        const bool has_key = std::find(with_keys.begin(), with_keys.end(), c) != with_keys.end();
        DecoyWalk w = walk_of(enabled, ids, has_key, claim_binding);
        if (w.offered.empty()) continue;
        const std::uint64_t score = first_u64(keyed(key, "model", user, c));
        if (model_ids == nullptr || score > best_score) {
            best = std::move(w);
            best_score = score;
            model_ids = &ids;
        }
    }
    if (model_ids == nullptr) {
        // Nobody to copy: what this configuration shows a real user without a mapped identity or a key.
        model_ids = &none;
        best = walk_of(enabled, none, false, true);
        if (best.offered.empty()) best.offered = enabled;
    }

    if (best.remembers) best.model = canonical_key(model_ids->front());
    fill_destinations(best, *model_ids, r, initials,
                      [&](const Identifier& id) { return fake_mask(id, r, initials); });
    return best;
}

namespace {

// The key behind decoy destinations. It is kept beside the rate-limit state, so a user without an identity
// sees the same made-up address across helper restarts, as a real user sees the same real one; a key that
// cannot be kept is made per process (the decoy still works, only a restart changes it).
std::string decoy_key(const std::string& limits_state_file) {
    static std::mutex m;
    static std::map<std::string, std::string> keys;
    std::lock_guard lock(m);
    auto& key = keys[limits_state_file];
    if (!key.empty()) return key;
    const auto slash = limits_state_file.find_last_of('/');
    const std::string path =
        limits_state_file.substr(0, slash == std::string::npos ? 0 : slash) + "/decoy.key";
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

// The decoy ends as a real user failing the same way would; only the audit line's reason differs.
Finish ending(const Finish& f, const std::string& reason) {
    return {f.outcome(), f.person_text(), reason, f.summarised()};
}

}  // namespace

// The walk a user without identity or key takes: the prompts, waits and ending of the real user it copies
// (shape_decoy), failing the same way. Nothing is sent to anyone.
void Session::decoy(std::vector<Method> methods, const std::string& reason, bool service_already_asked) {
    std::vector<std::string> key_users;
    if (std::find(methods.begin(), methods.end(), Method::SecurityKey) != methods.end()) {
        try {
            key_users = CredentialStore(cfg().security_key.store_dir).users();
        } catch (const std::exception& e) {
            // The real flow read this store moments ago; a walk copied from the identity map alone is the
            // loss.
            log_line(LOG_WARNING, "decoy: credential store: %s", loggable(e.what()).c_str());
        }
    }
    DecoyWalk walk = shape_decoy(decoy_key(cfg().limits_state_file), rec_.user, methods,
                                 ctx_.runtime->identities, key_users, !cfg().claim.empty());
    // A real user mapped alike is offered nothing either: the pool offers none of the methods the map allows.
    if (walk.offered.empty()) throw Finish{Outcome::AuthErr, kNoMethodAvailable, reason};
    unknown_walk_ = true;  // limited like a real walk, but nothing of it is kept (see settle_limits)
    // Limited like a real send, so the limit's message cannot tell who exists either.
    const SendKeys send_key{{canonical_key(Identifier{IdentifierKind::Username, rec_.user})}, {}, true};
    std::vector<Method> offered = walk.offered;
    auto menu_dest = [&](Method m) {
        const auto it = walk.menu_dest.find(m);
        return it == walk.menu_dest.end() ? std::string() : it->second;
    };
    LatencyWalk pool;
    // Once a real user of this shape has had a code sent, the next logins show the menu before the pool is
    // asked, and wait for the pool after the choice instead (factor_memory.hpp); so does the decoy while the
    // user it copies is remembered, and from its own first made-up send on, for as long as remember_factors.
    const bool remembered = walk.remembers && !service_already_asked && decoy_remembered(walk.model);
    const PoolStep after_choice =
        !remembered ? PoolStep::Choose
        // Until a real remembered login has been timed, the closest: the other step that sends a code.
        : pool_latency().size(PoolStep::Preferred) > 0 ? PoolStep::Preferred
                                                       : PoolStep::Choose;
    // Under ask_identifier every local account the pool may serve is asked for its email or phone before
    // anything else (resolve_identity); a name that is no account, or one the claim may not bind, is asked
    // too, or the first screen would tell. What is typed goes nowhere; only its mask is shown, below.
    if (cfg().ask_identifier && walk.asks_pool && !service_already_asked) (void)ask_identifier();
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
        offer(offered.front(), menu_dest(offered.front()), "");
    const auto started = std::chrono::steady_clock::now();
    if (walk.direct && is_otp(offered.front())) take_send(send_key);
    if (walk.asks_pool && !service_already_asked && !remembered) pool.pause(PoolStep::Start, started);

    // Credential ids no key holds: a connected key answers as it does for a real user whose key is absent.
    auto ask_key = [&](const std::string& rp_id) {
        const AssertionRequest req{rp_id,     random_bytes(32),  false, touch_timeout_ms(),
                                   kTouchKey, {random_bytes(64)}};
        tried_proof_ = true;
        const auto status = conn_.get_assertion(req).status;
        return status == wire::DeviceStatus::Ok ? wire::DeviceStatus::NoDevice : status;
    };

    std::string prefix;
    for (;;) {
        Method chosen = offered.front();
        if (offered.size() > 1) {
            std::vector<std::string> dests;
            for (auto m : offered) dests.push_back(menu_dest(m));
            chosen = menu(offered, dests, prefix);
        }
        rec_.method = std::string(method_name(chosen));
        if (chosen == Method::SecurityKey) {
            const auto status = ask_key(cfg().security_key.rp_id);
            if (status != wire::DeviceStatus::NoDevice) throw ending(key_status_finish(status), reason);
            std::erase(offered, Method::SecurityKey);
            if (offered.empty()) throw ending(key_status_finish(status), reason);
            prefix = kNoKeyAgain;
            continue;
        }
        if (!walk.direct) {
            // One method left and no menu shown: the real walk offers the code first.
            if (is_otp(chosen) && offered.size() == 1 && !cfg().ask_identifier)
                offer(chosen, menu_dest(chosen), prefix);
            const auto chosen_at = std::chrono::steady_clock::now();
            if (is_otp(chosen)) {
                take_send(send_key);
                if (walk.remembers && !service_already_asked) decoy_remember(walk.offered);
            }
            pool.pause(after_choice, chosen_at);
        }
        if (chosen == Method::Passkey) throw ending(key_status_finish(ask_key(cfg().passkey.rp_id)), reason);
        const auto dest = walk.code_dest.find(chosen);
        const std::string where = dest == walk.code_dest.end() ? std::string() : dest->second;
        for (int attempt = 1; attempt <= cfg().max_tries; ++attempt) {
            Secret code = conn_.ask(code_prompt(where, attempt > 1), false);
            const auto answered_at = std::chrono::steady_clock::now();
            if (code.empty()) throw Finish{Outcome::Abort, kCancelled, "no code given (" + reason + ")"};
            tried_proof_ = true;
            // A real login sends each code that could be one to the pool and waits. The decoy waits as long
            // for sshd's control characters too: they stand for what a person typed at a name that is no
            // account.
            if (valid_code(code.view()) || has_control_characters(code.view()))
                pool.pause(PoolStep::Answer, answered_at);
        }
        throw too_many_wrong_codes(reason);
    }
}

}  // namespace pp::helper
