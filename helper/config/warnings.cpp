// The warnings of check-config: what a valid configuration allows that should not go unnoticed.
#include <algorithm>
#include <optional>

#include "config.hpp"
#include "config/parser.hpp"
#include "enrol_policy.hpp"
#include "login/passkey_uv_memory.hpp"
#include "login/pool_session_memory.hpp"

namespace pp::helper {

using config::join;

namespace {

// The hazards of the policies that decide who gets in: each is allowed, none should go unnoticed.
void policy_warnings(const Config& c, std::vector<std::string>& w) {
    const auto& manage = c.methods_for(kManageService, false);
    const auto where = [](const std::string& service) {
        return service.empty() ? std::string("[login]") : "[service " + service + "]";
    };
    // A credential a user adds for themselves (enrol_policy.hpp): some methods of the command line's sign-in
    // do not prove it, or none does.
    const auto self_service = [&](Method added, const std::vector<Method>& offered, const std::string& none,
                                  const std::string& only) {
        auto proof = methods_to_add(c, added);
        std::erase_if(
            proof, [&](Method m) { return std::find(offered.begin(), offered.end(), m) == offered.end(); });
        if (strength_to_add(c, added) > 0 && !offered.empty() && proof.size() < offered.size())
            w.push_back(where(strictest_service_for(c, added)) +
                        " lets in only with methods stronger than some of [service " + kManageService +
                        "] (" + join(offered) + "): " + (proof.empty() ? none : only + join(proof) + "."));
    };
    self_service(
        Method::SecurityKey, manage,
        "users cannot enrol security keys themselves; root enrols them (pam-passwordless enroll --user "
        "NAME).",
        "self-enrolment is proven only with ");
    std::vector<Method> pool_manage;
    for (auto m : manage)
        if (is_pool_method(m)) pool_manage.push_back(m);
    self_service(
        Method::Passkey, pool_manage,
        "users cannot register user-pool passkeys themselves; root registers them, signing the account "
        "in with the pool (pam-passwordless pool-register --user NAME).",
        "a user's own pool-register is proven only with ");
    // A list that lets in with a pool passkey and no code trusts the pool's own registrations too.
    if (strength_to_add(c, Method::Passkey) >= method_strength(Method::Passkey)) {
        const std::string service = where(strictest_service_for(c, Method::Passkey));
        w.push_back(service +
                    " lets in with a user-pool passkey but no code: a pool passkey is only as strong as the "
                    "user pool's own sign-ins. If the pool lets a public app client or its managed login "
                    "register passkeys, anyone with the account's code registers one there and passes " +
                    service + "; leave passkey registration to pam-passwordless pool-register.");
    }
    // A section of its own for a name that would otherwise follow another's (service_family: sudo -i,
    // pkexec, doas...) is the admin's choice; one weaker than the section it replaces is a second way to the
    // same account with less (review 31c).
    const auto weakest = [](const std::vector<Method>& ms) -> std::optional<Method> {
        if (ms.empty()) return std::nullopt;
        return *std::min_element(ms.begin(), ms.end(),
                                 [](Method a, Method b) { return method_strength(a) < method_strength(b); });
    };
    for (const auto& [name, pol] : c.services) {
        const std::string first(service_family(name));
        const auto followed = c.services.find(first);
        if (first.empty() || followed == c.services.end()) continue;
        for (const bool remote : {false, true}) {
            const auto mine = weakest(remote ? pol.remote : pol.local);
            const auto theirs = weakest(remote ? followed->second.remote : followed->second.local);
            // (A program's section that lets nothing in has nothing weaker than it.)
            if (!mine || !theirs || method_strength(*mine) >= method_strength(*theirs)) continue;
            w.push_back("[service " + name + "] lets " + (remote ? "remote logins " : "") + "in with " +
                        std::string(method_name(*mine)) + ", weaker than anything [service " + first +
                        "] accepts (" + join(remote ? followed->second.remote : followed->second.local) +
                        "): it is another way to what " + first +
                        " gives, and without its own section it "
                        "would follow [service " +
                        first + "].");
            break;
        }
    }
    if (!c.claim.empty()) {
        // The pool fixes a user's cognito:username for good; anything else a person may be able to change
        // for themselves (review 31a): Cognito lets users write preferred_username, custom attributes and
        // their own email and phone_number unless the app client's write attributes leave them out. Whoever
        // writes a local account's name there is that account.
        if (c.claim != "cognito:username")
            w.push_back(
                "claim = " + c.claim +
                ": only cognito:username is fixed by the user pool. If any app client of the pool "
                "lets users write '" +
                c.claim +
                "' (Cognito lets them write preferred_username, custom attributes, email and "
                "phone_number unless its write attributes leave them out), a pool user who sets it to "
                "a local account's name signs in as that account.");
        if (c.claim_min_uid < 1000)
            w.push_back("claim_min_uid = " + std::to_string(c.claim_min_uid) +
                        ": claim binding serves system accounts from that uid to a pool user of the same "
                        "name.");
        for (const auto& u : c.claim_allow_users)
            w.push_back("claim_allow_users lists '" + u + "'" + (u == "root" ? " (root)" : "") +
                        ": a pool user named '" + u +
                        "' becomes that account; keep the pool's sign-up closed.");
    }
    for (const auto& [name, on] : c.recovery.services)
        if (on && name.find("ssh") != std::string::npos)
            w.push_back(
                "[service " + name +
                "] recovery = yes has no effect: sshd always sets a remote host, and "
                "a recovery code is never accepted from a login with one (not even loopback with "
                "loopback_is_local = yes). Plan sshd's outage in its PAM stack (pam_passwordless(8)).");
    if (c.loopback_is_local)
        w.push_back(
            "loopback_is_local = yes: logins with a loopback remote host (an SSH port forward, a tunnel) are "
            "local and are offered the keys plugged into this machine.");
}

// The pool's sessions as stated and as real logins here found them (login/pool_session_memory.hpp): the
// decoy's made-up session follows what was found, but a statement the pool contradicted misleads the next
// machine installed from this file, and wrong codes beyond the pool's own limit are never asked.
void pool_session_warnings(const Config& c, std::vector<std::string>& w) {
    using Age = PoolSessionMemory::Age;
    const auto seen =
        PoolSessionMemory(c.limits_state_file).seen(PoolSessionMemory::Pool{c.pool_id, c.client_id});
    const auto stated = std::chrono::duration_cast<Age>(c.session_validity);
    const auto seconds = [](Age a) { return std::to_string((a.count() + 500) / 1000) + " s"; };
    if (seen.expired_at && *seen.expired_at <= stated)
        w.push_back("[pool] session_validity = " + std::to_string(c.session_validity.count()) +
                    " s, but the user pool refused a session of " + seconds(*seen.expired_at) +
                    " as expired here: set it to the app client's AuthSessionValidity (a new machine's decoy "
                    "follows it until a real session expires there).");
    if (seen.taken_at && *seen.taken_at > stated)
        w.push_back("[pool] session_validity = " + std::to_string(c.session_validity.count()) +
                    " s, but the user pool took an answer on a session of " + seconds(*seen.taken_at) +
                    " here: set it to the app client's AuthSessionValidity.");
    const int pool_codes = seen.wrong_codes.value_or(c.code_attempts);
    if (pool_codes > 0 && c.max_tries > pool_codes)
        w.push_back("max_tries = " + std::to_string(c.max_tries) + " is above the " +
                    std::to_string(pool_codes) + " wrong codes the user pool takes per session (" +
                    (seen.wrong_codes ? "as it ended a real login here" : "[pool] code_attempts") +
                    "): every code login, the decoy's too, ends at code " + std::to_string(pool_codes + 1) +
                    "; set max_tries to at most " + std::to_string(pool_codes) + ".");
    if (seen.wrong_codes && c.code_attempts > 0 && *seen.wrong_codes != c.code_attempts)
        w.push_back("[pool] code_attempts = " + std::to_string(c.code_attempts) +
                    ", but the user pool ended a "
                    "real login here after " +
                    std::to_string(*seen.wrong_codes) +
                    " wrong codes: set it to match (a new machine's decoy follows it until the pool ends a "
                    "session there).");
}

}  // namespace

std::optional<std::string> placeholder_warning(const Config& c) {
    if (c.pool_id != kExamplePoolId && c.client_id != kExampleClientId) return std::nullopt;
    return "[pool] pool_id " + c.pool_id + " / client_id " + c.client_id +
           ": the example's placeholder; no login can succeed until [pool] names your user pool and app "
           "client (check with: pam-passwordless-helper check-config --online).";
}

std::vector<std::string> config_warnings(const Config& c) {
    std::vector<std::string> w;
    for (const auto& key : c.obsolete_keys)
        w.push_back(key +
                    " no longer has an effect: remote logins are admitted by source network ([login] "
                    "max_remote_logins); remove it.");
    if (c.ask_identifier)
        w.push_back(
            "ask_identifier = yes: codes are sent to whatever identifier is typed; ownership is known only "
            "after "
            "sign-in, through claim '" +
            c.claim +
            "'. Keep the send limits tight. A member of the user pool who types their own address can "
            "tell which names are local accounts the claim may bind (they get a code); keep the pool's "
            "sign-up closed where account names are secret.");
    if (c.unknown_user == UnknownUser::Ignore)
        w.push_back(
            "unknown_user = ignore: users without an identity skip this module (PAM_IGNORE); the next module "
            "in the stack decides for them.");
    if (c.methods.local.empty() && c.methods.remote.empty())
        w.push_back("no method is enabled: every login fails.");
    if (c.browser) {
        const auto lists = [](const MethodPolicy& p) {
            return std::find(p.local.begin(), p.local.end(), Method::Browser) != p.local.end() ||
                   std::find(p.remote.begin(), p.remote.end(), Method::Browser) != p.remote.end();
        };
        bool listed = lists(c.methods);
        for (const auto& [name, pol] : c.services) listed = listed || lists(pol);
        if (!listed) w.push_back("[browser] is configured but no methods list browser: it is never offered.");
        if (c.browser->redirect_uri.find("://localhost") != std::string::npos ||
            c.browser->redirect_uri.find("://127.") != std::string::npos ||
            c.browser->redirect_uri.find("://[::1]") != std::string::npos)
            w.push_back("[browser] redirect_uri " + c.browser->redirect_uri +
                        " is on the loopback: it works only in a browser on this machine (for tests).");
        if (c.browser->require_passkey)
            w.push_back(
                "[browser] require_passkey = yes: a browser sign-in is accepted only when its ID token's amr "
                "says a passkey (swk or hwk); a user pool that puts no amr in its ID tokens refuses every "
                "browser sign-in. Try one before relying on it.");
    }
    // The decoy's passkey asks as the pool asked at the last real passkey login on this machine, and before
    // any as [passkey] user_verification states (login/passkey_uv_memory.hpp): a statement the pool
    // contradicted would mislead the next machine installed from this file.
    if (!c.passkey.rp_id.empty()) {
        const auto seen = PasskeyUvMemory(c.limits_state_file).asks_uv(c.pool_id, c.passkey.rp_id);
        if (seen && *seen != c.passkey.pool_requires_uv)
            w.push_back(std::string("[passkey] user_verification = ") +
                        uv_setting_name(c.passkey.pool_requires_uv) + ", but the user pool asked \"" +
                        uv_setting_name(*seen) +
                        "\" at the last passkey login here: set it to match (a new machine's decoy asks "
                        "as it says until its first passkey login).");
    }
    pool_session_warnings(c, w);
    policy_warnings(c, w);
    return w;
}

}  // namespace pp::helper
