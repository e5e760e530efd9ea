// Managing locally enrolled security keys from the command line: enrol, list, rename, remove, import.
#include <pwd.h>
#include <syslog.h>

#include <ctime>

#include "account_policy.hpp"
#include "base64.hpp"
#include "credential_ids.hpp"
#include "credential_public_key.hpp"
#include "enrol_policy.hpp"
#include "key_verification.hpp"
#include "login_log.hpp"
#include "pam_u2f_import.hpp"
#include "session.hpp"
#include "trusted_file.hpp"
#include "webauthn_json.hpp"

namespace pp::helper {
namespace {

using wire::Outcome;

Finish no_such_account(const std::string& user) {
    return Finish{Outcome::UserUnknown, "There is no local account '" + user + "'.",
                  "target is not a local account"};
}

// Whether a login of `user` would have an identity to start with the pool (Session::resolve_identity, without
// asking anything): a line in the map, or a claim binding that serves this account.
bool has_pool_identity(const Config& c, const IdentityMap& map, const std::string& user, uid_t uid) {
    if (!map.lookup(user).empty()) return true;
    if (c.claim.empty() || !claim_may_bind(c, user, uid)) return false;
    return c.ask_identifier || valid_pool_username(user);
}

// The helper takes the id as the person typed it (whole or a unique prefix, as 'list' shows it) and answers
// for what it names.
std::string resolve_typed_id(std::string_view typed, const std::vector<std::string>& ids, const char* what,
                             const std::string& op) {
    if (typed.empty() || !printable_bounded(typed, 1400))
        throw Finish{Outcome::AuthErr, "No such " + std::string(what) + ".", op + ": bad credential id"};
    const IdMatch m = match_id(typed, ids);
    if (m.kind != IdMatch::Kind::Unique)
        throw Finish{Outcome::AuthErr, id_match_problem(m, typed, what),
                     op + ": credential id " +
                         (m.kind == IdMatch::Kind::Ambiguous  ? "ambiguous"
                          : m.kind == IdMatch::Kind::TooShort ? "too short"
                                                              : "unknown")};
    return m.id;
}

}  // namespace

void Session::manage(const wire::Message& request) {
    const std::string op(request.get_or(wire::Tag::Op, ""));
    rec_.method = "manage:" + loggable(op, 16);
    rec_.user = std::string(request.get_or(wire::Tag::User, ""));
    rec_.service = kManageService;
    // import names its accounts in the file; for it User is only the caller, for the audit line.
    if (!valid_local_user(rec_.user) && op != "import")
        throw Finish{Outcome::AuthErr, "Invalid user name.", "invalid target user"};
    if (!ctx_.runtime)
        throw Finish{Outcome::ServiceErr, kMisconfigured, "configuration: " + ctx_.config_error};
    const bool pool_op = op == "pool-register" || op == "pool-list" || op == "pool-delete";
    if (op != "enroll" && op != "list" && op != "rename" && op != "remove" && op != "import" && !pool_op)
        throw Finish{Outcome::AuthErr, "Unknown request.", "unknown management operation"};
    start_clock();
    // An account that does not exist here is said plainly (a sign-in cannot be for nobody); keys left in
    // the store by an account since deleted can still be listed, renamed and removed (below).
    const bool target_exists = op == "import" || local_account_uid(rec_.user).has_value();
    if (!target_exists && (op == "enroll" || pool_op)) throw no_such_account(rec_.user);
    if (pool_op) return manage_pool_passkeys(op, request);

    // root manages anyone; a user manages only their own keys, and changes them only after proving it is
    // them. Listing one's own keys needs no proof beyond the uid the kernel vouches for (SO_PEERCRED): it
    // shows only what that account's owner chose or caused (nicknames, dates, relying parties), the way
    // pam-u2f's own authfile is readable by its user, and a code sent for every look would train people to
    // type codes they did not ask for.
    if (ctx_.peer.uid != 0) {
        if (op == "import")
            throw Finish{Outcome::AuthErr, "Only root may import credentials.", "import by non-root"};
        if (local_account_name(ctx_.peer.uid) != rec_.user)
            throw Finish{Outcome::AuthErr, "You may manage only your own security keys.",
                         "caller uid " + std::to_string(ctx_.peer.uid) + " may not manage this user's keys"};
    }
    if (ctx_.peer.uid != 0 && op != "list") {
        authenticate(op == "enroll" ? self_enrol_proof() : cfg().methods_for(kManageService, false));
        if (!verified_) throw Finish{Outcome::AuthErr, kSignInFailed, "presence not proven"};
        verified_ = false;
    }

    CredentialStore store(cfg().security_key.store_dir);
    try {
        store.ensure_dir();
        if (!target_exists && store.load(rec_.user).credentials.empty()) throw no_such_account(rec_.user);
        if (op == "enroll") return enroll(store, std::string(request.get_or(wire::Tag::Text, "")));
        if (op == "list") return list(store);
        if (op == "import") return import(store, request);
        const auto stored = store.load(rec_.user).credentials;
        std::vector<std::string> ids;
        for (const auto& c : stored) ids.push_back(cognito::base64url_encode(c.cred_id));
        const std::string named =
            resolve_typed_id(request.get_or(wire::Tag::CredId, ""), ids, "security key", op);
        const std::string id =
            stored[static_cast<std::size_t>(std::find(ids.begin(), ids.end(), named) - ids.begin())].cred_id;
        if (op == "rename") {
            const std::string name(request.get_or(wire::Tag::Text, ""));
            if (!valid_nickname(name))
                throw Finish{Outcome::AuthErr, "A name is 1 to 64 printable characters.", "invalid nickname"};
            if (!store.rename(rec_.user, id, name))
                throw Finish{Outcome::AuthErr, "No such security key.", "rename: no such credential"};
            succeed("Renamed the security key to '" + name + "'.",
                    "renamed credential " + cognito::base64url_encode(id).substr(0, 16));
        }
        if (!store.remove(rec_.user, id))
            throw Finish{Outcome::AuthErr, "No such security key.", "remove: no such credential"};
        succeed("Removed the security key.",
                "removed credential " + cognito::base64url_encode(id).substr(0, 16));
    } catch (const FileError& e) {
        throw Finish{Outcome::ServiceErr, kMisconfigured, std::string("credential store: ") + e.what()};
    } catch (const CredentialError& e) {
        throw Finish{Outcome::AuthErr, e.what(), std::string("credential store: ") + e.what()};
    }
}

// A key enrolled here opens every service that accepts keys: its proof must be as strong as the weakest way
// into the strictest of them (enrol_policy.hpp), or the enrolment is left to root.
std::vector<Method> Session::self_enrol_proof() {
    auto methods = self_enrol_methods(cfg());
    if (std::find(methods.begin(), methods.end(), Method::SecurityKey) != methods.end()) {
        load_credentials();
        if (credentials_.empty()) std::erase(methods, Method::SecurityKey);
    }
    if (methods.empty())
        throw Finish{Outcome::AuthErr,
                     "Enrolling a security key here needs a stronger proof than this account can give; ask "
                     "an administrator to run: pam-passwordless enroll --user " +
                         rec_.user,
                     "self-enrolment refused: no method of [service " + std::string(kManageService) +
                         "] is as strong as the services that accept keys require"};
    return methods;
}

// Passkeys registered with the user pool are the person's own pool account's: the pool authorises changes
// with the access token of a sign-in, so everybody, root included, first signs in with the pool.
void Session::manage_pool_passkeys(const std::string& op, const wire::Message& request) {
    if (ctx_.peer.uid != 0 && local_account_name(ctx_.peer.uid) != rec_.user)
        throw Finish{Outcome::AuthErr, "You may manage only your own passkeys.",
                     "caller uid " + std::to_string(ctx_.peer.uid) + " may not manage this user's passkeys"};
    // Without an identity the sign-in below would walk the decoy, whose menu ends in a refusal that says
    // nothing. The decoy is there so that remote logins cannot tell who is enrolled; the caller here is root
    // (who can read the map) or the account itself, so it is told plainly.
    if (!has_pool_identity(cfg(), ctx_.runtime->identities, rec_.user,
                           local_account_uid(rec_.user).value_or(0)))
        throw Finish{Outcome::UserUnknown,
                     rec_.user + " has no identity in the mapping file" +
                         (cfg().claim.empty() ? std::string() : " and claim binding does not serve it") + ".",
                     "no user-pool identity for this account"};
    std::vector<Method> methods;
    for (auto m : cfg().methods_for(kManageService, false))
        if (is_pool_method(m)) methods.push_back(m);
    if (methods.empty())
        throw Finish{Outcome::AuthErr, "No user-pool sign-in method is enabled here.",
                     "no pool method for " + std::string(kManageService)};
    want_access_token_ = true;
    authenticate(methods);
    if (!verified_ || !access_token_)
        throw Finish{Outcome::AuthErr, kSignInFailed, "no access token from the user pool's sign-in"};
    verified_ = false;
    auto& client = *ctx_.runtime->client;
    const Secret token = std::move(*access_token_);
    access_token_.reset();

    if (op == "pool-list") {
        const auto creds = client.list_webauthn_credentials(token, deadline_);
        std::vector<std::string> ids;
        for (const auto& c : creds) ids.push_back(c.credential_id);
        const auto shorts = short_ids(ids);
        wire::Message listing(wire::Type::Listing);
        for (std::size_t i = 0; i < creds.size(); ++i) {
            const auto& c = creds[i];
            std::string transports;
            for (const auto& t : c.transports) transports += (transports.empty() ? "" : ",") + t;
            listing.add(wire::Tag::Record,
                        "id=" + c.credential_id + "\tshort=" + shorts[i] + "\tname=" + c.friendly_name +
                            "\trp_id=" + c.relying_party_id + "\tattachment=" + c.attachment +
                            "\ttransports=" + transports +
                            "\tcreated=" + std::to_string(static_cast<std::int64_t>(c.created_at)));
        }
        send(listing);
        succeed(
            std::to_string(creds.size()) + " passkey(s) registered with the user pool for " + rec_.user + ".",
            "listed user-pool passkeys");
    }
    // The person's passkeys change: the next login asks the pool what it offers (factor_memory.hpp), or the
    // remembered menu would leave out a passkey just registered.
    if (!known_.empty()) forget_factors(known_.front());
    if (op == "pool-delete") {
        // The pool deletes only by the whole id: a prefix is resolved against the account's own list.
        std::vector<std::string> ids;
        for (const auto& c : client.list_webauthn_credentials(token, deadline_))
            ids.push_back(c.credential_id);
        const std::string id = resolve_typed_id(request.get_or(wire::Tag::CredId, ""), ids, "passkey", op);
        try {
            client.delete_webauthn_credential(token, id, deadline_);
        } catch (const cognito::ServiceError& e) {
            if (e.failure() == cognito::Failure::Rejected && e.name() == "ResourceNotFoundException")
                throw Finish{Outcome::AuthErr, "No such passkey.", "pool-delete: " + e.message()};
            throw;
        }
        succeed("Deleted the passkey from the user pool.", "deleted a user-pool passkey");
    }

    const auto start = client.start_webauthn_registration(token, deadline_);
    const auto& options = start.options;
    const auto& policy = cfg().passkey;
    if (options.rp_id != policy.rp_id)
        throw Finish{Outcome::ServiceErr, kMisconfigured,
                     "user pool passkey rpId '" + loggable(options.rp_id, 128) + "' is not the configured '" +
                         policy.rp_id + "'"};
    if (std::find(options.algorithms.begin(), options.algorithms.end(), cose_number(KeyAlgorithm::Es256)) ==
        options.algorithms.end())
        throw Finish{Outcome::AuthErr, "The user pool accepts no algorithm this key offers.",
                     "pool-register: ES256 not in pubKeyCredParams"};
    const std::string client_data =
        cognito::client_data_json(cognito::webauthn_create, options.challenge, policy.origin);
    const bool uv = options.user_verification == "required";
    wire::Message req =
        key_request(wire::Type::CredentialRequest, options.rp_id, sha256_bytes(client_data), uv,
                    touch_timeout_ms(), "Touch your security key to register it with the user pool.");
    req.add(wire::Tag::UserId, options.user_id)
        .add(wire::Tag::User, options.user_name.empty() ? rec_.user : options.user_name)
        .add(wire::Tag::Algorithm, static_cast<std::uint32_t>(cose_number(KeyAlgorithm::Es256)));
    for (const auto& id : options.exclude_credentials) req.add(wire::Tag::CredId, id);
    const wire::Message reply = exchange_with_key(req, wire::Type::Credential);
    check_credential_status(reply);
    std::string registration;
    try {
        const int alg =
            static_cast<int>(static_cast<std::int32_t>(reply.get_u32(wire::Tag::Algorithm).value_or(0)));
        registration = cognito::registration_response_json(
            std::string(reply.get_or(wire::Tag::CredId, "")), client_data,
            std::string(reply.get_or(wire::Tag::Fmt, "")),
            cognito::authdata_from_cbor(reply.get_or(wire::Tag::AuthData, "")),
            cognito::AttestationStatement{alg, std::string(reply.get_or(wire::Tag::Signature, "")),
                                          std::string(reply.get_or(wire::Tag::X5c, ""))},
            cognito::spki_from_fido_public_key(alg, reply.get_or(wire::Tag::PublicKey, "")), alg);
    } catch (const std::invalid_argument& e) {
        throw Finish{Outcome::AuthErr, "The security key's answer is unusable.",
                     std::string("pool-register: ") + e.what()};
    }
    try {
        client.complete_webauthn_registration(token, registration, deadline_);
    } catch (const cognito::ServiceError& e) {
        if (e.failure() == cognito::Failure::Rejected)
            throw Finish{Outcome::AuthErr, "The user pool refused the passkey (" + e.name() + ").",
                         "pool-register: " + e.name() + ": " + e.message()};
        throw;
    }
    succeed("Registered the passkey with the user pool for " + rec_.user + ".",
            "registered a user-pool passkey");
}

void Session::check_credential_status(const wire::Message& reply) {
    switch (device_status(reply)) {
        case wire::DeviceStatus::Ok:
            return;
        case wire::DeviceStatus::NoDevice:
            throw Finish{Outcome::AuthinfoUnavail,
                         "No security key found. Plug in your security key and try again.", "enrol: no key"};
        case wire::DeviceStatus::Denied:
            throw Finish{Outcome::AuthErr, "The security key refused: is it enrolled already?",
                         "enrol: refused or already enrolled"};
        case wire::DeviceStatus::Timeout:
            throw Finish{Outcome::AuthErr, "Security key timed out: no touch in time.", "enrol: no touch"};
        case wire::DeviceStatus::PinRequired:
            throw Finish{Outcome::CredInsufficient, "This key needs a PIN; set one and try again.",
                         "enrol: no PIN"};
        case wire::DeviceStatus::PinInvalid:
            throw Finish{Outcome::AuthErr, "Wrong security key PIN.", "enrol: wrong PIN"};
        default:
            throw Finish{Outcome::AuthinfoUnavail, "The security key did not answer properly.",
                         "enrol: key error"};
    }
}

void Session::enroll(CredentialStore& store, const std::string& requested_name) {
    const auto& policy = cfg().security_key;
    const auto existing = store.load(rec_.user);
    const std::string nickname = requested_name.empty()
                                     ? "security key " + std::to_string(existing.credentials.size() + 1)
                                     : requested_name;
    if (!valid_nickname(nickname))
        throw Finish{Outcome::AuthErr, "A name is 1 to 64 printable characters.", "invalid nickname"};
    const std::string challenge = random_bytes(32);
    const bool uv = policy.user_verification == UserVerification::Required;
    wire::Message req = key_request(wire::Type::CredentialRequest, policy.rp_id, challenge, uv,
                                    touch_timeout_ms(), "Touch your security key to enrol it.");
    req.add(wire::Tag::UserId, random_bytes(32))
        .add(wire::Tag::User, rec_.user)
        .add(wire::Tag::Algorithm, static_cast<std::uint32_t>(cose_number(KeyAlgorithm::Es256)));
    // The key refuses to make a second credential for this account, instead of the store holding two.
    for (const auto& c : existing.credentials)
        if (c.rp_id == policy.rp_id) req.add(wire::Tag::CredId, c.cred_id);
    const wire::Message reply = exchange_with_key(req, wire::Type::Credential);
    check_credential_status(reply);
    const AttestationInput input{
        std::string(reply.get_or(wire::Tag::Fmt, "")),
        std::string(reply.get_or(wire::Tag::AuthData, "")),
        std::string(reply.get_or(wire::Tag::Signature, "")),
        std::string(reply.get_or(wire::Tag::X5c, "")),
        std::string(reply.get_or(wire::Tag::CredId, "")),
        std::string(reply.get_or(wire::Tag::PublicKey, "")),
        static_cast<int>(static_cast<std::int32_t>(reply.get_u32(wire::Tag::Algorithm).value_or(0)))};
    StoredCredential cred;
    try {
        cred = verify_new_credential(AttestationPolicy{policy.rp_id, challenge, uv}, input);
    } catch (const CredentialError& e) {
        throw Finish{Outcome::AuthErr, "The security key's answer did not verify.",
                     std::string("enrol: ") + e.what()};
    }
    cred.user = rec_.user;
    cred.rp_id = policy.rp_id;
    // Enrolled while the PIN was required: it stays required for this credential, whatever the policy later.
    cred.uv_required = uv;
    cred.nickname = nickname;
    cred.created = std::time(nullptr);
    store.add(cred);
    succeed("Enrolled security key '" + nickname + "' for " + rec_.user + ".",
            "enrolled credential " + cognito::base64url_encode(cred.cred_id).substr(0, 16));
}

void Session::list(const CredentialStore& store) {
    const auto loaded = store.load(rec_.user);
    // What a login with the credential demands: "required" when the PIN is asked for (the credential's own
    // requirement or the policy's), otherwise whether the key verified the person at enrolment.
    const auto uv_column = [&](const StoredCredential& c) -> std::string {
        if (c.uv_required || cfg().security_key.user_verification == UserVerification::Required)
            return "required";
        return c.uv ? "yes" : "no";
    };
    std::vector<std::string> ids;
    for (const auto& c : loaded.credentials) ids.push_back(cognito::base64url_encode(c.cred_id));
    const auto shorts = short_ids(ids);
    wire::Message listing(wire::Type::Listing);
    for (std::size_t i = 0; i < loaded.credentials.size(); ++i) {
        const auto& c = loaded.credentials[i];
        listing.add(wire::Tag::Record, "id=" + ids[i] + "\tshort=" + shorts[i] + "\tname=" + c.nickname +
                                           "\talg=" + (c.alg == KeyAlgorithm::Es256 ? "es256" : "eddsa") +
                                           "\tuv=" + uv_column(c) + "\tcreated=" + std::to_string(c.created) +
                                           "\tlast_used=" + std::to_string(c.last_used) +
                                           "\trp_id=" + c.rp_id);
    }
    send(listing);
    std::string text =
        std::to_string(loaded.credentials.size()) + " security key(s) enrolled for " + rec_.user + ".";
    if (!local_account_uid(rec_.user))
        text += "\n" + rec_.user + " is not a local account: these keys sign nobody in; remove them.";
    for (const auto& p : loaded.problems) text += "\nskipped a damaged record: " + p;
    succeed(text, "listed");
}

void Session::import(CredentialStore& store, const wire::Message& request) {
    const std::string rp(request.get_or(wire::Tag::RpId, ""));
    if (!RpId::valid(rp))
        throw Finish{Outcome::AuthErr, "import needs the origin pam-u2f used (--rp-id).", "import: no rp id"};
    std::vector<std::string> problems;
    const auto creds =
        parse_pam_u2f_authfile(request.get_or(wire::Tag::ImportData, ""), rp, std::time(nullptr), problems);
    std::size_t added = 0;
    for (const auto& c : creds) {
        if (!valid_local_user(c.user)) {
            problems.push_back("user '" + loggable(c.user, 64) + "': not a valid local user name");
            continue;
        }
        try {
            store.add(c);
            ++added;
        } catch (const CredentialError& e) {
            problems.push_back("user " + c.user + ": " + e.what());
        }
    }
    for (const auto& p : problems) log_line(LOG_WARNING, "import: %s", loggable(p, 300).c_str());
    std::string text = "Imported " + std::to_string(added) + " credential(s).";
    for (const auto& p : problems) text += "\nnot imported: " + p;
    // An import that imported nothing did not do what was asked: a failure, so a script notices.
    if (added == 0)
        throw Finish{Outcome::AuthErr,
                     problems.empty() ? "Imported nothing: the file holds no pam-u2f line." : text,
                     "imported nothing, " + std::to_string(problems.size()) + " problem(s)"};
    succeed(text, "imported " + std::to_string(added) + " credential(s), " + std::to_string(problems.size()) +
                      " problem(s)");
}

}  // namespace pp::helper
