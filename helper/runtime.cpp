#include "runtime.hpp"

#include "audit.hpp"
#include "login_log.hpp"

namespace pp::helper {

std::shared_ptr<const Runtime> Runtime::load(
    const std::string& config_path, std::function<void(bool answered, const std::string& why)> on_contact) {
    auto rt = std::make_shared<Runtime>();
    rt->config = load_config(config_path);
    const Config& c = rt->config;
    if (!c.mapping_file.empty()) {
        try {
            rt->identities = IdentityMap::load(c.mapping_file);
        } catch (const std::exception& e) {
            // The error names the file; the key names where it was set, for a file that is missing.
            throw ConfigError(std::string("[binding] mapping_file: ") + e.what());
        }
    }
    cognito::Endpoint ep;
    ep.api_url = c.endpoint;
    ep.jwks_url = c.jwks_url;
    ep.issuer = c.issuer;
    ep.client_id = c.client_id;
    ep.client_secret = c.client_secret;
    ep.ca_file = c.ca_file;
    ep.proxy = c.proxy;
    ep.debugging = [] { return debug_logging(); };
    ep.debug = [](const std::string& line) { debug_line("user pool: %s", loggable(line, 400).c_str()); };
    ep.request_timeout = c.request_timeout;
    ep.on_contact = std::move(on_contact);
    rt->client = std::make_unique<cognito::Client>(std::move(ep));
    cognito::Client* client = rt->client.get();
    rt->verifier = std::make_unique<cognito::TokenVerifier>(
        c.issuer, c.client_id, [client](cognito::Deadline d) { return client->fetch_jwks(d); });
    return rt;
}

}  // namespace pp::helper
