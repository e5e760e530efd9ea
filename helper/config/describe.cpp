// What check-config prints: the configuration as the helper understood it.
#include <sstream>

#include "config.hpp"
#include "config/parser.hpp"
#include "enrol_policy.hpp"
#include "json_web_key_set.hpp"

namespace pp::helper {

using config::join;

std::string describe_config(const Config& c) {
    std::ostringstream o;
    o << "configuration: " << c.source << "\n"
      << "pool: " << c.pool_id << " (region " << c.region << "), client " << c.client_id
      << (c.client_secret ? ", with a client secret" : ", no client secret") << "\n"
      << "endpoint: " << c.endpoint << "\nissuer: " << c.issuer << "\njwks: "
      << (c.jwks_file.empty() ? c.jwks_url
                              : "pinned in " + c.jwks_file +
                                    (c.pinned_keys ? " (" + std::to_string(c.pinned_keys->size()) + " key(s))"
                                                   : std::string()) +
                                    "; ID tokens are verified with these keys alone and " + c.jwks_url +
                                    " is never fetched for a login")
      << "\n"
      << "trust: " << (c.ca_file.empty() ? "system CA store" : c.ca_file)
      << " (peer and host always verified)\n"
      << "proxy: "
      << (c.proxy.empty() ? "none (https_proxy and the like in the environment are ignored)"
                          : c.proxy + " (CONNECT tunnel; TLS to the pool end to end)")
      << "\n"
      << "pool sessions: " << c.session_validity.count() << " s each (the app client's AuthSessionValidity), "
      << (c.code_attempts > 0 ? std::to_string(c.code_attempts) + " wrong codes each"
                              : std::string("wrong codes each not stated"))
      << "; the decoy's made-up session ends alike, or as real logins here found the pool\n"
      << "log level: " << (c.debug_log ? "debug (each login's steps; no code, token or secret)" : "info")
      << "\n"
      << "methods: " << join(c.methods.local) << "; remote logins: " << join(c.methods.remote) << "\n";
    for (const auto& [name, pol] : c.services) {
        o << "service " << name << ": " << join(pol.local) << "; remote logins: " << join(pol.remote);
        for (const auto& [other, what] : held_with(name))
            if (!c.services.count(std::string(other))) o << "; also for " << other << " (" << what << ")";
        o << "\n";
    }
    o << "max_tries: " << c.max_tries << ", request timeout " << c.request_timeout.count()
      << " s, login timeout " << c.login_timeout.count() << " s\n"
      << "binding: " << (c.mapping_file.empty() ? "" : "mapping " + c.mapping_file)
      << (c.mapping_file.empty() || c.claim.empty() ? "" : " and ")
      << (c.claim.empty() ? "" : "claim " + c.claim + " must equal the local user")
      << (c.ask_identifier ? "; unmapped users are asked for their email or phone" : "") << "\n";
    if (!c.claim.empty()) {
        o << "claim binding alone serves: accounts from uid " << c.claim_min_uid;
        if (!c.claim_allow_users.empty()) o << ", and by name:";
        for (const auto& u : c.claim_allow_users) o << " " << u;
        o << "\n";
    }
    o << "loopback remote hosts: "
      << (c.loopback_is_local ? "local logins (loopback_is_local = yes)" : "remote logins") << "\n"
      << "unknown users: "
      << (c.unknown_user == UnknownUser::Ignore ? "PAM_IGNORE"
                                                : "the decoy, ending as a real user failing the same way")
      << "\n"
      << "non-root callers: " << (c.allow_unprivileged_self ? "may authenticate themselves" : "refused")
      << "\n"
      << "logins at once: " << c.max_concurrent_logins << " local (no remote host), " << c.max_remote_logins
      << " remote (no source network more than its fair share), " << c.max_concurrent_per_caller
      << " per non-root caller; refusals logged once per caller or network every "
      << c.refusal_log_interval.count() << " s\n"
      << "factor memory: "
      << (c.remember_factors.count() == 0
              ? std::string("off (remember_factors = 0): every login asks the user pool before the menu")
              : "the menu before the user pool is asked, from what it offered a mapped identity at a login "
                "in the last " +
                    std::to_string(c.remember_factors.count()) + " s (remember_factors)")
      << "\n";
    const auto& k = c.security_key;
    o << "security keys: relying party " << k.rp_id << ", store " << k.store_dir << ", user verification "
      << (k.user_verification == UserVerification::Required    ? "required (PIN asked)"
          : k.user_verification == UserVerification::Preferred ? "preferred (not demanded)"
                                                               : "discouraged")
      << ", touch timeout " << k.touch_timeout.count() << " s\n";
    {
        const auto proof = methods_to_add(c, Method::SecurityKey);
        o << "self-enrolment: "
          << (proof.empty() ? "refused, root enrols keys (pam-passwordless enroll --user NAME)"
                            : "after proof with " + join(proof))
          << "\n";
    }
    if (!c.passkey.rp_id.empty()) {
        o << "user-pool passkeys: relying party " << c.passkey.rp_id << ", origin " << c.passkey.origin
          << "\n";
        std::vector<Method> proof;
        for (auto m : methods_to_add(c, Method::Passkey))
            if (is_pool_method(m)) proof.push_back(m);
        o << "self-registration (pool-register): "
          << (proof.empty()
                  ? std::string("refused, root registers passkeys (pam-passwordless pool-register --user "
                                "NAME)")
                  : "after proof with " + join(proof))
          << "\n";
    }
    if (c.browser) {
        const auto& b = *c.browser;
        std::string scopes;
        for (const auto& s : b.scopes) scopes += (scopes.empty() ? "" : " ") + s;
        o << "browser sign-in: managed login https://" << b.domain << ", public app client " << b.client_id
          << " (authorization code + PKCE, no secret), callback " << b.redirect_uri << ", scopes " << scopes
          << (b.require_passkey ? ", a passkey required (amr swk or hwk)" : "")
          << (b.link == BrowserSignIn::Link::Short ? ", short link to the callback page (its pool.json)"
                                                   : ", full authorize link")
          << (b.show_qr ? ", link shown with a QR code" : ", link shown without a QR code") << "\n";
    }
    const auto& l = c.limits;
    o << "limits: " << l.sends_per_identifier << " codes per identifier and " << l.sends_per_rhost
      << " per remote host every " << l.send_window.count() << " s, " << l.sends_per_hour
      << " per hour from this machine (" << l.remote_sends_per_hour() << " of them for remote logins); "
      << l.pool_asks_per_network << " uncounted requests to the pool per minute from one remote network ("
      << l.pool_asks_per_network * LimitPolicy::kSiteNetworks << " from one IPv6 /48, "
      << l.pool_asks_per_minute << " from all remote logins); "
      << "backoff after " << l.failures_before_backoff
      << " failed logins, remote and local counted apart (up to " << l.backoff_max.count() << " s); "
      << "state in " << c.limits_state_file << " (SQLite, at most " << l.state_max_bytes / 1024 << " KiB)\n";
    o << "recovery codes: " << (c.recovery.enabled ? "offered" : "not offered")
      << " to local logins (no remote host) while the user pool cannot be reached, once root has made a set "
         "for anyone; store "
      << c.recovery.store_dir;
    for (const auto& [name, on] : c.recovery.services) {
        o << "; service " << name << ": " << (on ? "yes" : "no");
        for (const auto& [other, what] : held_with(name))
            if (!c.services.count(std::string(other))) o << " (and " << other << ")";
    }
    o << "\n";
    return o.str();
}

}  // namespace pp::helper
