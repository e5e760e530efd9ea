#include "software_authenticator.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <stdexcept>

namespace pp::cognito::test {
namespace {

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("openssl: ") + what);
}

struct Free {
    void operator()(BIO* p) const noexcept { BIO_free(p); }
    void operator()(X509* p) const noexcept { X509_free(p); }
    void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
    void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

std::string hex(std::string_view bytes) {
    static constexpr std::string_view digits = "0123456789ABCDEF";
    std::string out;
    for (const char c : bytes) {
        if (!out.empty()) out.push_back(':');
        out.push_back(digits[static_cast<unsigned char>(c) >> 4]);
        out.push_back(digits[static_cast<unsigned char>(c) & 0xF]);
    }
    return out;
}

void add_extension(X509* cert, X509V3_CTX* ctx, const char* name, const std::string& value) {
    const Owned<X509_EXTENSION> ext(X509V3_EXT_nconf(nullptr, ctx, name, value.c_str()));
    check(ext && X509_add_ext(cert, ext.get(), -1) == 1, "certificate extension");
}

}  // namespace

std::string sha256(std::string_view data) {
    std::array<unsigned char, 32> out{};
    unsigned int n = 0;
    check(EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr) == 1, "digest");
    return {reinterpret_cast<const char*>(out.data()), n};
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    check(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1, "random");
    return out;
}

std::string cbor_head(unsigned major, std::uint64_t argument) {
    std::string out;
    const auto initial = [&](unsigned info) { out.push_back(static_cast<char>((major << 5) | info)); };
    if (argument < 24) {
        initial(static_cast<unsigned>(argument));
        return out;
    }
    int bytes = 8;
    if (argument < 0x100) {
        initial(24);
        bytes = 1;
    } else if (argument < 0x10000) {
        initial(25);
        bytes = 2;
    } else if (argument < 0x100000000) {
        initial(26);
        bytes = 4;
    } else {
        initial(27);
    }
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(argument >> (8 * i)));
    return out;
}

std::string cbor_bytes(std::string_view raw) {
    return cbor_head(2, raw.size()) + std::string(raw);
}

P256Key::P256Key() : key_(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")) {
    check(key_ != nullptr, "P-256 key generation");
}

P256Key P256Key::from_pem(const std::string& private_pem) {
    const Owned<BIO> bio(BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())));
    check(bio != nullptr, "BIO");
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    check(key != nullptr, "reading a private key");
    return P256Key(key);
}

std::string P256Key::private_pem() const {
    const Owned<BIO> bio(BIO_new(BIO_s_mem()));
    check(bio && PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "writing a private key");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(size)};
}

std::string P256Key::raw_public_key() const {
    std::array<unsigned char, 65> point{};
    std::size_t size = 0;
    check(EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(),
                                          &size) == 1 &&
              size == 65 && point[0] == 0x04,
          "public point");
    return {reinterpret_cast<const char*>(point.data()) + 1, 64};
}

std::string P256Key::cose_key() const {
    const std::string xy = raw_public_key();
    return cbor_head(5, 5) +                                 // map of 5
           cbor_head(0, 1) + cbor_head(0, 2) +               // kty: EC2
           cbor_head(0, 3) + cbor_head(1, 6) +               // alg: -7 (ES256)
           cbor_head(1, 0) + cbor_head(0, 1) +               // crv (-1): P-256
           cbor_head(1, 1) + cbor_bytes(xy.substr(0, 32)) +  // x (-2)
           cbor_head(1, 2) + cbor_bytes(xy.substr(32, 32));  // y (-3)
}

std::string P256Key::sign(std::string_view message) const {
    const Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    std::size_t size = 0;
    check(ctx && EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
              EVP_DigestSign(ctx.get(), nullptr, &size,
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1,
          "sign init");
    std::string signature(size, '\0');
    check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1,
          "sign");
    signature.resize(size);
    return signature;
}

std::string P256Key::attestation_certificate(std::string_view aaguid) const {
    const Owned<X509> cert(X509_new());
    check(cert && X509_set_version(cert.get(), X509_VERSION_3) == 1, "certificate");
    check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1, "serial");
    check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) &&
              X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400),
          "validity");
    X509_NAME* name = X509_get_subject_name(cert.get());
    for (const auto& [field, value] : {std::pair{"C", "DE"},
                                       {"O", "pam_passwordless tests"},
                                       {"OU", "Authenticator Attestation"},
                                       {"CN", "Software Authenticator"}}) {
        check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC,
                                         reinterpret_cast<const unsigned char*>(value), -1, -1, 0) == 1,
              "subject");
    }
    check(X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key_.get()) == 1,
          "issuer");
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    add_extension(cert.get(), &ctx, "basicConstraints", "critical,CA:FALSE");
    // id-fido-gen-ce-aaguid: an OCTET STRING holding the 16-byte AAGUID.
    add_extension(cert.get(), &ctx, "1.3.6.1.4.1.45724.1.1.4", "DER:04:10:" + hex(aaguid));
    check(X509_sign(cert.get(), key_.get(), EVP_sha256()) > 0, "certificate signature");
    const int size = i2d_X509(cert.get(), nullptr);
    check(size > 0, "certificate encoding");
    std::string der(static_cast<std::size_t>(size), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    check(i2d_X509(cert.get(), &out) == size, "certificate encoding");
    return der;
}

std::string attested_credential_data(std::string_view aaguid, std::string_view cred_id,
                                     std::string_view cose_key) {
    if (aaguid.size() != 16 || cred_id.size() > 0xFFFF)
        throw std::invalid_argument("attested credential data");
    std::string out(aaguid);
    out.push_back(static_cast<char>(cred_id.size() >> 8));
    out.push_back(static_cast<char>(cred_id.size() & 0xFF));
    out.append(cred_id).append(cose_key);
    return out;
}

std::string authenticator_data(std::string_view rp_id, std::uint8_t flags, std::uint32_t counter,
                               std::string_view attested) {
    std::string out = sha256(rp_id);
    out.push_back(static_cast<char>(flags));
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(counter >> (8 * i)));
    out.append(attested);
    return out;
}

}  // namespace pp::cognito::test
