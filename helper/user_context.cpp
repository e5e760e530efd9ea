#include "user_context.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <string>

#include "remote_host.hpp"

namespace pp::helper {

cognito::UserContext user_context_for(std::string_view rhost) {
    if (rhost.empty() || is_loopback_host(rhost)) return {};
    std::string host(rhost);
    // sshd writes the address as it accepted it; an IPv6 address may come bracketed. One with a zone
    // (fe80::1%eth0) is link-local: meaningless to the pool, and inet_pton refuses it.
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    std::array<char, INET6_ADDRSTRLEN> text{};
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        ::inet_ntop(AF_INET, &v4, text.data(), text.size());
        return {std::string(text.data())};
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) != 1) return {};
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
        std::copy(v6.s6_addr + 12, v6.s6_addr + 16, reinterpret_cast<unsigned char*>(&v4.s_addr));
        ::inet_ntop(AF_INET, &v4, text.data(), text.size());
    } else {
        ::inet_ntop(AF_INET6, &v6, text.data(), text.size());
    }
    return {std::string(text.data())};
}

}  // namespace pp::helper
