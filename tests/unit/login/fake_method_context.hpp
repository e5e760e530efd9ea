// The login a method sees (helper/login/method_context.hpp), faked: one method's prove or walk_unknown runs
// alone, with the person a FakeConnection's script, the user pool a FakePool, the account set by the test,
// and what the method told the login (proofs tried, access tokens offered, test-login steps) recorded.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fake_connection.hpp"
#include "fake_pool.hpp"
#include "login/method_context.hpp"
#include "test_dir.hpp"

namespace pp::helper::test {

class FakeMethodContext final : public MethodContext {
  public:
    // `config`: the [login] and later sections (the [pool] and [binding] are the fake's); the limits' state
    // file (and what is kept beside it) lives in `dir`. `user`: the local account of the login.
    FakeMethodContext(const std::string& config, const TestDir& dir, std::string user);

    // The test's side: the person's script, the pool's script, the account.
    FakeConnection person_script;
    std::shared_ptr<FakePool> pool_script = std::make_shared<FakePool>();
    std::vector<Identifier> known_ids;
    std::vector<StoredCredential> enrolled;
    std::map<Method, std::string> destinations;
    // When the login began to prove (Unix seconds): when the fake was made, unless the test says otherwise.
    std::int64_t began_at = 0;

    // What the method told the login.
    int proofs_tried = 0;
    int pool_asks = 0;
    std::vector<std::string> access_tokens;                    // each one offered
    std::vector<std::vector<std::size_t>> pool_passkeys_seen;  // each ask's passkey id lengths

    const Config& config() const override { return config_; }
    const LoginFacts& facts() const override { return facts_; }
    Connection& person() override { return person_script; }
    cognito::PoolApi& pool() override { return *pool_script; }
    cognito::TokenVerifier& verifier() override { return *verifier_; }
    std::int64_t began() const override { return began_at; }
    const std::vector<Identifier>& known() const override { return known_ids; }
    const std::vector<StoredCredential>& credentials() const override { return enrolled; }
    std::string destination_for(Method m) const override;
    MaybeEnd take_pool_ask() override {
        ++pool_asks;
        return std::nullopt;
    }
    MaybeEnd proof_tried() override {
        ++proofs_tried;
        return std::nullopt;
    }
    void offer_access_token(const Secret& token) override { access_tokens.emplace_back(token.view()); }
    void saw_pool_passkeys(const std::vector<std::size_t>& lengths) override {
        pool_passkeys_seen.push_back(lengths);
    }
    std::string decoy_key() const override { return std::string(32, 'k'); }
    void trace(const std::string& step) const override { traces_.push_back(step); }
    void trace_bound(const Identifier& ident, std::string_view sub) const override;

    const std::vector<std::string>& told() const { return traces_; }

  private:
    Config config_;
    LoginFacts facts_;
    std::unique_ptr<cognito::TokenVerifier> verifier_;
    mutable std::vector<std::string> traces_;
};

}  // namespace pp::helper::test
