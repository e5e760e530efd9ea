// The keys of each section of the configuration file, one function per section: what each key accepts and
// the message that refuses it.
#include <algorithm>
#include <regex>
#include <sstream>

#include "config/parser.hpp"
#include "identifiers.hpp"
#include "rp_id.hpp"

namespace pp::helper::config {

void read_pool(ParseState& s, const std::string& key, const std::string& value) {
    Config& c = s.c;
    const Parser& p = s.p;
    if (key == "region") {
        // Length first: libstdc++ matches recursively, so a long value would overflow the stack.
        static const std::regex re("[a-z]{2}(-[a-z]+)+-[0-9]+");
        if (value.size() > 32 || !std::regex_match(value, re)) p.fail("region must look like eu-west-1");
        c.region = value;
    } else if (key == "pool_id") {
        static const std::regex re("[a-z]{2}(-[a-z]+)+-[0-9]+_[0-9a-zA-Z]+");
        if (value.size() > 55 || !std::regex_match(value, re))
            p.fail("pool_id must look like eu-west-1_AbCdEf123");
        c.pool_id = value;
    } else if (key == "client_id") {
        static const std::regex re("[A-Za-z0-9_+]{1,128}");
        if (!std::regex_match(value, re)) p.fail("client_id must be 1 to 128 letters, digits, '_' or '+'");
        c.client_id = value;
    } else if (key == "client_secret_file") {
        c.client_secret_file = p.abs_path(key, value);
    } else if (key == "endpoint") {
        c.endpoint = p.https_url(key, value);
    } else if (key == "issuer") {
        c.issuer = p.https_url(key, value);
    } else if (key == "jwks_url") {
        c.jwks_url = p.https_url(key, value);
    } else if (key == "ca_file") {
        c.ca_file = p.abs_path(key, value);
    } else if (key == "jwks_file") {
        c.jwks_file = p.abs_path(key, value);
    } else if (key == "proxy") {
        // Plain http:// to the proxy only: the pool's TLS runs end to end inside its CONNECT tunnel
        // (checked against ca_file as without a proxy). No user:password, which would be a secret in
        // this world-readable file. Length first: libstdc++ matches recursively.
        static const std::regex re(R"(http://([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):[0-9]{1,5}/?)");
        if (value.size() > 300 || !std::regex_match(value, re))
            p.fail("proxy must be http://HOST:PORT (no user name or password, no path)");
        const auto port = std::stoul(value.substr(value.rfind(':') + 1));
        if (port == 0 || port > 65535) p.fail("proxy port must be 1 to 65535");
        c.proxy = value;
    } else if (key == "session_validity") {
        // Cognito's range is 3 to 15 minutes; shorter is checked once the whole file is read
        // (config/rules.cpp).
        c.session_validity = p.duration(key, value, std::chrono::seconds(86400));
        if (c.session_validity.count() < 1 || c.session_validity > std::chrono::minutes(15))
            p.fail("session_validity must be 3m to 15m (the app client's AuthSessionValidity)");
    } else if (key == "code_attempts") {
        c.code_attempts = p.integer(key, value, 1, 100);
    } else {
        p.fail("unknown key '" + key +
               "' in [pool] (known: region pool_id client_id client_secret_file endpoint issuer "
               "jwks_url jwks_file ca_file proxy session_validity code_attempts)");
    }
}

void read_log(ParseState& s, const std::string& key, const std::string& value) {
    Config& c = s.c;
    const Parser& p = s.p;
    if (key == "level") {
        if (value == "info")
            c.debug_log = false;
        else if (value == "debug")
            c.debug_log = true;
        else
            p.fail("level must be info or debug");
    } else {
        p.fail("unknown key '" + key + "' in [log] (known: level)");
    }
}

void read_login(ParseState& s, const std::string& key, const std::string& value) {
    Config& c = s.c;
    const Parser& p = s.p;
    bool& login_methods_given = s.login_methods_given;
    auto& remote_given = s.remote_given;
    if (key == "methods") {
        c.methods.local = p.methods(key, value);
        login_methods_given = true;
    } else if (key == "remote_methods") {
        c.methods.remote = p.methods(key, value);
        remote_given[""] = true;
    } else if (key == "max_tries") {
        c.max_tries = static_cast<int>(p.integer(key, value, 1, 10));
    } else if (key == "request_timeout") {
        c.request_timeout = std::chrono::seconds(p.integer(key, value, 1, 120));
    } else if (key == "login_timeout") {
        c.login_timeout = std::chrono::seconds(p.integer(key, value, 10, 3600));
    } else if (key == "unknown_user") {
        if (value == "fail")
            c.unknown_user = UnknownUser::Fail;
        else if (value == "ignore")
            c.unknown_user = UnknownUser::Ignore;
        else
            p.fail("unknown_user must be fail or ignore");
    } else if (key == "allow_unprivileged_self") {
        c.allow_unprivileged_self = p.boolean(key, value);
    } else if (key == "max_concurrent_logins") {
        c.max_concurrent_logins = static_cast<int>(p.integer(key, value, 1, 4096));
    } else if (key == "max_concurrent_per_caller") {
        c.max_concurrent_per_caller = static_cast<int>(p.integer(key, value, 1, 4096));
    } else if (key == "max_remote_logins") {
        c.max_remote_logins = static_cast<int>(p.integer(key, value, 1, 65536));
    } else if (key == "refusal_log_interval") {
        c.refusal_log_interval = std::chrono::seconds(p.integer(key, value, 1, 86400));
    } else if (key == "loopback_is_local") {
        c.loopback_is_local = p.boolean(key, value);
    } else if (key == "remember_factors") {
        c.remember_factors = p.duration(key, value, std::chrono::seconds(365 * 86400));
    } else {
        p.fail("unknown key '" + key +
               "' in [login] (known: methods remote_methods max_tries request_timeout login_timeout "
               "unknown_user allow_unprivileged_self max_concurrent_logins max_concurrent_per_caller "
               "max_remote_logins refusal_log_interval loopback_is_local remember_factors)");
    }
}

void read_binding(ParseState& s, const std::string& key, const std::string& value) {
    Config& c = s.c;
    const Parser& p = s.p;
    if (key == "mapping_file") {
        c.mapping_file = p.abs_path(key, value);
    } else if (key == "claim") {
        static const std::regex re("[A-Za-z0-9_:.-]{1,64}");
        if (!std::regex_match(value, re)) p.fail("claim must be a claim name such as cognito:username");
        c.claim = value;
    } else if (key == "ask_identifier") {
        c.ask_identifier = p.boolean(key, value);
    } else if (key == "claim_min_uid") {
        c.claim_min_uid = static_cast<uid_t>(p.integer(key, value, 1, 2147483647));
    } else if (key == "claim_allow_users") {
        std::istringstream names(value);
        std::string name;
        while (names >> name) {
            if (!valid_local_user(name)) p.fail("claim_allow_users: '" + name + "' is not a user name");
            if (std::find(c.claim_allow_users.begin(), c.claim_allow_users.end(), name) !=
                c.claim_allow_users.end())
                p.fail("claim_allow_users: '" + name + "' listed twice");
            c.claim_allow_users.push_back(name);
        }
    } else {
        p.fail("unknown key '" + key +
               "' in [binding] (known: mapping_file claim ask_identifier claim_min_uid "
               "claim_allow_users)");
    }
}

void read_limits(ParseState& s, const std::string& key, const std::string& value) {
    Config& c = s.c;
    const Parser& p = s.p;
    auto& l = c.limits;
    if (key == "sends_per_identifier")
        l.sends_per_identifier = static_cast<int>(p.integer(key, value, 1, 1000));
    else if (key == "sends_per_rhost")
        l.sends_per_rhost = static_cast<int>(p.integer(key, value, 1, 100000));
    else if (key == "send_window")
        l.send_window = std::chrono::seconds(p.integer(key, value, 60, 86400));
    else if (key == "pool_asks_per_network")
        l.pool_asks_per_network = static_cast<int>(p.integer(key, value, 1, 100000));
    else if (key == "pool_asks_per_minute")
        l.pool_asks_per_minute = static_cast<int>(p.integer(key, value, 1, 1000000));
    else if (key == "failures_before_backoff")
        l.failures_before_backoff = static_cast<int>(p.integer(key, value, 1, 100));
    else if (key == "backoff_max")
        l.backoff_max = std::chrono::seconds(p.integer(key, value, 60, 86400));
    else if (key == "logins_per_rhost")
        // Admission by source network (max_remote_logins) took its place; an old file still loads.
        c.obsolete_keys.push_back(key);
    else if (key == "state_file")
        c.limits_state_file = p.abs_path(key, value);
    else if (key == "sends_per_hour")
        l.sends_per_hour = static_cast<int>(p.integer(key, value, 1, 1000000));
    else if (key == "state_max_size")
        l.state_max_bytes = p.integer(key, value, 64, 1024 * 1024) * 1024;
    else
        p.fail("unknown key '" + key +
               "' in [limits] (known: sends_per_identifier sends_per_rhost send_window sends_per_hour "
               "pool_asks_per_network pool_asks_per_minute failures_before_backoff backoff_max "
               "logins_per_rhost state_file "
               "state_max_size)");
}

void read_passkey(ParseState& s, const std::string& key, const std::string& value) {
    Config& c = s.c;
    const Parser& p = s.p;
    if (key == "rp_id") {
        if (!valid_passkey_rp_id(value))
            p.fail("rp_id must be a lower-case domain name such as auth.example.com");
        c.passkey.rp_id = value;
    } else if (key == "origin") {
        c.passkey.origin = p.https_url(key, value);
    } else if (key == "user_verification") {
        if (value != uv_setting_name(false) && value != uv_setting_name(true))
            p.fail("user_verification must be preferred or required (the user pool's passkey setting)");
        c.passkey.pool_requires_uv = value == uv_setting_name(true);
    } else {
        p.fail("unknown key '" + key + "' in [passkey] (known: rp_id origin user_verification)");
    }
}

void read_browser(ParseState& s, const std::string& key, const std::string& value) {
    const Parser& p = s.p;
    bool& browser_given = s.browser_given;
    BrowserSignIn& browser = s.browser;
    browser_given = true;
    if (key == "domain") {
        browser.domain = p.domain(key, value);
    } else if (key == "client_id") {
        static const std::regex re("[A-Za-z0-9_+]{1,128}");
        if (!std::regex_match(value, re)) p.fail("client_id must be 1 to 128 letters, digits, '_' or '+'");
        browser.client_id = value;
    } else if (key == "redirect_uri") {
        browser.redirect_uri = p.https_page(key, value);
    } else if (key == "scopes") {
        browser.scopes.clear();
        std::istringstream words(value);
        std::string scope;
        while (words >> scope) {
            // RFC 6749 §3.3 scope-token; the managed login's own are openid, email, phone, profile
            // and aws.cognito.signin.user.admin, and a resource server's are RESOURCE/NAME.
            static const std::regex re("[A-Za-z0-9._:/+-]{1,256}");
            if (!std::regex_match(scope, re)) p.fail("scopes: '" + scope + "' is not a scope name");
            if (std::find(browser.scopes.begin(), browser.scopes.end(), scope) != browser.scopes.end())
                p.fail("scopes: '" + scope + "' listed twice");
            if (browser.scopes.size() == 16) p.fail("scopes: at most 16");
            browser.scopes.push_back(scope);
        }
        if (std::find(browser.scopes.begin(), browser.scopes.end(), "openid") == browser.scopes.end())
            p.fail("scopes must hold openid: without it the token endpoint returns no ID token");
    } else if (key == "require_passkey") {
        browser.require_passkey = p.boolean(key, value);
    } else if (key == "show_qr") {
        browser.show_qr = p.boolean(key, value);
    } else if (key == "link") {
        if (value == "short")
            browser.link = BrowserSignIn::Link::Short;
        else if (value == "full")
            browser.link = BrowserSignIn::Link::Full;
        else
            p.fail("link must be short or full");
    } else {
        p.fail("unknown key '" + key +
               "' in [browser] (known: domain client_id redirect_uri scopes require_passkey show_qr "
               "link)");
    }
}

void read_recovery(ParseState& s, const std::string& key, const std::string& value) {
    Config& c = s.c;
    const Parser& p = s.p;
    if (key == "enabled")
        c.recovery.enabled = p.boolean(key, value);
    else if (key == "store_dir")
        c.recovery.store_dir = p.abs_path(key, value);
    else
        p.fail("unknown key '" + key + "' in [recovery] (known: enabled store_dir)");
}

void read_security_key(ParseState& s, const std::string& key, const std::string& value) {
    Config& c = s.c;
    const Parser& p = s.p;
    auto& k = c.security_key;
    if (key == "rp_id") {
        if (!RpId::valid(value)) p.fail("rp_id must be 1 to 128 of letters, digits and :/._-");
        k.rp_id = value;
    } else if (key == "store_dir") {
        k.store_dir = p.abs_path(key, value);
    } else if (key == "user_verification") {
        if (value == "required")
            k.user_verification = UserVerification::Required;
        else if (value == "preferred")
            k.user_verification = UserVerification::Preferred;
        else if (value == "discouraged")
            k.user_verification = UserVerification::Discouraged;
        else
            p.fail("user_verification must be required, preferred or discouraged");
    } else if (key == "touch_timeout") {
        k.touch_timeout = std::chrono::seconds(p.integer(key, value, 1, 120));
    } else {
        p.fail("unknown key '" + key +
               "' in [security_key] (known: rp_id store_dir user_verification touch_timeout)");
    }
}

void read_service(ParseState& s, const std::string& key, const std::string& value) {
    Config& c = s.c;
    const Parser& p = s.p;
    auto& remote_given = s.remote_given;
    MethodPolicy* current_policy = s.current_policy;
    const std::string& current_service = s.current_service;
    const std::string& section = s.section;
    if (key == "methods") {
        current_policy->local = p.methods(key, value);
        if (!remote_given[current_service])
            current_policy->remote = without_local_keys(current_policy->local);
    } else if (key == "remote_methods") {
        current_policy->remote = p.methods(key, value);
        remote_given[current_service] = true;
    } else if (key == "recovery") {
        c.recovery.services[current_service] = p.boolean(key, value);
    } else {
        p.fail("unknown key '" + key + "' in [" + section + "] (known: methods remote_methods recovery)");
    }
}

}  // namespace pp::helper::config
