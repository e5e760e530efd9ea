#include "crypto.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace vfido::crypto {
namespace {

struct EvpPkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const noexcept { EVP_PKEY_CTX_free(ctx); }
};
struct EvpMdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
struct EvpCipherCtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
struct BnClearFree {
    void operator()(BIGNUM* bn) const noexcept { BN_clear_free(bn); }
};
struct EcGroupFree {
    void operator()(EC_GROUP* group) const noexcept { EC_GROUP_free(group); }
};
struct EcPointFree {
    void operator()(EC_POINT* point) const noexcept { EC_POINT_free(point); }
};
struct ParamBldFree {
    void operator()(OSSL_PARAM_BLD* bld) const noexcept { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* params) const noexcept { OSSL_PARAM_free(params); }
};
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, EvpPkeyCtxFree>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxFree>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, EvpCipherCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnClearFree>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, EcGroupFree>;
using EcPointPtr = std::unique_ptr<EC_POINT, EcPointFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;

constexpr std::size_t coordinate_size = 32;
constexpr std::size_t gcm_tag_size = 16;
constexpr char p256_name[] = "prime256v1";

void require(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(what);
}

int int_size(std::size_t size) {
    require(size <= 0x7fffffff, "buffer too large");
    return static_cast<int>(size);
}

// An EC public or key-pair EVP_PKEY on P-256 from an uncompressed point (0x04 || x || y) and optional scalar.
EvpPkeyPtr p256_from_data(ByteView uncompressed_point, const BIGNUM* private_scalar) {
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    require(bld != nullptr, "OSSL_PARAM_BLD_new");
    require(OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, p256_name, 0) == 1 &&
                OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                                 uncompressed_point.data(), uncompressed_point.size()) == 1 &&
                (private_scalar == nullptr ||
                 OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, private_scalar) == 1),
            "OSSL_PARAM_BLD_push");
    ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
    require(params != nullptr, "OSSL_PARAM_BLD_to_param");
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    require(ctx != nullptr && EVP_PKEY_fromdata_init(ctx.get()) == 1, "EVP_PKEY_fromdata_init");
    EVP_PKEY* raw = nullptr;
    const int selection = private_scalar != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
    // A point that is not on the curve fails here, which is how a hostile key-agreement key is refused.
    if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) return nullptr;
    return EvpPkeyPtr(raw);
}

Bytes ec_public_point(const EVP_PKEY* key) {
    std::array<std::uint8_t, 1 + 2 * coordinate_size> point{};
    std::size_t length = 0;
    require(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(),
                                            &length) == 1 &&
                length == point.size() && point[0] == 0x04,
            "EC public key");
    return {point.begin() + 1, point.end()};
}

EvpPkeyPtr generate_p256() {
    EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    require(key != nullptr, "EVP_PKEY_Q_keygen EC");
    // Uncompressed points keep x and y separate for COSE.
    require(EVP_PKEY_set_utf8_string_param(key.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                           "uncompressed") == 1,
            "point format");
    return key;
}

}  // namespace

Bytes sha256(ByteView data) {
    Bytes digest(32);
    unsigned int length = 0;
    require(EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) == 1 &&
                length == digest.size(),
            "EVP_Digest");
    return digest;
}

Bytes hmac_sha256(ByteView key, ByteView data) {
    Bytes mac(32);
    unsigned int length = 0;
    require(HMAC(EVP_sha256(), key.data(), int_size(key.size()), data.data(), data.size(), mac.data(),
                 &length) != nullptr &&
                length == mac.size(),
            "HMAC");
    return mac;
}

Bytes random_bytes(std::size_t count) {
    Bytes out(count);
    require(RAND_bytes(out.data(), int_size(count)) == 1, "RAND_bytes");
    return out;
}

bool equal(ByteView a, ByteView b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<Bytes> aes256_cbc_zero_iv(ByteView key, ByteView data, bool encrypt) {
    require(key.size() == 32, "AES-256 key size");
    if (data.empty() || data.size() % 16 != 0) return std::nullopt;
    const std::array<std::uint8_t, 16> iv{};
    EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    require(ctx != nullptr, "EVP_CIPHER_CTX_new");
    require(EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key.data(), iv.data(),
                              encrypt ? 1 : 0) == 1 &&
                EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1,
            "EVP_CipherInit_ex");
    Bytes out(data.size() + 16);
    int written = 0;
    int final_written = 0;
    require(EVP_CipherUpdate(ctx.get(), out.data(), &written, data.data(), int_size(data.size())) == 1 &&
                EVP_CipherFinal_ex(ctx.get(), out.data() + written, &final_written) == 1,
            "AES-CBC");
    out.resize(static_cast<std::size_t>(written + final_written));
    return out;
}

Bytes aes256_gcm_seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext) {
    require(key.size() == 32 && nonce.size() == 12, "AES-GCM parameters");
    EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    require(ctx != nullptr, "EVP_CIPHER_CTX_new");
    Bytes out(plaintext.size() + gcm_tag_size);
    int written = 0;
    int ignored = 0;
    require(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) == 1 &&
                EVP_EncryptUpdate(ctx.get(), nullptr, &ignored, aad.data(), int_size(aad.size())) == 1 &&
                EVP_EncryptUpdate(ctx.get(), out.data(), &written, plaintext.data(),
                                  int_size(plaintext.size())) == 1 &&
                EVP_EncryptFinal_ex(ctx.get(), out.data() + written, &ignored) == 1 &&
                EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, gcm_tag_size,
                                    out.data() + plaintext.size()) == 1,
            "AES-GCM seal");
    return out;
}

std::optional<Bytes> aes256_gcm_open(ByteView key, ByteView nonce, ByteView aad, ByteView sealed) {
    require(key.size() == 32 && nonce.size() == 12, "AES-GCM parameters");
    if (sealed.size() < gcm_tag_size) return std::nullopt;
    const std::size_t text_size = sealed.size() - gcm_tag_size;
    std::array<std::uint8_t, gcm_tag_size> tag{};
    std::copy(sealed.begin() + static_cast<std::ptrdiff_t>(text_size), sealed.end(), tag.begin());
    EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    require(ctx != nullptr, "EVP_CIPHER_CTX_new");
    Bytes out(text_size + 1);  // never zero-sized, so data() is a valid pointer for OpenSSL
    int written = 0;
    int ignored = 0;
    require(EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) == 1 &&
                EVP_DecryptUpdate(ctx.get(), nullptr, &ignored, aad.data(), int_size(aad.size())) == 1 &&
                EVP_DecryptUpdate(ctx.get(), out.data(), &written, sealed.data(), int_size(text_size)) == 1 &&
                EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, gcm_tag_size, tag.data()) == 1,
            "AES-GCM open");
    // A wrong tag is the expected answer for an id minted by another key: not an internal error.
    if (EVP_DecryptFinal_ex(ctx.get(), out.data() + written, &ignored) != 1) return std::nullopt;
    out.resize(text_size);
    return out;
}

SigningKey SigningKey::generate(Algorithm algorithm) {
    if (algorithm == Algorithm::es256) return SigningKey(algorithm, generate_p256());
    EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    require(key != nullptr, "EVP_PKEY_Q_keygen ED25519");
    return SigningKey(algorithm, std::move(key));
}

std::optional<SigningKey> SigningKey::from_private(Algorithm algorithm, ByteView raw) {
    if (raw.size() != coordinate_size) return std::nullopt;
    if (algorithm == Algorithm::eddsa) {
        EvpPkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size()));
        require(key != nullptr, "EVP_PKEY_new_raw_private_key");
        return SigningKey(algorithm, std::move(key));
    }
    // OpenSSL wants the public point alongside the scalar; the credential id only carries the scalar.
    BnPtr scalar(BN_bin2bn(raw.data(), int_size(raw.size()), nullptr));
    EcGroupPtr group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
    require(scalar != nullptr && group != nullptr, "EC group");
    if (BN_is_zero(scalar.get()) || BN_cmp(scalar.get(), EC_GROUP_get0_order(group.get())) >= 0)
        return std::nullopt;
    EcPointPtr point(EC_POINT_new(group.get()));
    std::array<std::uint8_t, 1 + 2 * coordinate_size> encoded{};
    require(point != nullptr &&
                EC_POINT_mul(group.get(), point.get(), scalar.get(), nullptr, nullptr, nullptr) == 1 &&
                EC_POINT_point2oct(group.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED, encoded.data(),
                                   encoded.size(), nullptr) == encoded.size(),
            "EC_POINT_mul");
    EvpPkeyPtr key = p256_from_data(encoded, scalar.get());
    require(key != nullptr, "EVP_PKEY_fromdata key pair");
    return SigningKey(algorithm, std::move(key));
}

Bytes SigningKey::private_raw() const {
    Bytes out(coordinate_size);
    if (algorithm_ == Algorithm::eddsa) {
        std::size_t length = out.size();
        require(EVP_PKEY_get_raw_private_key(key_.get(), out.data(), &length) == 1 && length == out.size(),
                "EVP_PKEY_get_raw_private_key");
        return out;
    }
    BIGNUM* raw = nullptr;
    require(EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) == 1, "EC private key");
    BnPtr scalar(raw);
    require(BN_bn2binpad(scalar.get(), out.data(), int_size(out.size())) == int_size(out.size()),
            "BN_bn2binpad");
    return out;
}

Bytes SigningKey::public_raw() const {
    if (algorithm_ == Algorithm::es256) return ec_public_point(key_.get());
    Bytes out(coordinate_size);
    std::size_t length = out.size();
    require(EVP_PKEY_get_raw_public_key(key_.get(), out.data(), &length) == 1 && length == out.size(),
            "EVP_PKEY_get_raw_public_key");
    return out;
}

Bytes SigningKey::sign(ByteView message) const {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    require(ctx != nullptr, "EVP_MD_CTX_new");
    // Ed25519 hashes internally and takes no digest.
    const EVP_MD* md = algorithm_ == Algorithm::es256 ? EVP_sha256() : nullptr;
    std::size_t length = 0;
    require(EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_.get()) == 1 &&
                EVP_DigestSign(ctx.get(), nullptr, &length, message.data(), message.size()) == 1,
            "EVP_DigestSignInit");
    Bytes signature(length);
    require(EVP_DigestSign(ctx.get(), signature.data(), &length, message.data(), message.size()) == 1,
            "EVP_DigestSign");
    signature.resize(length);
    return signature;
}

EcdhKey EcdhKey::generate() {
    return EcdhKey(generate_p256());
}

Bytes EcdhKey::public_x() const {
    Bytes point = ec_public_point(key_.get());
    point.resize(coordinate_size);
    return point;
}

Bytes EcdhKey::public_y() const {
    Bytes point = ec_public_point(key_.get());
    return {point.begin() + coordinate_size, point.end()};
}

std::optional<Bytes> EcdhKey::shared_x(ByteView peer_x, ByteView peer_y) const {
    if (peer_x.size() != coordinate_size || peer_y.size() != coordinate_size) return std::nullopt;
    Bytes encoded{0x04};
    append(encoded, peer_x);
    append(encoded, peer_y);
    EvpPkeyPtr peer = p256_from_data(encoded, nullptr);
    if (peer == nullptr) return std::nullopt;
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
    require(ctx != nullptr && EVP_PKEY_derive_init(ctx.get()) == 1, "EVP_PKEY_derive_init");
    if (EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) return std::nullopt;
    std::size_t length = 0;
    require(EVP_PKEY_derive(ctx.get(), nullptr, &length) == 1, "EVP_PKEY_derive size");
    Bytes shared(length);
    require(EVP_PKEY_derive(ctx.get(), shared.data(), &length) == 1 && length == coordinate_size,
            "EVP_PKEY_derive");
    shared.resize(length);
    return shared;
}

}  // namespace vfido::crypto
