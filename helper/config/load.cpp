// The configuration file read as root reads it: a trusted file, then the secret and the files it names.
#include "config.hpp"
#include "pinned_keys.hpp"
#include "trusted_file.hpp"

namespace pp::helper {
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

}  // namespace pp::helper
