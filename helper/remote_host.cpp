#include "remote_host.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace pp::helper {

bool is_loopback_host(std::string_view rhost) {
    std::string host(rhost);
    // sshd writes the address as it accepted it; an IPv6 address may come bracketed or with a zone.
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (const auto zone = host.find('%'); zone != std::string::npos) host.erase(zone);
    std::string lower = host;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "localhost" || lower == "localhost.") return true;
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
    return false;
}

bool is_remote_login(std::string_view rhost, const Config& config) {
    if (rhost.empty()) return false;
    if (is_loopback_host(rhost)) return !config.loopback_is_local;
    return true;
}

}  // namespace pp::helper
