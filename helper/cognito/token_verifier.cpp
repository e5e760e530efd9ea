#include "token_verifier.hpp"

#include <json-c/json.h>

#include <stdexcept>
#include <utility>

#include "base64.hpp"
#include "json_document.hpp"
#include "json_web_key_set.hpp"
#include "service_error.hpp"

namespace pp::cognito {
namespace {

constexpr std::chrono::seconds max_allowed_skew = std::chrono::hours(24);

std::int64_t system_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Returns the key id. The algorithm is pinned to RS256 before any key is looked up, so neither "none" nor an
// HMAC keyed with the public key's bytes can pass as a signature.
std::string read_header(std::string_view header) {
    try {
        const json::Document doc = json::parse_object(header);
        if (json::string_member(doc.get(), "alg") != "RS256") throw TokenError("token alg is not RS256");
        // We implement no JWS extensions, so any critical one must be refused (RFC 7515 §4.1.11).
        json_object* crit = nullptr;
        if (json_object_object_get_ex(doc.get(), "crit", &crit)) {
            throw TokenError("token header has critical extensions");
        }
        const auto kid = json::string_member(doc.get(), "kid");
        if (!kid || kid->empty()) throw TokenError("token header has no key id");
        return std::string(*kid);
    } catch (const json::Error& e) {
        throw TokenError(std::string("token header: ") + e.what());
    }
}

}  // namespace

TokenVerifier::TokenVerifier(std::string issuer, std::string client_id,
                             std::function<std::string(Deadline)> fetch_jwks, std::chrono::seconds max_skew,
                             std::function<std::int64_t()> now_unix)
    : issuer_(std::move(issuer)),
      client_id_(std::move(client_id)),
      fetch_jwks_(std::move(fetch_jwks)),
      skew_(max_skew.count()),
      now_unix_(now_unix ? std::move(now_unix) : std::function<std::int64_t()>(system_now)) {
    if (issuer_.empty() || client_id_.empty() || !fetch_jwks_) {
        throw std::invalid_argument("TokenVerifier needs an issuer, a client id and a JWKS source");
    }
    if (max_skew.count() < 0 || max_skew > max_allowed_skew) {
        throw std::invalid_argument("clock skew out of range");
    }
}

TokenVerifier::TokenVerifier(std::string issuer, std::string client_id, Pinned pinned,
                             std::chrono::seconds max_skew, std::function<std::int64_t()> now_unix)
    : issuer_(std::move(issuer)),
      client_id_(std::move(client_id)),
      skew_(max_skew.count()),
      now_unix_(now_unix ? std::move(now_unix) : std::function<std::int64_t()>(system_now)),
      pinned_(std::move(pinned.keys)) {
    if (issuer_.empty() || client_id_.empty() || !pinned_ || pinned_->size() == 0) {
        throw std::invalid_argument("TokenVerifier needs an issuer, a client id and at least one pinned key");
    }
    if (max_skew.count() < 0 || max_skew > max_allowed_skew) {
        throw std::invalid_argument("clock skew out of range");
    }
}

TokenVerifier::~TokenVerifier() = default;

IdClaims TokenVerifier::verify_id_token(std::string_view jwt, Deadline deadline) {
    return verify_id_token(jwt, deadline, client_id_);
}

IdClaims TokenVerifier::verify_id_token(std::string_view jwt, Deadline deadline, std::string_view audience) {
    if (audience.empty()) throw std::invalid_argument("verify_id_token needs an audience");
    if (jwt.empty() || jwt.size() > max_token_size) throw TokenError("token is empty or larger than 16 KiB");
    const auto first_dot = jwt.find('.');
    const auto second_dot = first_dot == std::string_view::npos ? first_dot : jwt.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos || jwt.find('.', second_dot + 1) != std::string_view::npos) {
        throw TokenError("token is not three dot-separated parts");
    }
    const auto header = base64url_decode(jwt.substr(0, first_dot));
    const auto payload = base64url_decode(jwt.substr(first_dot + 1, second_dot - first_dot - 1));
    const auto signature = base64url_decode(jwt.substr(second_dot + 1));
    if (!header || !payload || !signature) throw TokenError("token part is not canonical base64url");

    const std::string kid = read_header(*header);
    if (signature->empty()) throw TokenError("token is unsigned");
    const std::shared_ptr<const JsonWebKeySet> keys = keys_with(kid, *payload, deadline);
    if (!keys->verifies_rs256(kid, jwt.substr(0, second_dot), *signature)) {
        throw TokenError("token signature does not verify");
    }
    return check_id_claims(*payload,
                           {.issuer = issuer_, .client_id = audience, .now = now_unix_(), .skew = skew_});
}

// The token's "iat", read before its signature is checked. It only decides whether a new key may be worth
// downloading; nothing is trusted from it.
std::int64_t TokenVerifier::issued_at_hint(std::string_view payload) {
    try {
        const json::Document doc = json::parse_object(payload);
        json_object* iat = json_object_object_get(doc.get(), "iat");
        if (iat != nullptr && json_object_is_type(iat, json_type_int)) return json_object_get_int64(iat);
    } catch (const std::exception&) {
    }
    return 0;
}

std::shared_ptr<const JsonWebKeySet> TokenVerifier::keys_with(const std::string& kid,
                                                              std::string_view payload, Deadline deadline) {
    if (pinned_) {
        // Refused as a key the pool does not publish is (below): the same PAM code, its own reason.
        if (!pinned_->find(kid))
            throw TokenError("token key id is not among the pinned keys ([pool] jwks_file)");
        return pinned_;
    }
    std::unique_lock lock(mutex_);
    const auto cached = [&] { return keys_ && keys_->find(kid) != nullptr; };
    // A download under way may bring the key; wait for it rather than start another.
    if (!cached() && !download_done_.wait_until(lock, deadline, [this] { return !downloading_; })) {
        throw ServiceError(Failure::Timeout, "", "waiting for the JWKS download");
    }
    if (cached()) return keys_;
    const std::int64_t now = now_unix_();
    // A clock set back counts as the interval having passed; otherwise refetching could stay blocked for
    // long.
    // A token issued no earlier than the last download may be signed with a key published since: it may fetch
    // again at once. Others wait for the interval. (Its "iat" is read only here, where it decides.)
    if (keys_ && now >= last_fetch_ && now - last_fetch_ < refetch_interval &&
        issued_at_hint(payload) < last_fetch_) {
        // The pool may have just rotated its keys and the set was fetched a moment ago: the token is not
        // refused as bad (that would count a right code as a wrong one), the login is only not possible yet.
        throw ServiceError(Failure::ServerError, "",
                           "the token's key id is unknown and the key set was fetched moments ago");
    }
    // Counted from the attempt, so a failing download is not retried by every login either. Until some key
    // set has been read, each login may try: there is nothing to verify with otherwise.
    if (keys_) last_fetch_ = now;
    downloading_ = true;
    lock.unlock();

    std::shared_ptr<const JsonWebKeySet> fresh;
    {
        const DownloadEnd end(*this);
        const std::string document = fetch_jwks_(deadline);
        try {
            fresh = std::make_shared<const JsonWebKeySet>(JsonWebKeySet::parse(document));
        } catch (const json::Error& e) {
            throw ServiceError(Failure::Malformed, "", std::string("JWKS: ") + e.what());
        }
        const std::lock_guard relock(mutex_);
        keys_ = fresh;
        last_fetch_ = now;
    }
    if (!fresh->find(kid)) throw TokenError("token key id is not in the user pool's key set");
    return fresh;
}

void TokenVerifier::prefetch(Deadline deadline) {
    if (pinned_) return;
    {
        const std::lock_guard lock(mutex_);
        if (keys_) return;
    }
    const std::int64_t now = now_unix_();
    const std::string document = fetch_jwks_(deadline);
    std::shared_ptr<const JsonWebKeySet> fresh;
    try {
        fresh = std::make_shared<const JsonWebKeySet>(JsonWebKeySet::parse(document));
    } catch (const json::Error& e) {
        throw ServiceError(Failure::Malformed, "", std::string("JWKS: ") + e.what());
    }
    const std::lock_guard lock(mutex_);
    // A login's download that ended meanwhile is as fresh: it is kept.
    if (!keys_) {
        keys_ = std::move(fresh);
        last_fetch_ = now;
    }
}

TokenVerifier::DownloadEnd::~DownloadEnd() {
    {
        const std::lock_guard lock(verifier_.mutex_);
        verifier_.downloading_ = false;
    }
    verifier_.download_done_.notify_all();
}

}  // namespace pp::cognito
