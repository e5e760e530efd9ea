// A user pool for unit tests of the flow: cognito::PoolApi with scripted answers. Each call of
// initiate_user_auth or respond takes the next scripted reply (a Step, or a ServiceError to throw) and
// records what was asked, so a test can say both what the pool answered and what the flow sent it. The ID
// tokens it hands out are real RS256 JWTs under a key made in the test; its JWKS serves that key, so the
// flow's real TokenVerifier checks them.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "pool_types.hpp"
#include "test_keys.hpp"

namespace pp::helper::test {

inline const std::string kIssuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Flowtest";
inline const std::string kClientId = "4flow0test0client";

// One call the flow made.
struct PoolCall {
    std::string op;  // "initiate" or "respond"
    std::string username;
    std::optional<std::string> preferred;        // initiate: the PREFERRED_CHALLENGE
    std::string challenge;                       // respond: the challenge answered
    std::string session;                         // respond: the session sent back
    std::map<std::string, std::string> answers;  // respond: name -> value
    std::optional<std::string> ip_address;
    std::string form_body;  // redeem: the token request's body
};

class FakePool final : public cognito::PoolApi {
  public:
    using Reply = std::variant<cognito::Step, cognito::ServiceError>;

    // The next answer of initiate_user_auth or respond, in the order the flow will call them.
    void then(Reply reply) { script_.push_back(std::move(reply)); }
    // What was asked, in order; and the scripted replies not taken.
    const std::vector<PoolCall>& calls() const { return calls_; }
    std::size_t unused() const { return script_.size(); }
    // Every call throws this from now on (the pool's outage), fetch_jwks included.
    void go_down(cognito::ServiceError e) { down_ = std::move(e); }

    // --- Steps as the pool words them
    static cognito::Step select_challenge(std::vector<std::string> available,
                                          std::string session = "s-select", std::string pool_user = "");
    // EMAIL_OTP / SMS_OTP: the code was sent to `destination` (as the pool masks it; "" for none).
    static cognito::Step code_challenge(const std::string& challenge, std::string destination,
                                        std::string session = "s-code", std::string pool_user = "");
    // WEB_AUTHN with request options for `rp_id`, allowing `cred_ids` (raw bytes).
    static cognito::Step passkey_challenge(const std::string& rp_id, std::vector<std::string> cred_ids,
                                           std::string session = "s-passkey");
    // Signed in: an ID token with the claims of `claims` (JSON texts, merged over the defaults).
    cognito::Step signed_in(const cognito::test::Members& claims) const;
    static cognito::ServiceError rejected(std::string name, std::string message = "");
    static cognito::ServiceError unreachable();

    // The claims every token carries unless a test overrides them.
    static cognito::test::Members base_claims(const std::string& sub);
    std::string jwks() const;

    cognito::Step initiate_user_auth(std::string_view username, std::optional<std::string_view> preferred,
                                     Deadline deadline, const cognito::UserContext& context) override;
    cognito::Step respond(std::string_view challenge, const pp::Secret& session, std::string_view username,
                          const std::vector<std::pair<std::string, pp::Secret>>& answers, Deadline deadline,
                          const cognito::UserContext& context) override;
    std::string fetch_jwks(Deadline deadline) override;
    cognito::OpenIdConfiguration fetch_openid_configuration(Deadline deadline) override;
    cognito::CallbackPageCheck fetch_callback_page(const std::string& page_url, Deadline deadline) override;
    cognito::RegistrationStart start_webauthn_registration(const pp::Secret& access_token,
                                                           Deadline deadline) override;
    void complete_webauthn_registration(const pp::Secret& access_token, std::string_view credential_json,
                                        Deadline deadline) override;
    std::vector<cognito::WebAuthnCredential> list_webauthn_credentials(const pp::Secret& access_token,
                                                                       Deadline deadline) override;
    void delete_webauthn_credential(const pp::Secret& access_token, std::string_view credential_id,
                                    Deadline deadline) override;
    // Takes the next scripted reply too: a Step's id_token is the token endpoint's (signed_in() makes one),
    // a ServiceError is thrown (rejected("invalid_grant") for a wrong code).
    pp::Secret redeem_authorization_code(const pp::Secret& form_body, Deadline deadline) override;

  private:
    cognito::Step next(PoolCall call);

    cognito::test::TestKey key_;
    std::deque<Reply> script_;
    std::vector<PoolCall> calls_;
    std::optional<cognito::ServiceError> down_;
};

}  // namespace pp::helper::test
