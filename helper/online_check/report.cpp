// What the online checks share: how a URL, a trust store and an answer are told.
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
#include "online_check/checks.hpp"
#include "pinned_keys.hpp"
#include "pool_types.hpp"
#include "service_error.hpp"

namespace pp::helper::online_check {

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

}  // namespace pp::helper::online_check
