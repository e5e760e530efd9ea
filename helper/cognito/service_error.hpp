// How a call to the user pool failed, in terms the caller can map to a PAM outcome.
#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace pp::cognito {

enum class Failure {
    Unreachable,  // no connection, or it broke before an answer came
    Timeout,      // the request budget or the login deadline ran out
    Tls,          // the peer could not be verified, or a plain-text URL was configured
    ServerError,  // HTTP 5xx
    Malformed,    // an answer we cannot read: wrong status, bad JSON, wrong types, too large
    Rejected,     // the service answered with a named client error (HTTP 4xx + error type)
};

std::string_view to_string(Failure failure) noexcept;

// The token endpoint's (OAuth 2.0, RFC 6749 §5.2) error for a code that is wrong, spent, expired, another
// client's, or redeemed with the wrong verifier: the person's wrong answer, not a fault of the setup.
inline constexpr std::string_view kInvalidGrant = "invalid_grant";

// name() is the service's error name (e.g. "CodeMismatchException") when it gave one. message() is the
// service's text or a description of the transport failure; neither ever carries a secret.
class ServiceError : public std::exception {
  public:
    ServiceError(Failure failure, std::string name, std::string message, long http_status = 0);

    Failure failure() const noexcept { return failure_; }
    const std::string& name() const noexcept { return name_; }
    const std::string& message() const noexcept { return message_; }
    long http_status() const noexcept { return http_status_; }
    const char* what() const noexcept override { return what_.c_str(); }

  private:
    Failure failure_;
    std::string name_;
    std::string message_;
    long http_status_;
    std::string what_;
};

// A token-endpoint refusal that only the configuration or the app client's settings fix (invalid_client: the
// client has a secret or does not exist; unauthorized_client: no code grant or the callback URL differs;
// invalid_request, invalid_scope, unsupported_grant_type): PAM_SERVICE_ERR, not a wrong answer.
bool is_oauth_misconfiguration(const ServiceError& e) noexcept;

}  // namespace pp::cognito
