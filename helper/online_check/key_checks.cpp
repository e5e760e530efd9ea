// The pool's issuer and the keys ID tokens are verified with, as a login reads them.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "audit.hpp"
#include "browser/transaction.hpp"
#include "json_document.hpp"
#include "json_web_key_set.hpp"
#include "online_check/checks.hpp"
#include "pinned_keys.hpp"
#include "pool_types.hpp"
#include "service_error.hpp"

namespace pp::helper::online_check {

namespace {

std::string listed(const std::vector<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) out += (out.empty() ? "" : ", ") + loggable(id, 80);
    return out;
}

// [pool] jwks_file against the keys the pool publishes now. A difference is a warning, not a failure: the
// logins go on with the pinned keys, and those the pool still signs with keep working.
void compare_with_pinned(Report& r, const Config& c, const cognito::JsonWebKeySet& published) {
    const PinnedComparison d = compare_pinned(*c.pinned_keys, published);
    if (d.agree()) {
        r.ok("jwks_file " + c.jwks_file + " pins the " + std::to_string(published.size()) +
             " key(s) the pool publishes at " + c.jwks_url);
        return;
    }
    std::string what = "jwks_file " + c.jwks_file + " differs from the pool's key set at " + c.jwks_url;
    if (!d.not_pinned.empty())
        what +=
            "; published but not pinned (ID tokens signed with them are refused): " + listed(d.not_pinned);
    if (!d.unpublished.empty()) what += "; pinned but no longer published: " + listed(d.unpublished);
    if (!d.different.empty())
        what +=
            "; the same id for another key (the pool replaced it, or something between this machine and "
            "the pool answers for it): " +
            listed(d.different);
    r.warn(what, "if the pool rotated its keys, " + pinned_keys_fix(c.jwks_file, c.jwks_url) +
                     " and reload the helper (systemctl reload pam-passwordless-helper)");
}

}  // namespace

std::optional<cognito::OpenIdConfiguration> check_issuer(Report& r, const Runtime& rt) {
    const Config& c = rt.config;
    const std::string url = c.issuer + "/.well-known/openid-configuration";
    const std::string fix = "set [pool] issuer to the pool's (https://cognito-idp." + c.region +
                            ".amazonaws.com/" + c.pool_id +
                            " unless the pool uses the updated issuer), or remove it: that is the default";
    cognito::OpenIdConfiguration doc;
    try {
        doc = rt.client->fetch_openid_configuration(std::chrono::steady_clock::now() + c.request_timeout);
    } catch (const ServiceError& e) {
        if (e.name() == cognito::kNotOpenIdConfiguration)
            r.fail(
                "issuer " + c.issuer + ": " + url + " is not an OpenID configuration (" + e.message() + ")",
                fix);
        else if (transport(e))
            no_answer(r, c, "openid-configuration", url, e);
        else if (e.failure() == Failure::ServerError)
            r.fail("issuer " + c.issuer + ": " + url + " " + answered(e),
                   "the service is failing; try again later");
        else
            r.fail("issuer " + c.issuer + ": " + url + " " + answered(e) +
                       ": it is not the issuer of a user pool",
                   fix);
        return std::nullopt;
    }
    if (doc.issuer != c.issuer) {
        r.fail("issuer in the pool's openid-configuration is " + doc.issuer + ", configured issuer is " +
                   c.issuer + ": every ID token would be refused",
               "set [pool] issuer = " + doc.issuer);
        return std::nullopt;
    }
    r.ok("issuer " + c.issuer + " is the one the pool's openid-configuration names");
    if (doc.jwks_uri && *doc.jwks_uri != c.jwks_url)
        r.warn("jwks_url " + c.jwks_url + " is not the pool's jwks_uri " + *doc.jwks_uri,
               "set [pool] jwks_url = " + *doc.jwks_uri + ", or remove it: that is the default");
    return doc;
}

void check_jwks(Report& r, const Runtime& rt) {
    const Config& c = rt.config;
    const std::string fix =
        "set [pool] jwks_url to " + c.issuer + "/.well-known/jwks.json, or remove it: that is the default";
    std::string body;
    try {
        body = rt.client->fetch_jwks(std::chrono::steady_clock::now() + c.request_timeout);
    } catch (const ServiceError& e) {
        if (transport(e))
            no_answer(r, c, "JWKS", c.jwks_url, e);
        else
            r.fail("JWKS " + c.jwks_url + " " + answered(e),
                   e.failure() == Failure::ServerError ? "the service is failing; try again later" : fix);
        if (c.pinned_keys) r.not_checked("jwks_file " + c.jwks_file, "the pool's key set could not be had");
        return;
    }
    try {
        const auto keys = cognito::JsonWebKeySet::parse(body);
        if (keys.size() == 0) {
            r.fail("JWKS " + c.jwks_url + " holds no RS256 signing key of 2048 bits or more", fix);
            if (c.pinned_keys) r.not_checked("jwks_file " + c.jwks_file, "the pool publishes no usable key");
            return;
        }
        r.ok("JWKS " + c.jwks_url + ": " + std::to_string(keys.size()) + " RS256 signing key(s)");
        if (c.pinned_keys) compare_with_pinned(r, c, keys);
    } catch (const cognito::json::Error& e) {
        r.fail("JWKS " + c.jwks_url + " is not a key set (" + e.what() + ")", fix);
        if (c.pinned_keys) r.not_checked("jwks_file " + c.jwks_file, "the pool's key set could not be read");
    }
}

}  // namespace pp::helper::online_check
