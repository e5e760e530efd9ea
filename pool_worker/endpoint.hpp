// Where and as whom the helper talks to the user pool.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "secret.hpp"

namespace pp::cognito {

struct Endpoint {
    std::string
        api_url;  // POST target, e.g. "https://cognito-idp.eu-west-1.amazonaws.com/" or a test override
    std::string jwks_url;
    std::string issuer;  // exact expected "iss"
    std::string client_id;
    std::optional<pp::Secret> client_secret;
    std::string ca_file;  // empty: system trust store. Peer and host verification are ALWAYS on.
    std::string ca_pem;   // the trust store's text, instead of ca_file (the network worker's way)
    std::string proxy;  // http://host:port: every request through its CONNECT tunnel; empty: no proxy at all
    // [browser] domain (host[:port]): authorization codes are redeemed at https://<it>/oauth2/token and
    // nowhere else; empty: never.
    std::string oauth_domain;
    std::chrono::milliseconds request_timeout{10000};
    // Told after every request whether the pool answered (any HTTP answer below 500) or not, and why not (the
    // transport failure or the 5xx status; never a secret). For the helper's status; may be empty; must not
    // throw.
    std::function<void(bool answered, const std::string& why)> on_contact;
    // The debug trace: called with one line per request (operation, HTTP status, time taken, lane and
    // connection) and per step (challenge names), only while debugging() says so. Never a body, a Session, a
    // token or a secret. Both may be empty.
    std::function<bool()> debugging;
    std::function<void(const std::string& line)> debug;
};

}  // namespace pp::cognito
