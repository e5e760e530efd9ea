// Credential-management requests from the command line (enrol, list, rename, remove and import local keys;
// list, register and delete the user pool's passkeys), run to their ending as a value: every refusal and
// every success is a returned Verdict. Only the conversation itself throws (the client gone away, the
// deadline: connection.hpp).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "audit.hpp"
#include "config.hpp"
#include "connection.hpp"
#include "credential_store.hpp"
#include "login.hpp"
#include "messages.hpp"
#include "secret.hpp"
#include "verdict.hpp"

namespace pp::helper {

// What a management request needs of the login side: the person's proof of presence by a real sign-in.
class ManagementSignIn {
  public:
    // The sign-in proved the person (a sign-in that did not ends in a Verdict instead); the user pool's
    // access token when it was asked for and the pool gave one.
    struct Presence {
        std::optional<Secret> access_token;
    };

    virtual ~ManagementSignIn() = default;
    // Signs the target account's owner in with one of `methods`: its proof, or how the sign-in ended.
    virtual std::variant<Presence, Verdict> sign_in(const std::vector<Method>& methods,
                                                    bool keep_access_token) = 0;
    // The person's passkeys changed: the next login asks the pool what it offers (factor_memory.hpp).
    virtual void forget_factors() = 0;
};

class Management {
  public:
    // rec: the request's audit record, shared with the sign-in (which names its method there).
    Management(const LoginContext& ctx, Connection& conn, AuditRecord& rec, ManagementSignIn& sign_in);

    Verdict run(const protocol::Manage& request);

  private:
    const Config& cfg() const { return ctx_.runtime->config; }
    // The checks before any change: who may ask, and the proof of presence a change needs.
    std::optional<Verdict> refused_before_local_change(protocol::Manage::Op op);
    // The methods that may prove a self-enrolment (enrol_policy.hpp), or the ending when none may.
    std::variant<std::vector<Method>, Verdict> self_enrol_proof();
    // A success for a caller the kernel vouches for (CallerAuthority, management.cpp), else a refusal.
    Verdict done(const std::string& text, const std::string& reason) const;

    // local_keys.cpp
    Verdict local_keys(const protocol::Manage& request, bool target_exists);
    Verdict enrol(CredentialStore& store, const std::string& nickname);
    Verdict list(const CredentialStore& store);
    Verdict summarised_for(Verdict v) const;
    Verdict import(CredentialStore& store, const protocol::Manage& request);
    Verdict rename_or_remove(CredentialStore& store, const protocol::Manage& request);

    // pool_passkeys.cpp
    Verdict pool_passkeys(const protocol::Manage& request);
    // Of the pool's methods `pool`, those that may prove a self-registration (enrol_policy.hpp), or the
    // ending when none may.
    std::variant<std::vector<Method>, Verdict> self_register_proof(const std::vector<Method>& pool);
    // The ending of a self-registration without a strong enough proof: left to root.
    Verdict self_registration_refused(const std::string& why) const;
    Verdict pool_register(const Secret& token);

    const LoginContext& ctx_;
    Connection& conn_;
    AuditRecord& rec_;
    ManagementSignIn& sign_in_;
};

}  // namespace pp::helper
