#include "pinned_keys.hpp"

#include <openssl/err.h>

#include "config.hpp"
#include "json_document.hpp"
#include "trusted_file.hpp"

namespace pp::helper {

std::string pinned_keys_fix(const std::string& path, const std::string& jwks_url) {
    return "download the pool's key set as root with: curl -fsS --proto =https -o " + path + " " + jwks_url +
           " && chmod 0644 " + path + ", then run check-config";
}

std::shared_ptr<const cognito::JsonWebKeySet> load_pinned_keys(const std::string& path,
                                                               const std::string& jwks_url) {
    const auto refuse = [&](const std::string& what) {
        return ConfigError(what + " ([pool] jwks_file; fix: " + pinned_keys_fix(path, jwks_url) + ")");
    };
    std::string text;
    try {
        text = read_trusted_file(path, kMaxJwksFileSize);
    } catch (const FileError& e) {
        throw refuse(e.what());
    }
    std::shared_ptr<const cognito::JsonWebKeySet> keys;
    try {
        keys = std::make_shared<const cognito::JsonWebKeySet>(cognito::JsonWebKeySet::parse(text));
    } catch (const cognito::json::Error& e) {
        throw refuse(path + ": not a key set (JWKS): " + e.what());
    }
    if (keys->size() == 0)
        throw refuse(path +
                     ": holds no key usable for ID tokens (an RSA key of 2048 to 8192 bits with a kid, "
                     "for use sig and alg RS256)");
    return keys;
}

PinnedComparison compare_pinned(const cognito::JsonWebKeySet& pinned,
                                const cognito::JsonWebKeySet& published) {
    PinnedComparison c;
    for (const auto& id : published.ids()) {
        EVP_PKEY* mine = pinned.find(id);
        if (mine == nullptr)
            c.not_pinned.push_back(id);
        else if (EVP_PKEY_eq(mine, published.find(id)) != 1)
            c.different.push_back(id);
    }
    for (const auto& id : pinned.ids())
        if (published.find(id) == nullptr) c.unpublished.push_back(id);
    // Keys that differ leave OpenSSL errors behind that would confuse the next caller on this thread.
    ERR_clear_error();
    return c;
}

}  // namespace pp::helper
