#include "transaction.hpp"

#include <openssl/crypto.h>

#include <array>
#include <stdexcept>

#include "base64.hpp"
#include "crypto.hpp"
#include "pool_types.hpp"
#include "text.hpp"

namespace pp::helper::browser {
namespace {

constexpr std::size_t kRandomBytes = 32;  // the verifier (RFC 7636 §4.1: 43 characters)

bool is_unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// base64url of n random bytes (common/crypto.hpp), straight into a Secret.
pp::Secret random_base64url() {
    std::array<unsigned char, kRandomBytes> bytes{};
    pp::random_fill(bytes);
    pp::Secret encoded(
        pp::base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())));
    pp::wipe(bytes.data(), bytes.size());
    return encoded;
}

void check_label_field(std::string_view value, const char* what) {
    if (value.empty() || value.size() > kMaxLabelField || pp::text::has_control_characters(value) ||
        !pp::text::printable_utf8(value, kMaxLabelField))
        throw std::invalid_argument(std::string("browser sign-in: unusable ") + what);
}

void check_label(std::string_view host, std::string_view pam_user, std::int64_t exp) {
    check_label_field(host, "host name");
    check_label_field(pam_user, "user name");
    if (exp < 0) throw std::invalid_argument("browser sign-in: unusable expiry");
}

// RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E, at least one.
bool is_scope_token(std::string_view s) {
    if (s.empty()) return false;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e || u == 0x22 || u == 0x5c) return false;
    }
    return true;
}

bool equal_constant_time(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string percent_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (const char c : text) {
        if (is_unreserved(c)) {
            out.push_back(c);
        } else {
            const auto u = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 0x0f]);
        }
    }
    return out;
}

std::string s256_challenge(std::string_view verifier) {
    const pp::Sha256Digest digest = pp::sha256(verifier);
    return pp::base64url_encode(
        std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string base36(std::int64_t value) {
    if (value < 0) throw std::invalid_argument("base36: negative");
    static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string out;
    do {
        out.insert(out.begin(), kDigits[value % 36]);
        value /= 36;
    } while (value > 0);
    return out;
}

std::string make_state(std::string_view host, std::string_view pam_user, std::int64_t exp) {
    check_label(host, pam_user, exp);
    std::string label = base36(exp);
    label.append(1, '\n').append(pam_user).append(1, '\n').append(host);
    return std::string(1, kLinkVersion) + pp::base64url_encode(label);
}

std::string make_fragment(std::string_view challenge, std::string_view host, std::string_view pam_user,
                          std::int64_t exp) {
    check_label(host, pam_user, exp);
    std::string fragment(1, kLinkVersion);
    fragment.append(1, '.').append(challenge);
    fragment.append(1, '.').append(base36(exp));
    fragment.append(1, '.').append(pp::base64url_encode(pam_user));
    fragment.append(1, '.').append(pp::base64url_encode(host));
    return fragment;
}

std::optional<std::string> normalise_code(std::string_view typed) {
    if (typed.size() > kMaxTypedCode) return std::nullopt;
    std::string code;
    for (const char c : typed) {
        if (is_ascii_space(c)) continue;
        const auto u = static_cast<unsigned char>(c);
        // Controls, DEL and every byte above ASCII: no code the callback page shows is made of them.
        if (pp::text::is_control(c) || u > 0x7e) return std::nullopt;
        code.push_back(c);
    }
    if (code.empty() || code.size() > kMaxCode) return std::nullopt;
    if (code.size() == 32) {
        bool all_hex = true;
        for (const char c : code) all_hex = all_hex && is_hex_digit(c);
        if (all_hex) {
            code.insert(20, 1, '-');
            code.insert(16, 1, '-');
            code.insert(12, 1, '-');
            code.insert(8, 1, '-');
        }
    }
    return code;
}

std::string_view refusal_text(ClaimRefusal reason) {
    switch (reason) {
        case ClaimRefusal::Ended:
            return "the browser sign-in has ended";
        case ClaimRefusal::Expired:
            return "the browser sign-in has expired";
        case ClaimRefusal::NonceMissing:
            return "the ID token has no nonce";
        case ClaimRefusal::NonceMismatch:
            return "the ID token's nonce is not this sign-in's";
        case ClaimRefusal::AuthTimeMissing:
            return "the ID token has no auth_time";
        case ClaimRefusal::AuthTimeBeforeStart:
            return "the ID token's sign-in is older than this sign-in attempt";
    }
    return "unknown refusal";
}

Transaction Transaction::start(std::string_view host, std::string_view pam_user, std::int64_t now,
                               std::int64_t lifetime) {
    if (lifetime <= 0) throw std::invalid_argument("browser sign-in: lifetime must be positive");
    Transaction t;
    t.started_ = now;
    t.expires_ = now + lifetime;
    t.state_ = make_state(host, pam_user, t.expires_);
    t.verifier_ = random_base64url();
    t.challenge_ = s256_challenge(t.verifier_.view());
    t.fragment_ = make_fragment(t.challenge_, host, pam_user, t.expires_);
    return t;
}

std::string Transaction::authorize_url(std::string_view domain, std::string_view client_id,
                                       std::string_view redirect_uri,
                                       std::span<const std::string> scopes) const {
    if (ended()) throw std::logic_error("browser sign-in: transaction has ended");
    // The rule pool.json's domain is held to (pool_types.hpp): a host name and an optional :port, nothing
    // that could end the authority and move the request elsewhere ('/', '?', '#', '@').
    if (!cognito::callback_domain_ok(domain))
        throw std::invalid_argument("browser sign-in: unusable user-pool domain");
    if (client_id.empty() || redirect_uri.empty())
        throw std::invalid_argument("browser sign-in: client id and redirect URI are needed");
    if (scopes.empty()) throw std::invalid_argument("browser sign-in: no scope");
    std::string scope;
    for (const std::string& s : scopes) {
        if (!is_scope_token(s)) throw std::invalid_argument("browser sign-in: unusable scope");
        if (!scope.empty()) scope.push_back(' ');
        scope.append(s);
    }
    std::string url = "https://";
    url.append(domain).append("/oauth2/authorize?response_type=code");
    url.append("&client_id=").append(percent_encode(client_id));
    url.append("&redirect_uri=").append(percent_encode(redirect_uri));
    url.append("&scope=").append(percent_encode(scope));
    url.append("&state=").append(percent_encode(state_));
    url.append("&nonce=").append(percent_encode(challenge_));  // the nonce is the challenge
    url.append("&code_challenge=").append(percent_encode(challenge_));
    url.append("&code_challenge_method=S256&prompt=login");
    return url;
}

std::string Transaction::short_link(std::string_view redirect_uri) const {
    if (ended()) throw std::logic_error("browser sign-in: transaction has ended");
    if (redirect_uri.empty() || redirect_uri.find('#') != std::string_view::npos)
        throw std::invalid_argument("browser sign-in: unusable redirect URI for a short link");
    std::string link(redirect_uri);
    link.append(1, '#').append(fragment_);
    return link;
}

pp::Secret Transaction::token_request_body(std::string_view code, std::string_view redirect_uri,
                                           std::string_view client_id) const {
    if (ended()) throw std::logic_error("browser sign-in: transaction has ended");
    if (code.empty() || redirect_uri.empty() || client_id.empty())
        throw std::invalid_argument("browser sign-in: code, redirect URI and client id are needed");
    pp::Secret body;
    body.reserve(64 + 3 * (code.size() + redirect_uri.size() + client_id.size() + verifier_.size()));
    body.append("grant_type=authorization_code&code=");
    body.append(percent_encode(code));
    body.append("&redirect_uri=");
    body.append(percent_encode(redirect_uri));
    body.append("&client_id=");
    body.append(percent_encode(client_id));
    body.append("&code_verifier=");
    body.append(verifier_.view());  // base64url: only unreserved characters, nothing to encode
    return body;
}

bool Transaction::expired(std::int64_t now) const noexcept {
    return ended() || now >= expires_;
}

std::optional<ClaimRefusal> Transaction::check_id_token_claims(const cognito::IdClaims& claims,
                                                               std::optional<std::int64_t> auth_time,
                                                               std::int64_t now) const {
    if (ended()) return ClaimRefusal::Ended;
    if (expired(now)) return ClaimRefusal::Expired;
    const auto nonce = claims.strings.find("nonce");
    if (nonce == claims.strings.end()) return ClaimRefusal::NonceMissing;
    if (!equal_constant_time(nonce->second, challenge_)) return ClaimRefusal::NonceMismatch;
    if (!auth_time) return ClaimRefusal::AuthTimeMissing;
    if (*auth_time < started_) return ClaimRefusal::AuthTimeBeforeStart;
    return std::nullopt;
}

void Transaction::end() noexcept {
    verifier_.clear();
}

}  // namespace pp::helper::browser
