// Locally enrolled security keys: enrol, list, import (rename and remove are in manage.cpp's dispatch).
#include <pwd.h>
#include <syslog.h>

#include <ctime>

#include "account_policy.hpp"
#include "base64.hpp"
#include "credential_ids.hpp"
#include "credential_public_key.hpp"
#include "enrol_policy.hpp"
#include "key_verification.hpp"
#include "login/key_status.hpp"
#include "login_log.hpp"
#include "manage/manage_steps.hpp"
#include "pam_u2f_import.hpp"
#include "rp_id.hpp"
#include "session.hpp"
#include "trusted_file.hpp"
#include "webauthn_json.hpp"

namespace pp::helper {

using wire::Outcome;

void Session::check_credential_status(wire::DeviceStatus status) {
    if (status != wire::DeviceStatus::Ok) throw login::key_status_verdict(status, login::KeyUse::Enrol);
}

void Session::enroll(CredentialStore& store, const std::string& requested_name) {
    const auto& policy = cfg().security_key;
    const auto existing = store.load(rec_.user);
    const std::string nickname = requested_name.empty()
                                     ? "security key " + std::to_string(existing.credentials.size() + 1)
                                     : requested_name;
    if (!valid_nickname(nickname)) throw Finish{Outcome::AuthErr, kBadNickname, "invalid nickname"};
    const std::string challenge = random_bytes(32);
    const bool uv = policy.user_verification == UserVerification::Required;
    CredentialRequest req{policy.rp_id,
                          challenge,
                          uv,
                          touch_timeout_ms(),
                          kTouchToEnrol,
                          random_bytes(32),
                          rec_.user,
                          cose_number(KeyAlgorithm::Es256),
                          {}};
    // The key refuses to make a second credential for this account, instead of the store holding two.
    for (const auto& c : existing.credentials)
        if (c.rp_id == policy.rp_id) req.exclude_ids.push_back(c.cred_id);
    const Credential reply = conn_.make_credential(req);
    check_credential_status(reply.status);
    const AttestationInput input{reply.fmt,     reply.auth_data,  reply.signature, reply.x5c,
                                 reply.cred_id, reply.public_key, reply.algorithm};
    // Made for policy.rp_id: verify_new_credential checked the key's rpIdHash against it.
    StoredCredential cred = [&] {
        try {
            return verify_new_credential(AttestationPolicy{policy.rp_id, challenge, uv}, input);
        } catch (const CredentialError& e) {
            throw Finish{Outcome::AuthErr, kKeyAnswerUnverified, std::string("enrol: ") + e.what()};
        }
    }();
    cred.user = rec_.user;
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
    succeed(text, "listed");
}

void Session::import(CredentialStore& store, const protocol::Manage& request) {
    const std::string& rp = request.rp_id;
    if (!RpId::valid(rp)) throw Finish{Outcome::AuthErr, kImportNeedsRpId, "import: no rp id"};
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
        throw Finish{Outcome::AuthErr, problems.empty() ? kImportedNothing : text,
                     "imported nothing, " + std::to_string(problems.size()) + " problem(s)"};
    succeed(text, "imported " + std::to_string(added) + " credential(s), " + std::to_string(problems.size()) +
                      " problem(s)");
}

}  // namespace pp::helper
