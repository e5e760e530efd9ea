#include "runtime.hpp"

#include "audit.hpp"
#include "login_log.hpp"
#include "pool_client.hpp"

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
    PoolSettings pool;
    pool.wire.api_url = c.endpoint;
    pool.wire.jwks_url = c.jwks_url;
    pool.wire.issuer = c.issuer;
    pool.wire.client_id = c.client_id;
    // The worker cannot read the file (it is root's, and the worker is not): it gets the text root checked.
    pool.wire.ca_pem = c.ca_pem;
    pool.wire.proxy = c.proxy;
    if (c.browser) pool.wire.oauth_domain = c.browser->domain;
    pool.wire.request_timeout_ms = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(c.request_timeout).count());
    pool.client_secret = c.client_secret;
    pool.debugging = [] { return debug_logging(); };
    pool.debug = [](const std::string& line) { debug_line("user pool: %s", loggable(line, 400).c_str()); };
    pool.on_contact = std::move(on_contact);
    rt->client = std::make_unique<PoolClient>(std::move(pool), worker_link());
    cognito::PoolApi* client = rt->client.get();
    // Pinned keys ([pool] jwks_file) are the only ones: the worker is never asked for a key set.
    if (c.pinned_keys)
        rt->verifier = std::make_unique<cognito::TokenVerifier>(
            c.issuer, c.client_id, cognito::TokenVerifier::Pinned{c.pinned_keys});
    else
        rt->verifier = std::make_unique<cognito::TokenVerifier>(
            c.issuer, c.client_id, [client](Deadline d) { return client->fetch_jwks(d); });
    return rt;
}

}  // namespace pp::helper
