// One login, from a validated request to a Verdict: the caller check, the backoff, the account, the menu,
// the chosen method's proof, and the audit record built once at the end from (request, method, verdict).
// The user pool is reached through cognito::PoolApi and the person through Connection, so both can be fakes.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>

#include "audit.hpp"
#include "config.hpp"
#include "connection.hpp"
#include "identity_map.hpp"
#include "pool_types.hpp"
#include "rate_limits.hpp"
#include "token_verifier.hpp"
#include "verdict.hpp"
#include "wire.hpp"

namespace pp::helper::login {

// A Begin message, checked once: every field printable and bounded, the user name in the accepted set.
struct LoginRequest {
    std::string user, service, rhost, tty, ruser;
    // The stack's unknown_user= if it sent one, else the configuration's.
    std::optional<UnknownUser> unknown_user;
    uid_t caller_uid = 0;
    bool test_login = false;  // root's test-login: the tty is fixed, the steps are traced

    // The request, or the ending of a malformed one.
    static std::variant<LoginRequest, Verdict> decode(const wire::Message& begin, uid_t caller_uid,
                                                      bool test_login);
};

// What a login uses that outlives it; owned by the caller.
struct Services {
    const Config& config;
    const IdentityMap& identities;
    cognito::PoolApi& pool;
    cognito::TokenVerifier& verifier;
    RateLimits& limits;
};

// The audit line of a login, from what was asked, the method chosen ("-" for none) and how it ended.
AuditRecord audit_record(const std::string& login_id, const LoginRequest& request, std::string_view method,
                         const Verdict& verdict);

class Login {
  public:
    explicit Login(Services services) : services_(services) {}
    // Runs the login to its end. Throws only what the connection throws (wire::ChannelError: the client is
    // gone) and the pool's failures the caller maps (cognito::ServiceError).
    Verdict run(const LoginRequest& request, Connection& conn);
    // The method the audit line names, once one was chosen.
    const std::string& method() const { return method_; }

  private:
    Services services_;
    std::string method_ = "-";
};

}  // namespace pp::helper::login
