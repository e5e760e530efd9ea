#include "oauth_token.hpp"

#include <algorithm>

#include "error_response.hpp"
#include "json_document.hpp"
#include "service_error.hpp"
#include "text.hpp"

namespace pp::cognito {
namespace {

constexpr std::size_t max_description_length = 512;

bool host_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

std::string token_endpoint_url(std::string_view domain) {
    const auto colon = domain.find(':');
    const std::string_view host = domain.substr(0, colon);
    bool ok = !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), host_char) &&
              host.front() != '.' && host.front() != '-';
    if (ok && colon != std::string_view::npos) {
        const std::string_view port = domain.substr(colon + 1);
        ok = !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), digit);
    }
    if (!ok) throw ServiceError(Failure::Malformed, "", "no usable [browser] domain for the token endpoint");
    return "https://" + std::string(domain) + "/oauth2/token";
}

pp::Secret parse_token_response(long http_status, std::string_view body) {
    json::Document doc;
    std::string unreadable = "token endpoint: answer is not a JSON object";
    try {
        if (!body.empty()) doc = json::parse_object(body);
    } catch (const json::Error& e) {
        unreadable = std::string("token endpoint: answer is not a usable JSON object: ") + e.what();
    }
    if (http_status == 200) {
        if (!doc) throw ServiceError(Failure::Malformed, "", unreadable, http_status);
        std::optional<std::string_view> id_token;
        try {
            id_token = json::string_member(doc.get(), "id_token");
        } catch (const json::Error& e) {
            throw ServiceError(Failure::Malformed, "", std::string("token endpoint: ") + e.what(),
                               http_status);
        }
        if (!id_token || id_token->empty())
            throw ServiceError(Failure::Malformed, "",
                               "token endpoint: no id_token in the answer (is openid among the app "
                               "client's scopes?)",
                               http_status);
        return pp::Secret(*id_token);
    }
    if (http_status >= 500 && http_status < 600)
        throw ServiceError(Failure::ServerError, "", "token endpoint", http_status);
    if (http_status == 429)
        throw ServiceError(Failure::Rejected, "TooManyRequestsException", "token endpoint", http_status);
    if (http_status >= 400 && http_status < 500 && doc) {
        // RFC 6749 §5.2; Amplify reads error_message where error_description is absent (spec §6.4).
        const std::string name = error_name(json::lenient_string_member(doc.get(), "error"));
        std::string_view description = json::lenient_string_member(doc.get(), "error_description");
        if (description.empty()) description = json::lenient_string_member(doc.get(), "error_message");
        if (!name.empty())
            throw ServiceError(Failure::Rejected, name,
                               text::controls_replaced(description, max_description_length), http_status);
        throw ServiceError(Failure::Malformed, "", "token endpoint: a refusal without an error name",
                           http_status);
    }
    throw ServiceError(
        Failure::Malformed, "",
        http_status >= 400 && http_status < 500 ? unreadable : "token endpoint: unexpected HTTP status",
        http_status);
}

}  // namespace pp::cognito
