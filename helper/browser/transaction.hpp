// One attempt of "Sign in with your browser" (issue #13): an authorization-code flow with PKCE at the user
// pool's managed login (specs/cognito-managed-login.md). The person opens the link on a device of their own,
// signs in there, and types back the code the callback page shows (callback/README.md, branch `browser`).
// This object is the helper's whole memory of the attempt and makes no network call: it draws the PKCE
// verifier, writes the link (the short one to the callback page in launch mode, or the whole authorize URL)
// and the token request's body, reads the typed code and checks the ID token's claims that tie the sign-in to
// this attempt. The nonce is the PKCE challenge (unique and unguessable per attempt). The verifier is a
// Secret: wiped by end() and when the object goes away.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "id_claims.hpp"
#include "secret.hpp"

namespace pp::helper::browser {

// The longest host name or PAM user a label carries (a DNS name is at most 253 bytes; a user name longer
// than this is no user of this machine), and the longest typed line and code normalise_code() looks at.
inline constexpr std::size_t kMaxLabelField = 255;
inline constexpr std::size_t kMaxTypedCode = 1024;
inline constexpr std::size_t kMaxCode = 256;
// The version tag that starts a state and a short link's fragment (callback/README.md).
inline constexpr char kLinkVersion = '1';

// RFC 3986 §2.3: every byte but the unreserved ones as %XX (upper-case hex), so a space is %20 — which both
// a query and an application/x-www-form-urlencoded body decode as a space.
std::string percent_encode(std::string_view text);

// RFC 7636 §4.2 S256: base64url (no padding) of SHA-256 of the verifier's ASCII.
std::string s256_challenge(std::string_view verifier);

// The state of callback/README.md: "1" then base64url(UTF-8 "<exp base36>\n<user>\n<host>"), without padding,
// so only [A-Za-z0-9_-]. Throws std::invalid_argument for a host or user that is empty, longer than
// kMaxLabelField, holds a control character or is not UTF-8, and for a negative exp.
std::string make_state(std::string_view host, std::string_view pam_user, std::int64_t exp);

// The fragment of a short link (callback/README.md): "1.<challenge>.<exp base36>.<b64url user>.<b64url
// host>". Same refusals as make_state().
std::string make_fragment(std::string_view challenge, std::string_view host, std::string_view pam_user,
                          std::int64_t exp);

// `value` in base 36, lower-case (the exp of the fragment and the state).
std::string base36(std::int64_t value);

// The typed or pasted code made ready to send, or nullopt for text that cannot be a code (README, spec §5):
// every ASCII white space removed, then exactly 32 hex digits get the hyphens of a UUID (8-4-4-4-12) and
// anything else is kept verbatim. Refused: a line longer than kMaxTypedCode, any other control character,
// any byte outside printable ASCII, nothing left, or more than kMaxCode characters left.
std::optional<std::string> normalise_code(std::string_view typed);

// Why the ID token's claims do not belong to this attempt.
enum class ClaimRefusal {
    Ended,               // the transaction was ended (or moved from): nothing to compare with
    Expired,             // the token came after the attempt's end of waiting
    NonceMissing,        // no string claim "nonce"
    NonceMismatch,       // a nonce, not this attempt's
    AuthTimeMissing,     // no auth_time: a sign-in of unknown age is not a fresh one
    AuthTimeBeforeStart  // signed in before this attempt started (e.g. a managed-login session cookie)
};
std::string_view refusal_text(ClaimRefusal reason);

class Transaction {
  public:
    // Starts an attempt at `now` (Unix seconds) that waits `lifetime` seconds for the code. Throws
    // std::invalid_argument for a lifetime not above zero or a host or user make_state() refuses, and
    // std::runtime_error when no random bytes can be drawn.
    static Transaction start(std::string_view host, std::string_view pam_user, std::int64_t now,
                             std::int64_t lifetime);

    Transaction(Transaction&&) noexcept = default;
    Transaction& operator=(Transaction&&) noexcept = default;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction() = default;  // the Secrets wipe themselves

    // The §3 request at https://<domain>/oauth2/authorize: response_type=code, client_id, redirect_uri, scope
    // (space-separated), state, nonce, code_challenge, code_challenge_method=S256 and prompt=login (§4.2-4.3:
    // a managed-login session cookie of the last hour must not sign anyone in without a fresh sign-in), each
    // value percent-encoded. `domain` is a host name with an optional :port. Throws std::invalid_argument for
    // a domain of other characters, an empty client id or redirect URI, no scope or a scope outside RFC 6749
    // §3.3's characters, and std::logic_error once the transaction has ended.
    std::string authorize_url(std::string_view domain, std::string_view client_id,
                              std::string_view redirect_uri, std::span<const std::string> scopes) const;

    // The short link (`[browser] link = short`): `redirect_uri` + "#" + the fragment of make_fragment(). The
    // callback page opened so is the launcher: it builds the same request as authorize_url() from its own
    // pool.json (callback/README.md), with this state, nonce and challenge. Throws std::invalid_argument for
    // an empty redirect URI or one that already has a fragment, std::logic_error once the transaction has
    // ended.
    std::string short_link(std::string_view redirect_uri) const;

    // The §6.1 body (application/x-www-form-urlencoded): grant_type=authorization_code, code, redirect_uri,
    // client_id, code_verifier, each value percent-encoded. `code` is what normalise_code() returned. Throws
    // std::invalid_argument for an empty code, client id or redirect URI, and std::logic_error once ended.
    pp::Secret token_request_body(std::string_view code, std::string_view redirect_uri,
                                  std::string_view client_id) const;

    // Whether the attempt has stopped waiting at `now`; an ended one has.
    [[nodiscard]] bool expired(std::int64_t now) const noexcept;

    // Checks the claims of an ID token whose signature, issuer, audience and times check_id_claims() has
    // already checked: not expired at `now`, `nonce` equal to this attempt's PKCE challenge (constant time;
    // the challenge is the nonce, in both links) and `auth_time` not before the attempt started. IdClaims
    // keeps only the string claims, so the caller passes auth_time as read from the payload (absent =
    // nullopt). nullopt means accepted.
    [[nodiscard]] std::optional<ClaimRefusal> check_id_token_claims(const cognito::IdClaims& claims,
                                                                    std::optional<std::int64_t> auth_time,
                                                                    std::int64_t now) const;

    // Wipes the verifier; afterwards the transaction refuses everything. The login ends a
    // transaction once a code was redeemed with it, whatever the token then proves: one redemption per
    // attempt (spec §6.4), and a wrong code that the pool refused (invalid_grant) spends nothing.
    void end() noexcept;

    [[nodiscard]] const std::string& state() const noexcept { return state_; }
    [[nodiscard]] const std::string& challenge() const noexcept { return challenge_; }
    [[nodiscard]] std::int64_t started() const noexcept { return started_; }
    [[nodiscard]] std::int64_t expires() const noexcept { return expires_; }
    [[nodiscard]] bool ended() const noexcept { return verifier_.empty(); }

  private:
    Transaction() = default;

    pp::Secret verifier_;
    std::string state_, challenge_, fragment_;
    std::int64_t started_ = 0, expires_ = 0;
};

}  // namespace pp::helper::browser
