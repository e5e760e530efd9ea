// check-config --online: the configuration tried against the user pool with requests that cannot send a
// code, through the same HTTPS client, trust store, timeouts and token-key code a login uses.
#pragma once

#include <ostream>

#include "runtime.hpp"

namespace pp::helper {

// Prints one line per check to `out`: "ok", "FAIL" (with the AWS or host setting that fixes it), "warn", or
// "not checked:" (with why), then "No code was sent: ..." and a verdict line. Goes on after a failure
// wherever the later checks still mean something. Returns the number of failed checks.
//
// The requests (none can send a code):
//  - InitiateAuth (USER_AUTH) without PREFERRED_CHALLENGE for a made-up user name no user, email address or
//    phone number can have, never answered: it tells whether the endpoint and its TLS certificate are right,
//    whether the app client exists and allows USER_AUTH, whether SECRET_HASH is needed and right, and, when
//    the pool hides unknown names behind a challenge, which first factors it offers;
//  - GET <issuer>/.well-known/openid-configuration: the pool's issuer;
//  - GET jwks_url: the keys ID tokens are verified with;
//  - with [browser]: the managed login's endpoints in that openid-configuration, against [browser] domain,
//    and POST https://<domain>/oauth2/token with a made-up code and verifier, whose refusal tells whether the
//    app client is public (invalid_grant: it got as far as the code), has a secret (invalid_client), may not
//    use the code grant or has another callback URL (unauthorized_client);
//  - with [browser]: GET redirect_uri, which must be this project's callback page (its marker), and the
//    pool.json beside it, whose domain, client_id and scopes must be [browser]'s (with link = full a missing
//    pool.json is not needed, a wrong one still fails).
int check_online(const Runtime& rt, std::ostream& out);

}  // namespace pp::helper
