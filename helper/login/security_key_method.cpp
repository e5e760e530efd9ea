// The local security key: what its answers mean, and the check that turns one into a proof.
#include <algorithm>
#include <ctime>
#include <optional>

#include "audit.hpp"
#include "decoy.hpp"
#include "login/key_ask.hpp"
#include "login/key_status.hpp"
#include "login/login.hpp"
#include "login/method_object.hpp"
#include "login/security_key.hpp"
#include "login_log.hpp"
#include "login_steps.hpp"
#include "person_texts.hpp"

namespace pp::helper {

using wire::Outcome;

std::variant<Verified, Verdict> KeyCounterCheck::accept(const std::string& user, const std::string& store_dir,
                                                        const AssertionPolicy& policy,
                                                        const AssertionInput& input,
                                                        const std::vector<StoredCredential>& group,
                                                        CredentialStore::UseReservation* reserved) {
    const auto r = verify_assertion(policy, input, group);
    if (r.verdict == AssertionVerdict::CounterRegressed)
        return Verdict{Outcome::AuthErr, kSignInFailed,
                       "signature counter did not increase for security key '" +
                           loggable(group[r.index].nickname, 64) + "': possible clone"};
    if (r.verdict != AssertionVerdict::Ok)
        return Verdict{Outcome::AuthErr, kSignInFailed,
                       "security key assertion refused: " + std::string(verdict_text(r.verdict))};
    const StoredCredential& used = group[r.index];
    try {
        CredentialStore(store_dir).record_use(user, used.cred_id, r.counter, std::time(nullptr), reserved);
    } catch (const CredentialError& e) {
        // Another login with the same credential got there first with this counter, or it was removed.
        return Verdict{Outcome::AuthErr, kSignInFailed,
                       std::string("credential store refused the use: ") + e.what()};
    } catch (const std::exception& e) {
        // Without the new counter stored, a clone could replay later: refuse rather than forget.
        return Verdict{Outcome::ServiceErr, kMisconfigured, std::string("credential store: ") + e.what()};
    }
    std::string reason =
        "security key '" + loggable(used.nickname, 64) + "' verified" + (r.uv ? " with PIN" : "");
    return Verified(user, Verified::By::SecurityKey, Method::SecurityKey, "", std::move(reason));
}

namespace {

// The length of the credential id a made-up key ask names when there is no key holder to copy: what the
// commonest keys make (a YubiKey 5's, and any U2F key handle).
constexpr std::size_t kCommonCredentialIdLength = 64;

// The most asks one key request holds (protocol::AssertionRequest::more_groups and the first).
constexpr std::size_t kMaxAsks = 255;

// One ask of a key login: the credentials of one relying party that share a PIN need.
struct KeyAskGroup {
    std::string rp_id;
    bool uv = false;
    std::vector<StoredCredential> credentials;
};

// The asks of a login with these credentials, in the order they are made: the configured relying party
// first, then any other the credentials were made for (imported from pam-u2f); within each, the credentials
// that need no PIN, then those that do.
std::vector<KeyAskGroup> key_ask_groups(const SecurityKeyPolicy& policy,
                                        const std::vector<StoredCredential>& credentials) {
    std::vector<std::string> rps{policy.rp_id};
    for (const auto& c : credentials)
        if (std::find(rps.begin(), rps.end(), c.rp_id) == rps.end()) rps.push_back(c.rp_id);
    // A credential may demand user verification of its own (imported with pam-u2f's +pin, or enrolled
    // while it was required): those are asked for apart, with the PIN, so the others need no PIN.
    const auto needs_uv = [&](const StoredCredential& c) {
        return c.uv_required || policy.user_verification == UserVerification::Required;
    };
    std::vector<KeyAskGroup> groups;
    for (const auto& rp : rps)
        for (const bool uv : {false, true}) {
            KeyAskGroup group{rp, uv, {}};
            for (const auto& c : credentials)
                if (c.rp_id == rp && needs_uv(c) == uv) group.credentials.push_back(c);
            if (!group.credentials.empty()) groups.push_back(std::move(group));
        }
    // One request carries them all, numbered in a byte (protocol::AssertionRequest::cred_groups): past 255
    // relying parties and PIN needs (no one imports that many) the rest are not asked.
    if (groups.size() > kMaxAsks) groups.resize(kMaxAsks);
    return groups;
}

// The made-up ids a decoy asks in place of `ask`'s credentials: as many, as long, keyed by the name.
std::vector<std::string> made_up_like(const KeyAskGroup& ask, std::string_view decoy_key,
                                      const std::string& user) {
    std::vector<std::size_t> lengths;
    lengths.reserve(ask.credentials.size());
    for (const auto& c : ask.credentials) lengths.push_back(c.cred_id.size());
    return made_up_ids(decoy_key, user, ask.rp_id, ask.uv, lengths);
}

// The public keys a key ask carries for `credentials`: the stored ones; made up (of the same algorithms)
// for a made-up ask.
std::vector<protocol::CredentialKey> keys_of(const std::vector<StoredCredential>& credentials, bool made_up) {
    std::vector<protocol::CredentialKey> keys;
    keys.reserve(credentials.size());
    for (const auto& c : credentials)
        keys.push_back({cose_number(c.alg), made_up ? made_up_public_key(c.alg) : c.public_key});
    return keys;
}

// The one request of a key login: every ask in it, in their order (the module asks them within one
// touch_timeout after one prompt, and touches the key once, in the first ask it holds: protocol::
// AssertionRequest). ids: each ask's credential ids, real or made up; made_up: with made-up public keys.
AssertionRequest request_of(MethodContext& login, const std::vector<KeyAskGroup>& asks,
                            const std::vector<std::vector<std::string>>& ids, bool made_up) {
    AssertionRequest req{asks.front().rp_id, random_bytes(32),
                         asks.front().uv,    key_touch_timeout_ms(login.config()),
                         kTouchKey,          {}};
    for (std::size_t g = 0; g < asks.size(); ++g) {
        if (g > 0) req.more_groups.push_back({asks[g].rp_id, asks[g].uv});
        for (const auto& id : ids[g]) {
            req.cred_ids.push_back(id);
            if (asks.size() > 1) req.cred_groups.push_back(static_cast<std::uint8_t>(g));
        }
        // The module checks the touch before the PIN against these (client/security_key.cpp).
        for (auto& key : keys_of(asks[g].credentials, made_up)) req.cred_keys.push_back(std::move(key));
    }
    return req;
}

// Asks the connected keys for an assertion over a fresh challenge, in one request for every relying party
// the user's credentials were made for and both PIN needs. Returns nothing when no key holds any of them.
std::optional<Proof> key_login(MethodContext& login) {
    const auto& policy = login.config().security_key;
    // Read once, as the decoy reads it once for its walk.
    const std::string decoy_key = login.decoy_key();
    const std::vector<KeyAskGroup> asks = key_ask_groups(policy, login.credentials());
    if (asks.empty()) return std::nullopt;
    std::vector<std::vector<std::string>> ids;
    std::vector<StoredCredential> all;
    for (const KeyAskGroup& ask : asks) {
        auto& these = ids.emplace_back();
        for (const auto& c : ask.credentials) these.push_back(c.cred_id), all.push_back(c);
        // What a decoy of this shape asks instead (walk_unknown), made and thrown away: the two cost alike
        // (Login::decoy_twin).
        static_cast<void>(made_up_like(ask, decoy_key, login.facts().user));
        static_cast<void>(keys_of(ask.credentials, true));
    }
    const AssertionRequest req = request_of(login, asks, ids, false);
    // Given back when this ask is over, unless the accepted answer used it.
    std::optional<CredentialStore::UseReservation> reserved;
    const auto asked = ask_key(login, req, [&] {
        // While the key is asked (the person touches it): the counters it may answer with are made durable
        // now, so that its answer needs no flush before the Result (counter_journal.hpp).
        try {
            reserved.emplace(CredentialStore(policy.store_dir).reserve_use(login.facts().user, all));
        } catch (const std::exception& e) {
            // The store is read again after the answer, and a store that cannot be trusted fails the login
            // there; without a reservation the counter is flushed after the answer.
            debug_line("counter reservation not made: %s", e.what());
        }
    });
    if (const Verdict* end = ending_of(asked)) return Proof(*end);
    const Assertion& reply = std::get<Assertion>(asked);
    if (reply.status == wire::DeviceStatus::NoDevice) return std::nullopt;
    if (reply.status != wire::DeviceStatus::Ok) return Proof(key_status_finish(reply.status));

    // The ask the answer is for: the first that names its credential (the module touches a key in the
    // first ask it holds). A credential in no ask is refused by the check, as any unknown one is.
    const auto names = [&](const KeyAskGroup& ask) {
        return std::any_of(ask.credentials.begin(), ask.credentials.end(),
                           [&](const StoredCredential& c) { return c.cred_id == reply.cred_id; });
    };
    const auto found = std::find_if(asks.begin(), asks.end(), names);
    const KeyAskGroup& ask = found == asks.end() ? asks.front() : *found;
    const AssertionInput input{reply.cred_id, reply.auth_data, reply.signature};
    return KeyCounterCheck::accept(login.facts().user, policy.store_dir,
                                   AssertionPolicy{ask.rp_id, req.client_data_hash, ask.uv}, input,
                                   ask.credentials, reserved ? &*reserved : nullptr);
}

// The asks a made-up key login makes: those of the key holder the walk copies (read from the store as a
// real login reads its user's), with made-up ids of the same count and lengths; one made-up id of a common
// length under the configured relying party when there is none to copy.
std::vector<KeyAskGroup> made_up_asks(MethodContext& login, const UnknownWalk& walk) {
    const auto& policy = login.config().security_key;
    std::vector<KeyAskGroup> groups;
    if (!walk.key_model.empty()) {
        try {
            groups = key_ask_groups(policy,
                                    CredentialStore(policy.store_dir).load_shape(walk.key_model).credentials);
        } catch (const std::exception& e) {
            debug_line("decoy: key holder's credentials not read: %s", e.what());
        }
    }
    if (groups.empty()) {
        StoredCredential one{RpId(policy.rp_id)};
        one.cred_id.resize(kCommonCredentialIdLength);
        groups.push_back({policy.rp_id, policy.user_verification == UserVerification::Required, {one}});
    }
    return groups;
}

}  // namespace

// A local security key.
class SecurityKeyMethod final : public LoginMethod {
  public:
    std::optional<Proof> prove(MethodContext& login, MethodStart) const override { return key_login(login); }

    // No key holds a credential made up here: nullopt, as a real user's absent key (the walk ends it as a
    // real one ends when no method is left, unknown_user.cpp); a key's other answers end the walk as they end
    // a real one. The asks are the copied key holder's (made_up_asks): a real user with two keys, or a key
    // that needs the PIN, is asked so, and so is the name that copies them.
    std::optional<Proof> walk_unknown(MethodContext& login, const UnknownWalk& walk) const override {
        const auto& policy = login.config().security_key;
        const std::string& user = login.facts().user;
        const std::vector<KeyAskGroup> asks = made_up_asks(login, walk);
        std::vector<std::vector<std::string>> ids;
        for (const KeyAskGroup& ask : asks) ids.push_back(made_up_like(ask, walk.decoy_key, user));
        const AssertionRequest req = request_of(login, asks, ids, true);
        // A real user's key ask reserves the counters while the key is asked and gives them back after an
        // answer that used none (key_login): the made-up one costs the same, from the same store.
        std::optional<CredentialStore::UseReservation> as_real;
        const auto asked = ask_made_up_key(login, req, [&] {
            try {
                as_real.emplace(CredentialStore(policy.store_dir).reserve_made_up());
            } catch (const std::exception& e) {
                debug_line("counter reservation not made: %s", e.what());
            }
        });
        // Not armed: the ending a real ask meets, as it is.
        if (const Verdict* end = ending_of(asked)) return Proof(*end);
        const auto status = std::get<wire::DeviceStatus>(asked);
        if (status == wire::DeviceStatus::NoDevice) return std::nullopt;
        return Proof(unknown_ending(key_status_finish(status), walk.reason));
    }
};

template const LoginMethod& method_object<SecurityKeyMethod>();

namespace login {

// The one reading of a key's DeviceStatus. Signing in and enrolling share every text but where the cause
// differs (a refusal while enrolling usually means the key holds this account already; a PIN is needed to
// make a credential, not to be set now); the audit reasons name the use.
Verdict key_status_verdict(wire::DeviceStatus s, KeyUse use) {
    using wire::DeviceStatus;
    const bool enrol = use == KeyUse::Enrol;
    switch (s) {
        case DeviceStatus::Denied:
            return enrol ? Verdict{Outcome::AuthErr, kKeyDeniedEnrol, "enrol: refused or already enrolled"}
                         : Verdict{Outcome::AuthErr, kKeyDenied, "touch refused at the key"};
        case DeviceStatus::Timeout:
            return {Outcome::AuthErr, kKeyTimeout,
                    enrol ? "enrol: no touch" : "no touch before the timeout; the key was cancelled"};
        case DeviceStatus::PinRequired:
            return enrol ? Verdict{Outcome::CredInsufficient, kKeyPinRequiredEnrol, "enrol: no PIN"}
                         : Verdict{Outcome::CredInsufficient, kKeyPinRequired,
                                   "user verification required and no PIN given"};
        case DeviceStatus::PinInvalid:
            return {Outcome::AuthErr, kKeyPinInvalid, enrol ? "enrol: wrong PIN" : "wrong PIN"};
        case DeviceStatus::PinBlocked:
            // Enrolling has always reported a blocked PIN as a key error.
            if (enrol) break;
            return {Outcome::AuthErr, kKeyPinBlocked, "PIN blocked at the key"};
        case DeviceStatus::NoDevice:
            return {Outcome::AuthinfoUnavail, kNoKey, enrol ? "enrol: no key" : "no security key"};
        case DeviceStatus::Ok:
        case DeviceStatus::Error:
            break;
    }
    return {Outcome::AuthinfoUnavail, kKeyError, enrol ? "enrol: key error" : "key error"};
}

}  // namespace login
}  // namespace pp::helper
