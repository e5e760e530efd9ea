// The managed login's token endpoint (spec §6): where a browser sign-in's authorization code is redeemed, and
// how its answer is read, without any I/O.
#pragma once

#include <string>
#include <string_view>

#include "secret.hpp"

namespace pp::cognito {

// https://DOMAIN/oauth2/token for a domain that is a host name with an optional :port and nothing else;
// throws ServiceError(Malformed) for anything else (empty included), so that no request goes elsewhere.
std::string token_endpoint_url(std::string_view domain);

// The answer of POST /oauth2/token: the id_token of a 200 JSON object (the access and refresh tokens are
// left in the parsed document and wiped with it). Throws ServiceError: Rejected named by the OAuth "error" of
// a 4xx JSON answer (invalid_grant, invalid_client, ...; its error_description or error_message as the
// message), Rejected TooManyRequestsException for 429, ServerError for 5xx, Malformed for anything else (no
// id_token, not JSON, no error name, another status).
pp::Secret parse_token_response(long http_status, std::string_view body);

}  // namespace pp::cognito
