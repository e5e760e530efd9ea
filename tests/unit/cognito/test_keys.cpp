#include "test_keys.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <stdexcept>
#include <vector>

namespace pp::cognito::test {
namespace {

struct BioFree {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct BnFree {
    void operator()(BIGNUM* bn) const noexcept { BN_free(bn); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

std::string parameter(EVP_PKEY* key, const char* name) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) throw std::runtime_error("EVP_PKEY_get_bn_param");
    const std::unique_ptr<BIGNUM, BnFree> bn(raw);
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(BN_num_bytes(bn.get())));
    BN_bn2bin(bn.get(), bytes.data());
    return base64url(bytes);
}

}  // namespace

std::string base64url(std::span<const std::uint8_t> bytes) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const std::uint8_t byte : bytes) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(buffer >> bits) & 0x3F]);
        }
    }
    if (bits > 0) out.push_back(alphabet[(buffer << (6 - bits)) & 0x3F]);
    return out;
}

std::string base64url(std::string_view text) {
    return base64url(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

TestKey::TestKey(int bits) : key_(EVP_RSA_gen(static_cast<unsigned int>(bits))) {
    if (!key_) throw std::runtime_error("EVP_RSA_gen");
}

Members TestKey::jwk_members(std::string_view kid) const {
    return {{"kty", json_string("RSA")},
            {"alg", json_string("RS256")},
            {"use", json_string("sig")},
            {"kid", json_string(kid)},
            {"n", json_string(parameter(key_.get(), OSSL_PKEY_PARAM_RSA_N))},
            {"e", json_string(parameter(key_.get(), OSSL_PKEY_PARAM_RSA_E))}};
}

std::string TestKey::jwk(std::string_view kid) const {
    return to_json(jwk_members(kid));
}

std::string TestKey::public_pem() const {
    const std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
        throw std::runtime_error("PEM_write_bio_PUBKEY");
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

std::string TestKey::sign(std::string_view header_json, std::string_view payload_json) const {
    const std::string signing_input = base64url(header_json) + "." + base64url(payload_json);
    const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    std::size_t length = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, nullptr, 0) != 1) {
        throw std::runtime_error("EVP_DigestSignInit");
    }
    std::vector<std::uint8_t> signature(length);
    if (EVP_DigestSign(ctx.get(), signature.data(), &length,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
        throw std::runtime_error("EVP_DigestSign");
    }
    signature.resize(length);
    return signing_input + "." + base64url(signature);
}

std::string sign_hs256(std::string_view header_json, std::string_view payload_json, std::string_view key) {
    const std::string signing_input = base64url(header_json) + "." + base64url(payload_json);
    std::uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
             &length) == nullptr) {
        throw std::runtime_error("HMAC");
    }
    return signing_input + "." + base64url(std::span(mac, length));
}

std::string to_json(const Members& members) {
    std::string out = "{";
    for (const auto& [name, value] : members) {
        if (out.size() > 1) out += ",";
        out += json_string(name) + ":" + value;
    }
    return out + "}";
}

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

}  // namespace pp::cognito::test
