// The fault matrix: every way a login can go wrong, the PAM code it ends with and the line the person reads.
// One test per row of tests/fault_matrix/README.md. Everything is real: the module under libpam
// (pam_wrapper), the helper, and the local user pool with its faults switched on through control.json.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "helper/person_texts.hpp"
#include "login_harness.hpp"
#include "result_mapping.hpp"

namespace pp::test {
namespace {

constexpr const char* kAliceEmail = "alice@example.com";
constexpr const char* kIdentities =
    "alice alice@example.com\n"
    "alice +15555550123\n"
    "bob   bob@example.com\n";

// What the person reads, word for word: the helper's catalogue (helper/person_texts.hpp), and the module's
// own text when the helper cannot be reached (pam_passwordless/pam_entry.cpp).
using pp::helper::kCodeExpired;
using pp::helper::kMisconfigured;
using pp::helper::kNoKey;
using pp::helper::kNotAllowed;
using pp::helper::kSessionExpired;
using pp::helper::kSignInFailed;
using pp::helper::kTimedOut;
using pp::helper::kTooManyWrong;
constexpr const char* kUnreachable = pp::helper::kUnavailable;
constexpr const char* kHelperUnavailable = "Passwordless sign-in is unavailable right now; try again later.";
constexpr const char* kNoMessage = "";

// A record as helper/credential_store.cpp writes it: id, COSE algorithm, x||y, rp id, created, last used,
// counter, uv, nickname. The key is made up: no key will ever be asked to prove it here.
constexpr const char* kCredentialRecord =
    "v1\tAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\t-7\t"
    "AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4_wYNFBsiKTA3PkVMU1phaG92fYSLkpmgp661vA"
    "\tpam://pam-passwordless\t1700000000\t0\t0\t0\tblue key\n";

// The helper as a child of this test, so that it can be killed, reaped and started again at any point.
class HelperProcess {
  public:
    HelperProcess(const fs::path& dir, const fs::path& config) : dir_(dir) {
        fs::remove(socket());
        // Built before the fork: after it, only system calls.
        const auto argv = with_local_accounts(
            {PP_HELPER_BIN, "--foreground", "--socket", socket(), "--config", config.string()}, dir);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            const int fd =
                ::open((dir / "helper.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (devnull >= 0) ::dup2(devnull, 0);
            ::unsetenv("LD_PRELOAD");  // the real helper, without the test's pam_wrapper
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        if (!wait_until([&] { return fs::exists(socket()) || exited(); }) || !fs::exists(socket())) {
            stop();
            throw std::runtime_error("the helper did not start: " + read_text(dir / "helper.log"));
        }
    }
    HelperProcess(const HelperProcess&) = delete;
    HelperProcess& operator=(const HelperProcess&) = delete;
    ~HelperProcess() { stop(); }

    [[nodiscard]] std::string socket() const { return (dir_ / "helper.sock").string(); }
    void signal(int sig) const {
        if (!reaped_) ::kill(pid_, sig);
    }
    // True once the process has ended (and it is then reaped).
    bool exited() {
        if (reaped_) return true;
        if (::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
        return reaped_;
    }
    bool wait_exit(std::chrono::milliseconds limit) {
        return wait_until([&] { return exited(); }, limit);
    }
    void stop() {
        if (pid_ <= 0 || reaped_) return;
        signal(SIGTERM);
        if (!wait_exit(std::chrono::seconds(15))) {
            signal(SIGKILL);
            ::waitpid(pid_, &status_, 0);
            reaped_ = true;
        }
    }

  private:
    fs::path dir_;
    pid_t pid_ = -1;
    int status_ = 0;
    bool reaped_ = false;
};

struct LoginConfig {
    std::string methods = "email_otp";
    // Generous, so a loaded machine does not turn a row into a timeout; the timeout rows set their own.
    int request_timeout = 20;
    int login_timeout = 60;
    std::string login_extra;  // more [login] lines
    std::string sections;     // more sections, e.g. [security_key]

    LoginConfig& with_methods(std::string m) {
        methods = std::move(m);
        return *this;
    }
    LoginConfig& with_timeouts(int request, int login) {
        request_timeout = request;
        login_timeout = login;
        return *this;
    }
    LoginConfig& with_login_extra(std::string l) {
        login_extra = std::move(l);
        return *this;
    }
    LoginConfig& with_sections(std::string s) {
        sections = std::move(s);
        return *this;
    }
};

class FaultMatrix : public StandInTest {
  protected:
    void TearDown() override { helper_.reset(); }

    // Writes helper.conf (and the files it names) into the test's directory.
    fs::path write_config(const LoginConfig& c) {
        write_text(dir_ / "identities", kIdentities);
        std::string conf = pool_section(*standin_, dir_, true);
        conf += "\n[login]\nmethods = " + c.methods +
                "\nmax_tries = 3\nrequest_timeout = " + std::to_string(c.request_timeout) +
                "\nlogin_timeout = " + std::to_string(c.login_timeout) + "\n" + c.login_extra;
        conf += "\n[binding]\nmapping_file = " + (dir_ / "identities").string() + "\n";
        conf += "\n[limits]\nstate_file = " + (dir_ / "limits").string() + "\n";
        conf += c.sections;
        write_text(dir_ / "helper.conf", conf);
        return dir_ / "helper.conf";
    }
    void start_helper(const fs::path& config) {
        helper_.reset();
        helper_ = std::make_unique<HelperProcess>(dir_, config);
    }
    void start_helper(const LoginConfig& c = {}) { start_helper(write_config(c)); }
    [[nodiscard]] std::string helper_log() const { return read_text(dir_ / "helper.log"); }

    // With one code method the login starts with the offer of the code (Enter sends it): one prompt before
    // any request to the user pool.
    static constexpr std::size_t kOffer = 1;

    // Answers a code prompt with the newest code sent to `to`, the offer of a code with Enter, any other
    // prompt with `other`.
    static Answerer code_from_outbox(const std::string& to = kAliceEmail, const std::string& other = "1") {
        return [to, other](int style, const std::string& prompt) -> std::optional<std::string> {
            if (is_code_offer(style, prompt)) return std::string();
            if (prompt.find("Code sent to") == std::string::npos) return other;
            return standin_->latest_code(to).value_or("no-code");
        };
    }
    PamRun login(const std::string& user = "alice", const Answerer& a = code_from_outbox()) {
        return run_pam(service_, user, a);
    }

    static std::string last_error(const PamRun& run) {
        std::string last;
        for (const auto& t : run.transcript)
            if (t.style == PAM_ERROR_MSG) last = t.text;
        return last;
    }

    // The row's verdict: the PAM code, the line the person reads last (an empty `text`: no message at all),
    // and never a success, in the PAM code or in the helper's audit.
    void expect_row(const PamRun& run, int code, const std::string& text, const std::string& audit_outcome) {
        const std::string log = helper_log();
        EXPECT_EQ(run.code, code) << "got " << module::pam_code_name(run.code) << ", want "
                                  << module::pam_code_name(code) << "\n"
                                  << run.all_text() << log;
        EXPECT_NE(run.code, PAM_SUCCESS);
        EXPECT_EQ(last_error(run), text) << run.all_text();
        if (!audit_outcome.empty()) {
            EXPECT_NE(log.find("outcome=" + audit_outcome + " "), std::string::npos) << log;
        }
        EXPECT_EQ(log.find("outcome=success"), std::string::npos) << log;
    }

    std::unique_ptr<HelperProcess> helper_;
};

// A loopback port that nothing listens on: bound, never listened on, closed.
int closed_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

// ---- the user pool cannot be used ------------------------------------------------------------------------

TEST_F(FaultMatrix, ServiceDown) {
    const fs::path conf = write_config({});
    std::string text = read_text(conf);
    const auto at = text.find("endpoint = ");
    text.replace(at, text.find('\n', at) - at,
                 "endpoint = https://127.0.0.1:" + std::to_string(closed_port()) + "/");
    write_text(conf, text);
    start_helper(conf);
    const auto run = login();
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kUnreachable, "authinfo_unavail");
    EXPECT_EQ(run.prompts().size(), kOffer) << run.all_text();
}

TEST_F(FaultMatrix, SlowPastThePerRequestTimeout) {
    start_helper(LoginConfig().with_timeouts(1, 60));
    standin_->set_control(R"({"delay_ms": 3000})");
    const auto run = login();
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kUnreachable, "authinfo_unavail");
    EXPECT_NE(helper_log().find("timeout"), std::string::npos) << helper_log();
}

// login_timeout cannot be below 10 s. The code is asked for, then the answer to it is delayed far past the
// login's end but within the request timeout: only the whole-login deadline can end this login.
TEST_F(FaultMatrix, SlowPastTheWholeLoginTimeout) {
    start_helper(LoginConfig().with_timeouts(120, 10));
    standin_->set_control(R"({"delay_ms": 60000, "ops": ["RespondToAuthChallenge"]})");
    const auto start = std::chrono::steady_clock::now();
    const auto run = login();
    const auto took = std::chrono::steady_clock::now() - start;
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kUnreachable, "authinfo_unavail");
    EXPECT_EQ(run.prompts().size(), kOffer + 1) << run.all_text();
    // Correctness, not speed: the 10 s login deadline ended it, not the 120 s request timeout.
    EXPECT_LT(took, std::chrono::seconds(60));
    EXPECT_GE(took, std::chrono::seconds(9));
}

// The person does not answer the code prompt before the login's end.
TEST_F(FaultMatrix, PersonSlowPastTheWholeLoginTimeout) {
    start_helper(LoginConfig().with_timeouts(20, 10));
    const auto run =
        login("alice", accepting_code_offers([&](int, const std::string&) -> std::optional<std::string> {
                  // Readiness, not a sleep: answer only once the helper has given up on this login.
                  EXPECT_TRUE(wait_until([&] { return helper_log().find("outcome=") != std::string::npos; },
                                         std::chrono::seconds(30)));
                  return standin_->latest_code(kAliceEmail).value_or("no-code");
              }));
    expect_row(run, PAM_AUTH_ERR, kTimedOut, "auth_err");
}

TEST_F(FaultMatrix, Http500) {
    start_helper();
    standin_->set_control(R"({"fault": "http_500"})");
    expect_row(login(), PAM_AUTHINFO_UNAVAIL, kUnreachable, "authinfo_unavail");
}

// ---- unreadable answers, on each call a login makes -------------------------------------------------------

struct BodyFault {
    const char* fault;
    const char* op;
};

void PrintTo(const BodyFault& f, std::ostream* os) {
    *os << f.fault << " on " << f.op;
}

class FaultMatrixBody : public FaultMatrix, public ::testing::WithParamInterface<BodyFault> {};

TEST_P(FaultMatrixBody, IsAuthinfoUnavail) {
    start_helper();
    standin_->set_control(std::string(R"({"fault": ")") + GetParam().fault + R"(", "ops": [")" +
                          GetParam().op + R"("]})");
    const auto run = login();
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kUnreachable, "authinfo_unavail");
    EXPECT_EQ(run.prompts().size(), kOffer + (std::string(GetParam().op) == "InitiateAuth" ? 0u : 1u))
        << run.all_text();
}

std::vector<BodyFault> body_faults() {
    std::vector<BodyFault> out;
    for (const char* op : {"InitiateAuth", "RespondToAuthChallenge", "jwks"})
        for (const char* fault :
             {"malformed", "truncated", "huge", "invalid_utf8", "empty", "drop", "http_500"})
            out.push_back({fault, op});
    return out;
}

INSTANTIATE_TEST_SUITE_P(Rows, FaultMatrixBody, ::testing::ValuesIn(body_faults()), [](const auto& info) {
    std::string op = info.param.op;
    if (op == "RespondToAuthChallenge") op = "Respond";
    return op + "_" + info.param.fault;
});

// ---- every error the spec declares for InitiateAuth and RespondToAuthChallenge (§1.4) ---------------------

struct ServiceErrorRow {
    const char* op;
    const char* name;
    const char* message;
    int code;
    const char* text;
    const char* audit;
    std::size_t prompts;
};

void PrintTo(const ServiceErrorRow& r, std::ostream* os) {
    *os << r.name << " from " << r.op;
}

class FaultMatrixServiceError : public FaultMatrix, public ::testing::WithParamInterface<ServiceErrorRow> {};

TEST_P(FaultMatrixServiceError, HasItsCodeAndMessage) {
    const auto& row = GetParam();
    start_helper();
    const int status = std::string(row.name) == "InternalErrorException" ? 500 : 400;
    standin_->set_control(std::string(R"({"error": {"name": ")") + row.name + R"(", "message": ")" +
                          row.message + R"(", "status": )" + std::to_string(status) + R"(}, "ops": [")" +
                          row.op + R"("]})");
    const auto run = login();
    expect_row(run, row.code, row.text, row.audit);
    EXPECT_EQ(run.prompts().size(), kOffer + row.prompts) << run.all_text();
    // The service's name for the failure is in the audit line, so the admin can tell the rows apart.
    // (Not for the two that look like a wrong answer to the person: an unknown user, a wrong code.)
    const std::string name = row.name;
    if ((name != "UserNotFoundException" || std::string(row.op) != "InitiateAuth") &&
        name != "CodeMismatchException") {
        EXPECT_NE(helper_log().find(row.name), std::string::npos) << helper_log();
    }
}

std::vector<ServiceErrorRow> service_error_rows() {
    std::vector<ServiceErrorRow> rows;
    const char* const unavailable[] = {"TooManyRequestsException",
                                       "UnexpectedLambdaException",
                                       "UserLambdaValidationException",
                                       "InvalidLambdaResponseException",
                                       "InternalErrorException",
                                       "InvalidSmsRoleAccessPolicyException",
                                       "InvalidEmailRoleAccessPolicyException",
                                       "InvalidSmsRoleTrustRelationshipException",
                                       "ForbiddenException"};
    const char* const misconfigured[] = {"UnsupportedOperationException", "ResourceNotFoundException",
                                         "InvalidParameterException", "InvalidUserPoolConfigurationException",
                                         "OperationNotEnabledException"};
    const char* const refused_both[] = {"PasswordResetRequiredException", "UserNotConfirmedException"};
    const char* const refused_respond[] = {
        "InvalidPasswordException", "PasswordHistoryPolicyViolationException", "MFAMethodNotFoundException",
        "AliasExistsException", "SoftwareTokenMFANotFoundException"};
    for (const char* op : {"InitiateAuth", "RespondToAuthChallenge"}) {
        // An error to InitiateAuth comes before the code prompt; one to RespondToAuthChallenge after it.
        const std::size_t p = std::string(op) == "InitiateAuth" ? 0 : 1;
        for (const char* n : unavailable)
            rows.push_back({op, n, "injected", PAM_AUTHINFO_UNAVAIL, kUnreachable, "authinfo_unavail", p});
        for (const char* n : misconfigured) {
            // The only one of them the spec declares for InitiateAuth alone.
            if (p == 1 && std::string(n) == "UnsupportedOperationException") continue;
            rows.push_back({op, n, "injected", PAM_SERVICE_ERR, kMisconfigured, "service_err", p});
        }
        for (const char* n : refused_both)
            rows.push_back({op, n, "injected", PAM_AUTH_ERR, kSignInFailed, "auth_err", p});
        rows.push_back({op, "NotAuthorizedException", "Incorrect username or password.", PAM_AUTH_ERR,
                        kSignInFailed, "auth_err", p});
    }
    // An unknown identity walks the same prompts as a known one (the decoy) and ends as a known one typing
    // wrong codes does.
    rows.push_back({"InitiateAuth", "UserNotFoundException", "User does not exist.", PAM_MAXTRIES,
                    kTooManyWrong, "maxtries", 3});
    rows.push_back({"RespondToAuthChallenge", "UserNotFoundException", "User does not exist.",
                    PAM_USER_UNKNOWN, kSignInFailed, "user_unknown", 1});
    for (const char* n : refused_respond)
        rows.push_back({"RespondToAuthChallenge", n, "injected", PAM_AUTH_ERR, kSignInFailed, "auth_err", 1});
    rows.push_back({"RespondToAuthChallenge", "CodeMismatchException",
                    "Invalid code or auth state for the user.", PAM_MAXTRIES, kTooManyWrong, "maxtries", 3});
    rows.push_back({"RespondToAuthChallenge", "ExpiredCodeException", "injected", PAM_AUTH_ERR, kCodeExpired,
                    "auth_err", 1});
    return rows;
}

std::string short_op(const std::string& op) {
    return op == "RespondToAuthChallenge" ? "Respond" : op;
}

INSTANTIATE_TEST_SUITE_P(Rows, FaultMatrixServiceError, ::testing::ValuesIn(service_error_rows()),
                         [](const auto& info) {
                             std::string n = info.param.name;
                             n = n.substr(0, n.size() - std::string("Exception").size());
                             return short_op(info.param.op) + "_" + n;
                         });

// NotAuthorizedException means different things; the helper reads its message (helper/login.cpp).
TEST_F(FaultMatrix, NotAuthorizedSecretHashIsMisconfigured) {
    start_helper();
    standin_->set_control(
        R"({"error": {"name": "NotAuthorizedException", "message": "Unable to verify secret hash for client testclient123"}, "ops": ["InitiateAuth"]})");
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
}

TEST_F(FaultMatrix, NotAuthorizedSessionExpiredSaysStartAgain) {
    start_helper();
    standin_->set_control(
        R"({"error": {"name": "NotAuthorizedException", "message": "Invalid session for the user, session is expired."}, "ops": ["RespondToAuthChallenge"]})");
    expect_row(login(), PAM_AUTH_ERR, kSessionExpired, "auth_err");
}

TEST_F(FaultMatrix, UndeclaredErrorNameFailsClosed) {
    start_helper();
    standin_->set_control(
        R"({"error": {"name": "SomethingNewException", "message": "new"}, "ops": ["RespondToAuthChallenge"]})");
    expect_row(login(), PAM_AUTH_ERR, kSignInFailed, "auth_err");
}

// ---- TLS
// ---------------------------------------------------------------------------------------------------

class FaultMatrixTls : public FaultMatrix, public ::testing::WithParamInterface<const char*> {};

TEST_P(FaultMatrixTls, IsAuthinfoUnavail) {
    start_helper();
    standin_->set_control(std::string(R"({"tls": ")") + GetParam() + R"("})");
    const auto run = login();
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kUnreachable, "authinfo_unavail");
    EXPECT_EQ(run.prompts().size(), kOffer);
    EXPECT_EQ(standin_->requests_log().find("InitiateAuth"), std::string::npos) << "no request may be sent";
}

INSTANTIATE_TEST_SUITE_P(Rows, FaultMatrixTls, ::testing::Values("untrusted", "wrong_host", "expired"),
                         [](const auto& info) { return std::string(info.param); });

// ---- the user pool's signing keys
// ----------------------------------------------------------------------------

TEST_F(FaultMatrix, JwksUnreachable) {
    standin_->set_control(R"({"jwks": "down"})");
    start_helper();
    const auto run = login();
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kUnreachable, "authinfo_unavail");
    EXPECT_EQ(run.prompts().size(), kOffer + 1);
}

// Not a fault: a key the helper has not seen yet makes it fetch the key set again, and the login succeeds.
// The first login fills the helper's cache with the old key; the pool then rotates; the second login's token
// carries the new key id.
TEST_F(FaultMatrix, JwksRotatedAfterTheKeysWereCachedStillSignsIn) {
    start_helper();
    ASSERT_EQ(login().code, PAM_SUCCESS) << helper_log();
    standin_->set_control(R"({"jwks": "rotated"})");
    const auto run = login();
    EXPECT_EQ(run.code, PAM_SUCCESS) << module::pam_code_name(run.code) << "\n"
                                     << run.all_text() << helper_log();
}

// ---- the helper
// ----------------------------------------------------------------------------------------------

TEST_F(FaultMatrix, HelperNotRunning) {
    start_helper();
    helper_->stop();
    const auto run = login();
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kHelperUnavailable, "");
    EXPECT_TRUE(run.prompts().empty());
}

// A helper that no longer takes connections (wedged): its socket's queue full, a connect waits for room. The
// login gives up after the module's timeout= (30 s here) instead of holding sshd, sudo or login for ever.
TEST_F(FaultMatrix, HelperNotAcceptingIsUnavailableWithinTheTimeout) {
    start_helper();
    helper_->stop();
    // In the helper's place: a socket that listens with no room and never accepts, its one place taken.
    const int listener = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", helper_->socket().c_str());
    ::unlink(addr.sun_path);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    ASSERT_EQ(::listen(listener, 0), 0);
    const int queued = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ASSERT_EQ(::connect(queued, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    const auto started = std::chrono::steady_clock::now();
    const auto run = login();
    const auto took = std::chrono::steady_clock::now() - started;
    ::close(queued);
    ::close(listener);
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kHelperUnavailable, "");
    EXPECT_TRUE(run.prompts().empty());
    EXPECT_LT(took, std::chrono::seconds(60)) << "the connect waited past the module's timeout=30";
}

TEST_F(FaultMatrix, HelperSocketNotOwnedByRoot) {
    start_helper();
    ASSERT_EQ(::chown(helper_->socket().c_str(), 65534, 65534), 0);
    const auto run = login();
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kHelperUnavailable, "");
    EXPECT_TRUE(run.prompts().empty());
    EXPECT_EQ(helper_log().find("outcome="), std::string::npos) << "the module must not have talked to it";
}

TEST_F(FaultMatrix, HelperKilledMidLogin) {
    start_helper();
    const auto run =
        login("alice", accepting_code_offers([&](int, const std::string&) -> std::optional<std::string> {
                  const auto code = standin_->latest_code(kAliceEmail);
                  helper_->signal(SIGKILL);
                  EXPECT_TRUE(helper_->wait_exit(std::chrono::seconds(10)));
                  return code.value_or("no-code");
              }));
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kHelperUnavailable, "");
}

// Stopped (SIGTERM: it lets the login in flight run for up to 10 s, then ends) and started again while the
// code prompt is open: the answer reaches no helper that knows this login.
TEST_F(FaultMatrix, HelperRestartedBetweenTwoSteps) {
    const fs::path conf = write_config({});
    start_helper(conf);
    const auto run =
        login("alice", accepting_code_offers([&](int, const std::string&) -> std::optional<std::string> {
                  const auto code = standin_->latest_code(kAliceEmail);
                  helper_->signal(SIGTERM);
                  EXPECT_TRUE(helper_->wait_exit(std::chrono::seconds(30)));
                  start_helper(conf);
                  return code.value_or("no-code");
              }));
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kHelperUnavailable, "");
    // The new helper knows nothing of the old login, and a fresh login works.
    const auto fresh = login();
    EXPECT_EQ(fresh.code, PAM_SUCCESS) << fresh.all_text() << helper_log();
}

// Not a fault: a helper told to stop finishes the login in flight before it ends (the drain), so a person who
// answers in time is not turned away by a restart.
TEST_F(FaultMatrix, HelperStoppingFinishesTheLoginInFlight) {
    start_helper();
    const auto run =
        login("alice", accepting_code_offers([&](int, const std::string&) -> std::optional<std::string> {
                  helper_->signal(SIGTERM);
                  EXPECT_TRUE(wait_until([&] { return helper_log().find("stopping") != std::string::npos; }));
                  return standin_->latest_code(kAliceEmail).value_or("no-code");
              }));
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_log();
    EXPECT_TRUE(helper_->wait_exit(std::chrono::seconds(15))) << "the helper must end once the login is done";
}

// ---- configuration
// ------------------------------------------------------------------------------------------

TEST_F(FaultMatrix, ConfigurationMissing) {
    start_helper(dir_ / "does-not-exist.conf");
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
}

TEST_F(FaultMatrix, ConfigurationInvalid) {
    const fs::path conf = write_config({});
    write_text(conf, read_text(conf) + "\n[login]\nbogus = 1\n");
    start_helper(conf);
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
}

TEST_F(FaultMatrix, ConfigurationWorldWritable) {
    const fs::path conf = write_config({});
    fs::permissions(conf, fs::perms(0666));
    start_helper(conf);
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
    EXPECT_NE(helper_log().find("writable by group or others"), std::string::npos) << helper_log();
}

TEST_F(FaultMatrix, ConfigurationNotOwnedByRoot) {
    const fs::path conf = write_config({});
    ASSERT_EQ(::chown(conf.c_str(), 65534, 65534), 0);
    start_helper(conf);
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
    EXPECT_NE(helper_log().find("owned by root"), std::string::npos) << helper_log();
}

TEST_F(FaultMatrix, ConfigurationIsASymlink) {
    const fs::path conf = write_config({});
    fs::create_symlink(conf, dir_ / "link.conf");
    start_helper(dir_ / "link.conf");
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
    EXPECT_NE(helper_log().find("symlink"), std::string::npos) << helper_log();
}

TEST_F(FaultMatrix, ConfigurationDirectoryWritableByOthers) {
    const fs::path conf = write_config({});
    fs::create_directories(dir_ / "open");
    fs::permissions(dir_ / "open", fs::perms(0777));
    fs::copy_file(conf, dir_ / "open" / "helper.conf");
    start_helper(dir_ / "open" / "helper.conf");
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
}

TEST_F(FaultMatrix, IdentityMapWorldWritable) {
    const fs::path conf = write_config({});
    fs::permissions(dir_ / "identities", fs::perms(0666));
    start_helper(conf);
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
}

TEST_F(FaultMatrix, IdentityMapMissing) {
    const fs::path conf = write_config({});
    fs::remove(dir_ / "identities");
    start_helper(conf);
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
}

TEST_F(FaultMatrix, ClientSecretReadableByOthers) {
    const fs::path conf = write_config({});
    fs::permissions(dir_ / "client-secret", fs::perms(0644));
    start_helper(conf);
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
}

TEST_F(FaultMatrix, BadModuleArgument) {
    start_helper();
    const auto run = run_pam(test_service("badarg"), "alice", code_from_outbox());
    // The module refuses before it talks to anyone: the person gets no line of its own, the application
    // shows pam_strerror(PAM_SERVICE_ERR), and the reason is in the log.
    expect_row(run, PAM_SERVICE_ERR, kNoMessage, "");
    EXPECT_EQ(helper_log().find("outcome="), std::string::npos);
}

// ---- the local credential store (methods = security_key)
// ----------------------------------------------------

class FaultMatrixKeys : public FaultMatrix {
  protected:
    fs::path store() const { return dir_ / "credentials"; }
    void start_with_store(const std::string& alice_file, fs::perms mode,
                          const std::string& methods = "security_key") {
        fs::create_directories(store());
        fs::permissions(store(), fs::perms(0700));
        if (!alice_file.empty()) write_text(store() / "alice", alice_file, mode);
        start_helper(LoginConfig().with_methods(methods).with_sections(
            "\n[security_key]\nstore_dir = " + store().string() + "\ntouch_timeout = 5\n"));
    }
};

// A damaged record is skipped and named in the log; with nothing else left, alice has no key enrolled and
// walks the path of a user without one.
TEST_F(FaultMatrixKeys, CredentialStoreCorrupt) {
    start_with_store("this is not a credential record\n\x01\x02\xff garbage\n", fs::perms(0600));
    const auto run = login();
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kNoKey, "authinfo_unavail");
    EXPECT_NE(helper_log().find("credential store: "), std::string::npos) << helper_log();
    EXPECT_NE(helper_log().find("record skipped"), std::string::npos) << helper_log();
}

TEST_F(FaultMatrixKeys, CredentialStoreUnsafe) {
    start_with_store(kCredentialRecord, fs::perms(0666));
    const auto run = login();
    expect_row(run, PAM_SERVICE_ERR, kMisconfigured, "service_err");
    EXPECT_TRUE(run.prompts().empty());
}

TEST_F(FaultMatrixKeys, CredentialStoreDirectoryUnsafe) {
    start_with_store(kCredentialRecord, fs::perms(0600));
    fs::permissions(store(), fs::perms(0777));
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
}

// The signature counters' journal beside the credentials (helper/counter_journal.hpp): a record neither of
// whose copies passes its checksum may hide anyone's counter, and a journal others could write may hold any
// counter. Either fails closed before any key is asked.
TEST_F(FaultMatrixKeys, CounterJournalDamaged) {
    fs::create_directories(store());
    write_text(store() / "~counters", std::string(128, '\x5a'), fs::perms(0600));
    start_with_store(kCredentialRecord, fs::perms(0600));
    const auto run = login();
    expect_row(run, PAM_SERVICE_ERR, kMisconfigured, "service_err");
    EXPECT_TRUE(run.prompts().empty());
    EXPECT_NE(helper_log().find((store() / "~counters").string() + ": damaged"), std::string::npos)
        << helper_log();
}

TEST_F(FaultMatrixKeys, CounterJournalUnsafe) {
    fs::create_directories(store());
    write_text(store() / "~counters", "", fs::perms(0666));
    start_with_store(kCredentialRecord, fs::perms(0600));
    expect_row(login(), PAM_SERVICE_ERR, kMisconfigured, "service_err");
    EXPECT_NE(helper_log().find("writable by group or others"), std::string::npos) << helper_log();
}

// alice has a key enrolled; no key is connected (this machine has no HID devices at all).
TEST_F(FaultMatrixKeys, KeyAbsent) {
    ASSERT_FALSE(fs::exists("/dev/hidraw0")) << "a real key could be plugged in here";
    start_with_store(kCredentialRecord, fs::perms(0600));
    const auto run = login();
    expect_row(run, PAM_AUTHINFO_UNAVAIL, kNoKey, "authinfo_unavail");
}

// ---- the caller
// ----------------------------------------------------------------------------------------------

class FaultMatrixCaller : public FaultMatrix, public ::testing::WithParamInterface<bool> {};

TEST_P(FaultMatrixCaller, NotRootAskingForAnotherUser) {
    start_helper(LoginConfig().with_login_extra(GetParam() ? "allow_unprivileged_self = yes\n" : ""));
    const auto before = standin_->outbox_lines();
    const fs::path transcript = dir_ / "child-transcript";
    const int code = run_as_uid(65534, [&] {
        const auto run = run_pam(service_, "alice", code_from_outbox());
        // The child cannot write below the root-owned test directory; its stdout goes to the test log.
        const std::string last = last_error(run);
        std::printf("child transcript: %s\n", run.all_text().c_str());
        std::fflush(stdout);
        return run.code == PAM_AUTH_ERR && last == kNotAllowed && run.prompts().empty() ? 0 : 100 + run.code;
    });
    EXPECT_EQ(code, 0) << "child: PAM code " << (code >= 100 ? module::pam_code_name(code - 100) : "?")
                       << "\n"
                       << helper_log();
    const std::string log = helper_log();
    // Refused before any login work: a summary line (admission.hpp), not an audit line per request.
    EXPECT_NE(log.find("refused a request from uid 65534: caller may not authenticate this user"),
              std::string::npos)
        << log;
    EXPECT_EQ(log.find("outcome=success"), std::string::npos) << log;
    EXPECT_EQ(standin_->outbox_lines(), before) << "no code may be sent";
}

INSTANTIATE_TEST_SUITE_P(Rows, FaultMatrixCaller, ::testing::Bool(), [](const auto& info) {
    return std::string(info.param ? "SelfAllowed" : "SelfNotAllowed");
});

}  // namespace
}  // namespace pp::test
