#include "secret_hash.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <array>
#include <climits>
#include <stdexcept>

#include "base64.hpp"
#include "openssl_owners.hpp"

namespace pp::cognito {
namespace {

// HMAC-SHA256 set up once: OpenSSL 3's one-shot HMAC() fetches the MAC and the digest by name on every call
// (a lock and a lookup in the provider's store each), which showed as a twentieth of the helper's CPU per
// code login. Each call duplicates this keyless context, so no key is kept in it, and the template is only
// read.
const EVP_MAC_CTX* hmac_sha256_template() {
    static const ossl::MacCtx ctx = [] {
        const ossl::Mac mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
        ossl::MacCtx c(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
        char digest[] = "SHA256";
        const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                     OSSL_PARAM_construct_end()};
        if (c && EVP_MAC_CTX_set_params(c.get(), params) != 1) c.reset();
        return c;
    }();
    return ctx.get();
}

}  // namespace

pp::Secret hmac_sha256(const pp::Secret& key, std::string_view message) {
    if (key.size() > static_cast<std::size_t>(INT_MAX)) throw std::invalid_argument("HMAC key too long");
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
    std::size_t digest_length = 0;
    const EVP_MAC_CTX* tmpl = hmac_sha256_template();
    // EVP_MAC_CTX_dup takes a non-const pointer but only reads the template.
    const ossl::MacCtx ctx(tmpl ? EVP_MAC_CTX_dup(const_cast<EVP_MAC_CTX*>(tmpl)) : nullptr);
    const bool ok = ctx &&
                    EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.c_str()), key.size(),
                                 nullptr) == 1 &&
                    EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(message.data()),
                                   message.size()) == 1 &&
                    EVP_MAC_final(ctx.get(), digest.data(), &digest_length, digest.size()) == 1;
    pp::Secret raw =
        ok ? pp::Secret(std::string_view(reinterpret_cast<const char*>(digest.data()), digest_length))
           : pp::Secret();
    pp::wipe(digest.data(), digest.size());
    if (!ok) throw std::runtime_error("HMAC-SHA256 failed");
    return raw;
}

struct KeyedHmac::Ctx {
    ossl::MacCtx mac;
};

KeyedHmac::KeyedHmac(std::string_view key) : key_(key) {
    if (key.size() > static_cast<std::size_t>(INT_MAX)) throw std::invalid_argument("HMAC key too long");
    const EVP_MAC_CTX* tmpl = hmac_sha256_template();
    ossl::MacCtx mac(tmpl ? EVP_MAC_CTX_dup(const_cast<EVP_MAC_CTX*>(tmpl)) : nullptr);
    if (!mac || EVP_MAC_init(mac.get(), reinterpret_cast<const unsigned char*>(key_.c_str()), key_.size(),
                             nullptr) != 1)
        throw std::runtime_error("HMAC-SHA256 failed");
    ctx_ = std::make_unique<Ctx>(Ctx{std::move(mac)});
}

KeyedHmac::~KeyedHmac() = default;  // EVP_MAC_CTX_free cleanses the keyed state

std::array<std::uint8_t, 32> KeyedHmac::of(std::initializer_list<std::string_view> parts) {
    std::array<std::uint8_t, 32> out{};
    std::size_t length = 0;
    // A NULL key re-initialises the context with the key it holds (OpenSSL's HMAC provider).
    bool ok = EVP_MAC_init(ctx_->mac.get(), nullptr, 0, nullptr) == 1;
    for (const auto part : parts)
        ok = ok && EVP_MAC_update(ctx_->mac.get(), reinterpret_cast<const unsigned char*>(part.data()),
                                  part.size()) == 1;
    ok = ok && EVP_MAC_final(ctx_->mac.get(), out.data(), &length, out.size()) == 1 && length == out.size();
    if (!ok) {
        pp::wipe(out.data(), out.size());
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return out;
}

pp::Secret secret_hash(std::string_view username, std::string_view client_id,
                       const pp::Secret& client_secret) {
    if (client_secret.size() > static_cast<std::size_t>(INT_MAX)) {
        throw std::invalid_argument("client secret too long");
    }
    std::string message;
    message.reserve(username.size() + client_id.size());
    message.append(username).append(client_id);
    const pp::Secret digest = hmac_sha256(client_secret, message);
    return base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(digest.c_str()), digest.size()));
}

}  // namespace pp::cognito
