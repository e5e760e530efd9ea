#include "fake_method_context.hpp"

#include <chrono>

namespace pp::helper::test {

FakeMethodContext::FakeMethodContext(const std::string& config, const TestDir& dir, std::string user)
    : config_(parse_config("[pool]\nregion = eu-west-1\npool_id = eu-west-1_Flowtest\nclient_id = " +
                               kClientId + "\nissuer = " + kIssuer +
                               "\n[binding]\nmapping_file = /etc/pam_passwordless/identities\n" + config,
                           dir.file("helper.conf"))),
      facts_{std::move(user), "sshd", "192.0.2.10", "ssh", ""},
      verifier_(std::make_unique<cognito::TokenVerifier>(
          kIssuer, kClientId, [pool = pool_script](Deadline d) { return pool->fetch_jwks(d); })) {
    config_.limits_state_file = dir.file("limits");
    config_.security_key.store_dir = dir.file("credentials");
    // Generous: a method waits for nothing but its scripts.
    person_script.start_clock(std::chrono::minutes(2));
    began_at = verifier_->now();
}

std::string FakeMethodContext::destination_for(Method m) const {
    const auto it = destinations.find(m);
    return it == destinations.end() ? std::string() : it->second;
}

void FakeMethodContext::trace_bound(const Identifier& ident, std::string_view sub) const {
    traces_.push_back("bound " + ident.value + " sub=" + std::string(sub));
}

}  // namespace pp::helper::test
