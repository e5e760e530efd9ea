// The helper's side of one connection: talking to the person through the client, proving who they are
// (codes through the user pool, local security keys), and ending with one verdict.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "admission.hpp"
#include "audit.hpp"
#include "config.hpp"
#include "connection.hpp"
#include "credential_store.hpp"
#include "factor_memory.hpp"
#include "identifiers.hpp"
#include "login.hpp"
#include "login/limit_tally.hpp"
#include "messages.hpp"
#include "person_texts.hpp"
#include "pool_types.hpp"
#include "verdict.hpp"
#include "wire.hpp"

namespace pp::helper {

// The login's endings are Verdicts returned as values (verdict.hpp); Finish is the older name, kept for the
// management side.
using Finish = Verdict;

// The tty a test login's audit line names (as sshd names its "ssh"): the helper sets it, whatever was sent.
inline constexpr const char* kTestLoginTty = "test-login";

std::string random_bytes(std::size_t n);
using text::printable_bounded;
std::string sha256_bytes(std::string_view data);
// What a failure of the user pool means for the person and the PAM code.
Verdict service_failure(const cognito::ServiceError& e);

class Session {
  public:
    explicit Session(const LoginContext& ctx);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    // Reads the first message, serves a login or a management request, sends the Result and audits.
    void run() noexcept;

  private:
    // session.cpp: the request and its ending
    const Config& cfg() const { return ctx_.runtime->config; }
    // How long a security key waits for a touch, from the configuration.
    std::uint32_t touch_timeout_ms() const;
    // Reads the first message and serves it: the ending of the login or of the management request.
    Verdict serve(const wire::Message& first);
    MaybeEnd read_identity_fields(const protocol::Begin& begin);
    // Takes this connection's slot (admission.hpp); rhost: a login's, empty for anything else.
    MaybeEnd admit(const std::string& rhost);

    // test_login.cpp: root's `pam-passwordless test-login`, a real login whose steps are also told (Trace)
    MaybeEnd begin_test_login(const protocol::Begin& begin);
    void trace(const std::string& step) const;
    void trace_policy(const std::vector<Method>& methods) const;
    void trace_bound(const Identifier& ident, std::string_view sub) const;

    // login.cpp: proving who the person is
    Verdict login(const protocol::Begin& begin);
    MaybeEnd authorize_caller();
    // Proves the person by one of `methods`: the proof, or the login's ending.
    Proof prove(const std::vector<Method>& methods);
    OrEnd<std::optional<Identifier>> resolve_identity();
    // nullopt: the answer can only be sshd's stand-in
    OrEnd<std::optional<Identifier>> ask_identifier();
    OrEnd<Method> menu(const std::vector<Method>& offered, const std::vector<std::string>& dests,
                       const std::string& prefix);
    // The one menu loop (menu.cpp), for a real login and the unknown user's walk alike: `destination` says
    // what the menu shows beside a method, `try_key` tries a local key in the chosen place (a Proof: the
    // person is verified, or the login ends; nullopt: no key answered, the menu goes on without it). The
    // menu's answer: the pool method chosen, the person verified by a key, or the login's ending.
    using Choice = std::variant<Method, Verified, Verdict>;
    Choice choose_method(std::vector<Method>& offered, std::string& prefix,
                         const std::function<std::string(Method)>& destination,
                         const std::function<std::optional<Proof>()>& try_key);
    // ... with the account's own destinations and enrolled keys (key_login).
    Choice choose_method(std::vector<Method>& offered, std::string& prefix);
    std::string destination_for(Method m) const;
    MaybeEnd read_credentials();
    // nullopt: no connected key holds any of the user's credentials.
    std::optional<Proof> key_login();
    Proof otp_code_loop(const Identifier& ident, cognito::Step step, std::string username, Method method);
    Proof pool_passkey_login(const Identifier& ident, cognito::Step step, std::string username);
    Proof verify_and_bind(const Secret& id_token, const Identifier& ident);
    // login/browser_method.cpp: "Sign in with your browser"; without an identity to bind, the unknown walk
    // (its screens, every code refused; walk_reason is its audit reason).
    Proof browser_login(const std::optional<Identifier>& ident, const std::string& walk_reason = {});
    // recovery_login.cpp: the break-glass when the user pool cannot be reached: a recovery code's proof, or
    // the ending (the outage's own when no code is offered or none is typed).
    Proof break_glass(const Verdict& outage);
    bool break_glass_offered(const Verdict& outage) const;
    Proof break_glass_after_send_limit(const Verdict& refusal);
    // factor_memory.cpp: the menu before the pool is asked, for an identity whose factors are remembered.
    // nullopt: nothing remembered (the pool is asked first); a Verified: a local key chosen from that menu.
    using RememberedMenu = std::variant<std::optional<RememberedChoice>, Verified, Verdict>;
    RememberedMenu choose_remembered(const std::vector<Method>& methods, const Identifier& ident);
    OrEnd<cognito::Step> initiate_chosen(const RememberedChoice& choice, const Identifier& ident,
                                         std::string& prefix);
    void remember_factors(const Identifier& ident, const std::vector<std::string>& available,
                          const std::string& pool_user);
    void forget_factors(const Identifier& ident);
    bool decoy_remembered(const std::string& model);
    void decoy_remember(const std::vector<Method>& offered);
    // login/unknown_user.cpp: the walk of a login that cannot succeed, in the shape decoy.cpp gives it
    Verdict decoy(std::vector<Method> methods, const std::string& reason, bool service_already_asked);
    // The limits (login.cpp): what a send counts on, counting it, and the backoff's try.
    SendKeys send_keys(const Identifier& ident, Method m, const cognito::Step& step) const;
    MaybeEnd take_send(SendKeys keys);
    bool remote_budget() const;
    // code_offer.cpp: asks, echoed, before a code would go out without a choice (see code_offer.hpp).
    MaybeEnd offer(Method method, const std::string& masked, const std::string& prefix);
    void settle_limits(wire::Outcome outcome);

    // manage/: a management request runs in its own class (manage/management.hpp) to its ending; this
    // session's sign-in is its proof of presence (manage/sign_in.cpp).
    class SignInForManagement;
    Verdict manage(const protocol::Manage& request);

    const LoginContext& ctx_;
    WireConnection conn_;  // the person, through the client (connection.hpp)
    AuditRecord rec_;
    std::vector<Identifier> known_;
    std::optional<Identifier> typed_;
    std::vector<StoredCredential> credentials_;
    bool counted_ = false;            // a login (not a management request): its outcome counts in the status
    bool want_access_token_ = false;  // only a management request keeps the pool's access token
    std::optional<Secret> access_token_;  // from the user pool's sign-in, for managing its passkeys
    std::string summary_source_;          // who a summarised refusal is counted against
    AdmissionTicket admission_;  // this connection's slot in its pool (admission.hpp), held to the end
    // For users without an identity or key: the stack's unknown_user= if it sent one, else the configuration.
    UnknownUser unknown_user_ = UnknownUser::Fail;
    LimitTally tally_;         // what this login reserved and spent in the limits, settled once at its end
    bool test_login_ = false;  // root's test-login: steps are traced, the Result carries the audit line
};

}  // namespace pp::helper
