// The configuration file's lines and values: the rules every section's keys are read with.
#include <algorithm>
#include <charconv>
#include <regex>
#include <sstream>

#include "config/parser.hpp"

namespace pp::helper::config {

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

void Parser::fail(const std::string& what) const {
    throw ConfigError(source + ":" + std::to_string(line) + ": " + what);
}

long Parser::integer(const std::string& key, const std::string& v, long lo, long hi) const {
    long n = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi)
        fail(key + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return n;
}

// A number of seconds, or of minutes, hours or days with the suffix m, h or d ("30d").
std::chrono::seconds Parser::duration(const std::string& key, const std::string& v,
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

bool Parser::boolean(const std::string& key, const std::string& v) const {
    if (v == "yes" || v == "true") return true;
    if (v == "no" || v == "false") return false;
    fail(key + " must be yes or no");
}

std::vector<Method> Parser::methods(const std::string& key, const std::string& v) const {
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

std::string Parser::https_url(const std::string& key, const std::string& v) const {
    if (!v.starts_with("https://") || v.size() < 9 || v.size() > 512 ||
        v.find_first_of(" \t\"'<>\\") != std::string::npos)
        fail(key + " must be an https:// URL");
    return v;
}

// The address of a page a browser is sent to: https, a host (no user name or password), no fragment.
std::string Parser::https_page(const std::string& key, const std::string& v) const {
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
std::string Parser::domain(const std::string& key, const std::string& v) const {
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

std::string Parser::abs_path(const std::string& key, const std::string& v) const {
    if (v.empty() || v.front() != '/' || v.size() > 4096) fail(key + " must be an absolute path");
    return v;
}

}  // namespace pp::helper::config
