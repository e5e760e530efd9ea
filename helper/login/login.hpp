// One login, from a request to its ending: the caller's check, the limits, the account, the offer of methods
// and the proof. Its state (who asks, the identity, the keys, what the limits hold, the method chosen) is its
// own; the session that serves the connection (session.hpp) only dispatches to it and writes the audit line
// from its facts at the end. The management side proves the person's presence through prove().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config.hpp"
#include "connection.hpp"
#include "credential_store.hpp"
#include "crypto.hpp"
#include "factor_memory.hpp"
#include "identifiers.hpp"
#include "login/limit_tally.hpp"
#include "login/method_context.hpp"
#include "messages.hpp"
#include "person_texts.hpp"
#include "pool_latency.hpp"
#include "pool_types.hpp"
#include "rate_limits.hpp"
#include "text.hpp"
#include "verdict.hpp"
#include "wire.hpp"

namespace pp::helper {

struct LoginContext;  // login.hpp in helper/: the connection's context

using text::printable_bounded;
// What a failure of the user pool means for the person and the PAM code.
Verdict service_failure(const cognito::ServiceError& e);

// The tty a test login's audit line names (as sshd names its "ssh"): the helper sets it, whatever was sent.
inline constexpr const char* kTestLoginTty = "test-login";

// The login offers its methods what they share through MethodContext (login/method_context.hpp), privately:
// only the flow hands itself to a method.
// The audit reason of a login whose answers sshd stood in for (Login::note_answer, login/unknown_user.cpp).
inline constexpr const char* kAnswersReplaced =
    "sshd replaced the answers (a login it refuses whatever PAM says)";

class Login : private MethodContext {
  public:
    // facts: who asks, from where (for a login, facts_of its Begin); test_login: root's test-login, whose
    // steps are also told (Trace).
    Login(const LoginContext& ctx, Connection& conn, LoginFacts facts, bool test_login);
    Login(const Login&) = delete;
    Login& operator=(const Login&) = delete;

    // The facts a Begin names (unchecked: run() checks them), and who runs the login (runner, as the session
    // found it: local_runner.hpp).
    static LoginFacts facts_of(const protocol::Begin& begin, const std::string& runner, bool test_login);

    // The whole login: its ending, success included.
    Verdict run(const protocol::Begin& begin);
    // Proves the person by one of `methods`: the proof, or the login's ending. The user pool's failure is
    // thrown (ServiceError) for the caller's break-glass.
    Proof prove(const std::vector<Method>& methods);

    // For management: keep the user pool's access token of the sign-in, and hand it over once.
    void keep_access_token(bool keep) { want_access_token_ = keep; }
    std::optional<Secret> take_access_token();
    // The person's pool factors changed: the mapped identity's memory is forgotten (factor_memory.hpp).
    void forget_known_factors();

    const LoginFacts& facts() const override { return facts_; }
    // The audit line's method: what was chosen or used ("" while none was).
    const std::string& method() const { return method_; }
    // Checks the user's backoff when a login starts (rate_limits.hpp), reserving nothing: the login's ending
    // when the user must wait. A login (run) and a management request's sign-in each check it before
    // proving; the try is reserved later, when the login is armed (arm_try).
    MaybeEnd check_backoff();
    // A request to the user pool that nothing else counts (no code goes with it), for a remote login: its
    // network's allowance (RateLimits::take_pool_ask). Asked at the same points by the decoy's walk.
    MaybeEnd take_pool_ask() override;
    // Settles what this login reserved and spent in the limits, once, with its outcome.
    void settle_limits(wire::Outcome outcome);
    // At the end of a login that let the person in: what the pool offered, as learned in it, is remembered
    // for the next login (factor_memory.hpp). A login that fails remembers nothing.
    void remember_learned_factors();

  private:
    const Config& cfg() const;
    MaybeEnd check_facts(const protocol::Begin& begin) const;

    // MethodContext: what the methods share of this login (method_context.hpp).
    const Config& config() const override { return cfg(); }
    Connection& person() override { return conn_; }
    cognito::PoolApi& pool() override;
    cognito::TokenVerifier& verifier() override;
    std::int64_t began() const override { return began_; }
    const std::vector<Identifier>& known() const override { return known_; }
    const std::vector<StoredCredential>& credentials() const override { return credentials_; }
    std::string destination_for(Method m) const override;  // menu.cpp
    MaybeEnd proof_tried() override;                       // login.cpp: arms the login first
    void offer_access_token(const Secret& token) override;
    void saw_pool_passkeys(const std::vector<std::size_t>& lengths) override;  // factor_memory.cpp
    std::string decoy_key() const override;                                    // login/unknown_user.cpp

    // test_login.cpp: the steps told to root's test-login
    void trace(const std::string& step) const override;
    void trace_policy(const std::vector<Method>& methods) const;
    void trace_bound(const Identifier& ident, std::string_view sub) const override;

    // login.cpp
    MaybeEnd authorize_caller();
    OrEnd<std::optional<Identifier>> resolve_identity();
    // nullopt: the answer can only be sshd's stand-in
    OrEnd<std::optional<Identifier>> ask_identifier();
    MaybeEnd read_credentials();

    // menu.cpp
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
    // ... with the account's own destinations and enrolled keys (the local key's real proof).
    Choice choose_method(std::vector<Method>& offered, std::string& prefix);

    // recovery_login.cpp: the break-glass when the user pool cannot be reached: a recovery code's proof, or
    // the ending (the outage's own when no code is offered or none is typed).
    Proof break_glass(const Verdict& outage);
    // The same screens for a decoy that met an outage (pool_health.hpp): the prompt and the hash's wait of a
    // recovery code, every code refused.
    Verdict break_glass_unknown(const Verdict& outage);
    bool break_glass_offered(const Verdict& outage) const;
    // The break-glass's prompt: the code typed, or nullopt (not offered, or Enter: the outage's ending).
    std::optional<Secret> recovery_code_typed(const Verdict& outage);
    Proof break_glass_after_send_limit(const Verdict& refusal);

    // factor_memory.cpp: the menu before the pool is asked, for an identity whose factors are remembered.
    // nullopt: nothing remembered (the pool is asked first); a Verified: a local key chosen from that menu.
    using RememberedMenu = std::variant<std::optional<RememberedChoice>, Verified, Verdict>;
    RememberedMenu choose_remembered(const std::vector<Method>& methods, const Identifier& ident);
    RememberedMenu choose_first(std::vector<Method> offered, const Identifier& ident,
                                const std::string& pool_user);
    OrEnd<cognito::Step> initiate_chosen(const RememberedChoice& choice, const Identifier& ident,
                                         std::string& prefix);
    // What the pool offered: kept with the login, and remembered only if it lets the person in.
    void learn_factors(const Identifier& ident, const std::vector<std::string>& available,
                       const std::string& pool_user);
    void forget_factors(const Identifier& ident);
    std::optional<FactorRow> decoy_memory(const std::string& model);

    // login/unknown_user.cpp: the walk of a login that cannot succeed, in the shape decoy.cpp gives it
    // `session_since`: when the pool's answer the walk's made-up session stands for came, where that was
    // before the walk (a code the pool sent before the menu); otherwise the walk's start, or its own pause.
    Verdict decoy(std::vector<Method> methods, const std::string& reason, bool service_already_asked,
                  std::optional<std::chrono::steady_clock::time_point> session_since = std::nullopt);
    // A key holder's login computes the walk a decoy computes for its name, and throws it away.
    void decoy_twin(const std::vector<Method>& methods);

    // The limits (login.cpp): what a send counts on, counting it, and the backoff's try.
    SendKeys send_keys(const Identifier& ident, Method m, const cognito::Step& step) const;
    MaybeEnd take_send(SendKeys keys);
    bool remote_budget() const;
    // Arms the login: reserves its try against the user's backoff, at the first step that can cost a guess
    // (a code sent, a key asked, a code typed: take_send and proof_tried, for real logins and decoys alike).
    // The login's ending when the budget is taken by other logins' tries in flight, or by failures recorded
    // since it started. Once armed, nothing more to do.
    MaybeEnd arm_try();
    std::string run_by() const;  // the local user who runs this login for another ("" for the user's own)

    // code_offer.cpp: asks, echoed, before a code would go out without a choice (see code_offer.hpp).
    MaybeEnd offer(Method method, const std::string& masked, const std::string& prefix);
    // An answer read at the menu or the offer held control characters: sshd's stand-in for what the person
    // typed, in a login it refuses whatever PAM says (login/unknown_user.cpp).
    void note_answer(std::string_view answer);
    // Such a login, a method chosen: it waits as the request a real login makes at `step` would, then walks
    // on as the decoy of its shape, sending nothing.
    Verdict walk_replaced(Method chosen, PoolStep step, std::chrono::steady_clock::time_point since);

    const LoginContext& ctx_;
    Connection& conn_;  // the person, through the client (connection.hpp)
    LoginFacts facts_;
    const bool test_login_;
    std::string method_;  // the audit line's method, once one is chosen or used
    std::vector<Identifier> known_;
    std::optional<Identifier> typed_;
    std::vector<StoredCredential> credentials_;
    bool want_access_token_ = false;      // only a management request keeps the pool's access token
    std::int64_t began_ = 0;              // when prove() last began (MethodContext::began)
    std::optional<Secret> access_token_;  // from the user pool's sign-in, for managing its passkeys
    // For users without an identity or key: the stack's unknown_user= if it sent one, else the configuration.
    UnknownUser unknown_user_ = UnknownUser::Fail;
    LimitTally tally_;  // what this login reserved and spent in the limits, settled once at its end
    // What the pool offered the mapped identity in this login (learn_factors): its key in the store and the
    // row, written by remember_learned_factors once the login has let the person in.
    std::optional<std::pair<std::string, FactorRow>> learned_factors_;
    // The pool passkeys this login's key was asked for (saw_pool_passkeys), as kept: "" when none.
    std::string seen_pool_passkeys_;
    bool answers_replaced_ = false;  // note_answer saw sshd's stand-in for an answer
    bool identifier_asked_ = false;  // ask_identifier asked in this login (the decoy asks it no second time)
};

}  // namespace pp::helper
