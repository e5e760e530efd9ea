// Locally enrolled security keys: enrol, list, import, rename and remove.
#include <syslog.h>

#include <algorithm>
#include <ctime>

#include "account_policy.hpp"
#include "base64.hpp"
#include "credential_ids.hpp"
#include "credential_public_key.hpp"
#include "enrol_policy.hpp"
#include "key_verification.hpp"
#include "login_log.hpp"
#include "manage/manage_steps.hpp"
#include "manage/management.hpp"
#include "pam_u2f_import.hpp"
#include "rp_id.hpp"
#include "session.hpp"

namespace pp::helper {

using wire::Outcome;

Verdict Management::enrol(CredentialStore& store, const std::string& requested_name) {
    const auto& policy = cfg().security_key;
    const auto existing = store.load(rec_.user);
    const std::string nickname = requested_name.empty()
                                     ? "security key " + std::to_string(existing.credentials.size() + 1)
                                     : requested_name;
    if (!valid_nickname(nickname)) return Verdict{Outcome::AuthErr, kBadNickname, "invalid nickname"};
    const std::string challenge = random_bytes(32);
    const bool uv = policy.user_verification == UserVerification::Required;
    CredentialRequest req{policy.rp_id,
                          challenge,
                          uv,
                          manage::touch_timeout_ms(cfg()),
                          kTouchToEnrol,
                          random_bytes(32),
                          rec_.user,
                          cose_number(KeyAlgorithm::Es256),
                          {}};
    // The key refuses to make a second credential for this account, instead of the store holding two.
    for (const auto& c : existing.credentials)
        if (c.rp_id == policy.rp_id) req.exclude_ids.push_back(c.cred_id);
    const Credential reply = conn_.make_credential(req);
    if (auto refused = manage::credential_refused(reply.status)) return *refused;
    const AttestationInput input{reply.fmt,     reply.auth_data,  reply.signature, reply.x5c,
                                 reply.cred_id, reply.public_key, reply.algorithm};
    // Made for policy.rp_id: verify_new_credential checked the key's rpIdHash against it.
    std::optional<StoredCredential> verified;
    try {
        verified = verify_new_credential(AttestationPolicy{policy.rp_id, challenge, uv}, input);
    } catch (const CredentialError& e) {
        return Verdict{Outcome::AuthErr, kKeyAnswerUnverified, std::string("enrol: ") + e.what()};
    }
    StoredCredential& cred = *verified;
    cred.user = rec_.user;
    // Enrolled while the PIN was required: it stays required for this credential, whatever the policy later.
    cred.uv_required = uv;
    cred.nickname = nickname;
    cred.created = std::time(nullptr);
    store.add(cred);
    return done("Enrolled security key '" + nickname + "' for " + rec_.user + ".",
                "enrolled credential " + base64url_encode(cred.cred_id).substr(0, 16));
}

Verdict Management::list(const CredentialStore& store) {
    const auto loaded = store.load(rec_.user);
    // What a login with the credential demands: "required" when the PIN is asked for (the credential's own
    // requirement or the policy's), otherwise whether the key verified the person at enrolment.
    const auto uv_column = [&](const StoredCredential& c) -> std::string {
        if (c.uv_required || cfg().security_key.user_verification == UserVerification::Required)
            return "required";
        return c.uv ? "yes" : "no";
    };
    std::vector<std::string> ids;
    for (const auto& c : loaded.credentials) ids.push_back(base64url_encode(c.cred_id));
    const auto shorts = short_ids(ids);
    std::vector<std::string> listing;
    for (std::size_t i = 0; i < loaded.credentials.size(); ++i) {
        const auto& c = loaded.credentials[i];
        listing.push_back("id=" + ids[i] + "\tshort=" + shorts[i] + "\tname=" + c.nickname +
                          "\talg=" + (c.alg == KeyAlgorithm::Es256 ? "es256" : "eddsa") +
                          "\tuv=" + uv_column(c) + "\tcreated=" + std::to_string(c.created) +
                          "\tlast_used=" + std::to_string(c.last_used) + "\trp_id=" + c.rp_id.str());
    }
    conn_.send_listing(listing);
    std::string text =
        std::to_string(loaded.credentials.size()) + " security key(s) enrolled for " + rec_.user + ".";
    if (!local_account_uid(rec_.user))
        text += "\n" + rec_.user + " is not a local account: these keys sign nobody in; remove them.";
    for (const auto& p : loaded.problems) text += "\nskipped a damaged record: " + p;
    return done(text, "listed");
}

Verdict Management::import(CredentialStore& store, const protocol::Manage& request) {
    const std::string& rp = request.rp_id;
    if (!RpId::valid(rp)) return Verdict{Outcome::AuthErr, kImportNeedsRpId, "import: no rp id"};
    std::vector<std::string> problems;
    const auto creds = parse_pam_u2f_authfile(request.import_data, rp, std::time(nullptr), problems);
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
        return Verdict{Outcome::AuthErr, problems.empty() ? kImportedNothing : text,
                       "imported nothing, " + std::to_string(problems.size()) + " problem(s)"};
    return done(text, "imported " + std::to_string(added) + " credential(s), " +
                          std::to_string(problems.size()) + " problem(s)");
}

Verdict Management::rename_or_remove(CredentialStore& store, const protocol::Manage& request) {
    using Op = protocol::Manage::Op;
    const auto stored = store.load(rec_.user).credentials;
    std::vector<std::string> ids;
    for (const auto& c : stored) ids.push_back(base64url_encode(c.cred_id));
    const auto named = manage::resolve_typed_id(request.cred_id, ids, "security key",
                                                std::string(protocol::op_name(request.op)));
    if (auto* ending = std::get_if<Verdict>(&named)) return *ending;
    const auto at = std::find(ids.begin(), ids.end(), std::get<std::string>(named)) - ids.begin();
    const std::string id = stored[static_cast<std::size_t>(at)].cred_id;
    if (request.op == Op::Rename) {
        const std::string name = request.text.value_or("");
        if (!valid_nickname(name)) return Verdict{Outcome::AuthErr, kBadNickname, "invalid nickname"};
        if (!store.rename(rec_.user, id, name))
            return Verdict{Outcome::AuthErr, kNoSuchKey, "rename: no such credential"};
        return done("Renamed the security key to '" + name + "'.",
                    "renamed credential " + base64url_encode(id).substr(0, 16));
    }
    if (!store.remove(rec_.user, id))
        return Verdict{Outcome::AuthErr, kNoSuchKey, "remove: no such credential"};
    return done(kRemovedKey, "removed credential " + base64url_encode(id).substr(0, 16));
}

}  // namespace pp::helper
