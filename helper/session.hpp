// The helper's side of one connection: the first message decoded, admission, then a login (login/login.hpp)
// or a management request (manage/) run to its ending; then the Result and the audit line.
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
#include "login/login.hpp"
#include "messages.hpp"
#include "person_texts.hpp"
#include "pool_types.hpp"
#include "verdict.hpp"
#include "wire.hpp"

namespace pp::helper {

class Session {
  public:
    explicit Session(const LoginContext& ctx);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    // Reads the first message, serves a login or a management request, sends the Result and audits.
    void run() noexcept;

  private:
    const Config& cfg() const { return ctx_.runtime->config; }
    // Reads the first message and serves it: the ending of the login or of the management request.
    Verdict serve(const wire::Message& first);
    // Takes this connection's slot (admission.hpp); rhost, runner (who runs a local login, runner_) and user
    // (the PAM user): a login's, empty for anything else.
    MaybeEnd admit(const std::string& rhost, const std::string& runner, const std::string& user);
    // test_login.cpp: root's `pam-passwordless test-login`, a real login whose steps are also told (Trace)
    MaybeEnd begin_test_login(const protocol::Begin& begin);
    // The login (login/login.hpp), run to its ending.
    Verdict login(const protocol::Begin& begin);
    // The audit line's record, built once at the end from the request's facts and the ending.
    void complete_record(const Verdict& ending);

    // manage/: a management request runs in its own class (manage/management.hpp) to its ending; a login of
    // its own (sign_in.cpp) is its proof of presence.
    class SignInForManagement;
    Verdict manage(const protocol::Manage& request);

    const LoginContext& ctx_;
    WireConnection conn_;  // the person, through the client (connection.hpp)
    AuditRecord rec_;
    // The login this connection serves, or the sign-in of its management request; kept to the end, where its
    // limits are settled and its facts go into the audit line, however it ended.
    std::optional<Login> login_;
    bool began_ = false;          // the first message was a well-formed Begin or Manage (Session::run)
    bool counted_ = false;        // a login (not a management request): its outcome counts in the status
    std::string summary_source_;  // who a summarised refusal is counted against
    AdmissionTicket admission_;   // this connection's slot in its pool (admission.hpp), held to the end
    bool test_login_ = false;     // root's test-login: steps are traced, the Result carries the audit line
    std::string runner_;          // who runs a root caller's login (local_runner.hpp); empty otherwise
};

}  // namespace pp::helper
