// Debugging a login (issue #11): one login id in the module's and the helper's lines, a debug level that
// traces the steps and never writes a secret, and the [pool] proxy setting. Through the real module under the
// real libpam (pam_wrapper), the real helper and the local stand-in of the user pool.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <security/pam_appl.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <regex>
#include <sstream>

#include "login_harness.hpp"

namespace pp::test {
namespace {

constexpr const char* kAliceEmail = "alice@example.com";
constexpr const char* kAlicePhone = "+15555550123";
constexpr const char* kClientSecret = "s3cr3t-for-the-local-stand-in-only";  // login_harness.cpp
constexpr const char* kIdentities = "alice alice@example.com\nalice +15555550123\n";

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// The module's syslog lines. pam_wrapper hands pam_syslog() to its own log on standard error (instead of
// syslog) at PAM_WRAPPER_DEBUGLEVEL 3 or more, as "PWRAP_<LEVEL>(pid) - SYSLOG(<priority>): <line>"; fd 2 is
// sent to a file under the test's directory while the login runs.
class ModuleLog {
  public:
    explicit ModuleLog(const fs::path& file) : file_(file) {
        ::setenv("PAM_WRAPPER_DEBUGLEVEL", "3", 1);
        saved_ = ::dup(2);
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (saved_ < 0 || fd < 0) throw std::runtime_error("cannot redirect standard error");
        ::dup2(fd, 2);
        ::close(fd);
    }
    ~ModuleLog() { restore(); }
    ModuleLog(const ModuleLog&) = delete;
    ModuleLog& operator=(const ModuleLog&) = delete;

    // The module's lines (what it gave pam_syslog), once the login is over.
    std::vector<std::string> lines() {
        restore();
        std::vector<std::string> out;
        for (const auto& l : lines_of(read_text(file_))) {
            const auto at = l.find("SYSLOG(");
            if (at == std::string::npos) continue;
            const auto colon = l.find("): ", at);
            // libpam's own lines (its internal functions start with _pam_) come through pam_syslog too.
            if (colon != std::string::npos && l.compare(colon + 3, 5, "_pam_") != 0)
                out.push_back(l.substr(colon + 3));
        }
        return out;
    }

  private:
    void restore() {
        if (saved_ < 0) return;
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
        ::unsetenv("PAM_WRAPPER_DEBUGLEVEL");
    }
    fs::path file_;
    int saved_ = -1;
};

// The login id of the helper's audit line for this test's one login.
std::string audit_login_id(const std::string& helper_log) {
    static const std::regex re("login=([0-9a-f]{16}) user=\"alice\"");
    std::smatch m;
    if (!std::regex_search(helper_log, m, re)) return {};
    return m[1];
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

class DebugLog : public StandInTest {
  protected:
    void start_helper(const std::string& extra_config) {
        const std::string config = extra_config +
                                   "\n[login]\nmethods = email_otp\nrequest_timeout = 3\nlogin_timeout = 60\n"
                                   "\n[limits]\nstate_file = " +
                                   (test_dir() / "limits").string() + "\n\n[binding]\n";
        helper_ = std::make_unique<Helper>(dir_, *standin_, HelperFiles{config, kIdentities, true});
    }

    // One email-code login of alice through `service`; the module's lines are caught.
    PamRun login(const std::string& service) {
        ModuleLog capture(dir_ / "module.log");
        PamRun run = run_pam(service, "alice", accepting_code_offers([this](int, const std::string&) {
                                 return standin_->latest_code(kAliceEmail).value_or("no-code");
                             }));
        module_lines_ = capture.lines();
        return run;
    }

    std::unique_ptr<Helper> helper_;
    std::vector<std::string> module_lines_;
};

// Every line the module wrote for a login and every helper line about it carry the id of its audit line.
TEST_F(DebugLog, ModuleAndHelperLinesCarryOneLoginId) {
    start_helper("[log]\nlevel = debug\n");
    const PamRun run = login(test_service("debug"));
    ASSERT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    const std::string id = audit_login_id(helper_->log());
    ASSERT_FALSE(id.empty()) << "no audit line with a login id:\n" << helper_->log();

    ASSERT_GE(module_lines_.size(), 4u) << "the module's debug lines are missing:\n" << joined(module_lines_);
    for (const auto& l : module_lines_)
        EXPECT_TRUE(l.starts_with("login=" + id + " ")) << "module line without login=" << id << ": " << l;

    // The helper's lines about the login: those written while it ran, the audit line last.
    std::size_t helper_login_lines = 0;
    for (const auto& l : lines_of(helper_->log())) {
        if (!contains(l, "login=")) continue;
        ++helper_login_lines;
        EXPECT_TRUE(contains(l, "login=" + id + " ")) << "helper line with another id: " << l;
    }
    EXPECT_GE(helper_login_lines, 5u) << helper_->log();
}

// At debug level the lines trace the steps (requests with their operation, status, time and lane; challenge
// names; messages relayed by kind) and never carry the code, the Session, a token, the client secret or a
// full address.
TEST_F(DebugLog, DebugLinesTraceTheStepsAndCarryNoSecret) {
    start_helper("[log]\nlevel = debug\n");
    const PamRun run = login(test_service("debug"));
    ASSERT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    const std::string helper_log = helper_->log();
    const std::string module_log = joined(module_lines_);
    const std::string all = helper_log + module_log;

    const auto code = standin_->latest_code(kAliceEmail);
    ASSERT_TRUE(code.has_value());
    std::vector<std::string> secrets = standin_->issued_secrets();
    ASSERT_GE(secrets.size(), 3u) << "expected a Session and tokens in issued.jsonl";
    secrets.push_back(*code);
    secrets.push_back(kClientSecret);
    secrets.emplace_back(kAliceEmail);
    secrets.emplace_back(kAlicePhone);
    for (const auto& s : secrets) {
        EXPECT_FALSE(contains(all, s)) << "a log line carries a secret: " << s;
        // A cut-off copy is a leak too.
        if (s.size() > 24) {
            EXPECT_FALSE(contains(all, s.substr(0, 24))) << "a log line carries part of " << s;
        }
    }

    for (const char* step : {"user pool: InitiateAuth: HTTP 200 in ", " ms, lane ", "(new connection)",
                             "(kept-alive connection)", "user pool: InitiateAuth: challenge EMAIL_OTP",
                             "user pool: RespondToAuthChallenge: HTTP 200",
                             "user pool: RespondToAuthChallenge: signed in (tokens received)",
                             "user pool: key set (JWKS): HTTP 200", "to the module: prompt (echo off)",
                             "from the module: answer", "outcome=success"})
        EXPECT_TRUE(contains(helper_log, step)) << "missing helper step '" << step << "':\n" << helper_log;
    for (const char* step : {"connecting to the helper at ", "login started", "prompt (echo off) relayed",
                             "answer sent", "result received", "helper outcome success, PAM code "})
        EXPECT_TRUE(contains(module_log, step)) << "missing module step '" << step << "':\n" << module_log;
}

// At the default level neither program writes a debug line; the module's lines still carry the id.
TEST_F(DebugLog, InfoLevelWritesNoDebugLines) {
    start_helper("");
    const PamRun run = login(test_service());
    ASSERT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    EXPECT_FALSE(contains(helper_->log(), "user pool: InitiateAuth")) << helper_->log();
    EXPECT_TRUE(module_lines_.empty()) << joined(module_lines_);
}

// The level is the file's in force: a reload to debug turns the lines on for the next login, a reload back
// to info turns them off.
TEST_F(DebugLog, LevelFollowsReloads) {
    start_helper("");
    ASSERT_EQ(login(test_service()).code, PAM_SUCCESS) << helper_->log();
    EXPECT_FALSE(contains(helper_->log(), "user pool: InitiateAuth")) << helper_->log();

    const auto reload_with = [&](const std::string& level) {
        std::string conf = read_text(helper_->config_path());
        const auto at = conf.find("\n[log]");
        if (at != std::string::npos) conf.erase(at);
        write_text(helper_->config_path(), conf + "\n[log]\nlevel = " + level + "\n");
        const auto reloads = [&] {
            std::size_t n = 0;
            for (const auto& l : lines_of(helper_->log()))
                n += contains(l, "configuration reloaded from") ? 1 : 0;
            return n;
        };
        const std::size_t before = reloads();
        helper_->reload();
        ASSERT_TRUE(wait_until([&] { return reloads() > before; })) << helper_->log();
    };

    reload_with("debug");
    const std::size_t mark = helper_->log().size();
    ASSERT_EQ(login(test_service()).code, PAM_SUCCESS) << helper_->log();
    EXPECT_TRUE(contains(helper_->log().substr(mark), "user pool: InitiateAuth: HTTP 200")) << helper_->log();

    reload_with("info");
    const std::size_t mark2 = helper_->log().size();
    ASSERT_EQ(login(test_service()).code, PAM_SUCCESS) << helper_->log();
    EXPECT_FALSE(contains(helper_->log().substr(mark2), "user pool: ")) << helper_->log().substr(mark2);
}

// A CONNECT proxy (tests/pam/connect_proxy.py) on a port the kernel picks, recording each CONNECT target.
class ConnectProxy {
  public:
    explicit ConnectProxy(const fs::path& dir) : dir_(dir) {
        fs::create_directories(dir_);
        fs::remove(dir_ / "port");
        proc_ = Process({"/usr/bin/python3", PP_CONNECT_PROXY_SCRIPT, dir_.string()}, dir_ / "proxy.log");
        if (!wait_until([&] { return fs::exists(dir_ / "port") || !proc_.running(); }) ||
            !fs::exists(dir_ / "port"))
            throw std::runtime_error("the proxy did not start: " + read_text(dir_ / "proxy.log"));
        port_ = std::stoi(read_text(dir_ / "port"));
    }
    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] std::string connects() const { return read_text(dir_ / "connects"); }
    void stop() { proc_.stop(); }

  private:
    fs::path dir_;
    Process proc_;
    int port_ = 0;
};

// The proxy variables libcurl would read from the helper's environment, set for one scope.
class ProxyEnvironment {
  public:
    explicit ProxyEnvironment(const std::string& url) {
        for (const char* name : kNames) ::setenv(name, url.c_str(), 1);
    }
    ~ProxyEnvironment() {
        for (const char* name : kNames) ::unsetenv(name);
    }
    ProxyEnvironment(const ProxyEnvironment&) = delete;
    ProxyEnvironment& operator=(const ProxyEnvironment&) = delete;

  private:
    static constexpr const char* kNames[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
};

using Proxy = DebugLog;

// Every pool request (the API and the key set) goes through the configured proxy's CONNECT tunnel, TLS
// still checked against ca_file; a proxy in the environment loses to the file's.
TEST_F(Proxy, LoginGoesThroughTheConfiguredProxyNotTheEnvironments) {
    ConnectProxy proxy(dir_ / "proxy");
    ConnectProxy other(dir_ / "other-proxy");
    const ProxyEnvironment env(other.url());
    start_helper("[pool]\nproxy = " + proxy.url() + "\n");
    const PamRun run = login(test_service());
    ASSERT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    const std::string target = "127.0.0.1:" + std::to_string(standin_->port());
    EXPECT_TRUE(contains(proxy.connects(), target + "\n")) << proxy.connects();
    EXPECT_EQ(other.connects(), "") << "the environment's proxy was used";
}

// With the proxy down the login fails as the pool being unreachable does, and the audit line's reason names
// the proxy.
TEST_F(Proxy, ProxyDownFailsUnavailableAndTheReasonNamesIt) {
    ConnectProxy proxy(dir_ / "proxy");
    const std::string url = proxy.url();
    proxy.stop();
    start_helper("[pool]\nproxy = " + url + "\n");
    const PamRun run = login(test_service());
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.all_text() << helper_->log();
    EXPECT_TRUE(contains(run.all_text(), "The sign-in service cannot be reached; try again later."))
        << run.all_text();
    EXPECT_TRUE(contains(helper_->log(), "outcome=authinfo_unavail")) << helper_->log();
    EXPECT_TRUE(contains(helper_->log(), "(through the proxy " + url + ")")) << helper_->log();
}

// Without the setting no proxy is used, whatever the helper's environment says.
TEST_F(Proxy, EnvironmentProxyIsIgnoredWhenNoneIsConfigured) {
    ConnectProxy proxy(dir_ / "proxy");
    const ProxyEnvironment env(proxy.url());
    start_helper("");
    const PamRun run = login(test_service());
    ASSERT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    EXPECT_EQ(proxy.connects(), "") << "the helper used the proxy of its environment";
}

}  // namespace
}  // namespace pp::test
