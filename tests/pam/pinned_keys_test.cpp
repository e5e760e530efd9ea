// [pool] jwks_file (issue #12): the user pool's keys pinned in a root-owned file. The real module under the
// real libpam, the real helper and its network worker, against the stand-in. A key the file does not hold
// stands for the one a compromised worker would sign its own tokens with: the stand-in's real key, when the
// file pins another, is exactly such a key (its tokens are otherwise valid in every way).
#include <gtest/gtest.h>
#include <security/pam_appl.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "helper/person_texts.hpp"
#include "login_harness.hpp"
#include "test_keys.hpp"

namespace pp::test {
namespace {

constexpr const char* kAliceEmail = "alice@example.com";
constexpr const char* kIdentities = "alice alice@example.com\n";

// The key ids in a key set's text.
std::vector<std::string> kids_in(const std::string& jwks) {
    static const std::regex kid_re(R"re("kid": ?"([^"]+)")re");
    std::vector<std::string> out;
    for (auto it = std::sregex_iterator(jwks.begin(), jwks.end(), kid_re); it != std::sregex_iterator(); ++it)
        out.push_back((*it)[1].str());
    return out;
}

// A key set of RSA keys of our own, one per id.
std::string own_key_set(const std::vector<std::string>& kids) {
    static const cognito::test::TestKey key;
    std::string text = R"({"keys":[)";
    for (std::size_t i = 0; i < kids.size(); ++i) text += (i ? "," : "") + key.jwk(kids[i]);
    return text + "]}";
}

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

class PinnedKeys : public StandInTest {
  protected:
    // The stand-in's key set as it publishes it (what `curl JWKS_URL` would have written).
    std::string published() const { return read_text(standin_->dir() / "jwks.json"); }
    fs::path jwks_path() const { return dir_ / "jwks.json"; }

    void start_helper(const std::string& pinned_text) {
        write_text(jwks_path(), pinned_text);
        // The first lines of the config land in [pool], which the harness writes first.
        helper_ = std::make_unique<Helper>(
            dir_, *standin_,
            HelperFiles{"jwks_file = " + jwks_path().string() +
                            "\n[login]\nmethods = email_otp\nrequest_timeout = 5\n[binding]\n",
                        kIdentities});
    }

    PamRun login_alice() const {
        return run_pam(
            service_, "alice",
            accepting_code_offers([this](int, const std::string& prompt) -> std::optional<std::string> {
                if (prompt.find("Code sent to") == std::string::npos) return std::nullopt;
                return standin_->latest_code(kAliceEmail).value_or("no-code");
            }));
    }

    // How many times the key set was downloaded from the stand-in since it started.
    std::size_t jwks_requests() const { return count_of(standin_->requests_log(), "\"op\": \"jwks\""); }

    std::unique_ptr<Helper> helper_;
};

// (a) Pinned to the pool's own keys, a code login succeeds, and neither the login nor the warm-up after the
// helper's first answer downloads the key set.
TEST_F(PinnedKeys, CodeLoginSucceedsAndTheKeySetIsNeverFetched) {
    const auto before = jwks_requests();
    start_helper(published());
    const auto run = login_alice();
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    // Stopping joins the warm-up thread: whatever it would have fetched is in the log by now.
    helper_->stop();
    EXPECT_EQ(jwks_requests(), before) << standin_->requests_log();
    EXPECT_TRUE(contains(helper_->log(), "method=email_otp outcome=success")) << helper_->log();
}

// (b) Pinned to another key set: the right code brings a token the pool really signed, under a key id the
// file does not hold, and it is refused as the pool's unknown key is: PAM_AUTH_ERR, "Sign-in failed.".
TEST_F(PinnedKeys, ATokenUnderAKeyNotPinnedIsRefused) {
    const auto before = jwks_requests();
    start_helper(own_key_set({"some-other-pool-key"}));
    const auto run = login_alice();
    EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.all_text() << helper_->log();
    EXPECT_TRUE(contains(run.all_text(), pp::helper::kSignInFailed)) << run.all_text();
    helper_->stop();
    const std::string log = helper_->log();
    EXPECT_TRUE(contains(log, "outcome=auth_err")) << log;
    EXPECT_TRUE(
        contains(log, "ID token refused: token key id is not among the pinned keys ([pool] jwks_file)"))
        << log;
    EXPECT_EQ(jwks_requests(), before) << "the worker must never be asked for keys";
}

// (b) A worker that knows the pinned key ids still cannot sign under them: the same ids, another key.
TEST_F(PinnedKeys, TheSameKeyIdsForAnotherKeyAreRefused) {
    const auto kids = kids_in(published());
    ASSERT_EQ(kids.size(), 2u) << published();
    start_helper(own_key_set(kids));
    const auto run = login_alice();
    EXPECT_EQ(run.code, PAM_AUTH_ERR) << run.all_text() << helper_->log();
    helper_->stop();
    EXPECT_TRUE(contains(helper_->log(), "ID token refused: token signature does not verify"))
        << helper_->log();
}

// Reload reads the file again: fixed, the next login succeeds; no restart needed.
TEST_F(PinnedKeys, ReloadPicksUpAChangedFile) {
    start_helper(own_key_set({"some-other-pool-key"}));
    EXPECT_EQ(login_alice().code, PAM_AUTH_ERR) << helper_->log();
    write_text(jwks_path(), published());
    helper_->reload();
    ASSERT_TRUE(wait_until([&] { return contains(helper_->log(), "configuration reloaded"); }))
        << helper_->log();
    const auto run = login_alice();
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
}

// check-config, offline and --online, on the helper binary.
class PinnedKeysCheckConfig : public PinnedKeys {
  protected:
    fs::path write_config(const fs::path& jwks) const {
        std::string conf =
            pool_section(*standin_, dir_, true) + "jwks_file = " + jwks.string() +
            "\n[login]\nmethods = email_otp\n[binding]\nmapping_file = " + (dir_ / "identities").string() +
            "\n[limits]\nstate_file = " + (dir_ / "limits").string() + "\n";
        write_text(dir_ / "identities", kIdentities);
        write_text(dir_ / "helper.conf", conf);
        return dir_ / "helper.conf";
    }

    [[nodiscard]] ChildResult check_config(const fs::path& jwks, bool online = false) const {
        std::vector<std::string> argv{PP_HELPER_BIN, "check-config", "--config", write_config(jwks).string()};
        if (online) argv.emplace_back("--online");
        fs::create_directories(dir_ / "accounts");
        return run_child({.argv = with_local_accounts(argv, dir_ / "accounts"),
                          .env = Env{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"} + sanitizer_env(),
                          .input = "",
                          .work = dir_,
                          .uid = std::nullopt,
                          .limit = std::chrono::seconds(60),
                          .late_input = {}});
    }

    // Refused: exit 1, the error names the file, the key and the fix, and nothing says the file is fine.
    void expect_refused(const fs::path& jwks, const std::string& problem) const {
        const auto r = check_config(jwks);
        EXPECT_EQ(r.exit_code, 1) << r.describe();
        EXPECT_TRUE(contains(r.err, jwks.string() + ": " + problem)) << r.describe();
        EXPECT_TRUE(
            contains(r.err, "([pool] jwks_file; fix: download the pool's key set as root with: curl "))
            << r.describe();
        EXPECT_FALSE(contains(r.out, "configuration OK")) << r.describe();
    }
};

TEST_F(PinnedKeysCheckConfig, RefusesAMissingFile) {
    expect_refused(dir_ / "no-such-jwks.json", "No such file or directory");
}

TEST_F(PinnedKeysCheckConfig, RefusesAFileOthersCanWrite) {
    const fs::path p = dir_ / "writable-jwks.json";
    write_text(p, published(), fs::perms(0666));
    expect_refused(p, "writable by group or others");
}

TEST_F(PinnedKeysCheckConfig, RefusesAFileThatIsNotJson) {
    const fs::path p = dir_ / "page.html";
    write_text(p, "<html>403 Forbidden</html>\n");
    expect_refused(p, "not a key set (JWKS)");
}

TEST_F(PinnedKeysCheckConfig, RefusesAFileWithoutAUsableKey) {
    // An encryption key and an elliptic-curve one: a key set, but nothing to check an RS256 signature with.
    const fs::path p = dir_ / "no-signing-key.json";
    std::string enc = own_key_set({"enc-key"});
    enc.replace(enc.find("\"use\":\"sig\""), 11, "\"use\":\"enc\"");
    ASSERT_TRUE(contains(enc, "\"use\":\"enc\"")) << enc;
    write_text(p, enc.substr(0, enc.size() - 2) +
                      R"(,{"kty":"EC","crv":"P-256","kid":"ec-key","x":"AAAA","y":"AAAA"}]})");
    expect_refused(p, "holds no key usable for ID tokens");
}

TEST_F(PinnedKeysCheckConfig, ShowsAGoodFile) {
    write_text(jwks_path(), published());
    const auto r = check_config(jwks_path());
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_TRUE(contains(r.out, "jwks: pinned in " + jwks_path().string() +
                                    " (2 key(s)); ID tokens are verified "
                                    "with these keys alone"))
        << r.describe();
    EXPECT_TRUE(contains(r.out, "configuration OK")) << r.describe();
}

// --online: the pinned file against the keys the pool publishes.
TEST_F(PinnedKeysCheckConfig, OnlineSaysAFileThatAgreesDoes) {
    write_text(jwks_path(), published());
    const auto r = check_config(jwks_path(), true);
    EXPECT_TRUE(
        contains(r.out, "ok   jwks_file " + jwks_path().string() + " pins the 2 key(s) the pool publishes"))
        << r.describe();
    EXPECT_FALSE(contains(r.out, "FAIL JWKS")) << r.describe();
    EXPECT_FALSE(contains(r.out, "warn jwks_file")) << r.describe();
}

// A pool that rotated its keys since the file was made: a warning naming the keys and the fix, no failure.
TEST_F(PinnedKeysCheckConfig, OnlineWarnsOfAPoolThatRotatedItsKeys) {
    write_text(jwks_path(), published());
    const auto old_kids = kids_in(published());
    ASSERT_EQ(old_kids.size(), 2u);
    standin_->set_control(R"({"jwks": "rotated"})");
    const auto r = check_config(jwks_path(), true);
    const std::string warning =
        "warn jwks_file " + jwks_path().string() + " differs from the pool's key set at ";
    EXPECT_TRUE(contains(r.out, warning)) << r.describe();
    EXPECT_TRUE(contains(r.out, "; pinned but no longer published: " + old_kids[0])) << r.describe();
    EXPECT_TRUE(contains(r.out, "; published but not pinned (ID tokens signed with them are refused): "))
        << r.describe();
    EXPECT_TRUE(contains(r.out,
                         "fix: if the pool rotated its keys, download the pool's key set as root with: "
                         "curl -fsS --proto =https -o " +
                             jwks_path().string()))
        << r.describe();
    EXPECT_FALSE(contains(r.out, "FAIL JWKS")) << r.describe();
    EXPECT_FALSE(contains(r.out, "FAIL jwks_file")) << r.describe();
}

}  // namespace
}  // namespace pp::test
