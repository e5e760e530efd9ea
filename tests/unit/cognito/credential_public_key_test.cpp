#include "credential_public_key.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <memory>
#include <stdexcept>

#include "software_authenticator.hpp"

namespace pp::cognito {
using namespace pp::webauthn;
namespace {

struct Free {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Free>;

PKey parse_spki(const std::string& der) {
    const auto* in = reinterpret_cast<const unsigned char*>(der.data());
    PKey key(d2i_PUBKEY(nullptr, &in, static_cast<long>(der.size())));
    // All of it is one SubjectPublicKeyInfo.
    if (key && in != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) return nullptr;
    return key;
}

TEST(CredentialPublicKey, Es256RawBecomesSpkiOfTheSamePoint) {
    const test::P256Key key;
    const std::string der = spki_from_fido_public_key(cose_es256, key.raw_public_key());
    // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING 04||x||y }: 91 bytes.
    ASSERT_EQ(der.size(), 91u);
    const PKey parsed = parse_spki(der);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(EVP_PKEY_get_base_id(parsed.get()), EVP_PKEY_EC);
    std::array<char, 32> group{};
    std::size_t length = 0;
    ASSERT_EQ(EVP_PKEY_get_utf8_string_param(parsed.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.data(),
                                             group.size(), &length),
              1);
    EXPECT_EQ(std::string(group.data(), length), "prime256v1");
    std::array<unsigned char, 65> point{};
    ASSERT_EQ(EVP_PKEY_get_octet_string_param(parsed.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                              point.size(), &length),
              1);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(point.data()) + 1, 64), key.raw_public_key());
}

TEST(CredentialPublicKey, Rs256RawBecomesSpkiOfTheSameKey) {
    const PKey rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
    ASSERT_TRUE(rsa);
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(rsa.get(), OSSL_PKEY_PARAM_RSA_N, &n), 1);
    ASSERT_EQ(EVP_PKEY_get_bn_param(rsa.get(), OSSL_PKEY_PARAM_RSA_E, &e), 1);
    std::string raw(259, '\0');
    ASSERT_EQ(BN_bn2binpad(n, reinterpret_cast<unsigned char*>(raw.data()), 256), 256);
    ASSERT_EQ(BN_bn2binpad(e, reinterpret_cast<unsigned char*>(raw.data()) + 256, 3), 3);
    BN_free(n);
    BN_free(e);

    const PKey parsed = parse_spki(spki_from_fido_public_key(cose_rs256, raw));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(EVP_PKEY_eq(parsed.get(), rsa.get()), 1);
}

TEST(CredentialPublicKey, RefusesWhatIsNoKey) {
    const std::string xy = test::P256Key().raw_public_key();
    EXPECT_THROW(spki_from_fido_public_key(cose_es256, xy.substr(0, 63)), std::invalid_argument);
    EXPECT_THROW(spki_from_fido_public_key(cose_es256, xy + "x"), std::invalid_argument);
    EXPECT_THROW(spki_from_fido_public_key(cose_es256, "\x04" + xy.substr(0, 63)), std::invalid_argument)
        << "SEC 1 form is not libfido2's";
    std::string off_curve = xy;
    off_curve[63] = static_cast<char>(off_curve[63] ^ 1);
    EXPECT_THROW(spki_from_fido_public_key(cose_es256, off_curve), std::invalid_argument);
    EXPECT_THROW(spki_from_fido_public_key(cose_es256, std::string(64, '\0')), std::invalid_argument);
    EXPECT_THROW(spki_from_fido_public_key(-8, std::string(32, 'k')), std::invalid_argument) << "EdDSA";
    EXPECT_THROW(spki_from_fido_public_key(cose_rs256, std::string(258, '\x01')), std::invalid_argument);
    std::string even_modulus(259, '\xff');
    even_modulus[255] = '\xfe';
    EXPECT_THROW(spki_from_fido_public_key(cose_rs256, even_modulus), std::invalid_argument);
    std::string short_modulus(259, '\x01');
    short_modulus[0] = '\0';
    EXPECT_THROW(spki_from_fido_public_key(cose_rs256, short_modulus), std::invalid_argument);
}

}  // namespace
}  // namespace pp::cognito
