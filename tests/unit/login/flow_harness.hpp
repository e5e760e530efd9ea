// Runs one login of the real flow with only its two ends replaced: the person (a FakeConnection's script,
// reached through the real WireConnection over a socket pair, the way the PAM module reaches it) and the user
// pool (FakePool, in the Runtime's place of the network worker's client). Everything between is the helper's
// own code: run_connection, the session, the methods, the limits, the binding, the audit line.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admission.hpp"
#include "fake_connection.hpp"
#include "fake_pool.hpp"
#include "helper_state.hpp"
#include "rate_limits.hpp"
#include "runtime.hpp"
#include "test_dir.hpp"

namespace pp::helper::test {

// How a login ended, as the module hears it (outcome, text, user) and as the audit line says it.
struct Ending {
    wire::Outcome outcome = wire::Outcome::AuthErr;
    std::string text;  // what the person is shown at the end
    std::string user;  // set only on success
    std::string method;
    std::string reason;
    std::string audit;  // the whole audit line
};

struct LoginAs {
    // Remote unless a test says otherwise ("" is the console).
    LoginAs(std::string u, std::string r = "192.0.2.10") : user(std::move(u)), rhost(std::move(r)) {}
    std::string user;
    std::string rhost;
    std::string service = "sshd";
    std::optional<wire::UnknownUser> unknown_user;  // the stack's unknown_user=, when it sends one
};

class FlowHarness {
  public:
    // `config`: the [login] and later sections (the [pool] and [binding] are the harness's); `identities`:
    // the identity map's text. State (limits, keys, recovery codes) lives in a directory under the build
    // tree.
    FlowHarness(const std::string& config, const std::string& identities);
    ~FlowHarness();
    FlowHarness(const FlowHarness&) = delete;
    FlowHarness& operator=(const FlowHarness&) = delete;

    FakePool& pool() { return *pool_; }
    RateLimits& limits() { return limits_; }
    const Config& config() const { return runtime_->config; }
    const TestDir& dir() const { return dir_; }
    // A new set of break-glass codes for `user` (recovery_codes.hpp).
    std::vector<Secret> recovery_codes(const std::string& user, int count);

    // One login of `as`, the person answering from `person`'s script.
    Ending login(FakeConnection& person, const LoginAs& as);

  private:
    TestDir dir_;
    // Shared with the Runtime, which the helper's pool warm-up thread (pool_warm_up.cpp) keeps alive past
    // this harness: the thread may fetch the key set after the test has ended.
    std::shared_ptr<FakePool> pool_ = std::make_shared<FakePool>();
    std::shared_ptr<Runtime> runtime_;
    RateLimits limits_;
    Admission admission_;
    HelperState state_;
};

}  // namespace pp::helper::test
