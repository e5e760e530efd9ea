#include "json_web_key_set.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include <new>
#include <optional>
#include <utility>

#include "base64.hpp"
#include "crypto.hpp"
#include "json_document.hpp"

namespace pp::cognito {
namespace {

constexpr int min_rsa_bits = 2048;
constexpr int max_rsa_bits = 8192;

ossl::BigNum big_number(const std::string& big_endian) {
    ossl::BigNum n(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                             static_cast<int>(big_endian.size()), nullptr));
    if (!n) throw std::bad_alloc();
    return n;
}

ossl::PKey rsa_public_key(const std::string& modulus, const std::string& exponent) {
    const ossl::BigNum n = big_number(modulus);
    const ossl::BigNum e = big_number(exponent);
    const ossl::ParamBuilder builder(OSSL_PARAM_BLD_new());
    if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        return nullptr;
    }
    const ossl::Params params(OSSL_PARAM_BLD_to_param(builder.get()));
    const ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
    ossl::PKey key(raw);
    const int bits = EVP_PKEY_get_bits(key.get());
    if (bits < min_rsa_bits || bits > max_rsa_bits) return nullptr;
    // Catches a degenerate exponent or modulus, under which a signature would prove nothing.
    const ossl::PKeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
    return key;
}

// The key's id and usable public key, or nothing when the entry is not an RS256 signing key we can use.
std::optional<std::pair<std::string, ossl::PKey>> read_key(json_object* entry) {
    try {
        if (json::string_member(entry, "kty") != "RSA") return std::nullopt;
        if (const auto use = json::string_member(entry, "use"); use && *use != "sig") return std::nullopt;
        if (const auto alg = json::string_member(entry, "alg"); alg && *alg != "RS256") return std::nullopt;
        const auto kid = json::string_member(entry, "kid");
        const auto n = json::string_member(entry, "n");
        const auto e = json::string_member(entry, "e");
        if (!kid || kid->empty() || !n || !e) return std::nullopt;
        const auto modulus = base64url_decode(*n);
        const auto exponent = base64url_decode(*e);
        if (!modulus || !exponent || modulus->empty() || exponent->empty()) return std::nullopt;
        ossl::PKey key = rsa_public_key(*modulus, *exponent);
        if (!key) return std::nullopt;
        return std::pair(std::string(*kid), std::move(key));
    } catch (const json::Error&) {
        return std::nullopt;
    }
}

}  // namespace

JsonWebKeySet JsonWebKeySet::parse(std::string_view jwks) {
    const json::Document doc = json::parse_object(jwks);
    json_object* keys = json::array_member(doc.get(), "keys");
    if (keys == nullptr) throw json::Error("JWKS has no keys array");
    JsonWebKeySet set;
    json::for_each_element(keys, [&](json_object* entry) {
        auto key = read_key(entry);
        if (!key) return;
        ossl::MdCtx verify(EVP_MD_CTX_new());
        if (!verify || sha256_md() == nullptr ||
            EVP_DigestVerifyInit(verify.get(), nullptr, sha256_md(), nullptr, key->second.get()) != 1)
            return;
        set.keys_.emplace(std::move(key->first), Key{std::move(key->second), std::move(verify)});
    });
    // Skipped keys leave OpenSSL errors behind that would confuse the next caller on this thread.
    ERR_clear_error();
    return set;
}

EVP_PKEY* JsonWebKeySet::find(std::string_view kid) const {
    const auto it = keys_.find(kid);
    return it == keys_.end() ? nullptr : it->second.key.get();
}

bool JsonWebKeySet::verifies_rs256(std::string_view kid, std::string_view signed_part,
                                   std::string_view signature) const {
    const auto it = keys_.find(kid);
    if (it == keys_.end()) return false;
    // A copy of the prepared context (it is shared by every login thread, and copying only reads it); the
    // copy is finalised in place, not copied again.
    const ossl::MdCtx ctx(EVP_MD_CTX_new());
    bool ok = ctx && EVP_MD_CTX_copy_ex(ctx.get(), it->second.verify.get()) == 1;
    if (ok) {
        EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);
        ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                              signature.size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                              signed_part.size()) == 1;
    }
    ERR_clear_error();
    return ok;
}

std::vector<std::string> JsonWebKeySet::ids() const {
    std::vector<std::string> out;
    for (const auto& entry : keys_) out.push_back(entry.first);
    return out;
}

}  // namespace pp::cognito
