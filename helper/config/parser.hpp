// Inside the configuration's reader (helper/config/): the line and value rules, the state of a file being
// read, and one reader per section. The helper's code uses config.hpp; only helper/config/ includes this.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"

namespace pp::helper::config {

std::string trim(std::string_view s);

// A value's rules; each refusal names the file, the line and the key.
struct Parser {
    const std::string& source;
    int line = 0;

    [[noreturn]] void fail(const std::string& what) const;
    long integer(const std::string& key, const std::string& v, long lo, long hi) const;
    // A number of seconds, or of minutes, hours or days with the suffix m, h or d ("30d").
    std::chrono::seconds duration(const std::string& key, const std::string& v,
                                  std::chrono::seconds hi) const;
    bool boolean(const std::string& key, const std::string& v) const;
    std::vector<Method> methods(const std::string& key, const std::string& v) const;
    std::string https_url(const std::string& key, const std::string& v) const;
    // The address of a page a browser is sent to: https, a host (no user name or password), no fragment.
    std::string https_page(const std::string& key, const std::string& v) const;
    // The managed login's host: a host name with an optional :port, nothing before or after (the helper
    // builds https://DOMAIN/oauth2/... itself, and the worker posts to that domain alone).
    std::string domain(const std::string& key, const std::string& v) const;
    std::string abs_path(const std::string& key, const std::string& v) const;
};

// A file being read: the configuration so far, and what the rules across sections need to know.
struct ParseState {
    explicit ParseState(const std::string& source) : p{source} {}

    Config c;
    Parser p;
    std::string section;
    std::map<std::string, bool> remote_given;  // by service ("": [login])
    bool login_methods_given = false;
    MethodPolicy* current_policy = nullptr;  // the [service NAME] being read
    std::string current_service;
    BrowserSignIn browser;
    bool browser_given = false;  // a key of [browser] was given
};

// One key = value of each section (sections.cpp).
void read_pool(ParseState& s, const std::string& key, const std::string& value);
void read_log(ParseState& s, const std::string& key, const std::string& value);
void read_login(ParseState& s, const std::string& key, const std::string& value);
void read_binding(ParseState& s, const std::string& key, const std::string& value);
void read_limits(ParseState& s, const std::string& key, const std::string& value);
void read_passkey(ParseState& s, const std::string& key, const std::string& value);
void read_browser(ParseState& s, const std::string& key, const std::string& value);
void read_recovery(ParseState& s, const std::string& key, const std::string& value);
void read_security_key(ParseState& s, const std::string& key, const std::string& value);
void read_service(ParseState& s, const std::string& key, const std::string& value);

// The rules across sections, once the whole file is read (rules.cpp): what is required, and the defaults
// that follow from other keys.
void complete(ParseState& s, const std::string& source);

// A key plugged into this machine (a local credential or a user-pool passkey) answers only to whoever sits
// at it: remote logins get those methods only where the admin listed them in remote_methods.
std::vector<Method> without_local_keys(std::vector<Method> ms);
// The methods as the file writes them, space-separated ("(none)" for none).
std::string join(const std::vector<Method>& ms);

}  // namespace pp::helper::config
