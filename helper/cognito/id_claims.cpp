#include "id_claims.hpp"

#include <json-c/json.h>

#include <cmath>

#include "json_document.hpp"
#include "token_error.hpp"

namespace pp::cognito {
namespace {

// NumericDate (RFC 7519 §2): seconds, possibly with a fraction.
std::optional<std::int64_t> numeric_date(json_object* payload, const char* name) {
    json_object* value = nullptr;
    if (!json_object_object_get_ex(payload, name, &value) || value == nullptr) return std::nullopt;
    if (json_object_is_type(value, json_type_int)) return json_object_get_int64(value);
    if (json_object_is_type(value, json_type_double)) {
        const double seconds = std::floor(json_object_get_double(value));
        // Bounds well inside int64 so the conversion is defined.
        if (!std::isfinite(seconds) || std::fabs(seconds) > 1e15) {
            throw TokenError(std::string("claim ") + name + " is out of range");
        }
        return static_cast<std::int64_t>(seconds);
    }
    throw TokenError(std::string("claim ") + name + " is not a number");
}

// Cognito writes these as JSON booleans; some tooling writes the strings "true" and "false".
bool verified_flag(json_object* payload, const char* name) {
    json_object* value = nullptr;
    if (!json_object_object_get_ex(payload, name, &value) || value == nullptr) return false;
    if (json_object_is_type(value, json_type_boolean)) return json_object_get_boolean(value) != 0;
    if (json_object_is_type(value, json_type_string)) {
        const std::string_view text = json::as_string(value, name);
        if (text == "true") return true;
        if (text == "false") return false;
    }
    throw TokenError(std::string("claim ") + name + " is neither a boolean nor \"true\"/\"false\"");
}

// Returns whether aud names the client: a string, or an array of strings.
bool audience_includes(json_object* payload, std::string_view client_id) {
    json_object* aud = nullptr;
    if (!json_object_object_get_ex(payload, "aud", &aud) || aud == nullptr) {
        throw TokenError("token has no aud claim");
    }
    if (json_object_is_type(aud, json_type_string)) return json::as_string(aud, "aud") == client_id;
    if (!json_object_is_type(aud, json_type_array)) {
        throw TokenError("claim aud is neither a string nor an array");
    }
    bool found = false;
    json::for_each_element(aud, [&](json_object* entry) {
        if (json::as_string(entry, "an aud entry") == client_id) found = true;
    });
    return found;
}

IdClaims read_claims(json_object* payload, const ClaimRules& rules) {
    IdClaims claims;
    claims.issuer = json::string_member(payload, "iss").value_or("");
    if (claims.issuer != rules.issuer) throw TokenError("token issuer is not the configured user pool");
    if (!audience_includes(payload, rules.client_id)) {
        throw TokenError("token audience is not this app client");
    }
    claims.audience = rules.client_id;
    claims.token_use = json::string_member(payload, "token_use").value_or("");
    if (claims.token_use != "id") throw TokenError("token is not an ID token (token_use is not \"id\")");
    claims.sub = json::string_member(payload, "sub").value_or("");
    if (claims.sub.empty()) throw TokenError("token has no sub claim");

    const auto exp = numeric_date(payload, "exp");
    const auto iat = numeric_date(payload, "iat");
    if (!exp || !iat) throw TokenError("token lacks exp or iat");
    if (*exp <= rules.now - rules.skew) throw TokenError("token has expired");
    if (*iat > rules.now + rules.skew) throw TokenError("token is issued in the future");
    if (const auto nbf = numeric_date(payload, "nbf"); nbf && *nbf > rules.now + rules.skew) {
        throw TokenError("token is not valid yet (nbf)");
    }
    claims.exp = *exp;
    claims.iat = *iat;
    claims.auth_time = numeric_date(payload, "auth_time");
    if (json_object* amr = nullptr; json_object_object_get_ex(payload, "amr", &amr) && amr != nullptr) {
        if (!json_object_is_type(amr, json_type_array)) throw TokenError("claim amr is not an array");
        json::for_each_element(amr, [&](json_object* entry) {
            claims.amr.emplace_back(json::as_string(entry, "an amr entry"));
        });
    }

    if (const auto v = json::string_member(payload, "cognito:username")) claims.cognito_username.emplace(*v);
    if (const auto v = json::string_member(payload, "email")) claims.email.emplace(*v);
    if (const auto v = json::string_member(payload, "phone_number")) claims.phone_number.emplace(*v);
    claims.email_verified = verified_flag(payload, "email_verified");
    claims.phone_number_verified = verified_flag(payload, "phone_number_verified");

    json::for_each_member(payload, [&](std::string_view name, json_object* value) {
        if (json_object_is_type(value, json_type_string)) {
            claims.strings.emplace(name, json::as_string(value, name));
        }
    });
    return claims;
}

}  // namespace

IdClaims check_id_claims(std::string_view payload, const ClaimRules& rules) {
    try {
        const json::Document doc = json::parse_object(payload);
        return read_claims(doc.get(), rules);
    } catch (const json::Error& e) {
        throw TokenError(std::string("token payload: ") + e.what());
    }
}

}  // namespace pp::cognito
