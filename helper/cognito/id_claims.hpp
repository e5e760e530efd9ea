// The claims of a Cognito ID token that the helper relies on, and the checks they must pass (spec §5).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pp::cognito {

struct IdClaims {
    std::string sub, issuer, audience, token_use;
    std::optional<std::string> cognito_username, email, phone_number;
    bool email_verified = false, phone_number_verified = false;
    std::int64_t exp = 0, iat = 0;
    // When the person signed in (a number; Cognito writes it into every ID token, the managed login's too).
    std::optional<std::int64_t> auth_time;
    // How they signed in (a managed login's token, spec §7): "swk" and "hwk" are passkeys, "email_otp",
    // "sms", "otp", "pwd", "mfa", "fed" the rest. Empty when absent.
    std::vector<std::string> amr;
    std::map<std::string, std::string>
        strings;  // every top-level string-valued claim, for a configured binding claim
};

struct ClaimRules {
    std::string_view issuer;
    std::string_view client_id;
    std::int64_t now = 0;   // Unix seconds
    std::int64_t skew = 0;  // seconds of clock difference tolerated
};

// Reads the decoded payload of a token whose signature has been verified. Throws TokenError unless it is a
// JSON object with iss exactly the issuer, aud the client id (or an array holding it), token_use "id", a
// non-empty sub, exp after now - skew, iat (and nbf, if present) not after now + skew, and well-typed
// optional claims (auth_time a number, amr an array of strings).
IdClaims check_id_claims(std::string_view payload, const ClaimRules& rules);

}  // namespace pp::cognito
