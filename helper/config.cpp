#include "config.hpp"

#include <algorithm>
#include <charconv>
#include <regex>
#include <set>
#include <sstream>

#include "enrol_policy.hpp"
#include "identifiers.hpp"
#include "pinned_keys.hpp"
#include "rp_id.hpp"
#include "trusted_file.hpp"

namespace pp::helper {
namespace {

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

struct Parser {
    const std::string& source;
    int line = 0;

    [[noreturn]] void fail(const std::string& what) const {
        throw ConfigError(source + ":" + std::to_string(line) + ": " + what);
    }

    long integer(const std::string& key, const std::string& v, long lo, long hi) const {
        long n = 0;
        const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi)
            fail(key + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
        return n;
    }

    // A number of seconds, or of minutes, hours or days with the suffix m, h or d ("30d").
    std::chrono::seconds duration(const std::string& key, const std::string& v,
                                  std::chrono::seconds hi) const {
        static const std::regex re("([0-9]{1,9})([smhd]?)");
        std::smatch m;
        if (std::regex_match(v, m, re)) {
            const std::string unit = m[2].str();
            const long long per = unit == "d" ? 86400 : unit == "h" ? 3600 : unit == "m" ? 60 : 1;
            const std::chrono::seconds d(std::stoll(m[1].str()) * per);
            if (d <= hi) return d;
        }
        fail(key + " must be a duration such as 30d, 12h, 90m or 3600 (seconds), at most " +
             std::to_string(hi.count() / 86400) + "d");
    }

    bool boolean(const std::string& key, const std::string& v) const {
        if (v == "yes" || v == "true") return true;
        if (v == "no" || v == "false") return false;
        fail(key + " must be yes or no");
    }

    std::vector<Method> methods(const std::string& key, const std::string& v) const {
        std::vector<Method> out;
        std::istringstream in(v);
        std::string word;
        while (in >> word) {
            Method m;
            if (word == "email_otp")
                m = Method::EmailOtp;
            else if (word == "sms_otp")
                m = Method::SmsOtp;
            else if (word == "security_key")
                m = Method::SecurityKey;
            else if (word == "passkey")
                m = Method::Passkey;
            else if (word == "browser")
                m = Method::Browser;
            else
                fail(key + ": unknown method '" + word +
                     "' (known: email_otp sms_otp security_key passkey browser)");
            if (std::find(out.begin(), out.end(), m) != out.end())
                fail(key + ": method '" + word + "' listed twice");
            out.push_back(m);
        }
        return out;
    }

    std::string https_url(const std::string& key, const std::string& v) const {
        if (!v.starts_with("https://") || v.size() < 9 || v.size() > 512 ||
            v.find_first_of(" \t\"'<>\\") != std::string::npos)
            fail(key + " must be an https:// URL");
        return v;
    }

    // The address of a page a browser is sent to: https, a host (no user name or password), no fragment.
    std::string https_page(const std::string& key, const std::string& v) const {
        https_url(key, v);
        const std::string_view rest = std::string_view(v).substr(8);
        const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
        if (authority.empty() || authority.find('@') != std::string_view::npos ||
            v.find('#') != std::string::npos || std::any_of(v.begin(), v.end(), [](char ch) {
                const auto u = static_cast<unsigned char>(ch);
                return u < 0x21 || u > 0x7e;
            }))
            fail(key + " must be an https:// URL with a host, no user name and no #fragment");
        return v;
    }

    // The managed login's host: a host name with an optional :port, nothing before or after (the helper
    // builds https://DOMAIN/oauth2/... itself, and the worker posts to that domain alone).
    std::string domain(const std::string& key, const std::string& v) const {
        if (v.find("://") != std::string::npos || v.find('/') != std::string::npos)
            fail(key + " is the host name alone, such as auth.example.com or " +
                 "pamdemo.auth.eu-west-1.amazoncognito.com (no https://, no path)");
        const auto colon = v.find(':');
        const std::string host = v.substr(0, colon);
        static const std::regex label_re("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
        bool ok = !host.empty() && host.size() <= 253;
        std::istringstream labels(host);
        std::string label;
        std::size_t count = 0;
        while (ok && std::getline(labels, label, '.')) {
            ok = label.size() <= 63 && std::regex_match(label, label_re);
            ++count;
        }
        ok = ok && count > 0 && host.back() != '.';
        if (ok && colon != std::string::npos) {
            const std::string port = v.substr(colon + 1);
            ok = !port.empty() && port.size() <= 5 &&
                 std::all_of(port.begin(), port.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
                 std::stoul(port) >= 1 && std::stoul(port) <= 65535;
        }
        if (!ok) fail(key + " must be a host name with an optional :port (1 to 65535)");
        return v;
    }

    std::string abs_path(const std::string& key, const std::string& v) const {
        if (v.empty() || v.front() != '/' || v.size() > 4096) fail(key + " must be an absolute path");
        return v;
    }
};

}  // namespace

std::string_view method_name(Method m) {
    switch (m) {
        case Method::EmailOtp:
            return "email_otp";
        case Method::SmsOtp:
            return "sms_otp";
        case Method::SecurityKey:
            return "security_key";
        case Method::Passkey:
            return "passkey";
        case Method::Browser:
            return "browser";
    }
    return "unknown";
}

std::string_view method_challenge(Method m) {
    switch (m) {
        case Method::EmailOtp:
            return "EMAIL_OTP";
        case Method::SmsOtp:
            return "SMS_OTP";
        case Method::SecurityKey:
            return "";
        case Method::Passkey:
            return "WEB_AUTHN";
        case Method::Browser:
            return "";
    }
    return "";
}

bool is_otp(Method m) {
    return m == Method::EmailOtp || m == Method::SmsOtp;
}
bool is_pool_method(Method m) {
    return is_otp(m) || m == Method::Passkey;
}
bool is_browser(Method m) {
    return m == Method::Browser;
}

namespace {

// A key plugged into this machine (a local credential or a user-pool passkey) answers only to whoever sits
// at it: remote logins get those methods only where the admin listed them in remote_methods.
std::vector<Method> without_local_keys(std::vector<Method> ms) {
    std::erase(ms, Method::SecurityKey);
    std::erase(ms, Method::Passkey);
    return ms;
}

}  // namespace

const std::vector<Method>& Config::methods_for(const std::string& service, bool remote) const {
    const auto it = services.find(service);
    const MethodPolicy& p = it == services.end() ? methods : it->second;
    return remote ? p.remote : p.local;
}

bool Config::recovery_for(const std::string& service) const {
    const auto it = recovery.services.find(service);
    return it == recovery.services.end() ? recovery.enabled : it->second;
}

Config parse_config(const std::string& text, const std::string& source) {
    Config c;
    c.source = source;
    Parser p{source};
    std::istringstream in(text);
    std::string raw, section;
    std::set<std::string> seen;  // section.key, to refuse a key given twice
    std::map<std::string, bool> remote_given;
    bool login_methods_given = false;
    MethodPolicy* current_policy = nullptr;
    BrowserSignIn browser;
    bool browser_given = false;  // a key of [browser] was given
    std::string current_service;

    while (std::getline(in, raw)) {
        ++p.line;
        if (const auto hash = raw.find('#'); hash != std::string::npos) raw.erase(hash);
        const std::string line = trim(raw);
        if (line.empty()) continue;
        if (line.front() == '[') {
            if (line.back() != ']') p.fail("section header must end with ']'");
            section = trim(std::string_view(line).substr(1, line.size() - 2));
            if (section.starts_with("service ")) {
                current_service = trim(std::string_view(section).substr(8));
                if (current_service.empty() || current_service.size() > 128 ||
                    !std::all_of(current_service.begin(), current_service.end(), [](char ch) {
                        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' ||
                               ch == '.';
                    }))
                    p.fail("invalid service name in [" + section + "]");
                if (c.services.count(current_service)) p.fail("section [" + section + "] given twice");
                current_policy = &c.services[current_service];
                *current_policy = {};
                section = "service " + current_service;
            } else if (section != "pool" && section != "login" && section != "binding" &&
                       section != "security_key" && section != "passkey" && section != "limits" &&
                       section != "recovery" && section != "log" && section != "browser") {
                p.fail("unknown section [" + section +
                       "] (known: pool, login, binding, security_key, passkey, browser, limits, recovery, "
                       "log, service NAME)");
            }
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string::npos) p.fail("expected 'key = value'");
        const std::string key = trim(std::string_view(line).substr(0, eq));
        const std::string value = trim(std::string_view(line).substr(eq + 1));
        if (section.empty()) p.fail("'" + key + "' outside a section");
        if (!seen.insert(section + "." + key).second)
            p.fail("'" + key + "' given twice in [" + section + "]");

        if (section == "pool") {
            if (key == "region") {
                // Length first: libstdc++ matches recursively, so a long value would overflow the stack.
                static const std::regex re("[a-z]{2}(-[a-z]+)+-[0-9]+");
                if (value.size() > 32 || !std::regex_match(value, re))
                    p.fail("region must look like eu-west-1");
                c.region = value;
            } else if (key == "pool_id") {
                static const std::regex re("[a-z]{2}(-[a-z]+)+-[0-9]+_[0-9a-zA-Z]+");
                if (value.size() > 55 || !std::regex_match(value, re))
                    p.fail("pool_id must look like eu-west-1_AbCdEf123");
                c.pool_id = value;
            } else if (key == "client_id") {
                static const std::regex re("[A-Za-z0-9_+]{1,128}");
                if (!std::regex_match(value, re))
                    p.fail("client_id must be 1 to 128 letters, digits, '_' or '+'");
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
                static const std::regex re(
                    R"(http://([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):[0-9]{1,5}/?)");
                if (value.size() > 300 || !std::regex_match(value, re))
                    p.fail("proxy must be http://HOST:PORT (no user name or password, no path)");
                const auto port = std::stoul(value.substr(value.rfind(':') + 1));
                if (port == 0 || port > 65535) p.fail("proxy port must be 1 to 65535");
                c.proxy = value;
            } else {
                p.fail("unknown key '" + key +
                       "' in [pool] (known: region pool_id client_id client_secret_file endpoint issuer "
                       "jwks_url jwks_file ca_file proxy)");
            }
        } else if (section == "log") {
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
        } else if (section == "login") {
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
        } else if (section == "binding") {
            if (key == "mapping_file") {
                c.mapping_file = p.abs_path(key, value);
            } else if (key == "claim") {
                static const std::regex re("[A-Za-z0-9_:.-]{1,64}");
                if (!std::regex_match(value, re))
                    p.fail("claim must be a claim name such as cognito:username");
                c.claim = value;
            } else if (key == "ask_identifier") {
                c.ask_identifier = p.boolean(key, value);
            } else if (key == "claim_min_uid") {
                c.claim_min_uid = static_cast<uid_t>(p.integer(key, value, 1, 2147483647));
            } else if (key == "claim_allow_users") {
                std::istringstream names(value);
                std::string name;
                while (names >> name) {
                    if (!valid_local_user(name))
                        p.fail("claim_allow_users: '" + name + "' is not a user name");
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
        } else if (section == "limits") {
            auto& l = c.limits;
            if (key == "sends_per_identifier")
                l.sends_per_identifier = static_cast<int>(p.integer(key, value, 1, 1000));
            else if (key == "sends_per_rhost")
                l.sends_per_rhost = static_cast<int>(p.integer(key, value, 1, 100000));
            else if (key == "send_window")
                l.send_window = std::chrono::seconds(p.integer(key, value, 60, 86400));
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
                p.fail(
                    "unknown key '" + key +
                    "' in [limits] (known: sends_per_identifier sends_per_rhost send_window sends_per_hour "
                    "failures_before_backoff backoff_max logins_per_rhost state_file state_max_size)");
        } else if (section == "passkey") {
            if (key == "rp_id") {
                if (!valid_passkey_rp_id(value))
                    p.fail("rp_id must be a lower-case domain name such as auth.example.com");
                c.passkey.rp_id = value;
            } else if (key == "origin") {
                c.passkey.origin = p.https_url(key, value);
            } else {
                p.fail("unknown key '" + key + "' in [passkey] (known: rp_id origin)");
            }
        } else if (section == "browser") {
            browser_given = true;
            if (key == "domain") {
                browser.domain = p.domain(key, value);
            } else if (key == "client_id") {
                static const std::regex re("[A-Za-z0-9_+]{1,128}");
                if (!std::regex_match(value, re))
                    p.fail("client_id must be 1 to 128 letters, digits, '_' or '+'");
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
                    if (std::find(browser.scopes.begin(), browser.scopes.end(), scope) !=
                        browser.scopes.end())
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
        } else if (section == "recovery") {
            if (key == "enabled")
                c.recovery.enabled = p.boolean(key, value);
            else if (key == "store_dir")
                c.recovery.store_dir = p.abs_path(key, value);
            else
                p.fail("unknown key '" + key + "' in [recovery] (known: enabled store_dir)");
        } else if (section == "security_key") {
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
        } else {
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
                p.fail("unknown key '" + key + "' in [" + section +
                       "] (known: methods remote_methods recovery)");
            }
        }
    }

    p.line = 0;
    auto missing = [&](const std::string& what) { throw ConfigError(source + ": " + what); };
    if (c.pool_id.empty()) missing("[pool] pool_id is required");
    if (c.client_id.empty()) missing("[pool] client_id is required");
    const std::string pool_region = c.pool_id.substr(0, c.pool_id.find('_'));
    if (c.region.empty()) c.region = pool_region;
    if (c.region != pool_region)
        missing("[pool] region '" + c.region + "' differs from the pool id's '" + pool_region + "'");
    if (c.endpoint.empty()) c.endpoint = "https://cognito-idp." + c.region + ".amazonaws.com/";
    if (c.issuer.empty()) c.issuer = "https://cognito-idp." + c.region + ".amazonaws.com/" + c.pool_id;
    if (c.jwks_url.empty()) c.jwks_url = c.issuer + "/.well-known/jwks.json";
    if (!login_methods_given) c.methods.local = {Method::EmailOtp};
    if (!remote_given[""]) c.methods.remote = without_local_keys(c.methods.local);
    if (browser_given) {
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
    return c;
}

namespace {

// Every request to the pool trusts exactly this file: one that is missing or unreadable fails every login,
// and one that someone other than root could write would let them add a CA of their own and answer for the
// pool (its keys, so its tokens). Refused at load, as the secret file is, rather than at the first login.
std::string check_ca_file(const std::string& path) {
    constexpr std::size_t max_ca_file_size = 4 * 1024 * 1024;
    std::string text;
    try {
        text = read_trusted_file(path, max_ca_file_size);
    } catch (const FileError& e) {
        throw ConfigError(std::string(e.what()) + " (ca_file)");
    }
    if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
        throw ConfigError(path + ": holds no PEM certificate (ca_file)");
    return text;
}

}  // namespace

Config load_config(const std::string& path) {
    std::string text;
    try {
        text = read_trusted_file(path, 256 * 1024);
    } catch (const FileError& e) {
        throw ConfigError(e.what());
    }
    Config c = parse_config(text, path);
    if (!c.client_secret_file.empty()) {
        try {
            c.client_secret = read_secret_file(c.client_secret_file, 4096);
        } catch (const FileError& e) {
            throw ConfigError(std::string(e.what()) + " (client_secret_file)");
        }
        if (c.client_secret->empty())
            throw ConfigError(c.client_secret_file + ": the client secret is empty (client_secret_file)");
    }
    if (!c.ca_file.empty()) c.ca_pem = check_ca_file(c.ca_file);
    if (!c.jwks_file.empty()) c.pinned_keys = load_pinned_keys(c.jwks_file, c.jwks_url);
    return c;
}

namespace {

std::string join(const std::vector<Method>& ms) {
    std::string out;
    for (auto m : ms) out += (out.empty() ? "" : " ") + std::string(method_name(m));
    return out.empty() ? "(none)" : out;
}

}  // namespace

std::string describe_config(const Config& c) {
    std::ostringstream o;
    o << "configuration: " << c.source << "\n"
      << "pool: " << c.pool_id << " (region " << c.region << "), client " << c.client_id
      << (c.client_secret ? ", with a client secret" : ", no client secret") << "\n"
      << "endpoint: " << c.endpoint << "\nissuer: " << c.issuer << "\njwks: "
      << (c.jwks_file.empty() ? c.jwks_url
                              : "pinned in " + c.jwks_file +
                                    (c.pinned_keys ? " (" + std::to_string(c.pinned_keys->size()) + " key(s))"
                                                   : std::string()) +
                                    "; ID tokens are verified with these keys alone and " + c.jwks_url +
                                    " is never fetched for a login")
      << "\n"
      << "trust: " << (c.ca_file.empty() ? "system CA store" : c.ca_file)
      << " (peer and host always verified)\n"
      << "proxy: "
      << (c.proxy.empty() ? "none (https_proxy and the like in the environment are ignored)"
                          : c.proxy + " (CONNECT tunnel; TLS to the pool end to end)")
      << "\n"
      << "log level: " << (c.debug_log ? "debug (each login's steps; no code, token or secret)" : "info")
      << "\n"
      << "methods: " << join(c.methods.local) << "; remote logins: " << join(c.methods.remote) << "\n";
    for (const auto& [name, pol] : c.services)
        o << "service " << name << ": " << join(pol.local) << "; remote logins: " << join(pol.remote) << "\n";
    o << "max_tries: " << c.max_tries << ", request timeout " << c.request_timeout.count()
      << " s, login timeout " << c.login_timeout.count() << " s\n"
      << "binding: " << (c.mapping_file.empty() ? "" : "mapping " + c.mapping_file)
      << (c.mapping_file.empty() || c.claim.empty() ? "" : " and ")
      << (c.claim.empty() ? "" : "claim " + c.claim + " must equal the local user")
      << (c.ask_identifier ? "; unmapped users are asked for their email or phone" : "") << "\n";
    if (!c.claim.empty()) {
        o << "claim binding alone serves: accounts from uid " << c.claim_min_uid;
        if (!c.claim_allow_users.empty()) o << ", and by name:";
        for (const auto& u : c.claim_allow_users) o << " " << u;
        o << "\n";
    }
    o << "loopback remote hosts: "
      << (c.loopback_is_local ? "local logins (loopback_is_local = yes)" : "remote logins") << "\n"
      << "unknown users: "
      << (c.unknown_user == UnknownUser::Ignore ? "PAM_IGNORE"
                                                : "the decoy, ending as a real user failing the same way")
      << "\n"
      << "non-root callers: " << (c.allow_unprivileged_self ? "may authenticate themselves" : "refused")
      << "\n"
      << "logins at once: " << c.max_concurrent_logins << " local (no remote host), " << c.max_remote_logins
      << " remote (no source network more than its fair share), " << c.max_concurrent_per_caller
      << " per non-root caller; refusals logged once per caller or network every "
      << c.refusal_log_interval.count() << " s\n"
      << "factor memory: "
      << (c.remember_factors.count() == 0
              ? std::string("off (remember_factors = 0): every login asks the user pool before the menu")
              : "the menu before the user pool is asked, from what it offered a mapped identity at a login "
                "in the last " +
                    std::to_string(c.remember_factors.count()) + " s (remember_factors)")
      << "\n";
    const auto& k = c.security_key;
    o << "security keys: relying party " << k.rp_id << ", store " << k.store_dir << ", user verification "
      << (k.user_verification == UserVerification::Required    ? "required (PIN asked)"
          : k.user_verification == UserVerification::Preferred ? "preferred (not demanded)"
                                                               : "discouraged")
      << ", touch timeout " << k.touch_timeout.count() << " s\n";
    {
        const auto proof = self_enrol_methods(c);
        o << "self-enrolment: "
          << (proof.empty() ? "refused, root enrols keys (pam-passwordless enroll --user NAME)"
                            : "after proof with " + join(proof))
          << "\n";
    }
    if (!c.passkey.rp_id.empty())
        o << "user-pool passkeys: relying party " << c.passkey.rp_id << ", origin " << c.passkey.origin
          << "\n";
    if (c.browser) {
        const auto& b = *c.browser;
        std::string scopes;
        for (const auto& s : b.scopes) scopes += (scopes.empty() ? "" : " ") + s;
        o << "browser sign-in: managed login https://" << b.domain << ", public app client " << b.client_id
          << " (authorization code + PKCE, no secret), callback " << b.redirect_uri << ", scopes " << scopes
          << (b.require_passkey ? ", a passkey required (amr swk or hwk)" : "")
          << (b.link == BrowserSignIn::Link::Short ? ", short link to the callback page (its pool.json)"
                                                   : ", full authorize link")
          << (b.show_qr ? ", link shown with a QR code" : ", link shown without a QR code") << "\n";
    }
    const auto& l = c.limits;
    o << "limits: " << l.sends_per_identifier << " codes per identifier and " << l.sends_per_rhost
      << " per remote host every " << l.send_window.count() << " s, " << l.sends_per_hour
      << " per hour from this machine; backoff after " << l.failures_before_backoff
      << " failed logins, remote and local counted apart (up to " << l.backoff_max.count() << " s); "
      << "state in " << c.limits_state_file << " (SQLite, at most " << l.state_max_bytes / 1024 << " KiB)\n";
    o << "recovery codes: " << (c.recovery.enabled ? "offered" : "not offered")
      << " to local logins (no remote host) while the user pool cannot be reached, once root has made a set "
         "for anyone; store "
      << c.recovery.store_dir;
    for (const auto& [name, on] : c.recovery.services)
        o << "; service " << name << ": " << (on ? "yes" : "no");
    o << "\n";
    return o.str();
}

namespace {

// The hazards of the policies that decide who gets in: each is allowed, none should go unnoticed.
void policy_warnings(const Config& c, std::vector<std::string>& w) {
    const auto& manage = c.methods_for(kManageService, false);
    const auto proof = self_enrol_methods(c);
    if (self_enrol_strength_needed(c) > 0 && proof.size() < manage.size()) {
        const std::string strictest = strictest_key_service(c);
        const std::string where = strictest.empty() ? "[login]" : "[service " + strictest + "]";
        w.push_back(where + " lets in only with methods stronger than some of [service " + kManageService +
                    "] (" + join(manage) + "): " +
                    (proof.empty() ? "users cannot enrol security keys themselves; root enrols them "
                                     "(pam-passwordless enroll --user NAME)."
                                   : "self-enrolment is proven only with " + join(proof) + "."));
    }
    if (!c.claim.empty()) {
        if (c.claim_min_uid < 1000)
            w.push_back("claim_min_uid = " + std::to_string(c.claim_min_uid) +
                        ": claim binding serves system accounts from that uid to a pool user of the same "
                        "name.");
        for (const auto& u : c.claim_allow_users)
            w.push_back("claim_allow_users lists '" + u + "'" + (u == "root" ? " (root)" : "") +
                        ": a pool user named '" + u +
                        "' becomes that account; keep the pool's sign-up closed.");
    }
    for (const auto& [name, on] : c.recovery.services)
        if (on && name.find("ssh") != std::string::npos)
            w.push_back(
                "[service " + name +
                "] recovery = yes has no effect: sshd always sets a remote host, and "
                "a recovery code is never accepted from a login with one (not even loopback with "
                "loopback_is_local = yes). Plan sshd's outage in its PAM stack (pam_passwordless(8)).");
    if (c.loopback_is_local)
        w.push_back(
            "loopback_is_local = yes: logins with a loopback remote host (an SSH port forward, a tunnel) are "
            "local and are offered the keys plugged into this machine.");
}

}  // namespace

std::optional<std::string> placeholder_warning(const Config& c) {
    if (c.pool_id != kExamplePoolId && c.client_id != kExampleClientId) return std::nullopt;
    return "[pool] pool_id " + c.pool_id + " / client_id " + c.client_id +
           ": the example's placeholder; no login can succeed until [pool] names your user pool and app "
           "client (check with: pam-passwordless-helper check-config --online).";
}

std::vector<std::string> config_warnings(const Config& c) {
    std::vector<std::string> w;
    for (const auto& key : c.obsolete_keys)
        w.push_back(key +
                    " no longer has an effect: remote logins are admitted by source network ([login] "
                    "max_remote_logins); remove it.");
    if (c.ask_identifier)
        w.push_back(
            "ask_identifier = yes: codes are sent to whatever identifier is typed; ownership is known only "
            "after "
            "sign-in, through claim '" +
            c.claim + "'. Keep the send limits tight.");
    if (c.unknown_user == UnknownUser::Ignore)
        w.push_back(
            "unknown_user = ignore: users without an identity skip this module (PAM_IGNORE); the next module "
            "in the stack decides for them.");
    if (c.methods.local.empty() && c.methods.remote.empty())
        w.push_back("no method is enabled: every login fails.");
    if (c.browser) {
        const auto lists = [](const MethodPolicy& p) {
            return std::find(p.local.begin(), p.local.end(), Method::Browser) != p.local.end() ||
                   std::find(p.remote.begin(), p.remote.end(), Method::Browser) != p.remote.end();
        };
        bool listed = lists(c.methods);
        for (const auto& [name, pol] : c.services) listed = listed || lists(pol);
        if (!listed) w.push_back("[browser] is configured but no methods list browser: it is never offered.");
        if (c.browser->redirect_uri.find("://localhost") != std::string::npos ||
            c.browser->redirect_uri.find("://127.") != std::string::npos ||
            c.browser->redirect_uri.find("://[::1]") != std::string::npos)
            w.push_back("[browser] redirect_uri " + c.browser->redirect_uri +
                        " is on the loopback: it works only in a browser on this machine (for tests).");
        if (c.browser->require_passkey)
            w.push_back(
                "[browser] require_passkey = yes: a browser sign-in is accepted only when its ID token's amr "
                "says a passkey (swk or hwk); a user pool that puts no amr in its ID tokens refuses every "
                "browser sign-in. Try one before relying on it.");
    }
    policy_warnings(c, w);
    return w;
}

}  // namespace pp::helper
