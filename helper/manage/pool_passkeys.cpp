// The passkeys registered with the user pool: list, delete, register.
#include <pwd.h>
#include <syslog.h>

#include <algorithm>
#include <ctime>

#include "account_policy.hpp"
#include "base64.hpp"
#include "config/parser.hpp"
#include "credential_ids.hpp"
#include "credential_public_key.hpp"
#include "enrol_policy.hpp"
#include "key_verification.hpp"
#include "login/key_status.hpp"
#include "login_log.hpp"
#include "manage/manage_steps.hpp"
#include "manage/management.hpp"
#include "pam_u2f_import.hpp"
#include "session.hpp"
#include "trusted_file.hpp"
#include "webauthn_json.hpp"

namespace pp::helper {
namespace {

using wire::Outcome;

// Whether a login of `user` would have an identity to start with the pool (the login's resolve_identity,
// without asking anything): a line in the map, or a claim binding that serves this account.
bool has_pool_identity(const Config& c, const IdentityMap& map, const std::string& user, uid_t uid) {
    if (!map.lookup(user).empty()) return true;
    if (c.claim.empty() || !claim_may_bind(c, user, uid)) return false;
    return c.ask_identifier || valid_pool_username(user);
}

}  // namespace

// Passkeys registered with the user pool are the person's own pool account's: the pool authorises changes
// with the access token of a sign-in, so everybody, root included, first signs in with the pool.
Verdict Management::pool_passkeys(const protocol::Manage& request) {
    using Op = protocol::Manage::Op;
    const Op op = request.op;
    if (ctx_.peer.uid != 0 && local_account_name(ctx_.peer.uid) != rec_.user)
        return Verdict{Outcome::AuthErr, kOwnPasskeysOnly,
                       "caller uid " + std::to_string(ctx_.peer.uid) + " may not manage this user's passkeys",
                       true};  // summarised per caller (management.cpp, run)
    // Without an identity the sign-in below would walk the decoy, whose menu ends in a refusal that says
    // nothing. The decoy is there so that remote logins cannot tell who is enrolled; the caller here is root
    // (who can read the map) or the account itself, so it is told plainly.
    if (!has_pool_identity(cfg(), ctx_.runtime->identities, rec_.user,
                           local_account_uid(rec_.user).value_or(0)))
        return Verdict{Outcome::UserUnknown,
                       rec_.user + " has no identity in the mapping file" +
                           (cfg().claim.empty() ? std::string() : " and claim binding does not serve it") +
                           ".",
                       "no user-pool identity for this account"};
    std::vector<Method> methods;
    for (auto m : cfg().methods_for(kManageService, false))
        if (is_pool_method(m)) methods.push_back(m);
    if (methods.empty())
        return Verdict{Outcome::AuthErr, kNoPoolMethod, "no pool method for " + std::string(kManageService)};
    bool narrowed = false;  // the rule below left out some of the pool's methods
    if (op == Op::PoolRegister && ctx_.peer.uid != 0) {
        auto proof = self_register_proof(methods);
        if (auto* ending = std::get_if<Verdict>(&proof)) return *ending;
        auto strong = std::get<std::vector<Method>>(std::move(proof));
        narrowed = strong.size() < methods.size();
        methods = std::move(strong);
    }
    auto signed_in = sign_in_.sign_in(methods, true);
    if (auto* ending = std::get_if<Verdict>(&signed_in)) {
        // Only the methods strong enough were asked for (a passkey), and the pool offers the person none of
        // them: what is missing is the proof, and the person is told where to go instead.
        if (narrowed && ending->person_text() == kNoMethodAvailable)
            return self_registration_refused("the user pool offers this account none of " +
                                             config::join(methods) + ", the methods of [service " +
                                             kManageService + "] strong enough");
        return *ending;
    }
    auto& presence = std::get<ManagementSignIn::Presence>(signed_in);
    if (!presence.access_token)
        return Verdict{Outcome::AuthErr, kSignInFailed, "no access token from the user pool's sign-in"};
    const Secret token = std::move(*presence.access_token);
    presence.access_token.reset();
    auto& client = *ctx_.runtime->client;

    if (op == Op::PoolList) {
        const auto creds = client.list_webauthn_credentials(token, conn_.deadline());
        std::vector<std::string> ids;
        for (const auto& c : creds) ids.push_back(c.credential_id);
        const auto shorts = short_ids(ids);
        std::vector<std::string> listing;
        for (std::size_t i = 0; i < creds.size(); ++i) {
            const auto& c = creds[i];
            std::string transports;
            for (const auto& t : c.transports) transports += (transports.empty() ? "" : ",") + t;
            listing.push_back("id=" + c.credential_id + "\tshort=" + shorts[i] + "\tname=" + c.friendly_name +
                              "\trp_id=" + c.relying_party_id + "\tattachment=" + c.attachment +
                              "\ttransports=" + transports +
                              "\tcreated=" + std::to_string(static_cast<std::int64_t>(c.created_at)));
        }
        conn_.send_listing(listing);
        return done(
            std::to_string(creds.size()) + " passkey(s) registered with the user pool for " + rec_.user + ".",
            "listed user-pool passkeys");
    }
    // The person's passkeys change: the next login asks the pool what it offers (factor_memory.hpp), or the
    // remembered menu would leave out a passkey just registered.
    sign_in_.forget_factors();
    if (op == Op::PoolDelete) {
        // The pool deletes only by the whole id: a prefix is resolved against the account's own list.
        std::vector<std::string> ids;
        for (const auto& c : client.list_webauthn_credentials(token, conn_.deadline()))
            ids.push_back(c.credential_id);
        const auto named =
            manage::resolve_typed_id(request.cred_id, ids, "passkey", std::string(protocol::op_name(op)));
        if (auto* ending = std::get_if<Verdict>(&named)) return *ending;
        try {
            client.delete_webauthn_credential(token, std::get<std::string>(named), conn_.deadline());
        } catch (const cognito::ServiceError& e) {
            if (e.failure() == cognito::Failure::Rejected && e.name() == "ResourceNotFoundException")
                return Verdict{Outcome::AuthErr, kNoSuchPasskey, "pool-delete: " + e.message()};
            return service_failure(e);
        }
        return done(kDeletedPasskey, "deleted a user-pool passkey");
    }
    return pool_register(token);
}

// A passkey registered with the pool opens every service that accepts passkeys: its owner's own registration
// is proven as strongly as the weakest way into the strictest of them, by the rule a key enrolled here
// follows (enrol_policy.hpp), or it is left to root, who may register for anyone after any of the pool's
// sign-ins. Else a code would buy a passkey for a service that takes no code (review 31a). The proof must be
// a sign-in with the pool (its access token registers), so of the methods strong enough only the pool's
// count: a local key, stronger still, cannot give the token.
std::variant<std::vector<Method>, Verdict> Management::self_register_proof(const std::vector<Method>& pool) {
    const auto strong = methods_to_add(cfg(), Method::Passkey);
    std::vector<Method> methods;
    for (auto m : pool)
        if (std::find(strong.begin(), strong.end(), m) != strong.end()) methods.push_back(m);
    if (methods.empty())
        return self_registration_refused("no user-pool method of [service " + std::string(kManageService) +
                                         "] is as strong as the services that accept passkeys require");
    return methods;
}

Verdict Management::self_registration_refused(const std::string& why) const {
    return Verdict{
        Outcome::AuthErr,
        "Registering a passkey with the user pool here needs a stronger proof than this account can "
        "give; ask an administrator to run: pam-passwordless pool-register --user " +
            rec_.user,
        "self-registration refused: " + why};
}

Verdict Management::pool_register(const Secret& token) {
    auto& client = *ctx_.runtime->client;
    const auto start = client.start_webauthn_registration(token, conn_.deadline());
    const auto& options = start.options;
    const auto& policy = cfg().passkey;
    if (options.rp_id != policy.rp_id)
        return Verdict{Outcome::ServiceErr, kMisconfigured,
                       "user pool passkey rpId '" + loggable(options.rp_id, 128) +
                           "' is not the configured '" + policy.rp_id + "'"};
    if (std::find(options.algorithms.begin(), options.algorithms.end(), cose_number(KeyAlgorithm::Es256)) ==
        options.algorithms.end())
        return Verdict{Outcome::AuthErr, kNoUsableAlgorithm, "pool-register: ES256 not in pubKeyCredParams"};
    const std::string client_data =
        webauthn::client_data_json(webauthn::webauthn_create, options.challenge, policy.origin);
    const bool uv = options.user_verification == "required";
    CredentialRequest req{options.rp_id,
                          sha256_bytes(client_data),
                          uv,
                          manage::touch_timeout_ms(cfg()),
                          kTouchToRegister,
                          options.user_id,
                          options.user_name.empty() ? rec_.user : options.user_name,
                          cose_number(KeyAlgorithm::Es256),
                          options.exclude_credentials};
    const Credential reply = conn_.make_credential(req);
    if (auto refused = manage::credential_refused(reply.status)) return *refused;
    std::string registration;
    try {
        const int alg = reply.algorithm;
        registration = webauthn::registration_response_json(
            reply.cred_id, client_data, reply.fmt, webauthn::authdata_from_cbor(reply.auth_data),
            webauthn::AttestationStatement{alg, reply.signature, reply.x5c},
            webauthn::spki_from_fido_public_key(alg, reply.public_key), alg);
    } catch (const std::invalid_argument& e) {
        return Verdict{Outcome::AuthErr, kKeyAnswerUnusable, std::string("pool-register: ") + e.what()};
    }
    try {
        client.complete_webauthn_registration(token, registration, conn_.deadline());
    } catch (const cognito::ServiceError& e) {
        if (e.failure() == cognito::Failure::Rejected)
            return Verdict{Outcome::AuthErr, "The user pool refused the passkey (" + e.name() + ").",
                           "pool-register: " + e.name() + ": " + e.message()};
        return service_failure(e);
    }
    return done("Registered the passkey with the user pool for " + rec_.user + ".",
                "registered a user-pool passkey");
}

}  // namespace pp::helper
