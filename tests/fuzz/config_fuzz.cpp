// The helper's configuration file (helper/config/): parse_config, then what check-config prints.
#include <string>

#include "config.hpp"
#include "fuzz_support.hpp"

using namespace pp::helper;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(pp::fuzz::text(data, size));
    Config c;
    try {
        c = parse_config(text, "/etc/pam_passwordless/helper.conf");
    } catch (const ConfigError&) {
        return 0;
    }
    // What parse_config promises of any configuration it accepts.
    PP_FUZZ_CHECK(!c.pool_id.empty() && !c.client_id.empty());
    PP_FUZZ_CHECK(c.pool_id.starts_with(c.region + "_"));
    PP_FUZZ_CHECK(c.max_tries >= 1 && c.max_tries <= 10);
    PP_FUZZ_CHECK(c.endpoint.starts_with("https://") && c.issuer.starts_with("https://") &&
                  c.jwks_url.starts_with("https://"));
    PP_FUZZ_CHECK(!c.ask_identifier || !c.claim.empty());
    for (const char* service : {"sshd", "sudo", "login", ""})
        for (const bool remote : {false, true}) (void)c.methods_for(service, remote);
    (void)describe_config(c);
    (void)config_warnings(c);
    return 0;
}
