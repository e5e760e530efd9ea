// Credential-management requests from the command line: who may ask what, the proof of presence a change
// needs, and the dispatch to local keys (local_keys.cpp) and the user pool's passkeys (pool_passkeys.cpp).
#include "manage/management.hpp"

#include <syslog.h>

#include <algorithm>

#include "account_policy.hpp"
#include "credential_ids.hpp"
#include "enrol_policy.hpp"
#include "login/key_status.hpp"
#include "login_log.hpp"
#include "login_steps.hpp"
#include "manage/manage_steps.hpp"
#include "session.hpp"
#include "trusted_file.hpp"

namespace pp::helper {

using wire::Outcome;

namespace manage {

Verdict no_such_account(const std::string& user) {
    return Verdict{Outcome::UserUnknown, "There is no local account '" + user + "'.",
                   "target is not a local account"};
}

std::variant<std::string, Verdict> resolve_typed_id(std::string_view typed,
                                                    const std::vector<std::string>& ids, const char* what,
                                                    const std::string& op) {
    if (typed.empty() || !printable_bounded(typed, 1400))
        return Verdict{Outcome::AuthErr, "No such " + std::string(what) + ".", op + ": bad credential id"};
    const IdMatch m = match_id(typed, ids);
    if (m.kind != IdMatch::Kind::Unique)
        return Verdict{Outcome::AuthErr, id_match_problem(m, typed, what),
                       op + ": credential id " +
                           (m.kind == IdMatch::Kind::Ambiguous  ? "ambiguous"
                            : m.kind == IdMatch::Kind::TooShort ? "too short"
                                                                : "unknown")};
    return m.id;
}

std::optional<Verdict> credential_refused(wire::DeviceStatus status) {
    if (status == wire::DeviceStatus::Ok) return std::nullopt;
    return login::key_status_verdict(status, login::KeyUse::Enrol);
}

std::uint32_t touch_timeout_ms(const Config& c) {
    return static_cast<std::uint32_t>(c.security_key.touch_timeout.count() * 1000);
}

}  // namespace manage

using manage::no_such_account;

// A management request succeeds for a caller the kernel vouches for (SO_PEERCRED): root, or the account's
// own uid. run() has asked the owner for what more a change needs (a proof of presence) before this.
class CallerAuthority {
  public:
    static std::optional<Verified> allow(uid_t caller, const std::string& user, std::string reason) {
        if (caller != 0 && local_account_name(caller) != user) return std::nullopt;
        return Verified(user, Verified::By::Caller, std::nullopt, "", std::move(reason));
    }
};

Management::Management(const LoginContext& ctx, Connection& conn, AuditRecord& rec, ManagementSignIn& sign_in)
    : ctx_(ctx), conn_(conn), rec_(rec), sign_in_(sign_in) {}

Verdict Management::done(const std::string& text, const std::string& reason) const {
    const auto allowed = CallerAuthority::allow(ctx_.peer.uid, rec_.user, reason);
    if (!allowed) return Verdict{Outcome::AuthErr, kSignInFailed, "caller may not change this user"};
    return Verdict(*allowed, text);
}

// A request of a caller other than root that changes nothing (a refusal, a name that is no account, a listing
// of its own keys) is summarised per caller (session.cpp), as refused connections are: any local user may
// repeat it as fast as it can connect, and each is one more of the same line. A change is audited in full.
Verdict Management::summarised_for(Verdict v) const {
    return ctx_.peer.uid == 0 ? v : v.as_summarised();
}

Verdict Management::run(const protocol::Manage& request) {
    using Op = protocol::Manage::Op;
    // An unknown op never gets here: protocol::Manage::decode refuses it (session.cpp).
    const Op op = request.op;
    rec_.method = "manage:" + std::string(protocol::op_name(op));
    rec_.user = request.user;
    rec_.service = kManageService;
    // import names its accounts in the file; for it User is only the caller, for the audit line.
    // A caller other than root refused for what it asked is summarised per caller (session.cpp), as refused
    // connections are: any local user can ask as fast as it can connect, and each refusal is one more of
    // the same line.
    const bool summarised = ctx_.peer.uid != 0;
    if (!valid_local_user(rec_.user) && op != Op::Import)
        return Verdict{Outcome::AuthErr, kInvalidUserName, "invalid target user", summarised};
    if (!ctx_.runtime)
        return Verdict{Outcome::ServiceErr, kMisconfigured, "configuration: " + ctx_.config_error};
    const bool pool_op = op == Op::PoolRegister || op == Op::PoolList || op == Op::PoolDelete;
    conn_.start_clock(cfg().login_timeout);
    // An account that does not exist here is said plainly (a sign-in cannot be for nobody); keys left in
    // the store by an account since deleted can still be listed, renamed and removed (local_keys).
    const bool target_exists = op == Op::Import || local_account_uid(rec_.user).has_value();
    if (!target_exists && (op == Op::Enroll || pool_op)) return summarised_for(no_such_account(rec_.user));
    try {
        return pool_op ? pool_passkeys(request) : local_keys(request, target_exists);
    } catch (const cognito::ServiceError& e) {
        return service_failure(e);
    }
}

Verdict Management::local_keys(const protocol::Manage& request, bool target_exists) {
    using Op = protocol::Manage::Op;
    const Op op = request.op;
    if (auto refused = refused_before_local_change(op)) return *refused;
    CredentialStore store(cfg().security_key.store_dir);
    try {
        store.ensure_dir();
        if (!target_exists && store.load(rec_.user).credentials.empty())
            return summarised_for(no_such_account(rec_.user));
        switch (op) {
            case Op::Enroll:
                return enrol(store, request.text.value_or(""));
            case Op::List:
                return summarised_for(list(store));
            case Op::Import:
                return import(store, request);
            default:
                return rename_or_remove(store, request);
        }
    } catch (const FileError& e) {
        return Verdict{Outcome::ServiceErr, kMisconfigured, std::string("credential store: ") + e.what()};
    } catch (const CredentialError& e) {
        return Verdict{Outcome::AuthErr, e.what(), std::string("credential store: ") + e.what()};
    }
}

// root manages anyone; a user manages only their own keys, and changes them only after proving it is them.
// Listing one's own keys needs no proof beyond the uid the kernel vouches for (SO_PEERCRED): it shows only
// what that account's owner chose or caused (nicknames, dates, relying parties), the way pam-u2f's own
// authfile is readable by its user, and a code sent for every look would train people to type codes they did
// not ask for.
std::optional<Verdict> Management::refused_before_local_change(protocol::Manage::Op op) {
    using Op = protocol::Manage::Op;
    if (ctx_.peer.uid == 0) return std::nullopt;
    // Refusals of what the caller may not ask: summarised per caller (see run).
    if (op == Op::Import) return Verdict{Outcome::AuthErr, kImportRootOnly, "import by non-root", true};
    if (local_account_name(ctx_.peer.uid) != rec_.user)
        return Verdict{Outcome::AuthErr, kOwnKeysOnly,
                       "caller uid " + std::to_string(ctx_.peer.uid) + " may not manage this user's keys",
                       true};
    if (op == Op::List) return std::nullopt;
    std::vector<Method> methods;
    if (op == Op::Enroll) {
        auto proof = self_enrol_proof();
        if (auto* ending = std::get_if<Verdict>(&proof)) return *ending;
        methods = std::get<std::vector<Method>>(std::move(proof));
    } else {
        methods = cfg().methods_for(kManageService, false);
    }
    auto signed_in = sign_in_.sign_in(methods, false);
    if (auto* ending = std::get_if<Verdict>(&signed_in)) return *ending;
    return std::nullopt;
}

// A key enrolled here opens every service that accepts keys: its proof must be as strong as the weakest way
// into the strictest of them (enrol_policy.hpp, the rule pool-register's proof follows too), or the enrolment
// is left to root.
std::variant<std::vector<Method>, Verdict> Management::self_enrol_proof() {
    auto methods = methods_to_add(cfg(), Method::SecurityKey);
    if (std::find(methods.begin(), methods.end(), Method::SecurityKey) != methods.end()) {
        const auto keys = read_user_credentials(cfg().security_key.store_dir, rec_.user);
        if (const Verdict* end = ending_of(keys)) return *end;
        if (std::get<std::vector<StoredCredential>>(keys).empty()) std::erase(methods, Method::SecurityKey);
    }
    if (methods.empty())
        return Verdict{Outcome::AuthErr,
                       "Enrolling a security key here needs a stronger proof than this account can give; ask "
                       "an administrator to run: pam-passwordless enroll --user " +
                           rec_.user,
                       "self-enrolment refused: no method of [service " + std::string(kManageService) +
                           "] is as strong as the services that accept keys require"};
    return methods;
}

}  // namespace pp::helper
