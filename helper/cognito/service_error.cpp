#include "service_error.hpp"

#include <utility>

namespace pp::cognito {

std::string_view to_string(Failure failure) noexcept {
    switch (failure) {
        case Failure::Unreachable:
            return "unreachable";
        case Failure::Timeout:
            return "timeout";
        case Failure::Tls:
            return "TLS failure";
        case Failure::ServerError:
            return "server error";
        case Failure::Malformed:
            return "malformed answer";
        case Failure::Rejected:
            return "rejected";
    }
    return "unknown failure";
}

bool is_oauth_misconfiguration(const ServiceError& e) noexcept {
    if (e.failure() != Failure::Rejected) return false;
    const std::string& n = e.name();
    return n == "invalid_client" || n == "unauthorized_client" || n == "invalid_request" ||
           n == "invalid_scope" || n == "unsupported_grant_type";
}

ServiceError::ServiceError(Failure failure, std::string name, std::string message, long http_status)
    : failure_(failure), name_(std::move(name)), message_(std::move(message)), http_status_(http_status) {
    what_ = to_string(failure_);
    if (!name_.empty()) what_ += " " + name_;
    if (http_status_ != 0) what_ += " (HTTP " + std::to_string(http_status_) + ")";
    if (!message_.empty()) what_ += ": " + message_;
}

}  // namespace pp::cognito
