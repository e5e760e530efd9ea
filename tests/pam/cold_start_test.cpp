// What a freshly started helper does before and after its first answer (helper/pool_warm_up.hpp,
// pool_worker/libcurl.hpp), through the real module, libpam, the real helper and the local user pool.
#include <gtest/gtest.h>
#include <security/pam_appl.h>

#include <memory>
#include <sstream>
#include <string>

#include "login_harness.hpp"

namespace pp::test {
namespace {

constexpr const char* kAliceEmail = "alice@example.com";
constexpr const char* kIdentities = "alice alice@example.com\n";
constexpr const char* kFetched = "pool warm-up: the user pool's key set fetched";
constexpr const char* kFailed = "pool warm-up failed";

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}

// The stand-in's request log, one {"op": ..., "connection": N, ...} line per request.
std::string connection_of_first(const std::string& log, const std::string& op) {
    const auto at = log.find("\"op\": \"" + op + "\"");
    if (at == std::string::npos) return "";
    const auto c = log.find("\"connection\": ", at);
    return log.substr(c, log.find(',', c) - c);
}

class ColdStart : public StandInTest {
  protected:
    void start_helper() {
        helper_ = std::make_unique<Helper>(
            dir_, *standin_,
            HelperFiles{
                "\n[login]\nmethods = email_otp\nrequest_timeout = 5\nlogin_timeout = 60\n\n[binding]\n",
                kIdentities});
    }
    std::string maps() const { return read_text("/proc/" + std::to_string(helper_->pid()) + "/maps"); }
    // The maps of the helper's children: the worker it spawned.
    std::string worker_maps() const {
        std::string all;
        for (const pid_t child : children_of(helper_->pid()))
            all += read_text("/proc/" + std::to_string(child) + "/maps");
        return all;
    }

    // Answers the offer of the code once `before_offer` returns, and the code prompt with the code sent.
    PamRun login(const std::function<void()>& before_offer = [] {}) {
        return run_pam(service_, "alice", [&](int, const std::string& prompt) -> std::optional<std::string> {
            if (prompt.starts_with("Send a code to")) {
                before_offer();
                return "";
            }
            if (prompt.find("Code sent to") == std::string::npos) return std::nullopt;
            return standin_->latest_code(kAliceEmail).value_or("no-code");
        });
    }

    std::unique_ptr<Helper> helper_;
};

// The root helper never maps libcurl nor OpenSSL's TLS library, before or after a login: the network worker
// it spawns (pam-passwordless-pool) does the HTTPS, and maps them once a login needed them.
TEST_F(ColdStart, LibcurlIsLoadedByTheWorkerNeverByTheHelper) {
    start_helper();
    EXPECT_EQ(maps().find("libcurl"), std::string::npos) << "libcurl mapped before any login";
    EXPECT_EQ(maps().find("libssl"), std::string::npos) << "libssl mapped before any login";
    const auto run = login();
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    EXPECT_EQ(maps().find("libcurl"), std::string::npos) << "libcurl mapped by the root helper";
    EXPECT_EQ(maps().find("libssl"), std::string::npos) << "libssl mapped by the root helper";
    const std::string worker = worker_maps();
    EXPECT_NE(worker.find("libcurl"), std::string::npos) << "no worker, or it has not loaded libcurl";
    EXPECT_NE(worker.find("libssl"), std::string::npos);
}

// After the first answer the helper fetches the pool's key set in the background over a connection that the
// login's first request then reuses: the login pays neither the handshake nor the download.
TEST_F(ColdStart, KeySetAndConnectionAreReadyForTheFirstLogin) {
    start_helper();
    const auto run = login([&] {
        ASSERT_TRUE(wait_until([&] { return helper_->log().find(kFetched) != std::string::npos; }))
            << helper_->log();
    });
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    const std::string requests = standin_->requests_log();
    EXPECT_EQ(count(requests, "\"op\": \"jwks\""), 1u) << requests;
    EXPECT_EQ(connection_of_first(requests, "InitiateAuth"), connection_of_first(requests, "jwks"))
        << requests;
}

// The pool rotates its signing key after the helper fetched the set ahead: the token's new key id is fetched
// as it always was, and the login succeeds.
TEST_F(ColdStart, AKeyRotatedAfterTheFetchAheadIsStillPickedUp) {
    start_helper();
    const auto run = login([&] {
        ASSERT_TRUE(wait_until([&] { return helper_->log().find(kFetched) != std::string::npos; }))
            << helper_->log();
        standin_->set_control(R"({"jwks": "rotated"})");
    });
    EXPECT_EQ(run.code, PAM_SUCCESS) << run.all_text() << helper_->log();
    EXPECT_EQ(count(standin_->requests_log(), "\"op\": \"jwks\""), 2u) << standin_->requests_log();
}

// The pool cannot be reached when the helper starts: the warm-up says so in one line, the first login fails
// as it always did, and once the pool is back a login fetches what it needs itself and succeeds.
TEST_F(ColdStart, PoolUnreachableAtStartThenReachable) {
    standin_->set_control(R"({"fault": "drop"})");
    start_helper();
    const auto first = login([&] {
        ASSERT_TRUE(wait_until([&] { return helper_->log().find(kFailed) != std::string::npos; }))
            << helper_->log();
    });
    EXPECT_EQ(first.code, PAM_AUTHINFO_UNAVAIL) << first.all_text() << helper_->log();
    EXPECT_NE(first.all_text().find("cannot be reached"), std::string::npos) << first.all_text();
    EXPECT_EQ(count(helper_->log(), kFailed), 1u) << helper_->log();
    EXPECT_NE(helper_->log().find("each login fetches what it needs itself"), std::string::npos);

    standin_->clear_control();
    const auto second = login();
    EXPECT_EQ(second.code, PAM_SUCCESS) << second.all_text() << helper_->log();
    // The key set came with the login (nothing was held): two tries in all, the warm-up's dropped one first.
    EXPECT_EQ(count(standin_->requests_log(), "\"op\": \"jwks\""), 2u) << standin_->requests_log();
    EXPECT_EQ(count(helper_->log(), kFetched), 0u) << "the warm-up runs once per start";
}

}  // namespace
}  // namespace pp::test
