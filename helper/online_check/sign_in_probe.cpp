// The sign-in probe: InitiateAuth (USER_AUTH) for a made-up name, never answered: what it says of the
// endpoint, the app client, its secret and the first factors the pool offers.
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
#include "crypto.hpp"
#include "hex.hpp"
#include "json_document.hpp"
#include "json_web_key_set.hpp"
#include "online_check/checks.hpp"
#include "pinned_keys.hpp"
#include "pool_types.hpp"
#include "service_error.hpp"

namespace pp::helper::online_check {

namespace {

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

}  // namespace

std::string made_up_user_name() {
    return "pam-passwordless-check-" + hex_encode(random_bytes(16));
}

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

}  // namespace pp::helper::online_check
