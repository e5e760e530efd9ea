// Credential-management requests from the command line: who may ask what, and the dispatch to local keys
// (local_keys.cpp) and the user pool's passkeys (pool_passkeys.cpp).
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
#include "session.hpp"
#include "trusted_file.hpp"
#include "webauthn_json.hpp"

namespace pp::helper {

using wire::Outcome;

namespace manage {

Finish no_such_account(const std::string& user) {
    return Finish{Outcome::UserUnknown, "There is no local account '" + user + "'.",
                  "target is not a local account"};
}

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

}  // namespace manage

using manage::no_such_account;
using manage::resolve_typed_id;

// A management request succeeds for a caller the kernel vouches for (SO_PEERCRED): root, or the account's
// own uid. manage() has asked the owner for what more a change needs (a proof of presence) before this.
class CallerAuthority {
  public:
    static std::optional<Verified> allow(uid_t caller, const std::string& user, std::string reason) {
        if (caller != 0 && local_account_name(caller) != user) return std::nullopt;
        return Verified(user, Verified::By::Caller, std::nullopt, "", std::move(reason));
    }
};

void Session::succeed(const std::string& text, const std::string& reason) {
    const auto allowed = CallerAuthority::allow(ctx_.peer.uid, rec_.user, reason);
    if (!allowed) throw Finish{Outcome::AuthErr, kSignInFailed, "caller may not change this user"};
    throw Verdict(*allowed, text);
}

void Session::manage(const protocol::Manage& request) {
    using Op = protocol::Manage::Op;
    // An unknown op never gets here: protocol::Manage::decode refuses it (session.cpp).
    const Op op = request.op;
    const std::string op_text = protocol::op_name(op);
    rec_.method = "manage:" + op_text;
    rec_.user = request.user;
    rec_.service = kManageService;
    // import names its accounts in the file; for it User is only the caller, for the audit line.
    if (!valid_local_user(rec_.user) && op != Op::Import)
        throw Finish{Outcome::AuthErr, kInvalidUserName, "invalid target user"};
    if (!ctx_.runtime)
        throw Finish{Outcome::ServiceErr, kMisconfigured, "configuration: " + ctx_.config_error};
    const bool pool_op = op == Op::PoolRegister || op == Op::PoolList || op == Op::PoolDelete;
    conn_.start_clock(cfg().login_timeout);
    // An account that does not exist here is said plainly (a sign-in cannot be for nobody); keys left in
    // the store by an account since deleted can still be listed, renamed and removed (below).
    const bool target_exists = op == Op::Import || local_account_uid(rec_.user).has_value();
    if (!target_exists && (op == Op::Enroll || pool_op)) throw no_such_account(rec_.user);
    if (pool_op) return manage_pool_passkeys(request);

    // root manages anyone; a user manages only their own keys, and changes them only after proving it is
    // them. Listing one's own keys needs no proof beyond the uid the kernel vouches for (SO_PEERCRED): it
    // shows only what that account's owner chose or caused (nicknames, dates, relying parties), the way
    // pam-u2f's own authfile is readable by its user, and a code sent for every look would train people to
    // type codes they did not ask for.
    if (ctx_.peer.uid != 0) {
        if (op == Op::Import) throw Finish{Outcome::AuthErr, kImportRootOnly, "import by non-root"};
        if (local_account_name(ctx_.peer.uid) != rec_.user)
            throw Finish{Outcome::AuthErr, kOwnKeysOnly,
                         "caller uid " + std::to_string(ctx_.peer.uid) + " may not manage this user's keys"};
    }
    if (ctx_.peer.uid != 0 && op != Op::List) {
        authenticate(op == Op::Enroll ? self_enrol_proof() : cfg().methods_for(kManageService, false));
        if (!verified_) throw Finish{Outcome::AuthErr, kSignInFailed, "presence not proven"};
        verified_.reset();
    }

    CredentialStore store(cfg().security_key.store_dir);
    try {
        store.ensure_dir();
        if (!target_exists && store.load(rec_.user).credentials.empty()) throw no_such_account(rec_.user);
        if (op == Op::Enroll) return enroll(store, request.text.value_or(""));
        if (op == Op::List) return list(store);
        if (op == Op::Import) return import(store, request);
        const auto stored = store.load(rec_.user).credentials;
        std::vector<std::string> ids;
        for (const auto& c : stored) ids.push_back(cognito::base64url_encode(c.cred_id));
        const std::string named = resolve_typed_id(request.cred_id, ids, "security key", op_text);
        const std::string id =
            stored[static_cast<std::size_t>(std::find(ids.begin(), ids.end(), named) - ids.begin())].cred_id;
        if (op == Op::Rename) {
            const std::string name = request.text.value_or("");
            if (!valid_nickname(name)) throw Finish{Outcome::AuthErr, kBadNickname, "invalid nickname"};
            if (!store.rename(rec_.user, id, name))
                throw Finish{Outcome::AuthErr, kNoSuchKey, "rename: no such credential"};
            succeed("Renamed the security key to '" + name + "'.",
                    "renamed credential " + cognito::base64url_encode(id).substr(0, 16));
        }
        if (!store.remove(rec_.user, id))
            throw Finish{Outcome::AuthErr, kNoSuchKey, "remove: no such credential"};
        succeed(kRemovedKey, "removed credential " + cognito::base64url_encode(id).substr(0, 16));
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

}  // namespace pp::helper
