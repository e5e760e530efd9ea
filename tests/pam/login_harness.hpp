// What the end-to-end PAM tests run on: the local user-pool stand-in, the real helper, and the real module
// loaded by the real libpam (pam_wrapper redirects only where libpam looks for service files).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace pp::test {

namespace fs = std::filesystem;

// A directory under the build tree, root-owned mode 0755, emptied first.
fs::path fresh_dir(const std::string& name);
std::string read_text(const fs::path& p);
void write_text(const fs::path& p, const std::string& text, fs::perms mode = fs::perms(0644));

using Env = std::vector<std::string>;  // NAME=value
Env operator+(Env a, const Env& b);
bool contains(const std::string& haystack, const std::string& needle);
// `needle` (letters and digits) as a word of its own: not inside a longer run of letters and digits, where a
// short value (a four-digit PIN) turns up by chance (a hex hash, a login id).
bool contains_word(const std::string& haystack, const std::string& needle);

// A Unix socket name may have only 107 bytes and a build tree can sit deep: test directories are named
// "<prefix>-<hash of key>" (key: a test's full name).
std::string short_name(std::string_view prefix, const std::string& key);

// For child processes given an environment built from scratch: "LD_PRELOAD=<libraries>", with the ASan
// runtime first when the suite runs under scripts/test-sanitizers.sh (it sets PP_ASAN_RUNTIME), and the
// sanitizers' options (where their reports go) copied from this process.
std::string preload_entry(const std::string& libraries);
// The helper's threads running a login now (named "pp-login"; idle ones wait for the next login as
// "pp-idle"): 0 once every login it was given has ended. -1 when the process is gone.
int helper_login_threads(pid_t pid);
// The processes whose parent is `parent` (the helper's: its network worker, pool_worker/).
std::vector<pid_t> children_of(pid_t parent);

std::vector<std::string> sanitizer_env();

// Polls `ready` until it holds or `limit` passes: a readiness wait, never a fixed sleep.
bool wait_until(const std::function<bool()>& ready,
                std::chrono::milliseconds limit = std::chrono::seconds(20));

class Process {
  public:
    Process() = default;
    Process(const std::vector<std::string>& argv, const fs::path& log);
    Process(Process&& o) noexcept;
    Process& operator=(Process&& o) noexcept;
    ~Process();
    void signal(int sig) const;
    void stop();  // SIGTERM, then reap
    // SIGTERM, and the wait status if the process ended within `limit` (it is killed and reaped otherwise,
    // and the answer is empty).
    std::optional<int> stop_within(std::chrono::milliseconds limit);
    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] bool running() const;

  private:
    pid_t pid_ = -1;
};

class StandIn {
  public:
    explicit StandIn(const fs::path& dir);
    // A stand-in serving the pool described in `pool_file` (test_pool.json's format) instead of the tests'
    // own.
    StandIn(const fs::path& dir, const fs::path& pool_file);
    ~StandIn();
    [[nodiscard]] const fs::path& dir() const { return dir_; }
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string url() const;
    [[nodiscard]] std::string issuer() const;
    [[nodiscard]] std::string ca_file() const { return (dir_ / "ca.pem").string(); }
    void set_control(const std::string& json) const;  // fault switches, see tests/cognito_standin
    void clear_control() const { set_control("{}"); }
    [[nodiscard]] std::optional<std::string> latest_code(const std::string& destination) const;
    [[nodiscard]] std::size_t outbox_lines() const;
    [[nodiscard]] std::string requests_log() const;
    // Every Session and ID, access and refresh token the stand-in handed out since it started (issued.jsonl).
    [[nodiscard]] std::vector<std::string> issued_secrets() const;

  private:
    fs::path dir_;
    Process proc_;
    int port_ = 0;
};

// The requests the stand-in logged after `offset` (an earlier requests_log().size()), one line each, without
// the key-set downloads: a freshly started helper downloads the key set after its first answer, whoever that
// answer was for (helper/pool_warm_up.hpp), which asks nothing about anyone. Empty: nothing was asked.
std::string questions_since(const StandIn& standin, std::size_t offset);

// test_pool.json with `key`'s value replaced by `value` (JSON text), written to `path`: a stand-in pool that
// differs in one setting.
fs::path test_pool_with(const fs::path& path, const std::string& key, const std::string& value);

// The helper serves only local accounts (getpwnam_r). Tests run it under nss_wrapper with an account
// database of their own: writes dir/passwd and dir/group (root, the system accounts daemon (uid 1) and
// backup (uid 34), nobody, and the test users alice, bob, carol, dave and mallory from uid 1001, then
// `extra`) and returns the command that runs `argv` with it.
std::vector<std::string> with_local_accounts(const std::vector<std::string>& argv, const fs::path& dir,
                                             const std::vector<std::string>& extra = {});
inline constexpr uid_t kAliceUid = 1001;

struct HelperFiles {
    std::string config;      // the [login]/[binding]/[service] part; [pool] is added from the stand-in
    std::string identities;  // identity map text ("" = no map file)
    bool with_secret = true;
};

// How the helper is run (tests of the network worker): a command put before it (e.g. unshare --net), the
// program itself ("" = the built helper) and arguments after the harness's own (e.g. --pool-socket PATH).
struct HelperLaunch {
    std::vector<std::string> launcher;
    std::string program;
    std::vector<std::string> extra_args;
};

class Helper {
  public:
    Helper(const fs::path& dir, const StandIn& standin, const HelperFiles& files,
           const HelperLaunch& launch = {});
    // Starts with whatever files are in `dir` (for the bad-configuration tests).
    Helper(const fs::path& dir, const fs::path& config_path);
    ~Helper();
    [[nodiscard]] std::string socket() const { return (dir_ / "helper.sock").string(); }
    [[nodiscard]] fs::path config_path() const { return dir_ / "helper.conf"; }
    [[nodiscard]] std::string log() const;
    [[nodiscard]] pid_t pid() const { return proc_.pid(); }
    void reload() const;
    void stop();
    std::optional<int> stop_within(std::chrono::milliseconds limit) { return proc_.stop_within(limit); }
    void signal(int sig) const { proc_.signal(sig); }

  private:
    void start(const fs::path& config);
    fs::path dir_;
    std::vector<std::string> launcher_, extra_args_;
    std::string program_ = PP_HELPER_BIN;
    Process proc_;
};

std::string pool_section(const StandIn& s, const fs::path& dir, bool with_secret);

// A fixture for logins against the stand-in: one stand-in per test process (CTest runs each test in a process
// of its own, possibly side by side), and for each test a fresh directory (test_dir()) and its PAM service
// (test_service()). Skips without root: the helper trusts only root-owned files and sockets.
class StandInTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite();
    static void TearDownTestSuite();
    void SetUp() override;

    static std::unique_ptr<StandIn> standin_;
    static fs::path standin_dir_;
    fs::path dir_;
    std::string service_;
};

struct Turn {
    int style;  // PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON, PAM_ERROR_MSG, PAM_TEXT_INFO
    std::string text;
};

// Answers one prompt; nullopt makes the conversation fail (PAM_CONV_ERR), as a closed terminal would.
using Answerer = std::function<std::optional<std::string>(int style, const std::string& text)>;

// The offer of a code that starts a login with one code method ("Send a code to …? [Y/n] ", echoed).
bool is_code_offer(int style, const std::string& text);
// Answers the offer of a code with Enter (send it) and every other prompt with `inner`.
Answerer accepting_code_offers(Answerer inner);
// What sshd's PasswordAuthentication conversation does (OpenSSH auth-pam.c, sshpam_passwd_conv): every prompt
// that does not echo gets the typed password, every prompt that echoes is refused (PAM_CONV_ERR).
Answerer sshd_password_conversation(std::string password);

struct PamRun {
    int code = -1;
    std::vector<Turn> transcript;
    [[nodiscard]] std::string all_text() const;
    [[nodiscard]] std::vector<std::string> of_style(std::initializer_list<int> styles) const;
    [[nodiscard]] std::vector<std::string> prompts() const;  // PAM_PROMPT_ECHO_OFF and _ON
    [[nodiscard]] std::vector<std::string> infos() const;    // PAM_TEXT_INFO
};

// The messages of the login run_pam is running now, so far: what an answerer's prompt was shown after (the
// browser sign-in's link, a PAM_TEXT_INFO). Empty outside run_pam.
const std::vector<Turn>& live_transcript();

// A login as tests/passkeys/pam_login_driver printed it on standard output: "<style> <text>" per message
// (style echo_off, echo_on, error or info; a newline in the text written as \n), then "pam_code=<N>".
PamRun parse_driver_output(const std::string& out);

// Runs `body` in a child process that has become `uid` (keeping only the right to search directories, so
// that a socket below a private build tree stays reachable), and returns its exit status.
int run_as_uid(uid_t uid, const std::function<int()>& body);

// pam_wrapper copies the service files when it loads, so every test's service exists before the process runs:
// test_main() writes, for each registered test, "pp-<key>" (module arguments socket=<test dir>/helper.sock)
// and "pp-<key>-badarg" (the same plus an unknown argument), "pp-<key>-debug" (the same plus debug),
// "pp-<key>-fallthrough" (the module first with [success=done ignore=ignore default=die], then pam_permit),
// and "pp-<key>-profile" (the packaged pam-auth-update profile's line, [success=done default=ignore] ...
// unknown_user=ignore, then pam_permit in place of the password module). The stack starts with pam_wrapper's
// pam_set_items.so, which sets PAM items (PAM_RHOST, ...) from environment variables of the same name.
std::string test_key();                                   // the running test's full name, as a file name
fs::path test_dir();                                      // fresh_dir(test_key()) is this
std::string test_socket();                                // where the running test's helper listens
std::string test_service(std::string_view variant = "");  // "", "badarg", "debug", "fallthrough", "profile"
void write_services_for_all_tests();

// Runs pam_authenticate once for `user` through `service`, answering prompts with `answer`; `items` are set
// as PAM items through pam_set_items.so.
PamRun run_pam(const std::string& service, const std::string& user, const Answerer& answer,
               const std::map<std::string, std::string>& items = {});

}  // namespace pp::test
