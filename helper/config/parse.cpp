// The configuration file read line by line: sections, keys, each key to its section's reader.
#include <algorithm>
#include <set>
#include <sstream>

#include "config.hpp"
#include "config/parser.hpp"

namespace pp::helper {

Config parse_config(const std::string& text, const std::string& source) {
    config::ParseState s(source);
    Config& c = s.c;
    config::Parser& p = s.p;
    c.source = source;
    std::istringstream in(text);
    std::string raw;
    std::string& section = s.section;
    std::set<std::string> seen;  // section.key, to refuse a key given twice
    MethodPolicy*& current_policy = s.current_policy;
    std::string& current_service = s.current_service;

    while (std::getline(in, raw)) {
        ++p.line;
        if (const auto hash = raw.find('#'); hash != std::string::npos) raw.erase(hash);
        const std::string line = config::trim(raw);
        if (line.empty()) continue;
        if (line.front() == '[') {
            if (line.back() != ']') p.fail("section header must end with ']'");
            section = config::trim(std::string_view(line).substr(1, line.size() - 2));
            if (section.starts_with("service ")) {
                current_service = config::trim(std::string_view(section).substr(8));
                if (current_service.empty() || current_service.size() > 128 ||
                    !std::all_of(current_service.begin(), current_service.end(), [](char ch) {
                        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' ||
                               ch == '.';
                    }))
                    p.fail("invalid service name in [" + section + "]");
                // As Linux-PAM names the service: in lower case (review 31b).
                std::transform(current_service.begin(), current_service.end(), current_service.begin(),
                               [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
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
        const std::string key = config::trim(std::string_view(line).substr(0, eq));
        const std::string value = config::trim(std::string_view(line).substr(eq + 1));
        if (section.empty()) p.fail("'" + key + "' outside a section");
        if (!seen.insert(section + "." + key).second)
            p.fail("'" + key + "' given twice in [" + section + "]");

        if (section == "pool")
            config::read_pool(s, key, value);
        else if (section == "log")
            config::read_log(s, key, value);
        else if (section == "login")
            config::read_login(s, key, value);
        else if (section == "binding")
            config::read_binding(s, key, value);
        else if (section == "limits")
            config::read_limits(s, key, value);
        else if (section == "passkey")
            config::read_passkey(s, key, value);
        else if (section == "browser")
            config::read_browser(s, key, value);
        else if (section == "recovery")
            config::read_recovery(s, key, value);
        else if (section == "security_key")
            config::read_security_key(s, key, value);
        else
            config::read_service(s, key, value);
    }

    config::complete(s, source);
    return std::move(c);
}

}  // namespace pp::helper
