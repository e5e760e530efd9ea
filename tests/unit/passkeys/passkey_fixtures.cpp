#include "passkey_fixtures.hpp"

#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace pp::helper::test {
namespace {

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("openssl: ") + what);
}

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

struct OsslFree {
    void operator()(X509* p) const noexcept { X509_free(p); }
    void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};

}  // namespace

std::string sha256(std::string_view data) {
    std::array<unsigned char, 32> out{};
    unsigned int n = 0;
    check(EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr) == 1, "digest");
    return {reinterpret_cast<const char*>(out.data()), n};
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    check(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1, "rand");
    return out;
}

std::string base64(std::string_view in) {
    std::string out((in.size() + 2) / 3 * 4 + 1, '\0');
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(in), static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string base64url(std::string_view in) {
    std::string out = base64(in);
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return out;
}

std::string hex(std::string_view in) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    for (const char c : in) {
        out.push_back(digits[static_cast<unsigned char>(c) >> 4]);
        out.push_back(digits[static_cast<unsigned char>(c) & 0xF]);
    }
    return out;
}

TestKey TestKey::p256() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    check(key != nullptr, "P-256 keygen");
    return TestKey(KeyAlgorithm::Es256, key);
}

TestKey TestKey::ed25519() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    check(key != nullptr, "Ed25519 keygen");
    return TestKey(KeyAlgorithm::EdDsa, key);
}

std::string TestKey::public_key() const {
    std::array<unsigned char, 65> buf{};
    std::size_t n = 0;
    if (alg_ == KeyAlgorithm::Es256) {
        check(EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, buf.data(), buf.size(),
                                              &n) == 1 &&
                  n == 65 && buf[0] == 0x04,
              "P-256 public key");
        return {reinterpret_cast<const char*>(buf.data()) + 1, 64};
    }
    n = buf.size();
    check(EVP_PKEY_get_raw_public_key(key_.get(), buf.data(), &n) == 1 && n == 32, "Ed25519 public key");
    return {reinterpret_cast<const char*>(buf.data()), n};
}

std::string TestKey::cose_key() const {
    const std::string pk = public_key();
    if (alg_ == KeyAlgorithm::Es256) {
        // {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}
        return std::string("\xa5\x01\x02\x03\x26\x20\x01\x21\x58\x20", 10) + pk.substr(0, 32) +
               "\x22\x58\x20" + pk.substr(32);
    }
    // {1: 1 (OKP), 3: -8 (EdDSA), -1: 6 (Ed25519), -2: x}
    return std::string("\xa4\x01\x01\x03\x27\x20\x06\x21\x58\x20", 10) + pk;
}

std::string TestKey::sign(std::string_view message) const {
    const std::unique_ptr<EVP_MD_CTX, OsslFree> ctx(EVP_MD_CTX_new());
    check(ctx != nullptr, "md ctx");
    const EVP_MD* md = alg_ == KeyAlgorithm::Es256 ? EVP_sha256() : nullptr;
    check(EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_.get()) == 1, "sign init");
    std::size_t n = 0;
    check(EVP_DigestSign(ctx.get(), nullptr, &n, bytes(message), message.size()) == 1, "sign size");
    std::string sig(n, '\0');
    check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n, bytes(message),
                         message.size()) == 1,
          "sign");
    sig.resize(n);
    return sig;
}

std::string TestKey::self_signed_certificate() const {
    const std::unique_ptr<X509, OsslFree> cert(X509_new());
    check(cert != nullptr, "x509");
    X509_NAME* name = X509_get_subject_name(cert.get());
    check(
        X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600) != nullptr &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, bytes("test attestation"), -1, -1, 0) == 1 &&
            X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key_.get()) == 1 &&
            X509_sign(cert.get(), key_.get(), alg_ == KeyAlgorithm::Es256 ? EVP_sha256() : nullptr) > 0,
        "certificate");
    const int n = i2d_X509(cert.get(), nullptr);
    check(n > 0, "certificate size");
    std::string der(static_cast<std::size_t>(n), '\0');
    auto* p = reinterpret_cast<unsigned char*>(der.data());
    check(i2d_X509(cert.get(), &p) == n, "certificate encoding");
    return der;
}

std::string cbor_bytes(std::string_view raw) {
    std::string out;
    const std::size_t n = raw.size();
    if (n < 24) {
        out.push_back(static_cast<char>(0x40 | n));
    } else if (n < 0x100) {
        out.push_back('\x58');
        out.push_back(static_cast<char>(n));
    } else {
        out.push_back('\x59');
        out.push_back(static_cast<char>(n >> 8));
        out.push_back(static_cast<char>(n & 0xFF));
    }
    out += raw;
    return out;
}

std::string raw_auth_data(std::string_view rp_id, std::uint8_t flags, std::uint32_t counter,
                          std::string_view rest) {
    std::string out = sha256(rp_id);
    out.push_back(static_cast<char>(flags));
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((counter >> shift) & 0xFF));
    out += rest;
    return out;
}

std::string attested_credential(std::string_view cred_id, const TestKey& key) {
    std::string out(16, '\0');
    out.push_back(static_cast<char>(cred_id.size() >> 8));
    out.push_back(static_cast<char>(cred_id.size() & 0xFF));
    out += cred_id;
    out += key.cose_key();
    return out;
}

}  // namespace pp::helper::test
