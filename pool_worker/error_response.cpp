#include "error_response.hpp"

#include <algorithm>

#include "json_document.hpp"
#include "text.hpp"

namespace pp::cognito {
namespace {

constexpr std::size_t max_name_length = 128;
constexpr std::size_t max_message_length = 512;

// The service's text ends up in logs: keep it short and free of control characters.
std::string printable(std::string_view text) {
    return text::controls_replaced(text, max_message_length);
}

}  // namespace

std::string error_name(std::string_view raw) {
    raw = raw.substr(0, raw.find(':'));
    if (const auto hash = raw.rfind('#'); hash != std::string_view::npos) raw.remove_prefix(hash + 1);
    const auto plausible = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '.' || c == '-';
    };
    if (raw.empty() || raw.size() > max_name_length || !std::all_of(raw.begin(), raw.end(), plausible)) {
        return {};
    }
    return std::string(raw);
}

std::optional<ServiceError> classify_response(long http_status, std::string_view error_type_header,
                                              std::string_view body, bool empty_body_ok,
                                              bool read_by_caller) {
    if (read_by_caller && http_status >= 200 && http_status < 300) return std::nullopt;
    json::Document doc;
    std::string unreadable = "answer is not a JSON object";
    try {
        if (!body.empty()) doc = json::parse_object(body);
    } catch (const json::Error& e) {
        unreadable = std::string("answer is not a usable JSON object: ") + e.what();
    }

    if (http_status >= 200 && http_status < 300) {
        if (doc || (body.empty() && empty_body_ok)) return std::nullopt;
        return ServiceError(Failure::Malformed, "", unreadable, http_status);
    }

    std::string name = error_name(error_type_header);
    std::string message;
    if (doc) {
        if (name.empty()) name = error_name(json::lenient_string_member(doc.get(), "code"));
        if (name.empty()) name = error_name(json::lenient_string_member(doc.get(), "__type"));
        message = json::lenient_string_member(doc.get(), "message");
        if (message.empty()) message = json::lenient_string_member(doc.get(), "Message");
    }
    message = printable(message);

    if (http_status >= 500 && http_status < 600) {
        return ServiceError(Failure::ServerError, std::move(name), std::move(message), http_status);
    }
    if (http_status >= 400 && http_status < 500) {
        if (name.empty()) {
            return ServiceError(Failure::Malformed, "", "client error without an error name", http_status);
        }
        return ServiceError(Failure::Rejected, std::move(name), std::move(message), http_status);
    }
    return ServiceError(Failure::Malformed, std::move(name), "unexpected HTTP status", http_status);
}

}  // namespace pp::cognito
