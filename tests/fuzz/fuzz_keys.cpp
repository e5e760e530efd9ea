// Fixed test keys. Seeds signed once with them (seed_corpus.cpp) verify in every later run, so the fuzzer
// starts from inputs that pass the signature checks and explores what lies behind them.
#include "fuzz_keys.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include <stdexcept>
#include <vector>

#include "base64.hpp"

namespace pp::fuzz {
namespace {

// Made with `openssl genpkey` for these tests alone; they guard nothing.
constexpr const char* kRsaPem = R"(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDwJLQlVa/v9QQP
D4u6VFQ9qUe2p3Pa5fr4uOBo9/7wGa0QoRgb5ot3e/nfL02kHWfXNoHGjuy5UEQm
9kyTt1KmiLCZIuNo7HATnV3jKD4BlmH/mC3pVQF4XVNdb8fUhJ4EU3efo28XFGx2
4YEd01sMz/NIlgs/g5o9DQL7wlVsu/FcdMI0UQCE6KsDmClXUxJ1dMybLXcg4QG6
SSpaIs0FQ1tL4F96SZgY3Zy1dkSh4/AP0ruXVZNLc4nRwsjmmvzMhzS2fke84j7D
xg2Fh5ow3BFCwJ0AEKxjf257RexLGXuhktcuraKrvmYdT86KLds8zIf4L3a0Pe23
Vj4h7dNZAgMBAAECggEAA0jdPFPk6VyDYH/CVegbxt274PmyK5Pqg0bNri6slzTv
f9y6nn15+hM0b1ZCss31wtg4ajJzEA3TANCgBFBrmi+G16SS67dGlfeyQw5X2saA
/9f7BZTOElfK17chsPx0LnPENrP4XwTYGIz5ESL4I3K5gL92PYYofYR7pMOBtTaa
5X960xwqquIk5Xd7BxDSagEwyLx7EdcB7C8a4jFJLa+MIMIoN3N+RkeCdROLMxQ8
ZlI59lce064vqsX3qusGUeoEye4oOFNVbxMgg5XZNSFp7gkBX1i9O+J6ykQH56tU
O5zzz2JzqmwbSS283u7mOTLf4wxJvUZz/MyK8VHySQKBgQD8LRcN84qyUMKsaboX
st9oSTINsRh3aRD+4BKzmPjDKeZteUQjZcR0XVGJpsXCWY/c/WJUcV93ro4fRoY8
pY0du0/wgq0Zes4t8WP4xML7uZP2rgc966eYRkwJ91CUScN9bs5ZPopUzw3xFoml
TKqN4asvyHDCphc8d1EGIEJl/wKBgQDzyOd+R7A1HWmR9fJ9cCzfoIzjJc7qCT1m
z2jhFEdZFjcOaA/ni0r1TdRJ84BWWk9s7gxAmoOnb5kt9DVW4dAseo7MRUDb/EtP
TkgnK3lXIeKWzBbezs9EXxTtf5yI3nwPorjGuTr+VWLcYnDQSc05c33LA7bwYbdL
rjg9wea2pwKBgAHT5dXhDQFL2o1bWtDvJ/VeinFU9kNvTIM8ZoZMtojbleL3PQow
o6LgRkYEImzNL2C/qWXJSJLafgc2AKUR4hr0D5lDqTOFE1d752iXLH6ckrj3++9z
9MwCvmxYEYpxmmwfUHmPHXuN4KD9s9Ox4Y6TsyTug/q1L3ftuXWc6D5LAoGAWF8S
s68vDAIOe+/JKHmaerJLgCf7etFApd036qecOYoZCSrl4QyYbpX5B5mygxsXwagF
XwHkCbUltQfashUHjqgazaepHFW3wxbghvp2cQSCjCGNhNU5Q1KoVnO0/dSQ6mYV
T0xkO0Aepz80H/0w3Mul5QsCrN7vQAr2rkR06u8CgYEA9y4XSTuG90kuUHTBVEyr
VGcALtJrXmbinWlnMtSmEi9Cu0jm4OlnyUEPItYOor7NXARhBlPZstJjUiqAASh/
WQf8bA+37fOt4akS9XQ+mFBxV0Chf1nulmd7z3wOduWB9Nc7iqie7dmhpRttnuyN
e52KoT1EYDVZZd1BV/PHsDM=
-----END PRIVATE KEY-----
)";
constexpr const char* kP256Pem = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSueIcsgGxrLVeRv5
FU2TPobvYMiylkY3PCLfZ/+PuaGhRANCAAQgYlfihGthRM91xitFoQxTjhXnNh10
Q+bX5SvoGIUUR6hQogpTo8ONNdgxbXxxam/B52k4WJbcy2IukMmUAsr+
-----END PRIVATE KEY-----
)";
constexpr const char* kEd25519Pem = R"(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIBi5xni18EphBpzGXXTIv011Vu1X/3jPZKdGx+VaKM/3
-----END PRIVATE KEY-----
)";

EVP_PKEY* load(const char* pem) {
    BIO* bio = BIO_new_mem_buf(pem, -1);
    if (bio == nullptr) throw std::runtime_error("BIO_new_mem_buf");
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (key == nullptr) throw std::runtime_error("PEM_read_bio_PrivateKey");
    return key;
}

std::string big_endian(EVP_PKEY* key, const char* name) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error("EVP_PKEY_get_bn_param");
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
}

}  // namespace

std::string client_data_hash() {
    return std::string(32, '\x5a');
}

// Loaded once and kept for the life of the process: fuzz targets run millions of inputs.
EVP_PKEY* rsa_key() {
    static EVP_PKEY* const key = load(kRsaPem);
    return key;
}

EVP_PKEY* p256_key() {
    static EVP_PKEY* const key = load(kP256Pem);
    return key;
}

EVP_PKEY* ed25519_key() {
    static EVP_PKEY* const key = load(kEd25519Pem);
    return key;
}

std::string jwk() {
    return R"({"kty":"RSA","alg":"RS256","use":"sig","kid":")" + std::string(kKid) + R"(","n":")" +
           base64url_encode(big_endian(rsa_key(), OSSL_PKEY_PARAM_RSA_N)) + R"(","e":")" +
           base64url_encode(big_endian(rsa_key(), OSSL_PKEY_PARAM_RSA_E)) + R"("})";
}

std::string jwks() {
    return R"({"keys":[)" + jwk() + "]}";
}

std::string raw_public_key(helper::KeyAlgorithm alg) {
    if (alg == helper::KeyAlgorithm::EdDsa) {
        std::string out(32, '\0');
        std::size_t n = out.size();
        if (EVP_PKEY_get_raw_public_key(ed25519_key(), reinterpret_cast<unsigned char*>(out.data()), &n) !=
                1 ||
            n != 32)
            throw std::runtime_error("EVP_PKEY_get_raw_public_key");
        return out;
    }
    // The uncompressed point 0x04||x||y; libfido2 keeps x||y.
    std::string point(65, '\0');
    std::size_t n = 0;
    if (EVP_PKEY_get_octet_string_param(p256_key(), OSSL_PKEY_PARAM_PUB_KEY,
                                        reinterpret_cast<unsigned char*>(point.data()), point.size(),
                                        &n) != 1 ||
        n != 65)
        throw std::runtime_error("EVP_PKEY_get_octet_string_param");
    return point.substr(1);
}

}  // namespace pp::fuzz
