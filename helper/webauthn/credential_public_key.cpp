#include "credential_public_key.hpp"

#include <openssl/core_names.h>
#include <openssl/x509.h>

#include <new>
#include <stdexcept>

#include "openssl_owners.hpp"

namespace pp::webauthn {

namespace ossl = cognito::ossl;

namespace {

constexpr std::size_t es256_coordinate_bytes = 32;
constexpr std::size_t rs256_modulus_bytes = 256;
constexpr std::size_t rs256_exponent_bytes = 3;

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

ossl::PKey from_params(const char* type, OSSL_PARAM_BLD* builder) {
    const ossl::Params params(OSSL_PARAM_BLD_to_param(builder));
    const ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!params || !ctx) throw std::bad_alloc();
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        throw std::invalid_argument("credential public key refused by OpenSSL");
    }
    ossl::PKey key(raw);
    // fromdata does not check that an EC point lies on the curve, nor that an RSA key is sane.
    const ossl::PKeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check) throw std::bad_alloc();
    if (EVP_PKEY_public_check(check.get()) != 1)
        throw std::invalid_argument("credential public key is invalid");
    return key;
}

ossl::PKey es256_key(std::string_view xy) {
    if (xy.size() != 2 * es256_coordinate_bytes) throw std::invalid_argument("ES256 key is not 64 bytes");
    std::string point(1, '\x04');  // SEC 1 uncompressed form
    point.append(xy);
    const ossl::ParamBuilder builder(OSSL_PARAM_BLD_new());
    if (!builder) throw std::bad_alloc();
    static char group[] = "prime256v1";
    if (OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        throw std::bad_alloc();
    }
    return from_params("EC", builder.get());
}

ossl::PKey rs256_key(std::string_view raw) {
    if (raw.size() != rs256_modulus_bytes + rs256_exponent_bytes) {
        throw std::invalid_argument("RS256 key is not 259 bytes");
    }
    // A modulus with a zero top byte is not the 2048-bit key the layout is for.
    if (raw[0] == '\0') throw std::invalid_argument("RS256 modulus is short");
    const ossl::BigNum n(BN_bin2bn(bytes(raw), static_cast<int>(rs256_modulus_bytes), nullptr));
    const ossl::BigNum e(
        BN_bin2bn(bytes(raw.substr(rs256_modulus_bytes)), static_cast<int>(rs256_exponent_bytes), nullptr));
    const ossl::ParamBuilder builder(OSSL_PARAM_BLD_new());
    if (!n || !e || !builder) throw std::bad_alloc();
    if (OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        throw std::bad_alloc();
    }
    return from_params("RSA", builder.get());
}

}  // namespace

std::string spki_from_fido_public_key(int cose_alg, std::string_view raw) {
    ossl::PKey key;
    if (cose_alg == cose_es256) {
        key = es256_key(raw);
    } else if (cose_alg == cose_rs256) {
        key = rs256_key(raw);
    } else {
        throw std::invalid_argument("credential algorithm is neither ES256 nor RS256");
    }
    const int size = i2d_PUBKEY(key.get(), nullptr);
    if (size <= 0) throw std::invalid_argument("credential public key cannot be encoded");
    std::string der(static_cast<std::size_t>(size), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_PUBKEY(key.get(), &out) != size)
        throw std::invalid_argument("credential public key cannot be encoded");
    return der;
}

}  // namespace pp::webauthn
