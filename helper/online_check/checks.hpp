// Inside check-config --online (helper/online_check/): the report every check writes to, what the checks
// share, and the checks themselves, one file per concern. The helper's code uses online_check.hpp.
#pragma once

#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "pool_types.hpp"
#include "runtime.hpp"
#include "service_error.hpp"

namespace pp::helper::online_check {

using cognito::Failure;
using cognito::ServiceError;

class Report {
  public:
    explicit Report(std::ostream& out) : out_(out) {}

    void ok(const std::string& what) { out_ << "ok   " << what << "\n"; }
    void warn(const std::string& what, const std::string& fix) {
        out_ << "warn " << what << "; fix: " << fix << "\n";
    }
    void fail(const std::string& what, const std::string& fix) {
        ++failures_;
        out_ << "FAIL " << what << "; fix: " << fix << "\n";
    }
    void not_checked(const std::string& what, const std::string& why) {
        out_ << "not checked: " << what << ": " << why << "\n";
    }
    void line(const std::string& text) { out_ << text << "\n"; }
    int failures() const { return failures_; }

  private:
    std::ostream& out_;
    int failures_ = 0;
};

// report.cpp: what the checks share.
std::string host_of(std::string_view url);
std::string trust_of(const Config& c);
bool contains_any(const std::string& text, std::initializer_list<std::string_view> needles);
// The request to `url` (what: "endpoint", "JWKS", ...) got no HTTP answer: says why, and what fixes it.
void no_answer(Report& r, const Config& c, const std::string& what, const std::string& url,
               const ServiceError& e);
// No HTTP answer at all: TLS, a timeout, no route.
bool transport(const ServiceError& e);
std::string answered(const ServiceError& e);

// sign_in_probe.cpp
// Long enough that no user, and with no '@' or leading '+' no email address or phone number, can have it:
// the pool can send nothing for it, and the answer is never answered back.
std::string made_up_user_name();
// The sign-in probe: InitiateAuth for the made-up name, without PREFERRED_CHALLENGE, never answered.
void probe_client(Report& r, const Runtime& rt, const std::string& name);

// key_checks.cpp
// The pool's own account of its issuer (OpenID Connect Discovery), against the configured one. Returns the
// document when the issuer is the configured one.
std::optional<cognito::OpenIdConfiguration> check_issuer(Report& r, const Runtime& rt);
// The key set ID tokens are verified with: downloaded and read exactly as a login does.
void check_jwks(Report& r, const Runtime& rt);

// browser_checks.cpp
// [browser]: the managed login's endpoints the pool's openid-configuration names, against the domain.
void check_browser_endpoints(Report& r, const Config& c,
                             const std::optional<cognito::OpenIdConfiguration>& doc);
// [browser]: a token request with a made-up code and verifier. It can redeem nothing, and the answer says
// what the token endpoint thinks of the app client: invalid_grant (the code) means it got as far as the code,
// so the client is public and may use the code grant.
void probe_token_endpoint(Report& r, const Runtime& rt);
// [browser] redirect_uri: the callback page served there (this project's, by its marker), and the pool.json
// beside it naming [browser]'s domain, client and scopes (link = short launches the sign-in from it).
void check_callback_page(Report& r, const Runtime& rt);

}  // namespace pp::helper::online_check
