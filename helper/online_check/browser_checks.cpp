// [browser]: the managed login's endpoints, its token endpoint's view of the app client, and the callback
// page with its pool.json.
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

// The host[:port] of an https URL, or "" for anything else.
std::string https_authority(std::string_view url) {
    if (!url.starts_with("https://")) return {};
    url.remove_prefix(8);
    return std::string(url.substr(0, url.find_first_of("/?#")));
}

std::string browser_client_fix(const Config& c, const std::string& change) {
    return "aws cognito-idp update-user-pool-client --user-pool-id " + c.pool_id + " --client-id " +
           c.browser->client_id + " " + change +
           " (update-user-pool-client resets every setting it is not given: pass the others from "
           "describe-user-pool-client too)";
}

std::string scope_list(const std::vector<std::string>& scopes, const char* quote, const char* separator) {
    std::string out;
    for (const auto& s : scopes) out += (out.empty() ? "" : separator) + (quote + s + quote);
    return out;
}

// The pool.json the callback page needs for [browser], as the admin writes it.
std::string wanted_pool_json(const BrowserSignIn& b) {
    return R"({"domain": ")" + b.domain + R"(", "client_id": ")" + b.client_id + R"(", "scopes": [)" +
           scope_list(b.scopes, "\"", ", ") + "]}";
}

}  // namespace

void check_browser_endpoints(Report& r, const Config& c,
                             const std::optional<cognito::OpenIdConfiguration>& doc) {
    const BrowserSignIn& b = *c.browser;
    if (!doc) {
        r.not_checked("[browser] domain " + b.domain + " against the pool's openid-configuration",
                      "the pool's openid-configuration could not be read (above)");
        return;
    }
    const auto endpoint = [&](const std::optional<std::string>& url, const char* name, const char* path) {
        const std::string want = "https://" + b.domain + path;
        if (!url) {
            r.fail(std::string("the pool's openid-configuration names no ") + name +
                       ": the user pool has no domain for its managed login",
                   "create one (aws cognito-idp create-user-pool-domain --user-pool-id " + c.pool_id +
                       " --domain PREFIX --managed-login-version 2) and set [browser] domain to it");
            return;
        }
        if (*url == want) {
            r.ok(std::string(name) + " " + *url + " is on [browser] domain " + b.domain);
            return;
        }
        const std::string other = https_authority(*url);
        r.fail(std::string("the pool's ") + name + " is " + *url + ", not on [browser] domain " + b.domain,
               other.empty() ? std::string("check the pool's domain (aws cognito-idp describe-user-pool "
                                           "--user-pool-id ") +
                                   c.pool_id + " --query UserPool.[Domain,CustomDomain])"
                             : "set [browser] domain = " + other);
    };
    endpoint(doc->authorization_endpoint, "authorization_endpoint", "/oauth2/authorize");
    endpoint(doc->token_endpoint, "token_endpoint", "/oauth2/token");
}

void probe_token_endpoint(Report& r, const Runtime& rt) {
    const Config& c = rt.config;
    const BrowserSignIn& b = *c.browser;
    const std::string url = "https://" + b.domain + "/oauth2/token";
    const std::string client = "[browser] app client " + b.client_id;
    const std::string oauth_flows =
        "--allowed-o-auth-flows-user-pool-client --allowed-o-auth-flows code "
        "--allowed-o-auth-scopes " +
        [&] {
            std::string s;
            for (const auto& scope : b.scopes) s += (s.empty() ? "" : " ") + scope;
            return s;
        }() +
        " --callback-urls " + b.redirect_uri + " --supported-identity-providers COGNITO";
    Secret body;
    try {
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        const auto attempt = browser::Transaction::start("check-config", "check-config", now, 60);
        body =
            attempt.token_request_body("00000000-0000-4000-8000-000000000000", b.redirect_uri, b.client_id);
    } catch (const std::exception& e) {
        r.fail(std::string("the token probe could not be built: ") + e.what(), "report this as a bug");
        return;
    }
    try {
        (void)rt.client->redeem_authorization_code(body,
                                                   std::chrono::steady_clock::now() + c.request_timeout);
        r.fail("the token endpoint " + url + " redeemed a made-up authorization code",
               "[browser] domain must be the user pool's managed login, nothing else");
        return;
    } catch (const ServiceError& e) {
        if (transport(e)) {
            no_answer(r, c, "token endpoint", url, e);
            return;
        }
        const std::string said = "(" + e.name() + (e.message().empty() ? "" : ": " + e.message()) + ")";
        if (e.failure() == Failure::ServerError) {
            r.fail("token endpoint " + url + " " + answered(e), "the service is failing; try again later");
            return;
        }
        if (e.failure() != Failure::Rejected) {
            r.fail("token endpoint " + url + " " + answered(e) + ", not as a managed login's would",
                   "set [browser] domain to the user pool's domain (aws cognito-idp describe-user-pool "
                   "--user-pool-id " +
                       c.pool_id + " --query UserPool.[Domain,CustomDomain])");
            return;
        }
        if (e.name() == cognito::kInvalidGrant) {
            r.ok("token endpoint " + url + " answers over verified TLS (trust: " + trust_of(c) + ")");
            r.ok(client + " is public (no secret) and may use the authorization code grant");
            r.not_checked("[browser] redirect_uri " + b.redirect_uri + " as a callback URL of " + b.client_id,
                          "the token endpoint judges it only with a real code: sign in once with "
                          "pam-passwordless test-login and choose the browser");
            return;
        }
        r.ok("token endpoint " + url + " answers over verified TLS (trust: " + trust_of(c) + ")");
        if (e.name() == "invalid_client" && e.message().find("secret") != std::string::npos) {
            r.fail(client + " has a client secret " + said +
                       ": the token endpoint would need the secret itself, which never leaves root",
                   "create a public app client for browser sign-in (aws cognito-idp create-user-pool-client "
                   "--user-pool-id " +
                       c.pool_id + " --client-name pam-browser --no-generate-secret " + oauth_flows +
                       ") and set [browser] client_id to it");
        } else if (e.name() == "invalid_client") {
            r.fail(client + " is unknown to the managed login, or not enabled for OAuth " + said,
                   "set [browser] client_id to an app client of pool " + c.pool_id +
                       " and enable OAuth on it (" + browser_client_fix(c, oauth_flows) + ")");
        } else if (e.name() == "unauthorized_client" && e.message().find("redirect") != std::string::npos) {
            r.fail(client + ": [browser] redirect_uri " + b.redirect_uri + " is not its callback URL " + said,
                   "add it to the client's CallbackURLs (" + browser_client_fix(c, oauth_flows) + ")");
        } else if (e.name() == "unauthorized_client") {
            r.fail(client + " may not use the authorization code grant " + said,
                   "allow the code grant (" + browser_client_fix(c, oauth_flows) + ")");
        } else {
            r.fail("token endpoint " + url + " refused the probe " + said,
                   "the error names what the app client " + b.client_id + " or [browser] lacks");
        }
    } catch (const std::invalid_argument& e) {
        r.fail(std::string("the token probe could not be sent: ") + e.what(), "report this as a bug");
    }
}

void check_callback_page(Report& r, const Runtime& rt) {
    const Config& c = rt.config;
    const BrowserSignIn& b = *c.browser;
    const std::string& page = b.redirect_uri;
    const std::string pool_json = cognito::callback_pool_json_url(page);
    const bool short_link = b.link == BrowserSignIn::Link::Short;
    const std::string serve_fix =
        "serve the callback folder (/usr/share/pam-passwordless/callback/) over HTTPS at " + page +
        ", or set [browser] redirect_uri to the address it is served at (the folder's with its trailing "
        "slash, "
        "or index.html's), the same as the app client's callback URL";
    const std::string write_fix =
        "write " + pool_json + " as " + wanted_pool_json(b) + " (callback/README.md)";
    cognito::CallbackPageCheck got;
    try {
        // Two requests: the page, then its pool.json.
        got = rt.client->fetch_callback_page(page, std::chrono::steady_clock::now() + 2 * c.request_timeout);
    } catch (const ServiceError& e) {
        r.fail("callback page [browser] redirect_uri " + page + " unreachable: " + e.message(),
               serve_fix + "; check that this machine can reach it (DNS, firewall, its TLS certificate)");
        r.not_checked("pool.json " + pool_json, "the callback page did not answer");
        return;
    } catch (const std::invalid_argument& e) {
        r.fail(std::string("the callback page could not be asked: ") + e.what(), "report this as a bug");
        return;
    }
    if (got.page_status != 200)
        r.fail("callback page [browser] redirect_uri " + page + " answered HTTP " +
                   std::to_string(got.page_status) + ", not the callback page",
               serve_fix);
    else if (!got.page_is_callback)
        r.fail("[browser] redirect_uri " + page + " is not pam_passwordless's callback page (no " +
                   std::string(cognito::kCallbackMarker) + " in what it serves)",
               serve_fix);
    else
        r.ok("callback page [browser] redirect_uri " + page + " is pam_passwordless's callback page");

    if (got.pool_json_status != 200 && got.pool_json_error.empty()) {
        const std::string why = "answered HTTP " + std::to_string(got.pool_json_status);
        if (short_link)
            r.fail("pool.json " + pool_json + " " + why +
                       ": with [browser] link = short the callback page launches the sign-in from it",
                   write_fix + ", or set [browser] link = full");
        else
            r.ok("pool.json " + pool_json + " " + why + ": not needed with [browser] link = full");
        return;
    }
    if (!got.pool_json_error.empty()) {
        r.fail("pool.json " + pool_json + " is not usable (" + loggable(got.pool_json_error, 200) + ")",
               write_fix);
        return;
    }
    const auto sorted = [](std::vector<std::string> v) {
        std::sort(v.begin(), v.end());
        return v;
    };
    bool same = true;
    if (got.domain != b.domain) {
        same = false;
        r.fail("pool.json " + pool_json + " names domain " + got.domain.value_or("") +
                   ", [browser] domain is " + b.domain +
                   ": the callback page would send the person to another managed login",
               write_fix);
    }
    if (got.client_id != b.client_id) {
        same = false;
        r.fail("pool.json " + pool_json + " names client_id " + got.client_id.value_or("") +
                   ", [browser] client_id is " + b.client_id +
                   ": the code the person brings back could not be redeemed",
               write_fix);
    }
    if (sorted(got.scopes) != sorted(b.scopes)) {
        same = false;
        r.fail("pool.json " + pool_json + " names scopes " + scope_list(got.scopes, "", " ") +
                   ", [browser] scopes are " + scope_list(b.scopes, "", " "),
               write_fix);
    }
    if (same)
        r.ok("pool.json " + pool_json + " names [browser] domain " + b.domain + ", client_id " + b.client_id +
             " and scopes " + scope_list(b.scopes, "", " "));
}

}  // namespace pp::helper::online_check
