#include "crypto.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <memory>
#include <stdexcept>

namespace pp {
namespace {

struct MdFree {
    void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};

}  // namespace

void random_fill(std::span<unsigned char> out) {
    if (out.size() > static_cast<std::size_t>(INT_MAX) ||
        RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
        throw std::runtime_error("no randomness");
}

std::string random_bytes(std::size_t n) {
    std::string b(n, '\0');
    random_fill(std::span(reinterpret_cast<unsigned char*>(b.data()), b.size()));
    return b;
}

const EVP_MD* sha256_md() {
    static const std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    return md.get();
}

Sha256Digest sha256(std::string_view data) {
    Sha256Digest d{};
    unsigned int n = 0;
    const EVP_MD* md = sha256_md();
    if (md == nullptr || EVP_Digest(data.data(), data.size(), d.data(), &n, md, nullptr) != 1 ||
        n != d.size())
        throw std::runtime_error("SHA-256 failed");
    return d;
}

std::string sha256_bytes(std::string_view data) {
    const Sha256Digest d = sha256(data);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace pp
