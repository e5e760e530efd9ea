#include "online_check.hpp"

#include <string>

#include "online_check/checks.hpp"

namespace pp::helper {

using online_check::Report;

int check_online(const Runtime& rt, std::ostream& out) {
    const Config& c = rt.config;
    Report r(out);
    r.line("online checks against the user pool (requests that cannot send a code):");
    if (c.pool_id == kExamplePoolId || c.client_id == kExampleClientId)
        r.fail("[pool] pool_id " + c.pool_id + " / client_id " + c.client_id + ": the example's placeholders",
               "set [pool] pool_id and client_id to your user pool's and app client's (aws cognito-idp "
               "list-user-pools --max-results 60; aws cognito-idp list-user-pool-clients --user-pool-id ID)");
    const std::string name = online_check::made_up_user_name();
    online_check::probe_client(r, rt, name);
    const auto discovery = online_check::check_issuer(r, rt);
    online_check::check_jwks(r, rt);
    if (c.browser) {
        online_check::check_browser_endpoints(r, c, discovery);
        online_check::probe_token_endpoint(r, rt);
        online_check::check_callback_page(r, rt);
    }
    r.line(
        "No code was sent: the only sign-in request was InitiateAuth (USER_AUTH, without "
        "PREFERRED_CHALLENGE) for the made-up user name " +
        name +
        ", which no user, email address or phone number can have, and its answer was never answered; the "
        "other requests only read the pool's public openid-configuration and keys" +
        (c.browser
             ? std::string(", asked the token endpoint to redeem a made-up authorization code, and read "
                           "the callback page and its pool.json")
             : "") +
        ".");
    if (r.failures() == 0)
        r.line("online check OK");
    else
        r.line("online check: " + std::to_string(r.failures()) + " check(s) failed");
    return r.failures();
}

}  // namespace pp::helper
