// Security keys end to end: the real module under the real libpam (pam_wrapper), the real helper, the real
// command line, and virtual FIDO2 keys behind the real libfido2 (tests/virtual_fido, LD_PRELOAD). Every login
// and every command runs in a child process of its own, because the virtual keys read their knobs (VFIDO_*)
// once, when they load: pam_login_driver for one pam_authenticate, pam-passwordless for one command.
#include <gtest/gtest.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "crypto.hpp"
#include "helper/person_texts.hpp"
#include "login_harness.hpp"
#include "terminal_session.hpp"

namespace pp::test {
namespace {

constexpr const char* kRpId = "pam://pam-passwordless-test";
constexpr const char* kService = "pp-passkeys";
constexpr const char* kPin = "4321";
constexpr const char* kTouch = pp::helper::kTouchKey;
constexpr uid_t kNobody = 65534;

struct Login : PamRun {
    ChildResult run;

    [[nodiscard]] bool same_screen(const Login& o) const {
        return transcript.size() == o.transcript.size() &&
               std::equal(
                   transcript.begin(), transcript.end(), o.transcript.begin(),
                   [](const Turn& a, const Turn& b) { return a.style == b.style && a.text == b.text; });
    }
};

Login login_of(ChildResult run) {
    Login l;
    static_cast<PamRun&>(l) = parse_driver_output(run.out);
    l.run = std::move(run);
    return l;
}

struct Row {
    std::string id, name, alg, uv, created, last_used, rp_id;
};

// The rows of `pam-passwordless list`: columns are separated by two spaces or more.
std::vector<Row> parse_table(const std::string& out) {
    std::vector<Row> rows;
    std::istringstream in(out);
    std::string line;
    if (!std::getline(in, line) || !line.starts_with("ID")) return rows;
    static const std::regex gap(" {2,}");
    while (std::getline(in, line)) {
        std::vector<std::string> cols(std::sregex_token_iterator(line.begin(), line.end(), gap, -1),
                                      std::sregex_token_iterator());
        if (cols.size() != 7) break;
        rows.push_back({cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6]});
    }
    return rows;
}

struct HelperSetup {
    std::string methods = "security_key";
    std::string login_extra;  // further [login] lines
    std::string user_verification = "preferred";
};

class Passkeys : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root: the helper trusts only root-owned files and sockets";
        const std::string key = test_key();
        dir_ = fresh_dir(short_name("pk", key));
        write_text(dir_ / "test-name", key + "\n");
        fs::create_directory(state_dir());
        fs::create_directory(dir_ / "services");
        // pam_wrapper copies the service files when a process loads it: written before any child starts.
        write_text(dir_ / "services" / kService, "auth required " PP_PAM_WRAPPER_MODULES
                                                 "/pam_set_items.so\n"
                                                 "auth required " PP_MODULE_PATH " socket=" +
                                                     socket() +
                                                     " timeout=30\n"
                                                     "account required pam_permit.so\n");
    }

    void TearDown() override { helper_.reset(); }

    [[nodiscard]] std::string socket() const { return (dir_ / "helper.sock").string(); }
    [[nodiscard]] fs::path state_dir() const { return dir_ / "vfido-state"; }
    [[nodiscard]] fs::path store() const { return dir_ / "credentials"; }
    [[nodiscard]] std::string log() const { return helper_ ? helper_->log() : std::string(); }

    [[nodiscard]] std::string security_key_section(const std::string& uv) const {
        return "[security_key]\nrp_id = " + std::string(kRpId) + "\nstore_dir = " + store().string() +
               "\ntouch_timeout = 2\nuser_verification = " + uv + "\n";
    }

    void start_helper(const HelperSetup& s = {}) {
        const std::string conf =
            "[pool]\npool_id = us-east-1_TestPool\nclient_id = x\nendpoint = https://127.0.0.1:1/\n"
            "issuer = https://127.0.0.1:1/us-east-1_TestPool\n\n"
            "[login]\nmethods = " +
            s.methods + "\n" + s.login_extra + "\n[binding]\nclaim = cognito:username\n\n" +
            security_key_section(s.user_verification);
        write_text(dir_ / "helper.conf", conf);
        helper_ = std::make_unique<Helper>(dir_, dir_ / "helper.conf");
    }

    // The environment of a process that may touch a key: the virtual keys with these knobs, nothing else.
    // The keys' counters live in a directory the process can write.
    [[nodiscard]] Env key_env(const Env& knobs, std::optional<uid_t> uid = std::nullopt) const {
        fs::path state = state_dir();
        if (uid) {
            state = dir_ / ("vfido-state-" + std::to_string(*uid));
            if (fs::create_directory(state) && ::chown(state.c_str(), *uid, *uid) != 0)
                ADD_FAILURE() << "cannot hand " << state << " to uid " << *uid;
        }
        return Env{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "VFIDO_STATE_DIR=" + state.string()} +
               sanitizer_env() + knobs;
    }
    [[nodiscard]] Env pam_env(const Env& knobs, const Env& items) const {
        return key_env(knobs) +
               Env{preload_entry(PP_VIRTUAL_FIDO ":" PP_PAM_WRAPPER_LIBRARY), "PAM_WRAPPER=1",
                   "PAM_WRAPPER_SERVICE_DIR=" + (dir_ / "services").string()} +
               items;
    }

    ChildResult cli(const std::vector<std::string>& args, const Env& knobs = {},
                    const std::string& input = "", std::optional<uid_t> uid = std::nullopt) const {
        ChildSpec spec;
        spec.argv = {PP_CLI_BIN, "--socket", socket()};
        spec.argv.insert(spec.argv.end(), args.begin(), args.end());
        spec.env = key_env(knobs, uid) + Env{preload_entry(PP_VIRTUAL_FIDO)};
        spec.input = input;
        spec.work = dir_;
        spec.uid = uid;
        return run_child(spec);
    }

    // One pam_authenticate for `user` through the module; `answers` answer the prompts in order, `items`
    // become PAM items through pam_set_items.so (PAM_RHOST=...).
    Login login(const std::string& user, const Env& knobs = {}, const std::vector<std::string>& answers = {},
                const Env& items = {}) const {
        ChildSpec spec;
        spec.argv = {PP_LOGIN_DRIVER, kService, user};
        spec.env = pam_env(knobs, items);
        for (const auto& a : answers) spec.input += a + "\n";
        spec.work = dir_;
        return login_of(run_child(spec));
    }

    // `clone`: the virtual keys' counter state as it was before alice's last login, so that the key signs
    // with the counter that login was let in with. Refused as a possible clone; the key itself, one step
    // further, still signs in.
    void expect_clone_refused_then_key_let_in(const fs::path& clone) const {
        fs::remove_all(state_dir());
        fs::copy(clone, state_dir(), fs::copy_options::recursive);
        const auto replay = login("alice");
        EXPECT_EQ(replay.code, PAM_AUTH_ERR) << replay.run.describe() << log();
        EXPECT_TRUE(contains(log(), "possible clone")) << log();
        const auto next = login("alice");
        EXPECT_EQ(next.code, PAM_SUCCESS) << next.run.describe() << log();
    }

    void enroll(const std::string& user, const std::string& name, const Env& knobs = {},
                const std::string& input = "") const {
        const auto r = cli({"enroll", "--user", user, "--name", name}, knobs, input);
        ASSERT_EQ(r.exit_code, 0) << r.describe() << log();
    }

    [[nodiscard]] std::vector<Row> list(const std::string& user) const {
        const auto r = cli({"list", "--user", user});
        EXPECT_EQ(r.exit_code, 0) << r.describe() << log();
        return parse_table(r.out);
    }

    [[nodiscard]] std::string id_of(const std::string& user, const std::string& name) const {
        for (const auto& row : list(user))
            if (row.name == name) return row.id;
        ADD_FAILURE() << "no credential named '" << name << "' for " << user;
        return {};
    }

    // A pamu2fcfg line for a credential made by virtual key `index` (of `keys`) for `origin`.
    [[nodiscard]] std::string pamu2f_line(int index, int keys, const std::string& origin,
                                          const std::string& user, const std::string& alg = "es256") const {
        ChildSpec spec;
        spec.argv = {PP_PAMU2F_LINE, std::to_string(index), origin, user, alg};
        spec.env = key_env({"VFIDO_KEYS=" + std::to_string(keys)}) + Env{preload_entry(PP_VIRTUAL_FIDO)};
        spec.work = dir_;
        const auto r = run_child(spec);
        EXPECT_EQ(r.exit_code, 0) << r.describe();
        std::string line = r.out;
        while (!line.empty() && line.back() == '\n') line.pop_back();
        return line;
    }

    // Imports an authfile as root; the file is root's alone, as pam-u2f's central authfile would be.
    void import(const std::string& text, const std::string& origin, ChildResult* result = nullptr) const {
        const fs::path file = dir_ / "u2f_keys";
        write_text(file, text, fs::perms(0600));
        const auto r = cli({"import", file.string(), "--rp-id", origin});
        ASSERT_EQ(r.exit_code, 0) << r.describe() << log();
        if (result != nullptr) *result = r;
    }

    fs::path dir_;
    std::unique_ptr<Helper> helper_;
};

TEST_F(Passkeys, EnrolThenSignIn) {
    start_helper();
    const auto enrolled = cli({"enroll", "--user", "alice", "--name", "desk key"});
    ASSERT_EQ(enrolled.exit_code, 0) << enrolled.describe() << log();
    EXPECT_TRUE(contains(enrolled.err, "Touch your security key")) << enrolled.describe();

    const auto run = login("alice");
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log();
    EXPECT_TRUE(run.prompts().empty()) << "one method: no menu, and no PIN when UV is only preferred\n"
                                       << run.all_text();
    EXPECT_EQ(run.infos(), std::vector<std::string>{kTouch}) << run.all_text();
    EXPECT_TRUE(contains(log(), "method=security_key")) << log();
}

TEST_F(Passkeys, ListRenameRemove) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    auto rows = list("alice");
    ASSERT_EQ(rows.size(), 1u);
    const Row first = rows[0];
    EXPECT_EQ(first.name, "desk key");
    EXPECT_EQ(first.alg, "es256");
    EXPECT_EQ(first.uv, "no") << "the key has no PIN and UV was not asked for";
    EXPECT_EQ(first.rp_id, kRpId);
    EXPECT_EQ(first.last_used, "never");
    EXPECT_NE(first.created, "-");
    // The short form (8 characters when nothing else of alice's starts so), which rename and remove take.
    EXPECT_TRUE(std::regex_match(first.id, std::regex("[A-Za-z0-9_-]{8}"))) << first.id;

    const auto renamed = cli({"rename", first.id, "travel key", "--user", "alice"});
    EXPECT_EQ(renamed.exit_code, 0) << renamed.describe() << log();
    rows = list("alice");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].name, "travel key");
    EXPECT_EQ(rows[0].id, first.id);

    const auto used = login("alice");
    EXPECT_EQ(used.code, PAM_SUCCESS) << used.run.describe() << log();
    rows = list("alice");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_NE(rows[0].last_used, "never") << "a login records its use";

    const auto removed = cli({"remove", first.id, "--user", "alice"});
    EXPECT_EQ(removed.exit_code, 0) << removed.describe() << log();
    EXPECT_TRUE(list("alice").empty());
    const auto after = login("alice");
    // As a user whose key is not plugged in.
    EXPECT_EQ(after.code, PAM_AUTHINFO_UNAVAIL) << after.run.describe() << log();
    EXPECT_TRUE(contains(after.all_text(), "No security key")) << after.all_text();
}

TEST_F(Passkeys, CommandLineExitCodes) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto help = cli({"--help"});
    EXPECT_EQ(help.exit_code, 0);
    for (const char* word :
         {"enroll", "list", "rename", "remove", "import", "--rp-id", "--socket", "Exit status"})
        EXPECT_TRUE(contains(help.out, word)) << word;

    // The helper's refusal: exit 1 and its reason on standard error.
    const auto unknown = cli({"remove", "AAAAAAAAAAAAAAAAAAAAAA", "--user", "alice"});
    EXPECT_EQ(unknown.exit_code, 1) << unknown.describe();
    EXPECT_FALSE(unknown.err.empty());
    // Usage errors: exit 2, and nothing reaches the helper.
    for (const auto& args : std::vector<std::vector<std::string>>{{},
                                                                  {"frobnicate"},
                                                                  {"list", "extra"},
                                                                  {"list", "--name", "x"},
                                                                  {"rename", "not base64url!", "x"},
                                                                  {"remove"},
                                                                  {"import", "/dev/null"},
                                                                  {"enroll", "--user"}}) {
        const auto r = cli(args);
        EXPECT_EQ(r.exit_code, 2) << r.describe();
    }
    // No helper behind the socket: exit 3.
    ChildSpec spec;
    spec.argv = {PP_CLI_BIN, "--socket", (dir_ / "nobody-listens.sock").string(), "list"};
    spec.env = key_env({});
    spec.work = dir_;
    const auto gone = run_child(spec);
    EXPECT_EQ(gone.exit_code, 3) << gone.describe();
    EXPECT_EQ(list("alice").size(), 1u);
}

TEST_F(Passkeys, CredentialOnTheSecondOfTwoKeys) {
    start_helper();
    // The command line enrols with the first key, so the credential of key 1 comes in as pam-u2f's would.
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice") + "\n", kRpId));
    const auto run = login("alice", {"VFIDO_KEYS=2"});
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log();
    EXPECT_EQ(run.infos(), std::vector<std::string>{kTouch}) << run.all_text();
}

TEST_F(Passkeys, AKeyWithoutTheCredentialIsNeverAskedForATouch) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    // Key 1 would refuse any touch; it holds nothing of alice's, so the module must not ask it.
    const auto run = login("alice", {"VFIDO_KEYS=2", "VFIDO_KEY1_TOUCH=deny", "VFIDO_KEEPALIVE_MS=10"});
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log();
}

TEST_F(Passkeys, TouchDeniedIsRefused) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto run = login("alice", {"VFIDO_TOUCH=deny", "VFIDO_KEEPALIVE_MS=10"});
    EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.run.describe() << log();
    EXPECT_TRUE(contains(run.all_text(), "refused")) << run.all_text();
}

// Issue #10, finding 3: five remote failures made alice wait at the console too, security key in hand. Remote
// and local logins have budgets of their own.
// An outage of the user pool (here a closed port) must not take the local keys with it: with codes enabled
// beside them the pool is asked first, and when it cannot be reached the key is what is left (issue #11,
// outages).
TEST_F(Passkeys, AKeyStillSignsInWhenThePoolCannotBeReached) {
    start_helper({"security_key email_otp", "request_timeout = 2\n"});
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto run = login("alice");
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log();
    EXPECT_TRUE(contains(log(), "method=security_key")) << log();
    EXPECT_TRUE(contains(log(), "only security keys are offered")) << log();
}

TEST_F(Passkeys, RemoteFailuresDoNotBlockALocalKeyLogin) {
    start_helper({"security_key",
                  "remote_methods = security_key\n[limits]\nfailures_before_backoff = 2\nstate_file = " +
                      (dir_ / "limits").string() + "\n"});
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    for (int i = 0; i < 5; ++i) {
        const auto run =
            login("alice", {"VFIDO_TOUCH=deny", "VFIDO_KEEPALIVE_MS=10"}, {}, {"PAM_RHOST=203.0.113.7"});
        EXPECT_NE(run.code, PAM_SUCCESS) << run.run.describe() << log();
    }
    const auto remote = login("alice", {}, {}, {"PAM_RHOST=203.0.113.8"});
    EXPECT_EQ(remote.code, PAM_MAXTRIES) << "the remote way in waits\n" << remote.run.describe() << log();
    const auto local = login("alice");
    EXPECT_EQ(local.code, PAM_SUCCESS) << "the console does not\n" << local.run.describe() << log();
}

TEST_F(Passkeys, SilentKeyTimesOutWithinTheTouchTimeout) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto run = login("alice", {"VFIDO_TOUCH=silent", "VFIDO_KEEPALIVE_MS=20"});
    EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.run.describe() << log();
    EXPECT_TRUE(contains(run.all_text(), "timed out")) << run.all_text();
    // touch_timeout = 2: the wait is that long, not the module's 30 s nor the helper's login timeout.
    EXPECT_GE(run.run.elapsed, std::chrono::milliseconds(1500)) << run.run.describe();
    EXPECT_LT(run.run.elapsed, std::chrono::milliseconds(6000)) << run.run.describe();
}

TEST_F(Passkeys, NoKeyConnected) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto run = login("alice", {"VFIDO_KEYS=0"});
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.run.describe() << log();
    EXPECT_TRUE(contains(run.all_text(), "No security key")) << run.all_text();
    EXPECT_TRUE(run.infos().empty()) << "nobody is asked to touch a key that is not there\n"
                                     << run.all_text();
}

TEST_F(Passkeys, KeyWithAnotherCredentialIsLikeNoKey) {
    start_helper();
    // alice's credential lives on virtual key 1; the key connected at login is key 0.
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice") + "\n", kRpId));
    const auto run = login("alice", {"VFIDO_KEYS=1"});
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.run.describe() << log();
    EXPECT_TRUE(contains(run.all_text(), "No security key")) << run.all_text();
}

TEST_F(Passkeys, WrongRelyingPartyHashIsRefused) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto run = login("alice", {"VFIDO_WRONG_RPID=1"});
    EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.run.describe() << log();
}

TEST_F(Passkeys, BadSignatureIsRefused) {
    start_helper();
    // The key handle of one credential with the public key of another: the key signs with its own private
    // key, which the stored public key does not match.
    const std::string a = pamu2f_line(0, 1, kRpId, "alice");
    const std::string b = pamu2f_line(0, 1, kRpId, "alice");
    const auto kh_of = [](const std::string& line) {
        const auto colon = line.find(':');
        return line.substr(colon + 1, line.find(',') - colon - 1);
    };
    const auto rest_of = [](const std::string& line) { return line.substr(line.find(',')); };
    ASSERT_NO_FATAL_FAILURE(import("alice:" + kh_of(a) + rest_of(b) + "\n", kRpId));
    const auto run = login("alice");
    EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.run.describe() << log();
}

TEST_F(Passkeys, CounterRegressionIsRefusedAsAPossibleClone) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    // The key counts down across processes (VFIDO_STATE_DIR): 100, then 99.
    const auto first = login("alice", {"VFIDO_COUNTER=regress"});
    EXPECT_EQ(first.code, PAM_SUCCESS) << first.run.describe() << log();
    const auto second = login("alice", {"VFIDO_COUNTER=regress"});
    EXPECT_EQ(second.code, PAM_AUTH_ERR) << second.run.describe() << log();
    EXPECT_TRUE(contains(log(), "possible clone")) << log();
}

// Issue #10, speed 2: the counter moved out of the credential file into a journal updated in place. A login
// that succeeded has its counter on disk before the helper answers: killed right after, a restarted helper
// still refuses a clone (here the key's own counter state put back) that presents the same counter again.
TEST_F(Passkeys, CounterIsDurableWhenTheHelperIsKilledRightAfterALogin) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const fs::path clone = dir_ / "vfido-clone";
    fs::copy(state_dir(), clone, fs::copy_options::recursive);
    const auto first = login("alice");
    ASSERT_EQ(first.code, PAM_SUCCESS) << first.run.describe() << log();
    ASSERT_EQ(::kill(helper_->pid(), SIGKILL), 0);
    helper_.reset();  // reaps the killed helper
    start_helper();
    expect_clone_refused_then_key_let_in(clone);
}

// The counter journal's 64-byte copies whose magic is `magic` ("ppc1" an entry, "ppr1" a reservation).
std::vector<std::size_t> copies_with_magic(const std::string& bytes, std::string_view magic) {
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i + 64 <= bytes.size(); i += 64)
        if (bytes.compare(i, magic.size(), magic) == 0) at.push_back(i);
    return at;
}

// A key login makes its counter durable while the key is asked (a reserved copy, flushed), so the key's
// answer needs no flush before the Result. Here is what a crash right after the login could leave: the
// reserved copy, and the entry written after the answer torn (it was never flushed), read after the reboot.
// A restarted helper must still refuse a clone presenting the counter the login was let in with.
TEST_F(Passkeys, ACrashAfterAKeyLoginCannotLetItsCounterInAgain) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    ASSERT_EQ(login("alice").code, PAM_SUCCESS) << log();  // the journal's entry exists from here on
    const fs::path clone = dir_ / "vfido-clone";
    fs::copy(state_dir(), clone, fs::copy_options::recursive);
    const auto second = login("alice");
    ASSERT_EQ(second.code, PAM_SUCCESS) << second.run.describe() << log();
    ASSERT_EQ(::kill(helper_->pid(), SIGKILL), 0);
    helper_.reset();

    const fs::path journal = store() / "~counters";
    std::string bytes = read_text(journal);
    const auto reserved = copies_with_magic(bytes, "ppr1");
    const auto entries = copies_with_magic(bytes, "ppc1");
    ASSERT_EQ(reserved.size(), 1u) << "the second login reserved its counter before the key answered";
    ASSERT_EQ(entries.size(), 1u) << "and wrote its entry over the older copy after it";
    EXPECT_EQ(bytes.compare(reserved[0] + 44, 4, bytes, entries[0] + 44, 4), 0)
        << "the key answered with the counter reserved";
    // The crash: the entry never reached the disk (torn); the reserved copy was written in a boot that is
    // over (its boot, bytes [48,56), is another; its checksum, the first 8 bytes of SHA-256 over [0,56)).
    bytes[entries[0] + 10] = static_cast<char>(bytes[entries[0] + 10] ^ 0x01);
    bytes[reserved[0] + 48] = static_cast<char>(bytes[reserved[0] + 48] ^ 0x5A);
    const auto check = pp::sha256(std::string_view(bytes).substr(reserved[0], 56));
    std::copy(check.begin(), check.begin() + 8,
              bytes.begin() + static_cast<std::ptrdiff_t>(reserved[0] + 56));
    write_text(journal, bytes, fs::status(journal).permissions());

    start_helper();
    expect_clone_refused_then_key_let_in(clone);
}

// A helper stopped while the key waits for a touch (killed, or restarted by an upgrade) leaves its
// reservation behind. In the same boot that costs the person nothing: the key, which never answered, is let
// in with the counter reserved.
TEST_F(Passkeys, AHelperKilledWhileTheKeyWaitsCostsTheKeyNothing) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    ASSERT_EQ(login("alice").code, PAM_SUCCESS) << log();
    const fs::path journal = store() / "~counters";
    const std::string before = read_text(journal);
    Login silent;
    std::thread waiting([&] { silent = login("alice", {"VFIDO_TOUCH=silent", "VFIDO_KEEPALIVE_MS=20"}); });
    // The reservation is on disk once the helper has asked the key.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (copies_with_magic(read_text(journal), "ppr1").empty() &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const bool reserved = !copies_with_magic(read_text(journal), "ppr1").empty();
    ::kill(helper_->pid(), SIGKILL);
    waiting.join();
    helper_.reset();
    ASSERT_TRUE(reserved) << "no reservation was written while the key was asked";
    EXPECT_NE(silent.code, PAM_SUCCESS) << silent.run.describe();
    EXPECT_NE(read_text(journal), before);
    start_helper();
    const auto next = login("alice");
    EXPECT_EQ(next.code, PAM_SUCCESS) << next.run.describe() << log();
}

// A journal none of whose copies of a record passes its checksum may have lost anyone's counter: every key
// login fails closed, as a service error naming the file, until an administrator restores it.
TEST_F(Passkeys, DamagedCounterJournalFailsClosed) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto first = login("alice");
    ASSERT_EQ(first.code, PAM_SUCCESS) << first.run.describe() << log();
    const fs::path journal = store() / "~counters";
    ASSERT_TRUE(fs::is_regular_file(journal)) << "expected the counters in " << journal;
    std::string bytes = read_text(journal);
    ASSERT_EQ(bytes.size(), 128u) << "one credential: one pair of 64-byte copies";
    bytes[10] ^= 0x01;   // first copy
    bytes[100] ^= 0x01;  // second copy
    write_text(journal, bytes, fs::status(journal).permissions());
    const auto damaged = login("alice");
    EXPECT_EQ(damaged.code, PAM_SERVICE_ERR) << damaged.run.describe() << log();
    EXPECT_TRUE(contains(damaged.all_text(), "misconfigured")) << damaged.all_text();
    EXPECT_TRUE(contains(log(), journal.string() + ": damaged")) << log();
    // One good copy is enough (a write torn by a crash): the login goes on with the older value.
    bytes[100] ^= 0x01;
    write_text(journal, bytes, fs::status(journal).permissions());
    const auto torn = login("alice");
    EXPECT_EQ(torn.code, PAM_SUCCESS) << torn.run.describe() << log();
}

// Credential files from before the journal carry the counter of the last login: it stays in force.
TEST_F(Passkeys, CounterInACredentialFileFromBeforeTheJournalStillCounts) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    // As the helper wrote it after the key's second login: the counter field (8th) is 2.
    const fs::path file = store() / "alice";
    std::string text = read_text(file);
    std::size_t at = 0;
    for (int tab = 0; tab < 7; ++tab) at = text.find('\t', at) + 1;
    ASSERT_EQ(text.compare(at, 2, "0\t"), 0) << text;
    text.replace(at, 1, "2");
    write_text(file, text, fs::status(file).permissions());
    // The virtual key has signed nothing yet: 1 and 2 are not above the stored counter, 3 is.
    for (int use = 1; use <= 2; ++use) {
        const auto old = login("alice");
        EXPECT_EQ(old.code, PAM_AUTH_ERR) << "counter " << use << "\n" << old.run.describe() << log();
    }
    const auto third = login("alice");
    EXPECT_EQ(third.code, PAM_SUCCESS) << third.run.describe() << log();
    EXPECT_EQ(read_text(file), text) << "the login wrote its counter to the journal, not to the file";
}

class PasskeysWithPin : public Passkeys {
  protected:
    void SetUp() override {
        Passkeys::SetUp();
        if (IsSkipped()) return;
        HelperSetup setup;
        setup.user_verification = "required";
        start_helper(setup);
        const auto r =
            cli({"enroll", "--user", "alice", "--name", "pin key"}, {pin_knob()}, std::string(kPin) + "\n");
        ASSERT_EQ(r.exit_code, 0) << r.describe() << log();
        EXPECT_TRUE(contains(r.err, "Security key PIN: ")) << r.describe();
        EXPECT_FALSE(contains(r.out + r.err, kPin)) << "a PIN is never echoed\n" << r.describe();
    }
    static std::string pin_knob() { return std::string("VFIDO_PIN=") + kPin; }
};

TEST_F(PasskeysWithPin, RightPinSignsIn) {
    const auto run = login("alice", {pin_knob()}, {kPin});
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log();
    ASSERT_EQ(run.transcript.size(), 2u) << run.all_text();
    EXPECT_EQ(run.transcript[0].style, PAM_PROMPT_ECHO_OFF);
    EXPECT_EQ(run.transcript[0].text, "Security key PIN: ");
    EXPECT_EQ(run.transcript[1].style, PAM_TEXT_INFO);
    EXPECT_EQ(run.transcript[1].text, kTouch);
    // As a word: the log's hashes and ids are hex, where four digits turn up by chance.
    EXPECT_FALSE(contains_word(log(), kPin)) << log();
    const auto rows = list("alice");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].uv, "required") << "enrolled while required: every login asks for the PIN";
}

TEST_F(PasskeysWithPin, NoPinIsCredInsufficient) {
    const auto run = login("alice", {pin_knob()}, {""});
    EXPECT_EQ(run.code, PAM_CRED_INSUFFICIENT) << run.run.describe() << log();
    EXPECT_TRUE(run.infos().empty()) << "no touch without the PIN\n" << run.all_text();
}

TEST_F(PasskeysWithPin, WrongPinIsRefused) {
    const auto run = login("alice", {pin_knob()}, {"9999"});
    EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.run.describe() << log();
}

// A key checks a PIN without a touch, and each wrong PIN costs it one of its eight retries for good. Anyone
// who can start a login for alice (su, sudo -u, a console) typed wrong PINs into her key, plugged in but
// never touched, until it blocked itself: each login cost it a retry. Now the key must be touched (a
// signature without the PIN, whose answer says it was) before the PIN goes to it: without the key in hand,
// nothing. (Three such logins, then the owner's two: a fifth failure would start alice's backoff.)
TEST_F(PasskeysWithPin, WrongPinsWithoutTheKeyInHandCostItNothing) {
    const fs::path retries = state_dir() / "key0.pin-retries";
    const auto left = [&] { return fs::exists(retries) ? read_text(retries) : std::string("8\n"); };
    for (int i = 0; i < 3; ++i) {
        const auto run = login("alice", {pin_knob(), "VFIDO_TOUCH=silent"}, {"9999"});
        EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.run.describe() << log();
    }
    EXPECT_EQ(left(), "8\n") << "wrong PINs went to a key nobody touched";
    // The owner, key in hand, typing a wrong PIN: one retry; then the right one fills the counter again.
    EXPECT_EQ(login("alice", {pin_knob()}, {"9999"}).code, PAM_AUTH_ERR) << log();
    EXPECT_EQ(left(), "7\n");
    const auto owner = login("alice", {pin_knob()}, {kPin});
    EXPECT_EQ(owner.code, PAM_SUCCESS) << owner.run.describe() << log();
    EXPECT_EQ(left(), "8\n");
}

// Enrolment sends the PIN to the first key listed (a makeCredential with a PIN token), which may be another
// person's: a user enrolling for themselves with alice's key plugged in, typing wrong PINs, cost her key a
// retry each time without touching it. Now the key is touched before the PIN goes to it.
TEST_F(Passkeys, EnrolmentSendsThePinOnlyToATouchedKey) {
    start_helper();
    const std::string pin_knob = std::string("VFIDO_PIN=") + kPin;
    const fs::path retries = state_dir() / "key0.pin-retries";
    for (int i = 0; i < 2; ++i) {
        const auto r = cli({"enroll", "--user", "bob", "--name", "not mine"},
                           {pin_knob, "VFIDO_TOUCH=silent"}, "9999\n");
        EXPECT_NE(r.exit_code, 0) << r.describe() << log();
    }
    EXPECT_FALSE(fs::exists(retries) && read_text(retries) != "8\n")
        << "wrong PINs went to a key nobody touched: " << read_text(retries);
    // Touched, with the right PIN, the key enrols.
    const auto ok =
        cli({"enroll", "--user", "alice", "--name", "mine"}, {pin_knob}, std::string(kPin) + "\n");
    EXPECT_EQ(ok.exit_code, 0) << ok.describe() << log();
    EXPECT_EQ(list("alice").size(), 1u);
}

// A key that holds none of the credentials is never sent the PIN, even when it is the only key plugged in.
// It was: a single key was asked for the assertion at once, PIN and all, so wrong PINs typed for alice cost a
// key that is not even hers its retries (and so does the made-up ask of a name without credentials).
TEST_F(Passkeys, AKeyWithoutTheCredentialIsNeverSentThePin) {
    start_helper();
    // alice's only credential needs the PIN and lives on key 1, never plugged in; key 0, plugged in, has a
    // PIN.
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice") + "+pin\n", kRpId));
    const std::string pin_knob = std::string("VFIDO_PIN=") + kPin;
    for (int i = 0; i < 2; ++i) {
        const auto run = login("alice", {pin_knob}, {"9999"});
        EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.run.describe() << log();
        EXPECT_TRUE(contains(run.all_text(), "No security key")) << run.all_text();
    }
    const fs::path retries = state_dir() / "key0.pin-retries";
    EXPECT_FALSE(fs::exists(retries) && read_text(retries) != "8\n")
        << "a key without the credential was sent the PIN: " << read_text(retries);
}

TEST_F(Passkeys, UserWithoutCredentialSeesWhatAUserWithoutKeySees) {
    start_helper();
    // alice's credential lives on virtual key 1, which is never plugged in below: she is "without her key"
    // both with no key at all and with key 0, which holds nothing of hers. With a key plugged in, the touch
    // prompt comes before any key is asked (a key may wait for a touch even when probed without one), so bob
    // is compared with alice at the same keys.
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice") + "\n", kRpId));
    for (const std::string keys : {"VFIDO_KEYS=0", "VFIDO_KEYS=1"}) {
        SCOPED_TRACE(keys);
        const auto stranger = login("bob", {keys});
        EXPECT_EQ(stranger.code, PAM_AUTHINFO_UNAVAIL) << stranger.run.describe() << log();
        const auto keyless = login("alice", {keys});
        EXPECT_EQ(keyless.code, PAM_AUTHINFO_UNAVAIL) << keyless.run.describe() << log();
        EXPECT_TRUE(contains(stranger.all_text(), "No security key")) << stranger.all_text();
        EXPECT_TRUE(stranger.same_screen(keyless)) << "bob:\n"
                                                   << stranger.all_text() << "alice without her key:\n"
                                                   << keyless.all_text();
    }
}

TEST_F(Passkeys, CorruptRecordDoesNotHideTheGoodOne) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const fs::path file = store() / "alice";
    ASSERT_TRUE(fs::is_regular_file(file)) << "expected the store to keep alice's credentials in " << file;
    const std::string text = read_text(file);
    const auto bad_line = std::count(text.begin(), text.end(), '\n') + 1;
    const auto mode = fs::status(file).permissions();
    write_text(file, text + "this is not a credential record\n", mode);

    const auto run = login("alice");
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log();
    EXPECT_TRUE(contains(log(), file.string() + ":" + std::to_string(bad_line))) << log();
}

TEST_F(Passkeys, UnsafeCredentialFileIsAServiceError) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const fs::path file = store() / "alice";
    ASSERT_TRUE(fs::is_regular_file(file));
    const auto mode = fs::status(file).permissions();

    fs::permissions(file, fs::perms(0666));
    const auto writable = login("alice");
    EXPECT_EQ(writable.code, PAM_SERVICE_ERR) << writable.run.describe() << log();

    fs::permissions(file, mode);
    const fs::path real = store() / "alice.real";
    fs::rename(file, real);
    fs::create_symlink(real, file);
    const auto linked = login("alice");
    EXPECT_EQ(linked.code, PAM_SERVICE_ERR) << linked.run.describe() << log();

    fs::remove(file);
    fs::rename(real, file);
    const auto restored = login("alice");
    EXPECT_EQ(restored.code, PAM_SUCCESS) << restored.run.describe() << log();
}

TEST_F(Passkeys, RemoteLoginIsNotOfferedTheKey) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto remote = login("alice", {}, {}, {"PAM_RHOST=198.51.100.7"});
    EXPECT_EQ(remote.code, PAM_AUTH_ERR) << remote.run.describe() << log();
    EXPECT_TRUE(contains(remote.all_text(), "No sign-in method is enabled here")) << remote.all_text();
    EXPECT_TRUE(remote.infos().empty()) << remote.all_text();
    const auto local = login("alice");
    EXPECT_EQ(local.code, PAM_SUCCESS) << local.run.describe() << log();
}

TEST_F(Passkeys, RemoteLoginGetsTheKeyWhenTheAdminListsIt) {
    HelperSetup setup;
    setup.login_extra = "remote_methods = security_key\n";
    start_helper(setup);
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto remote = login("alice", {}, {}, {"PAM_RHOST=198.51.100.7"});
    EXPECT_EQ(remote.code, PAM_SUCCESS) << remote.run.describe() << log();
}

TEST_F(Passkeys, ImportFromPamU2f) {
    start_helper();
    const std::string origin = "pam://oldhost";
    ChildResult imported;
    ASSERT_NO_FATAL_FAILURE(import("# pam-u2f authfile\n" + pamu2f_line(0, 1, origin, "alice") +
                                       "\nmallory:bm90IGEga2V5IGhhbmRsZQ==,bm90IGEga2V5,es256,+presence\n",
                                   origin, &imported));
    // The line that cannot be imported is reported; the good one is imported all the same.
    EXPECT_TRUE(contains(imported.out, "not imported")) << imported.describe();
    EXPECT_TRUE(list("mallory").empty());
    const auto rows = list("alice");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].rp_id, origin) << "an imported credential keeps the relying party it was made for";
    EXPECT_EQ(rows[0].alg, "es256");
    const auto run = login("alice");
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log();
}

TEST_F(Passkeys, NonRootCallerCannotManageAnotherUser) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const std::string id = id_of("alice", "desk key");

    const auto listed = cli({"list", "--user", "alice"}, {}, "", kNobody);
    EXPECT_EQ(listed.exit_code, 1) << listed.describe() << log();
    EXPECT_FALSE(listed.err.empty());
    EXPECT_TRUE(parse_table(listed.out).empty()) << listed.describe();
    const auto removed = cli({"remove", id, "--user", "alice"}, {}, "", kNobody);
    EXPECT_EQ(removed.exit_code, 1) << removed.describe() << log();
    const auto renamed = cli({"rename", id, "mine now", "--user", "alice"}, {}, "", kNobody);
    EXPECT_EQ(renamed.exit_code, 1) << renamed.describe() << log();
    const auto enrolled = cli({"enroll", "--user", "alice", "--name", "intruder"}, {}, "", kNobody);
    EXPECT_EQ(enrolled.exit_code, 1) << enrolled.describe() << log();

    // Import is root's: even a file anybody may read is refused.
    const fs::path file = dir_ / "world-readable-u2f_keys";
    write_text(file, pamu2f_line(0, 1, kRpId, "carol") + "\n", fs::perms(0644));
    const auto imported = cli({"import", file.string(), "--rp-id", kRpId}, {}, "", kNobody);
    EXPECT_EQ(imported.exit_code, 1) << imported.describe() << log();

    const auto rows = list("alice");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].name, "desk key");
    EXPECT_TRUE(list("carol").empty());
    // Each refusal came from the helper, which saw the caller as uid 65534 and logged its refusals as refused
    // requests are, summarised per caller: the first at once, the rest counted (any local user could write
    // an audit line a request as fast as it connects).
    EXPECT_TRUE(
        contains(log(), "refused a request from uid 65534: caller uid 65534 may not manage this user's keys"))
        << log();
    EXPECT_FALSE(contains(log(), "caller_uid=65534 method=manage:")) << log();
}

// A user manages their own keys after proving presence with one of them, over the same connection.
TEST_F(Passkeys, NonRootCallerManagesOwnKeysAfterATouch) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("nobody", "first key"));
    // Looking at one's own keys needs only to be that uid (SO_PEERCRED): no touch, no code, even without a
    // key.
    const auto listed = cli({"list"}, {"VFIDO_KEYS=0"}, "", kNobody);
    EXPECT_EQ(listed.exit_code, 0) << listed.describe() << log();
    EXPECT_FALSE(contains(listed.err, kTouch)) << listed.describe();
    // A listing changes nothing and any user may repeat it at will: summarised per caller, worded as
    // answered.
    EXPECT_TRUE(contains(log(), "answered a request from uid 65534: listed")) << log();
    const auto rows = parse_table(listed.out);
    ASSERT_EQ(rows.size(), 1u) << listed.describe();
    EXPECT_EQ(rows[0].name, "first key");

    const auto renamed = cli({"rename", rows[0].id, "my key"}, {}, "", kNobody);
    EXPECT_EQ(renamed.exit_code, 0) << renamed.describe() << log();
    EXPECT_TRUE(contains(renamed.err, kTouch)) << "a change still needs the proof\n" << renamed.describe();
    EXPECT_EQ(id_of("nobody", "my key"), rows[0].id);

    // Without the key there is no proof, and nothing changes.
    const auto keyless = cli({"remove", rows[0].id}, {"VFIDO_KEYS=0"}, "", kNobody);
    EXPECT_EQ(keyless.exit_code, 1) << keyless.describe() << log();
    EXPECT_EQ(list("nobody").size(), 1u);
}

// A management request's sign-in waits out the user's backoff as a login does. Its failures counted, but
// nothing held it back: a program running as the user could ask for touches, or guess codes, without end.
TEST_F(Passkeys, ManagementSignInWaitsOutTheBackoff) {
    start_helper({"security_key", "[limits]\nfailures_before_backoff = 1\nstate_file = " +
                                      (dir_ / "limits").string() + "\n"});
    ASSERT_NO_FATAL_FAILURE(enroll("nobody", "first key"));
    const std::string id = id_of("nobody", "first key");
    const auto failed = login("nobody", {"VFIDO_TOUCH=deny", "VFIDO_KEEPALIVE_MS=10"});
    EXPECT_NE(failed.code, PAM_SUCCESS) << failed.run.describe() << log();

    const auto removed = cli({"remove", id}, {}, "", kNobody);
    EXPECT_EQ(removed.exit_code, 1) << removed.describe() << log();
    EXPECT_FALSE(contains(removed.err, kTouch)) << "the key was asked for a touch\n" << removed.describe();
    EXPECT_TRUE(contains(log(), "caller_uid=65534 method=manage:remove outcome=maxtries")) << log();
    EXPECT_TRUE(contains(log(), "reason=\"backoff after repeated failures\"")) << log();
    EXPECT_EQ(list("nobody").size(), 1u) << "the key was removed";
}

// At a terminal the PIN is read with echo off, and the echo comes back however the command ends.
TEST_F(Passkeys, TerminalHidesThePinAndRestoresTheEcho) {
    HelperSetup setup;
    setup.user_verification = "required";
    start_helper(setup);
    const std::vector<std::string> argv = {PP_CLI_BIN, "--socket", socket(), "enroll",
                                           "--user",   "alice",    "--name", "tty key"};
    const Env env =
        key_env({std::string("VFIDO_PIN=") + kPin}) + Env{preload_entry(PP_VIRTUAL_FIDO), "TERM=dumb"};

    TerminalSession typed(argv, env);
    ASSERT_TRUE(typed.wait_for("Security key PIN: ")) << typed.screen() << log();
    EXPECT_FALSE(typed.echo()) << "echo must be off while the PIN is typed";
    typed.type(std::string(kPin) + "\n");
    const auto done = typed.wait_exit();
    EXPECT_EQ(done.exit_code, 0) << typed.screen() << log();
    EXPECT_TRUE(contains(typed.screen(), "Enrolled")) << typed.screen();
    EXPECT_FALSE(contains(typed.screen(), kPin)) << typed.screen();
    EXPECT_TRUE(typed.echo());

    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
        TerminalSession interrupted(argv, env);
        ASSERT_TRUE(interrupted.wait_for("Security key PIN: ")) << interrupted.screen() << log();
        EXPECT_FALSE(interrupted.echo());
        interrupted.signal(sig);
        const auto ended = interrupted.wait_exit();
        EXPECT_EQ(ended.signal, sig) << "the signal still ends the command\n" << interrupted.screen();
        EXPECT_TRUE(interrupted.echo()) << "echo restored after signal " << sig;
    }
    EXPECT_EQ(list("alice").size(), 1u);
}

TEST_F(Passkeys, PamtesterSignsInWithTheKey) {
    if (std::string(PP_PAMTESTER).empty()) GTEST_SKIP() << "pamtester is not installed";
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    ChildSpec spec;
    spec.argv = {PP_PAMTESTER, "-v", kService, "alice", "authenticate"};
    spec.env = pam_env({}, {});
    spec.work = dir_;
    const auto r = run_child(spec);
    EXPECT_EQ(r.exit_code, 0) << r.describe() << log();
    EXPECT_TRUE(contains(r.out + r.err, "successfully authenticated")) << r.describe();
    EXPECT_TRUE(contains(r.out + r.err, kTouch)) << r.describe();
}

// With other methods enabled, a missing key sends the person back to the menu, without the key in it.
TEST_F(Passkeys, MissingKeyFallsBackToTheOtherMethods) {
    const fs::path standin_dir = dir_ / "standin";
    fs::create_directory(standin_dir);
    StandIn standin(standin_dir);
    const std::string config =
        "\n[login]\nmethods = security_key email_otp sms_otp\nmax_tries = 3\n"
        "request_timeout = 5\n\n[binding]\n\n" +
        security_key_section("preferred");
    helper_ = std::make_unique<Helper>(dir_, standin,
                                       HelperFiles{config, "alice alice@example.com\nalice +15555550123\n"});
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));

    const auto run = login("alice", {"VFIDO_KEYS=0"}, {"1", "1", "00000000", "00000000", "00000000"});
    EXPECT_NE(run.code, PAM_SUCCESS) << run.run.describe() << log();
    const auto prompts = run.prompts();
    ASSERT_GE(prompts.size(), 3u) << run.all_text() << log();
    EXPECT_TRUE(prompts[0].starts_with("Choose how to sign in:")) << prompts[0];
    EXPECT_TRUE(contains(prompts[0], "Security key")) << prompts[0];
    EXPECT_TRUE(contains(run.all_text(), "No security key")) << run.all_text();
    EXPECT_TRUE(contains(prompts[1], "Choose how to sign in:")) << prompts[1];
    EXPECT_FALSE(contains(prompts[1], "Security key")) << prompts[1];
    EXPECT_TRUE(contains(prompts[1], "Email code")) << prompts[1];
    EXPECT_TRUE(contains(prompts[2], "Code sent to a***@e***")) << prompts[2];
    helper_.reset();
}

// Policies that hold (issue #10, finding 6).

// An SSH connection through a local port forward reaches PAM with a loopback PAM_RHOST: it is remote, and
// is not offered the keys plugged into this machine.
TEST_F(Passkeys, LoopbackRemoteHostIsNotOfferedTheKey) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    for (const char* rhost :
         {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "localhost", "LOCALHOST"}) {
        const auto run = login("alice", {}, {}, {std::string("PAM_RHOST=") + rhost});
        EXPECT_EQ(run.code, PAM_AUTH_ERR) << rhost << "\n" << run.run.describe() << log();
        EXPECT_TRUE(contains(run.all_text(), "No sign-in method is enabled here")) << rhost << run.all_text();
        EXPECT_TRUE(run.infos().empty()) << rhost << ": no touch may be asked\n" << run.all_text();
    }
    EXPECT_EQ(login("alice").code, PAM_SUCCESS) << "no remote host is a local login\n" << log();
}

TEST_F(Passkeys, LoopbackRemoteHostIsLocalWhenTheAdminSaysSo) {
    HelperSetup setup;
    setup.login_extra = "loopback_is_local = yes\n";
    start_helper(setup);
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    for (const char* rhost : {"127.0.0.1", "::1"}) {
        const auto run = login("alice", {}, {}, {std::string("PAM_RHOST=") + rhost});
        EXPECT_EQ(run.code, PAM_SUCCESS) << rhost << "\n" << run.run.describe() << log();
    }
    const auto remote = login("alice", {}, {}, {"PAM_RHOST=198.51.100.7"});
    EXPECT_EQ(remote.code, PAM_AUTH_ERR) << remote.run.describe() << log();
}

// pam-u2f's "+pin" made it demand the PIN for this credential; the import keeps that demand even where the
// helper's own policy only prefers user verification.
TEST_F(Passkeys, ImportedPinCredentialNeedsThePin) {
    start_helper();
    const std::string origin = "pam://oldhost";
    const std::string pin_knob = std::string("VFIDO_PIN=") + kPin;
    std::string line = pamu2f_line(0, 1, origin, "alice");
    ASSERT_TRUE(line.ends_with(",+presence")) << line;
    ASSERT_NO_FATAL_FAILURE(import(line + "+pin\n", origin));
    const auto rows = list("alice");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].uv, "required") << "list shows what a login demands";

    const auto touch_only = login("alice", {pin_knob}, {""});
    EXPECT_EQ(touch_only.code, PAM_CRED_INSUFFICIENT) << touch_only.run.describe() << log();
    EXPECT_TRUE(touch_only.infos().empty()) << "no touch without the PIN\n" << touch_only.all_text();

    const auto with_pin = login("alice", {pin_knob}, {kPin});
    EXPECT_EQ(with_pin.code, PAM_SUCCESS) << with_pin.run.describe() << log();
    ASSERT_FALSE(with_pin.prompts().empty()) << with_pin.all_text();
    EXPECT_EQ(with_pin.prompts()[0], "Security key PIN: ");
}

// A credential enrolled while user_verification = required keeps needing the PIN after the admin relaxes the
// policy: the requirement is the credential's own.
TEST_F(Passkeys, EnrolmentWithUvRequiredKeepsTheRequirement) {
    HelperSetup strict;
    strict.user_verification = "required";
    start_helper(strict);
    const std::string pin_knob = std::string("VFIDO_PIN=") + kPin;
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "pin key", {pin_knob}, std::string(kPin) + "\n"));
    helper_.reset();
    start_helper();  // user_verification = preferred
    EXPECT_EQ(list("alice").at(0).uv, "required");
    const auto touch_only = login("alice", {pin_knob}, {""});
    EXPECT_EQ(touch_only.code, PAM_CRED_INSUFFICIENT) << touch_only.run.describe() << log();
    EXPECT_EQ(login("alice", {pin_knob}, {kPin}).code, PAM_SUCCESS) << log();
}

// [service pp-passkeys] accepts only a security key. A process running as alice that knows her email code
// must not turn that code into a new key which then passes the key-only service: self-enrolment is refused
// and left to root.
TEST_F(Passkeys, SelfEnrolmentWithACodeCannotOpenAKeyOnlyService) {
    const fs::path standin_dir = dir_ / "standin";
    fs::create_directory(standin_dir);
    StandIn standin(standin_dir);
    const std::string config =
        "\n[login]\nmethods = email_otp\nmax_tries = 3\nrequest_timeout = 5\n\n"
        "[service " +
        std::string(kService) + "]\nmethods = security_key\n\n[binding]\n\n" +
        security_key_section("preferred");
    helper_ = std::make_unique<Helper>(dir_, standin, HelperFiles{config, "alice alice@example.com\n"});

    ChildSpec spec;
    spec.argv = {PP_CLI_BIN, "--socket", socket(), "enroll", "--user", "alice", "--name", "sneaky key"};
    spec.env = key_env({}, kAliceUid) + Env{preload_entry(PP_VIRTUAL_FIDO)};
    spec.work = dir_;
    spec.uid = kAliceUid;
    spec.late_input = [&] {
        std::optional<std::string> code;
        wait_until([&] { return (code = standin.latest_code("alice@example.com")).has_value(); },
                   std::chrono::seconds(10));
        return code.value_or("00000000") + "\n";
    };
    const auto self = run_child(spec);
    EXPECT_EQ(self.exit_code, 1) << self.describe() << log();
    EXPECT_TRUE(contains(self.err, "pam-passwordless enroll --user alice")) << self.describe();
    EXPECT_TRUE(list("alice").empty()) << "no key may have been enrolled";
    const auto sneaky = login("alice");
    EXPECT_NE(sneaky.code, PAM_SUCCESS) << sneaky.run.describe() << log();

    // root still enrols for her, and her key then passes the key-only service.
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto run = login("alice");
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log();
}

// ---- Keys that never answer (issue #10, finding 7) ----
// A mute virtual key (VFIDO_TOUCH=mute) answers no getAssertion, not even the touch-less probe, until it is
// cancelled: a key that ignores up=false, or hangs. Each login writes one event log (VFIDO_LOG) that holds,
// in order and on one clock (CLOCK_MONOTONIC), every request the keys got and every line the person was
// shown.
//
// The bound: from the first getAssertion any key got to pam_authenticate's return, at most touch_timeout (2 s
// here) plus 1 s. The code under test waits for exactly one touch_timeout and then has only milliseconds of
// work left, so the 1 s is slack for a loaded machine; today's code waits a whole touch_timeout per mute key
// before the real wait (2 × 2 s = 4 s for one key, 6 s for two), so it misses the bound by whole timeouts,
// never by a hair.

struct Event {
    std::string source;  // "vfido" or "driver"
    double at = 0;       // CLOCK_MONOTONIC seconds
    int key = -1;        // the key's index, for vfido events
    std::string what;
};

std::vector<Event> read_events(const fs::path& file) {
    std::vector<Event> events;
    std::istringstream in(fs::exists(file) ? read_text(file) : std::string());
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        Event e;
        fields >> e.source >> e.at;
        if (e.source == "vfido") {
            std::string key;
            fields >> key;
            e.key = std::stoi(key.substr(key.find('=') + 1));
        }
        std::getline(fields >> std::ws, e.what);
        events.push_back(e);
    }
    return events;
}

std::string show(const std::vector<Event>& events) {
    std::ostringstream out;
    for (const auto& e : events)
        out << "  " << e.source << " " << std::fixed << e.at << " key=" << e.key << " " << e.what << "\n";
    return out.str();
}

constexpr double kTouchTimeout = 2.0;  // touch_timeout in security_key_section()

class MuteKeys : public Passkeys {
  protected:
    [[nodiscard]] fs::path event_log() const { return dir_ / "events.log"; }

    Login login_logged(const std::string& user, Env knobs, const std::vector<std::string>& answers = {}) {
        fs::remove(event_log());
        knobs.push_back("VFIDO_LOG=" + event_log().string());
        auto run = login(user, knobs, answers);
        events_ = read_events(event_log());
        return run;
    }

    // Where the first event matching `pred` is; events_.size() when none does.
    template <class Pred>
    [[nodiscard]] std::size_t first(Pred pred) const {
        return static_cast<std::size_t>(std::find_if(events_.begin(), events_.end(), pred) - events_.begin());
    }

    // The prompt comes before any key is asked for an assertion, and the whole wait, measured on the keys'
    // clock from the first getAssertion to pam_authenticate's return, is at most touch_timeout + 1 s.
    void expect_prompt_first_and_bounded_wait() const {
        const auto prompt = first(
            [](const Event& e) { return e.source == "driver" && e.what == std::string("info ") + kTouch; });
        const auto ask =
            first([](const Event& e) { return e.source == "vfido" && e.what == "cbor getAssertion"; });
        const auto end =
            first([](const Event& e) { return e.source == "driver" && e.what.starts_with("pam_code="); });
        ASSERT_LT(prompt, events_.size()) << "no touch prompt\n" << show(events_);
        ASSERT_LT(ask, events_.size()) << "no key was asked\n" << show(events_);
        ASSERT_LT(end, events_.size()) << "the login did not end\n" << show(events_);
        EXPECT_LT(prompt, ask) << "a key was asked (and waited) before the person saw the prompt\n"
                               << show(events_);
        const double waited = events_[end].at - events_[ask].at;
        EXPECT_LE(waited, kTouchTimeout + 1.0)
            << "waited " << waited << " s for touch_timeout = " << kTouchTimeout << " s\n"
            << show(events_);
    }

    // The key's last getAssertion was cancelled, and the key was closed after it.
    void expect_cancelled_and_closed(int key) const {
        std::optional<std::size_t> last_ask, cancel, close;
        for (std::size_t i = 0; i < events_.size(); ++i) {
            if (events_[i].key != key) continue;
            if (events_[i].what == "cbor getAssertion") last_ask = i, cancel.reset(), close.reset();
            if (last_ask && events_[i].what == "cancel") cancel = i;
            if (last_ask && cancel && events_[i].what == "close") close = i;
        }
        EXPECT_TRUE(last_ask && cancel && close)
            << "key " << key << " was not cancelled and closed after its last request\n"
            << show(events_);
    }

    std::vector<Event> events_;
};

TEST_F(MuteKeys, OneMuteKeyCostsOneTouchTimeoutAfterThePrompt) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto run = login_logged("alice", {"VFIDO_TOUCH=mute", "VFIDO_KEEPALIVE_MS=20"});
    EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.run.describe() << log();
    EXPECT_TRUE(contains(run.all_text(), "timed out")) << run.all_text();
    expect_prompt_first_and_bounded_wait();
    expect_cancelled_and_closed(0);
}

TEST_F(MuteKeys, TwoMuteKeysCostOneTouchTimeoutAfterThePrompt) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto run = login_logged("alice", {"VFIDO_KEYS=2", "VFIDO_TOUCH=mute", "VFIDO_KEEPALIVE_MS=20"});
    EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.run.describe() << log();
    EXPECT_TRUE(contains(run.all_text(), "timed out")) << run.all_text();
    expect_prompt_first_and_bounded_wait();
    expect_cancelled_and_closed(0);
    expect_cancelled_and_closed(1);
}

TEST_F(MuteKeys, AMuteKeyBesideAGoodOneStillLogsIn) {
    start_helper();
    // alice's credential lives on key 1; key 0, listed first, never answers. The person touches key 1 after
    // ten keepalives (200 ms), as a person does: both keys are asked by then. (Touched at once, key 1 could
    // answer before the module had asked key 0 at all; key 0 was then cancelled without ever being asked,
    // which is right, but not what this test looks at. Seen once in a package build.)
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice") + "\n", kRpId));
    const auto run = login_logged("alice", {"VFIDO_KEYS=2", "VFIDO_KEY0_TOUCH=mute",
                                            "VFIDO_KEY1_KEEPALIVES=10", "VFIDO_KEEPALIVE_MS=20"});
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log() << show(events_);
    EXPECT_EQ(run.infos(), std::vector<std::string>{kTouch}) << run.all_text();
    expect_prompt_first_and_bounded_wait();
    // The good key's signature ends the wait: the mute key is cancelled, not left to time out (it would be
    // cancelled a whole touch_timeout after it was asked).
    expect_cancelled_and_closed(0);
    const auto asked = first([](const Event& e) { return e.key == 0 && e.what == "cbor getAssertion"; });
    const auto cancelled = first([](const Event& e) { return e.key == 0 && e.what == "cancel"; });
    ASSERT_LT(cancelled, events_.size()) << show(events_);
    EXPECT_LT(events_[cancelled].at - events_[asked].at, kTouchTimeout) << show(events_);
}

// ---- What a single key is asked (issue #10, speed 2) ----

// With one key plugged in there is nothing to choose between, so the module asks it for the assertion at
// once, without the touch-less probe first (pam-u2f's "nodetect"): one request to the key instead of two. A
// key without the credential answers that request with NO_CREDENTIALS, which must end as before.
using SingleKey = MuteKeys;

[[nodiscard]] std::size_t assertions_asked(const std::vector<Event>& events, int key) {
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const Event& e) {
        return e.key == key && e.what == "cbor getAssertion";
    }));
}

TEST_F(SingleKey, IsAskedOnceWithoutAProbe) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    const auto run = login_logged("alice", {});
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log();
    EXPECT_EQ(assertions_asked(events_, 0), 1u) << show(events_);
    expect_prompt_first_and_bounded_wait();
}

TEST_F(SingleKey, WithoutTheCredentialItIsLikeNoKey) {
    start_helper();
    // alice's credential lives on virtual key 1; the only key plugged in is key 0.
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice") + "\n", kRpId));
    const auto run = login_logged("alice", {});
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.run.describe() << log();
    EXPECT_TRUE(contains(run.all_text(), "No security key")) << run.all_text();
    EXPECT_EQ(assertions_asked(events_, 0), 1u) << show(events_);
    expect_prompt_first_and_bounded_wait();
}

// The property: only the key that holds the credential is asked for a touch. Key 0 gets the probe, or
// nothing at all when key 1 has answered both its questions before the module's probe of key 0 went out
// (then key 0 is cancelled unasked).
[[nodiscard]] std::size_t touches_asked(const std::vector<Event>& events, int key) {
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const Event& e) {
        return e.key == key && e.what.starts_with("allowList ") && contains(e.what, " up=1 ");
    }));
}

TEST_F(SingleKey, TwoKeysAreStillProbedSoOnlyTheRightOneWaitsForATouch) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice") + "\n", kRpId));
    const auto run = login_logged("alice", {"VFIDO_KEYS=2"});
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log();
    EXPECT_LE(assertions_asked(events_, 0), 1u) << "key 0 gets the probe alone, if anything\n"
                                                << show(events_);
    EXPECT_EQ(touches_asked(events_, 0), 0u) << "key 0 is never asked for a touch\n" << show(events_);
    EXPECT_EQ(assertions_asked(events_, 1), 2u) << "key 1 the probe, then the real question\n"
                                                << show(events_);
    EXPECT_EQ(touches_asked(events_, 1), 1u) << show(events_);
}

// Review 31a (issue #10, item 7): the bound holds for one ask, not for the login. A user whose credentials
// fall into two asks (key_ask_groups: one enrolled here under the configured relying party, one imported
// from pam-u2f under its old origin) is asked once per group, each with a touch_timeout of its own. With the
// one key she plugged in holding the second credential, the first ask waits for a touch (a key answers "no
// such credential" only after one, CTAP 2.0 consent before disclosure), and only then is the second ask made,
// with another prompt and another touch_timeout: two touches and about twice the wait for one login.
TEST_F(MuteKeys, ReviewTwoRelyingPartiesStillCostOneTouchTimeout) {
    start_helper();
    // Key 1 (not plugged in at login) holds her credential under the configured relying party; key 0 (the
    // one plugged in) her old pam-u2f one.
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice") + "\n", kRpId));
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(0, 2, "pam://oldhost", "alice") + "\n", "pam://oldhost"));
    ASSERT_EQ(list("alice").size(), 2u);
    // The person touches the key after 1.6 s (80 keepalives of 20 ms), within touch_timeout (2 s).
    const auto run = login_logged("alice", {"VFIDO_KEEPALIVES=80", "VFIDO_KEEPALIVE_MS=20"});
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log() << show(events_);
    EXPECT_EQ(run.infos(), std::vector<std::string>{kTouch}) << "one touch prompt for one login\n"
                                                             << run.all_text();
    EXPECT_LE(touches_asked(events_, 0), 1u) << "the key is asked for one touch\n" << show(events_);
    expect_prompt_first_and_bounded_wait();
}

// The same with three asks: the key plugged in holds the credential of the last, and is still touched once,
// after one prompt, within one touch_timeout. Each ask is probed without a touch first.
TEST_F(MuteKeys, ThreeRelyingPartiesCostOneTouchAndOneTouchTimeout) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice") + "\n", kRpId));
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, "pam://otherhost", "alice") + "\n", "pam://otherhost"));
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(0, 2, "pam://oldhost", "alice") + "\n", "pam://oldhost"));
    ASSERT_EQ(list("alice").size(), 3u);
    const auto run = login_logged("alice", {"VFIDO_KEEPALIVES=80", "VFIDO_KEEPALIVE_MS=20"});
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log() << show(events_);
    EXPECT_EQ(run.infos(), std::vector<std::string>{kTouch}) << "one touch prompt for one login\n"
                                                             << run.all_text();
    EXPECT_EQ(touches_asked(events_, 0), 1u) << "the key is asked for one touch\n" << show(events_);
    expect_prompt_first_and_bounded_wait();
}

// An ask that needs the PIN beside one that does not: the PIN is asked once, before the one touch prompt,
// and the key plugged in (holding the PIN credential, under pam-u2f's old relying party) is touched twice as
// any PIN login is (before the PIN, then for the signature), not a third time for the ask it does not hold.
TEST_F(MuteKeys, APinAskBesideAnotherCostsThePinsTwoTouchesAndOneTouchTimeout) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice") + "\n", kRpId));
    std::string line = pamu2f_line(0, 2, "pam://oldhost", "alice");
    ASSERT_TRUE(line.ends_with(",+presence")) << line;
    ASSERT_NO_FATAL_FAILURE(import(line + "+pin\n", "pam://oldhost"));
    ASSERT_EQ(list("alice").size(), 2u);
    const auto run = login_logged("alice", {std::string("VFIDO_PIN=") + kPin}, {kPin});
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log() << show(events_);
    EXPECT_EQ(run.prompts(), std::vector<std::string>{"Security key PIN: "}) << run.all_text();
    EXPECT_EQ(run.infos(), std::vector<std::string>{kTouch}) << "one touch prompt for one login\n"
                                                             << run.all_text();
    EXPECT_EQ(touches_asked(events_, 0), 2u) << "the touch before the PIN and the signature\n"
                                             << show(events_);
    expect_prompt_first_and_bounded_wait();
}

// A key that cannot say without a touch whether it holds a credential (it refuses the touch-less probe) is
// touched in each ask in turn, as before, but within the same touch_timeout and after the same one prompt:
// no ask starts a wait or a prompt of its own.
TEST_F(MuteKeys, AKeyThatRefusesTheProbeIsTouchedPerAskWithinOneTouchTimeout) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice") + "\n", kRpId));
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(0, 2, "pam://oldhost", "alice") + "\n", "pam://oldhost"));
    const auto run =
        login_logged("alice", {"VFIDO_SILENT_PROBE=refuse", "VFIDO_KEEPALIVES=10", "VFIDO_KEEPALIVE_MS=20"});
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log() << show(events_);
    EXPECT_EQ(run.infos(), std::vector<std::string>{kTouch}) << "one touch prompt for one login\n"
                                                             << run.all_text();
    EXPECT_EQ(touches_asked(events_, 0), 2u)
        << "a touch in the first ask, which it lacks, then in the second\n"
        << show(events_);
    expect_prompt_first_and_bounded_wait();
}

// ---- What a plugged-in key is asked for a name without credentials (issue #10, finding 4) ----
// A key sees each getAssertion's allowList: how many credential ids, their lengths, the relying party, and
// whether the PIN was asked; so does anyone who plugs in a device that records it. A real user's key is asked
// for their credentials, the same ids at every try. The decoy's made-up ask must look the same: as many ids
// as the key holder it copies has, of the same lengths, in the same asks, and the same ids again at the next
// try of the same name. A made-up ask of one fresh 64-byte id would tell "nobody of that name holds a key".
using KeyAsks = MuteKeys;

// The allowList events of a login, in order (tests/virtual_fido: "allowList rp=.. uv=.. n=.. len:hex ..").
std::vector<std::string> allow_lists(const std::vector<Event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events)
        if (e.source == "vfido" && e.what.starts_with("allowList ")) out.push_back(e.what);
    return out;
}

// The same, with each id's bytes left out: what is left is the ask's shape (relying party, PIN, lengths).
std::vector<std::string> ask_shapes(const std::vector<std::string>& lists) {
    std::vector<std::string> out;
    static const std::regex id_bytes(" ([0-9]+):[0-9a-f]*");
    for (const auto& l : lists) out.push_back(std::regex_replace(l, id_bytes, " $1"));
    return out;
}

TEST_F(KeyAsks, ANameWithoutCredentialsIsAskedAsTheKeyHolderItCopies) {
    start_helper();
    // alice, the only key holder (so every other name copies her), has two credentials under the configured
    // relying party and one imported from another host's pam-u2f, all on key 1, which is never plugged in.
    // Key 0, plugged in, holds nothing of anybody's, so every ask below ends "No security key".
    // pam-u2f's authfile names a user once, with their credentials after it, separated by colons.
    const std::string second = pamu2f_line(1, 2, kRpId, "alice");
    ASSERT_TRUE(second.starts_with("alice:")) << second;
    ASSERT_NO_FATAL_FAILURE(
        import(pamu2f_line(1, 2, kRpId, "alice") + second.substr(std::string("alice").size()) + "\n", kRpId));
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, "pam://oldhost", "alice") + "\n", "pam://oldhost"));
    ASSERT_EQ(list("alice").size(), 3u);

    const auto real = login_logged("alice", {});
    const auto real_asks = allow_lists(events_);
    const auto first = login_logged("bob", {});
    const auto first_asks = allow_lists(events_);
    const auto again = login_logged("bob", {});
    const auto again_asks = allow_lists(events_);

    EXPECT_EQ(real.code, PAM_AUTHINFO_UNAVAIL) << real.run.describe() << log();
    EXPECT_EQ(first.code, real.code) << first.run.describe() << log();
    EXPECT_TRUE(first.same_screen(real)) << "bob:\n" << first.all_text() << "alice:\n" << real.all_text();
    ASSERT_EQ(real_asks.size(), 2u) << "one ask per relying party\n" << show(events_);
    EXPECT_TRUE(contains(real_asks[0], " n=2 ")) << real_asks[0];
    EXPECT_EQ(ask_shapes(first_asks), ask_shapes(real_asks))
        << "the key is asked for a name without credentials as for the key holder it copies";
    EXPECT_EQ(again_asks, first_asks) << "a name is asked for the same ids at every try, as a real user is";
    EXPECT_NE(first_asks, real_asks) << "the ids are made up, not alice's";
}

TEST_F(KeyAsks, ANameCopyingAKeyThatNeedsThePinIsAskedForThePin) {
    start_helper();
    // alice's only credential needs the PIN (pam-u2f's +pin); key 0, plugged in, has a PIN and holds nothing
    // of hers. Her login asks for the PIN and then finds no credential; so must a name that copies her, or a
    // key with a PIN would tell the two apart by the prompt.
    std::string line = pamu2f_line(1, 2, kRpId, "alice");
    ASSERT_TRUE(line.ends_with(",+presence")) << line;
    ASSERT_NO_FATAL_FAILURE(import(line + "+pin\n", kRpId));
    const std::string pin_knob = std::string("VFIDO_PIN=") + kPin;
    const auto real = login("alice", {pin_knob}, {kPin});
    const auto made_up = login("bob", {pin_knob}, {kPin});
    EXPECT_EQ(real.code, PAM_AUTHINFO_UNAVAIL) << real.run.describe() << log();
    ASSERT_FALSE(real.prompts().empty()) << real.all_text();
    EXPECT_EQ(real.prompts()[0], "Security key PIN: ");
    EXPECT_EQ(made_up.code, real.code) << made_up.run.describe() << log();
    EXPECT_TRUE(made_up.same_screen(real)) << "bob:\n" << made_up.all_text() << "alice:\n" << real.all_text();
}

// issue #11: the command line for an admin. A name that is no local account is said so, with exit 4, before
// anything is stored or asked (sshd's decoy is for remote logins, not for root at a shell).
TEST_F(Passkeys, AnAccountThatDoesNotExistIsNamedWithExitFour) {
    start_helper();
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"list", "--user", "nosuch"},
                                               {"enroll", "--user", "nosuch"},
                                               {"remove", "AAAAAAAAAA", "--user", "nosuch"},
                                               {"rename", "AAAAAAAAAA", "x", "--user", "nosuch"}}) {
        const auto r = cli(args);
        EXPECT_EQ(r.exit_code, 4) << r.describe() << log();
        EXPECT_EQ(r.err, "pam-passwordless: There is no local account 'nosuch'.\n") << r.describe();
        EXPECT_TRUE(r.out.empty()) << r.describe();
    }
    EXPECT_TRUE(contains(log(), "method=manage:list outcome=user_unknown")) << log();
    EXPECT_FALSE(fs::exists(store() / "nosuch"));
}

// Keys left in the store by an account since deleted can still be seen and removed.
TEST_F(Passkeys, KeysOfADeletedAccountCanStillBeListedAndRemoved) {
    start_helper();
    ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(0, 1, kRpId, "gone") + "\n", kRpId));
    const auto listed = cli({"list", "--user", "gone"});
    EXPECT_EQ(listed.exit_code, 0) << listed.describe() << log();
    const auto rows = parse_table(listed.out);
    ASSERT_EQ(rows.size(), 1u) << listed.describe();
    EXPECT_TRUE(contains(listed.out, "gone is not a local account: these keys sign nobody in")) << listed.out;
    const auto removed = cli({"remove", rows[0].id, "--user", "gone"});
    EXPECT_EQ(removed.exit_code, 0) << removed.describe() << log();
    EXPECT_EQ(cli({"list", "--user", "gone"}).exit_code, 4);
}

// An import that imports nothing fails (exit 1) and says why, on lines that carry the program's name.
TEST_F(Passkeys, AnImportThatImportsNothingFails) {
    start_helper();
    const fs::path file = dir_ / "u2f_keys";
    write_text(file, "# only a comment\n", fs::perms(0600));
    const auto empty = cli({"import", file.string(), "--rp-id", kRpId});
    EXPECT_EQ(empty.exit_code, 1) << empty.describe() << log();
    EXPECT_EQ(empty.err, "pam-passwordless: Imported nothing: the file holds no pam-u2f line.\n")
        << empty.describe();

    write_text(file, "mallory:bm90IGEga2V5IGhhbmRsZQ==,bm90IGEga2V5,es256,+presence\n", fs::perms(0600));
    const auto bad = cli({"import", file.string(), "--rp-id", kRpId});
    EXPECT_EQ(bad.exit_code, 1) << bad.describe() << log();
    EXPECT_TRUE(
        contains(bad.err, "pam-passwordless: Imported 0 credential(s).\npam-passwordless: not imported: "))
        << bad.describe();
    EXPECT_TRUE(contains(log(), "method=manage:import outcome=auth_err")) << log();
    EXPECT_TRUE(list("mallory").empty());
}

// Credential ids by unique prefix: 'list' shows the shortest start that tells a key from the account's others
// (at least 8 characters), and rename and remove take any start of 8 or more that names one credential.
TEST_F(Passkeys, CredentialIdsAreTakenByUniquePrefix) {
    start_helper();
    // Two imported credentials whose ids share their first 16 characters (base64url
    // AAAAAAAAAAAAAAAAESIzRA and AAAAAAAAAAAAAAAAVWZ3iA), beside a key enrolled here.
    const std::string line = pamu2f_line(0, 1, kRpId, "alice");
    const auto comma = line.find(',');
    ASSERT_NE(comma, std::string::npos) << line;
    const std::string rest = line.substr(comma);
    // pam-u2f keeps one line per user, its credentials separated by ':'.
    ASSERT_NO_FATAL_FAILURE(
        import("alice:AAAAAAAAAAAAAAAAESIzRA==" + rest + ":AAAAAAAAAAAAAAAAVWZ3iA==" + rest + "\n", kRpId));
    ASSERT_NO_FATAL_FAILURE(enroll("alice", "desk key"));
    auto rows = list("alice");
    ASSERT_EQ(rows.size(), 3u);
    std::vector<std::string> ids;
    for (const auto& r : rows) ids.push_back(r.id);
    EXPECT_NE(std::find(ids.begin(), ids.end(), "AAAAAAAAAAAAAAAAE"), ids.end())
        << ::testing::PrintToString(ids);
    EXPECT_NE(std::find(ids.begin(), ids.end(), "AAAAAAAAAAAAAAAAV"), ids.end())
        << ::testing::PrintToString(ids);
    const std::string desk = id_of("alice", "desk key");
    EXPECT_EQ(desk.size(), 8u) << desk;

    // Ambiguous: refused, naming the candidates' short forms; nothing changes.
    const auto ambiguous = cli({"remove", "AAAAAAAAAAAA", "--user", "alice"});
    EXPECT_EQ(ambiguous.exit_code, 1) << ambiguous.describe() << log();
    EXPECT_EQ(
        ambiguous.err,
        "pam-passwordless: 'AAAAAAAAAAAA' is the start of 2 IDs (AAAAAAAAAAAAAAAAE, AAAAAAAAAAAAAAAAV); "
        "type more of it.\n")
        << ambiguous.describe();
    // Unknown, and too short to be taken as a prefix at all.
    const auto unknown = cli({"remove", "zzzzzzzzzz", "--user", "alice"});
    EXPECT_EQ(unknown.exit_code, 1) << unknown.describe();
    EXPECT_EQ(unknown.err, "pam-passwordless: No such security key.\n") << unknown.describe();
    const auto too_short = cli({"rename", desk.substr(0, 7), "x", "--user", "alice"});
    EXPECT_EQ(too_short.exit_code, 2) << too_short.describe();
    EXPECT_TRUE(contains(too_short.err, "at least 8 characters")) << too_short.describe();
    EXPECT_EQ(list("alice").size(), 3u);

    // The short forms as listed, and a longer start, each name one credential.
    const auto renamed = cli({"rename", desk, "travel key", "--user", "alice"});
    EXPECT_EQ(renamed.exit_code, 0) << renamed.describe() << log();
    EXPECT_EQ(id_of("alice", "travel key"), desk);
    const auto removed = cli({"remove", "AAAAAAAAAAAAAAAAESI", "--user", "alice"});
    EXPECT_EQ(removed.exit_code, 0) << removed.describe() << log();
    rows = list("alice");
    ASSERT_EQ(rows.size(), 2u);
    // With its twin gone, the other one is 8 characters again.
    ids.clear();
    for (const auto& r : rows) ids.push_back(r.id);
    EXPECT_NE(std::find(ids.begin(), ids.end(), "AAAAAAAA"), ids.end()) << ::testing::PrintToString(ids);
    EXPECT_EQ(cli({"remove", "AAAAAAAA", "--user", "alice"}).exit_code, 0) << log();
    EXPECT_EQ(list("alice").size(), 1u);
}

// ---- Review (session 28): the touch before the PIN, as an attacker without the key sees it ----

// A touch gate built on libfido2's fido_dev_get_touch_status took the key's answer to an empty pinAuth
// (PIN_INVALID, PIN_AUTH_INVALID, PIN_NOT_SET or OK) for a touch. Firmware that answers it at once without
// asking for one (OpenSK before its PR #200; VFIDO_TOUCH_PROBE=instant) let every wrong PIN through
// untouched. The gate is now a signature whose user-present flag says the key was touched.
TEST_F(PasskeysWithPin, AKeyThatAnswersTheTouchProbeUntouchedStillCostsNothing) {
    const fs::path retries = state_dir() / "key0.pin-retries";
    for (int i = 0; i < 4; ++i) {
        const auto run =
            login("alice", {pin_knob(), "VFIDO_TOUCH=silent", "VFIDO_TOUCH_PROBE=instant"}, {"9999"});
        EXPECT_NE(run.code, PAM_SUCCESS) << run.run.describe() << log();
    }
    EXPECT_FALSE(fs::exists(retries) && read_text(retries) != "8\n")
        << "wrong PINs went to a key nobody touched: " << read_text(retries);
}

// A gate that read the key's retry counter, and asked for a touch only below eight, sent the PIN in a later
// transaction: logins started at once (several su alice side by side) all read a full counter before any of
// them had sent its wrong PIN, so each reached the untouched key (a real key spends up to three, then blocks
// its PIN until plugged in again). A key that checks a PIN in 1 s (VFIDO_PIN_CHECK_MS) makes the window wide
// enough to hit every time. Every PIN now waits for a touch.
TEST_F(PasskeysWithPin, ConcurrentWrongPinsWithoutTheKeyInHandCostItNothing) {
    const fs::path events = dir_ / "events.log";
    fs::remove(events);
    constexpr int kLogins = 4;
    std::vector<Login> runs(kLogins);
    {
        std::vector<std::thread> threads;
        for (int i = 0; i < kLogins; ++i)
            threads.emplace_back([&, i] {
                runs[i] = login("alice",
                                {pin_knob(), "VFIDO_TOUCH=silent", "VFIDO_PIN_CHECK_MS=1000",
                                 "VFIDO_LOG=" + events.string()},
                                {"9999"});
            });
        for (auto& t : threads) t.join();
    }
    for (const auto& run : runs) EXPECT_NE(run.code, PAM_SUCCESS) << run.run.describe() << log();
    const auto all = read_events(events);
    // CTAP2_ERR_PIN_INVALID (0x31), PIN_BLOCKED (0x32), PIN_AUTH_BLOCKED (0x34): a PIN the key checked and
    // found wrong. The touch probe's PIN_INVALID never comes: nobody touches (VFIDO_TOUCH=silent).
    const auto wrong = std::count_if(all.begin(), all.end(), [](const Event& e) {
        return e.source == "vfido" &&
               (e.what == "answer 49" || e.what == "answer 50" || e.what == "answer 52");
    });
    EXPECT_EQ(wrong, 0) << "untouched, the key checked " << wrong << " wrong PINs\n" << show(all);
}

// ---- Review (session 29): a rogue device before the PIN ----

// The touch before the PIN trusted the user-present flag of a signature nobody checked. A rogue USB device
// (VFIDO_ROGUE=1: it claims whatever credential it is asked for and signs with a key of its own) set that
// flag and was then sent the PIN's hash (getPINToken's pinHashEnc), from which a short PIN is found offline.
// The touch must now be signed for one of the allowed credentials and verify under its enrolled public key
// before the PIN goes; a device that fails this is a key error, and never sees the PIN. Both PIN flows of
// libfido2 (CTAP 2.0's getPINToken, 2.1's token with permissions), both algorithms.
class RoguePin : public Passkeys, public ::testing::WithParamInterface<const char*> {
  protected:
    void SetUp() override {
        Passkeys::SetUp();
        if (IsSkipped()) return;
        start_helper();
        // alice's credential needs the PIN and lives on key 1, not plugged in unless said: key 0 is the
        // rogue.
        ASSERT_NO_FATAL_FAILURE(import(pamu2f_line(1, 2, kRpId, "alice", GetParam()) + "+pin\n", kRpId));
    }

    // One login of `user` with the PIN typed, the keys shaped by `knobs`; the PIN-hash events the keys got in
    // `pins`.
    Login pin_login(const std::string& user, Env knobs, std::vector<Event>& pins) const {
        const fs::path events = dir_ / "events.log";
        fs::remove(events);
        knobs.push_back(std::string("VFIDO_PIN=") + kPin);
        knobs.push_back("VFIDO_LOG=" + events.string());
        auto run = login(user, knobs, {kPin});
        const auto all = read_events(events);
        std::copy_if(all.begin(), all.end(), std::back_inserter(pins),
                     [](const Event& e) { return e.source == "vfido" && e.what == "pinHashEnc"; });
        std::string screen = run.all_text();
        std::replace(screen.begin(), screen.end(), '\n', '|');
        std::string shape;
        for (std::size_t k = 0; k + 2 < knobs.size(); ++k) shape += knobs[k] + " ";
        std::printf("[ rogue    ] %s (%s), %s: PAM code %d, PIN hashes the keys got: %zu, screen: %s\n",
                    user.c_str(), GetParam(), shape.c_str(), run.code, pins.size(), screen.c_str());
        return run;
    }
    Login rogue_login(const std::string& user, const std::string& ctap, std::vector<Event>& pins,
                      const std::string& rogue = "1") const {
        return pin_login(user, {"VFIDO_ROGUE=" + rogue, "VFIDO_CTAP=" + ctap}, pins);
    }
};

INSTANTIATE_TEST_SUITE_P(Alg, RoguePin, ::testing::Values("es256", "eddsa"));

TEST_P(RoguePin, ADeviceThatCannotSignForTheCredentialIsNeverSentThePin) {
    for (const std::string ctap : {"2.0", "2.1"}) {
        SCOPED_TRACE("CTAP " + ctap);
        std::vector<Event> pins;
        const auto run = rogue_login("alice", ctap, pins);
        EXPECT_TRUE(pins.empty()) << "the PIN's hash went to a device that never proved the credential\n"
                                  << show(pins) << run.all_text();
        EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.run.describe() << log();
        EXPECT_TRUE(contains(run.all_text(), pp::helper::kKeyError)) << run.all_text();
    }
}

// A device that answers the touch for a credential it was not asked for (VFIDO_ROGUE=unlisted) is refused
// the same way: there is no enrolled key to check its signature against, and no allowed credential it holds.
TEST_P(RoguePin, ADeviceThatAnswersForAnotherCredentialIsNeverSentThePin) {
    std::vector<Event> pins;
    const auto run = rogue_login("alice", "2.0", pins, "unlisted");
    EXPECT_TRUE(pins.empty()) << "the PIN's hash went to a device that answered for another credential\n"
                              << show(pins) << run.all_text();
    EXPECT_EQ(run.code, PAM_AUTHINFO_UNAVAIL) << run.run.describe() << log();
    EXPECT_TRUE(contains(run.all_text(), pp::helper::kKeyError)) << run.all_text();
}

// The made-up ask of a name without credentials carries made-up public keys, so a rogue device is refused
// before the PIN there too, and the name that does not exist sees what alice sees.
TEST_P(RoguePin, AStrangerMeetsTheRogueDeviceAsAliceDoes) {
    std::vector<Event> alice_pins, bob_pins;
    const auto alice = rogue_login("alice", "2.0", alice_pins);
    const auto bob = rogue_login("bob", "2.0", bob_pins);
    EXPECT_TRUE(alice_pins.empty() && bob_pins.empty()) << "alice's PIN hashes:\n"
                                                        << show(alice_pins) << "bob's:\n"
                                                        << show(bob_pins);
    EXPECT_TRUE(bob.same_screen(alice)) << "bob:\n" << bob.all_text() << "alice:\n" << alice.all_text();
}

// The control: alice's own key (key 1, beside key 0, which holds nothing of hers) passes the check with the
// public key the import stored, gets the PIN and signs in.
TEST_P(RoguePin, TheEnrolledKeyStillGetsThePinAndSignsIn) {
    for (const std::string ctap : {"2.0", "2.1"}) {
        SCOPED_TRACE("CTAP " + ctap);
        std::vector<Event> pins;
        const auto run = pin_login("alice", {"VFIDO_KEYS=2", "VFIDO_CTAP=" + ctap}, pins);
        EXPECT_EQ(run.code, PAM_SUCCESS) << run.run.describe() << log();
        ASSERT_EQ(pins.size(), 1u) << show(pins);
        EXPECT_EQ(pins.front().key, 1) << "the PIN went to the key that holds the credential, and only there";
    }
}

}  // namespace
}  // namespace pp::test
