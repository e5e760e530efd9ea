#include "online_check.hpp"

#include <openssl/rand.h>

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
#include "pinned_keys.hpp"
#include "pool_types.hpp"
#include "service_error.hpp"

namespace pp::helper {
namespace {

using cognito::Failure;
using cognito::ServiceError;

class Report {
  public:
    explicit Report(std::ostream& out) : out_(out) {}

    void ok(const std::string& what) { out_ << "ok   " << what << "\n"; }
    void warn(const std::string& what, const std::string& fix) {
        out_ << "warn " << what << "; fix: " << fix << "\n";
    }
    void fail(const std::string& what, const std::string& fix) {
        ++failures_;
        out_ << "FAIL " << what << "; fix: " << fix << "\n";
    }
    void not_checked(const std::string& what, const std::string& why) {
        out_ << "not checked: " << what << ": " << why << "\n";
    }
    void line(const std::string& text) { out_ << text << "\n"; }
    int failures() const { return failures_; }

  private:
    std::ostream& out_;
    int failures_ = 0;
};

std::string host_of(std::string_view url) {
    url.remove_prefix(std::min(url.size(), std::string_view("https://").size()));
    return std::string(url.substr(0, url.find_first_of(":/")));
}

std::string trust_of(const Config& c) {
    return c.ca_file.empty() ? "the system CA store" : "ca_file " + c.ca_file;
}

bool contains_any(const std::string& text, std::initializer_list<std::string_view> needles) {
    return std::any_of(needles.begin(), needles.end(),
                       [&](std::string_view n) { return text.find(n) != std::string::npos; });
}

// The request to `url` (what: "endpoint", "JWKS", ...) got no HTTP answer: says why, and what fixes it.
void no_answer(Report& r, const Config& c, const std::string& what, const std::string& url,
               const ServiceError& e) {
    const std::string host = host_of(url);
    switch (e.failure()) {
        case Failure::Tls: {
            const std::string& m = e.message();
            if (contains_any(m, {"expired"}))
                r.fail(what + " " + url + ": TLS: certificate has expired (" + m + ")",
                       "the service's certificate must be renewed, or this machine's clock is wrong "
                       "(timedatectl)");
            else if (contains_any(m, {"subject name", "does not match", "hostname mismatch"}))
                r.fail(
                    what + " " + url + ": TLS: certificate does not name the host " + host + " (" + m + ")",
                    "the URL in [pool] must name the host the certificate is for; something between this "
                    "machine and the pool (an intercepting proxy) may be answering instead");
            else if (contains_any(m, {"certificate", "issuer", "self signed", "self-signed"}))
                r.fail(
                    what + " " + url + ": TLS: certificate not trusted by " + trust_of(c) + " (" + m + ")",
                    c.ca_file.empty()
                        ? "install the CA that signed the service's certificate (package ca-certificates), "
                          "or set [pool] ca_file to it"
                        : "set [pool] ca_file to the CA that signed the service's certificate, or remove "
                          "ca_file to use the system's store (AWS's certificates chain to it)");
            else
                r.fail(what + " " + url + ": TLS handshake failed (" + m + ")",
                       "the URL in [pool] must be the service's HTTPS address; TLS 1.2 or later is required");
            return;
        }
        case Failure::Timeout:
            r.fail(what + " " + url + " did not answer within request_timeout " +
                       std::to_string(c.request_timeout.count()) + " s (" + e.message() + ")",
                   "allow outbound HTTPS (port 443) to " + host +
                       " in the firewall or security group, or raise [login] request_timeout");
            return;
        default:
            r.fail(what + " unreachable: " + url + ": " + e.message(),
                   "check the URL in [pool], that " + host +
                       " resolves (DNS), and that this machine may open HTTPS (port 443) to it (firewall, "
                       "security group, a proxy)");
    }
}

bool transport(const ServiceError& e) {
    return e.failure() == Failure::Tls || e.failure() == Failure::Timeout ||
           e.failure() == Failure::Unreachable;
}

std::string answered(const ServiceError& e) {
    std::string s = "answered HTTP " + std::to_string(e.http_status());
    if (!e.name().empty()) s += " " + e.name();
    if (!e.message().empty()) s += " (" + e.message() + ")";
    return s;
}

// Long enough that no user, and with no '@' or leading '+' no email address or phone number, can have it:
// the pool can send nothing for it, and the answer is never answered back.
std::string made_up_user_name() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        throw std::runtime_error("no random bytes for the probe's name");
    static constexpr char hex[] = "0123456789abcdef";
    std::string name = "pam-passwordless-check-";
    for (unsigned char b : bytes) {
        name += hex[b >> 4];
        name += hex[b & 15];
    }
    return name;
}

std::string update_client_fix(const Config& c, const std::string& change) {
    return "aws cognito-idp update-user-pool-client --user-pool-id " + c.pool_id + " --client-id " +
           c.client_id + " " + change +
           " (update-user-pool-client resets every setting it is not given: pass the others from "
           "describe-user-pool-client too)";
}

// Where the configuration uses each user-pool method: "[login]", "[service sudo]", ...
std::vector<std::pair<Method, std::string>> pool_method_uses(const Config& c) {
    std::vector<std::pair<Method, std::string>> uses;
    auto add = [&](const MethodPolicy& p, const std::string& where) {
        for (const auto* list : {&p.local, &p.remote})
            for (Method m : *list) {
                if (!is_pool_method(m)) continue;
                const bool seen = std::any_of(uses.begin(), uses.end(), [&](const auto& u) {
                    return u.first == m && u.second == where;
                });
                if (!seen) uses.emplace_back(m, where);
            }
    };
    add(c.methods, "[login]");
    for (const auto& [name, policy] : c.services) add(policy, "[service " + name + "]");
    return uses;
}

std::string where_used(const std::vector<std::pair<Method, std::string>>& uses, Method m) {
    std::string out;
    for (const auto& [method, where] : uses)
        if (method == m) out += (out.empty() ? "" : ", ") + where;
    return out;
}

// The first factors the pool offered the made-up name, against the methods the configuration uses.
void first_factors(Report& r, const Config& c, const std::vector<std::string>& available) {
    const auto uses = pool_method_uses(c);
    if (uses.empty()) {
        r.not_checked("first factors", "no method in the configuration uses the user pool");
        return;
    }
    const auto offered = [&](std::string_view factor) {
        return std::find(available.begin(), available.end(), factor) != available.end();
    };
    std::string listed;
    for (const auto& a : available) listed += (listed.empty() ? "" : " ") + a;
    if (!offered("EMAIL_OTP") && !offered("SMS_OTP")) {
        r.not_checked("first factors",
                      "the pool answered the made-up name with " +
                          (listed.empty() ? "no challenge" : listed) +
                          ", which tells nothing of its SignInPolicy.AllowedFirstAuthFactors");
        return;
    }
    std::set<Method> done;
    for (const auto& [m, where] : uses) {
        if (!done.insert(m).second) continue;
        const std::string factor(method_challenge(m));
        const std::string name(method_name(m));
        if (m == Method::Passkey && !offered(factor)) {
            r.not_checked("first factors: WEB_AUTHN for " + name,
                          "the pool offers it only to a user with a registered passkey (pam-passwordless "
                          "pool-list shows them)");
        } else if (offered(factor)) {
            r.ok("first factors: the pool offers " + factor + " for methods " + name + " (in " +
                 where_used(uses, m) + ")");
        } else {
            r.fail("first factors: user pool has no " + factor +
                       " in SignInPolicy.AllowedFirstAuthFactors but methods has " + name + " (in " +
                       where_used(uses, m) + "; the pool offered: " + listed + ")",
                   "aws cognito-idp update-user-pool --user-pool-id " + c.pool_id +
                       " --policies 'SignInPolicy={AllowedFirstAuthFactors=[PASSWORD," + factor +
                       ",...]}' (Essentials or Plus tier; update-user-pool resets every setting it is not "
                       "given: pass the others from describe-user-pool too), or remove " +
                       name + " from methods");
        }
    }
}

// What the pool's answer to the probe says of the app client. Each fault has an answer of its own because
// the pool judges the client, its USER_AUTH flow and the SECRET_HASH (over the name sent) before it looks
// the name up.
enum class ClientVerdict { NoSuchClient, NoUserAuth, SecretNotSent, WrongSecret, Accepted, Other };

ClientVerdict client_verdict(const ServiceError& e) {
    const std::string& m = e.message();
    if (e.name() == "ResourceNotFoundException") return ClientVerdict::NoSuchClient;
    if (contains_any(m, {"flow not enabled", "not enabled for this client"}))
        return ClientVerdict::NoUserAuth;
    if (contains_any(m, {"SECRET_HASH was not received"})) return ClientVerdict::SecretNotSent;
    if (contains_any(m, {"verify secret hash"})) return ClientVerdict::WrongSecret;
    // The name is unknown (PreventUserExistenceErrors LEGACY), or refused as a wrong sign-in would be
    // (ENABLED, as the service model describes it for other flows): the client was accepted.
    if (e.name() == "UserNotFoundException" ||
        (e.name() == "NotAuthorizedException" && contains_any(m, {"Incorrect username or password"})))
        return ClientVerdict::Accepted;
    return ClientVerdict::Other;
}

std::string secret_command(const Config& c) {
    return "aws cognito-idp describe-user-pool-client --user-pool-id " + c.pool_id + " --client-id " +
           c.client_id + " --query UserPoolClient.ClientSecret --output text";
}

// The sign-in probe: InitiateAuth for the made-up name, without PREFERRED_CHALLENGE, never answered.
void probe_client(Report& r, const Runtime& rt, const std::string& name) {
    const Config& c = rt.config;
    const std::string client = "app client " + c.client_id;
    const std::string endpoint_ok =
        "endpoint " + c.endpoint + " answers over verified TLS (trust: " + trust_of(c) + ")";
    const auto accepted = [&](int how_far) {
        r.ok(client + " exists");
        if (how_far > 1) r.ok("USER_AUTH allowed for " + client);
        if (how_far > 2 && c.client_secret) r.ok("client secret: SECRET_HASH accepted");
    };
    cognito::Step step;
    try {
        step = rt.client->initiate_user_auth(name, std::nullopt,
                                             std::chrono::steady_clock::now() + c.request_timeout);
    } catch (const ServiceError& e) {
        if (transport(e)) {
            no_answer(r, c, "endpoint", c.endpoint, e);
            r.not_checked("app client, USER_AUTH, client secret, first factors",
                          "the endpoint did not answer");
            return;
        }
        if (e.failure() != Failure::Rejected) {
            r.fail("endpoint " + c.endpoint + " " + answered(e) + ", not as the Cognito API would",
                   e.failure() == Failure::ServerError
                       ? "the service is failing; try again later"
                       : "set [pool] endpoint to https://cognito-idp." + c.region +
                             ".amazonaws.com/ (or remove it: that is the default)");
            r.not_checked("app client, USER_AUTH, client secret, first factors",
                          "the endpoint's answer is unusable");
            return;
        }
        r.ok(endpoint_ok);
        const std::string refused = "(" + e.name() + ": " + e.message() + ")";
        switch (client_verdict(e)) {
            case ClientVerdict::NoSuchClient:
                r.fail(client + " does not exist in the pool at " + c.endpoint + " " + refused,
                       "set [pool] client_id to an app client of pool " + c.pool_id +
                           " (aws cognito-idp list-user-pool-clients --user-pool-id " + c.pool_id + ")");
                r.not_checked("USER_AUTH, client secret, first factors", "no such app client");
                return;
            case ClientVerdict::NoUserAuth:
                accepted(1);
                r.fail(client + ": USER_AUTH is not allowed " + refused,
                       client + ": enable ALLOW_USER_AUTH in ExplicitAuthFlows (" +
                           update_client_fix(
                               c, "--explicit-auth-flows ALLOW_USER_AUTH ALLOW_REFRESH_TOKEN_AUTH") +
                           ")");
                r.not_checked("client secret, first factors", "the pool refuses USER_AUTH before them");
                return;
            case ClientVerdict::SecretNotSent:
                accepted(2);
                r.fail("the app client has a secret but client_secret_file is not set " + refused,
                       "put the secret (" + secret_command(c) +
                           ") alone in a file owned by root, mode 0600, and set [pool] client_secret_file "
                           "to it");
                r.not_checked("first factors", "the pool refuses the request before it looks at the name");
                return;
            case ClientVerdict::WrongSecret:
                accepted(2);
                r.fail("client secret refused (SECRET_HASH): client_secret_file " + c.client_secret_file +
                           " holds the wrong secret " + refused,
                       "write the app client's secret (" + secret_command(c) + ") alone into " +
                           c.client_secret_file);
                r.not_checked("first factors", "the pool refuses the request before it looks at the name");
                return;
            case ClientVerdict::Accepted:
                accepted(3);
                if (e.name() == "UserNotFoundException")
                    r.warn(
                        "PreventUserExistenceErrors is LEGACY: the pool answers UserNotFoundException to a "
                        "name it does not know, so whoever has the client id can learn who has an account",
                        update_client_fix(c, "--prevent-user-existence-errors ENABLED"));
                r.not_checked("first factors",
                              "the pool answered the made-up name " + refused +
                                  " without naming a factor, and asking for a real user could send a code "
                                  "(a user with a single factor is sent it at once)");
                return;
            case ClientVerdict::Other:
                r.fail("the pool refused the probe " + refused,
                       "the error names what the pool, the app client " + c.client_id +
                           " or the pool's tier (Essentials or Plus for passwordless sign-in) lacks");
                r.not_checked("first factors", "the probe was refused");
                return;
        }
        return;
    } catch (const std::invalid_argument& e) {
        r.fail(std::string("the probe could not be built: ") + e.what(), "report this as a bug");
        return;
    }
    r.ok(endpoint_ok);
    accepted(3);
    if (step.id_token) {
        r.fail("the pool signed in the made-up name " + name + " without any challenge",
               "check the pool's triggers (a custom-auth Lambda answering for everyone)");
        return;
    }
    first_factors(r, c, step.available);
}

// The pool's own account of its issuer (OpenID Connect Discovery), against the configured one. Returns the
// document when the issuer is the configured one.
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

// The host[:port] of an https URL, or "" for anything else.
std::string https_authority(std::string_view url) {
    if (!url.starts_with("https://")) return {};
    url.remove_prefix(8);
    return std::string(url.substr(0, url.find_first_of("/?#")));
}

// [browser]: the managed login's endpoints the pool's openid-configuration names, against the domain.
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

std::string browser_client_fix(const Config& c, const std::string& change) {
    return "aws cognito-idp update-user-pool-client --user-pool-id " + c.pool_id + " --client-id " +
           c.browser->client_id + " " + change +
           " (update-user-pool-client resets every setting it is not given: pass the others from "
           "describe-user-pool-client too)";
}

// [browser]: a token request with a made-up code and verifier. It can redeem nothing, and the answer says
// what the token endpoint thinks of the app client: invalid_grant (the code) means it got as far as the code,
// so the client is public and may use the code grant.
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

// [browser] redirect_uri: the callback page served there (this project's, by its marker), and the pool.json
// beside it naming [browser]'s domain, client and scopes (link = short launches the sign-in from it).
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

// The key set ID tokens are verified with: downloaded and read exactly as a login does.
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

}  // namespace

int check_online(const Runtime& rt, std::ostream& out) {
    const Config& c = rt.config;
    Report r(out);
    r.line("online checks against the user pool (requests that cannot send a code):");
    if (c.pool_id == kExamplePoolId || c.client_id == kExampleClientId)
        r.fail("[pool] pool_id " + c.pool_id + " / client_id " + c.client_id + ": the example's placeholders",
               "set [pool] pool_id and client_id to your user pool's and app client's (aws cognito-idp "
               "list-user-pools --max-results 60; aws cognito-idp list-user-pool-clients --user-pool-id ID)");
    const std::string name = made_up_user_name();
    probe_client(r, rt, name);
    const auto discovery = check_issuer(r, rt);
    check_jwks(r, rt);
    if (c.browser) {
        check_browser_endpoints(r, c, discovery);
        probe_token_endpoint(r, rt);
        check_callback_page(r, rt);
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
