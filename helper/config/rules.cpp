// The rules across the configuration's sections, once the whole file is read: what is required, what may
// not go together, and the defaults that follow from other keys.
#include <algorithm>

#include "config/parser.hpp"

namespace pp::helper::config {

void complete(ParseState& s, const std::string& source) {
    Config& c = s.c;
    Parser& p = s.p;
    BrowserSignIn& browser = s.browser;
    auto& remote_given = s.remote_given;
    p.line = 0;
    auto missing = [&](const std::string& what) { throw ConfigError(source + ": " + what); };
    if (c.pool_id.empty()) missing("[pool] pool_id is required");
    if (c.client_id.empty()) missing("[pool] client_id is required");
    const std::string pool_region = c.pool_id.substr(0, c.pool_id.find('_'));
    if (c.region.empty()) c.region = pool_region;
    if (c.region != pool_region)
        missing("[pool] region '" + c.region + "' differs from the pool id's '" + pool_region + "'");
    // Cognito's app clients allow 3 to 15 minutes. A shorter session is a user pool of another kind (the
    // tests' stand-in, at its own endpoint); at Cognito's it is a slip (3 meant as minutes), which would end
    // every decoy early while real sessions go on: refused.
    if (c.session_validity < std::chrono::minutes(3) && c.endpoint.empty())
        missing(
            "[pool] session_validity must be 3m to 15m (the app client's AuthSessionValidity; shorter only "
            "with [pool] endpoint, a user pool that is not Cognito's)");
    if (c.endpoint.empty()) c.endpoint = "https://cognito-idp." + c.region + ".amazonaws.com/";
    if (c.issuer.empty()) c.issuer = "https://cognito-idp." + c.region + ".amazonaws.com/" + c.pool_id;
    if (c.jwks_url.empty()) c.jwks_url = c.issuer + "/.well-known/jwks.json";
    if (!s.login_methods_given) c.methods.local = {Method::EmailOtp};
    if (!remote_given[""]) c.methods.remote = without_local_keys(c.methods.local);
    if (s.browser_given) {
        if (browser.domain.empty())
            missing(
                "[browser] domain is required: the host of the user pool's managed login (remove the "
                "section to turn browser sign-in off)");
        if (browser.redirect_uri.empty())
            missing(
                "[browser] redirect_uri is required: the https address of the callback page, registered as "
                "a callback URL of the app client");
        // The launcher sends its own address without query and fragment as the redirect URI.
        if (browser.link == BrowserSignIn::Link::Short && browser.redirect_uri.find('?') != std::string::npos)
            missing(
                "[browser] redirect_uri has a query: with link = short the callback page sends its own "
                "address without one (register the page's address without a query, or set link = full)");
        // The client secret stays with root, and the token endpoint needs the secret itself (not a hash)
        // from a confidential client: browser sign-in uses a public client, protected by PKCE.
        if (browser.client_id.empty()) {
            if (!c.client_secret_file.empty())
                missing(
                    "[browser] client_id is required: [pool] client_id has a client secret "
                    "(client_secret_file), and browser sign-in needs a public app client (no secret; "
                    "authorization code grant with PKCE)");
            browser.client_id = c.client_id;
        } else if (browser.client_id == c.client_id && !c.client_secret_file.empty()) {
            missing("[browser] client_id " + browser.client_id +
                    " is [pool] client_id, which has a client secret (client_secret_file): browser sign-in "
                    "needs a public app client (no secret), so that no secret leaves root");
        }
        c.browser = std::move(browser);
    }
    const auto uses_browser = [](const MethodPolicy& p) {
        return std::any_of(p.local.begin(), p.local.end(), is_browser) ||
               std::any_of(p.remote.begin(), p.remote.end(), is_browser);
    };
    bool browsers = uses_browser(c.methods);
    for (const auto& [name, pol] : c.services) browsers = browsers || uses_browser(pol);
    if (browsers && !c.browser)
        missing("methods lists browser, but there is no [browser] section with a domain");
    // A user-pool identity must be bound to the account; a local key is enrolled for the account itself.
    const auto uses_codes = [](const MethodPolicy& p) {
        const auto from_pool = [](Method m) { return is_pool_method(m) || is_browser(m); };
        return std::any_of(p.local.begin(), p.local.end(), from_pool) ||
               std::any_of(p.remote.begin(), p.remote.end(), from_pool);
    };
    bool codes = uses_codes(c.methods);
    for (const auto& [name, pol] : c.services) codes = codes || uses_codes(pol);
    const auto uses_passkeys = [](const MethodPolicy& p) {
        return std::count(p.local.begin(), p.local.end(), Method::Passkey) +
                   std::count(p.remote.begin(), p.remote.end(), Method::Passkey) >
               0;
    };
    bool passkeys = uses_passkeys(c.methods);
    for (const auto& [name, pol] : c.services) passkeys = passkeys || uses_passkeys(pol);
    if (passkeys && c.passkey.rp_id.empty())
        missing(
            "[passkey] rp_id is required with the passkey method: the rpId the user pool's passkeys belong "
            "to");
    if (!c.passkey.rp_id.empty() && c.passkey.origin.empty()) c.passkey.origin = "https://" + c.passkey.rp_id;
    if (codes && c.mapping_file.empty() && c.claim.empty())
        missing(
            "[binding] needs mapping_file or claim: without one no identity can be bound to a local account");
    if (c.ask_identifier && c.claim.empty())
        missing(
            "[binding] ask_identifier = yes needs claim: a typed identifier must be checked against the "
            "token");
}

}  // namespace pp::helper::config
