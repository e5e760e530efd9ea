#include "secret_hash.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <climits>
#include <stdexcept>

#include "base64.hpp"

namespace pp::cognito {

pp::Secret secret_hash(std::string_view username, std::string_view client_id,
                       const pp::Secret& client_secret) {
    if (client_secret.size() > static_cast<std::size_t>(INT_MAX)) {
        throw std::invalid_argument("client secret too long");
    }
    std::string message;
    message.reserve(username.size() + client_id.size());
    message.append(username).append(client_id);

    std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_length = 0;
    const bool ok = HMAC(EVP_sha256(), client_secret.c_str(), static_cast<int>(client_secret.size()),
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         digest.data(), &digest_length) != nullptr;
    pp::Secret encoded = ok ? base64_encode(std::span(digest.data(), digest_length)) : pp::Secret();
    pp::wipe(digest.data(), digest.size());
    if (!ok) throw std::runtime_error("HMAC-SHA256 failed");
    return encoded;
}

}  // namespace pp::cognito
