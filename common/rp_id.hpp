// The relying-party id: the name a WebAuthn credential is bound to (hashed into every signature as rpIdHash),
// so one rule decides which ids the helper, its store, its configuration and the command line take.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pp {

// A relying-party id of local security keys: pam-u2f's origins ("pam://host") and domains. 1 to 128 bytes of
// letters, digits and :/._-: the strictest of the rules that once lived apart ([security_key] rp_id in the
// configuration; the store's records, the import and the attestation check took any printable byte but the
// space up to 255 bytes, the command line anything without a control character), so every id the store keeps
// can also be configured.
class RpId {
  public:
    static constexpr std::size_t kMaxBytes = 128;
    static bool valid(std::string_view text) noexcept;
    // Throws std::invalid_argument("invalid relying-party id") unless valid(text).
    explicit RpId(std::string_view text);
    [[nodiscard]] const std::string& str() const noexcept { return text_; }
    // Every RpId is a valid id, so it may stand wherever a plain string is read; the other way needs the
    // constructor and its check.
    operator const std::string&() const noexcept { return text_; }  // NOLINT(google-explicit-constructor)

    friend bool operator==(const RpId&, const RpId&) = default;
    friend bool operator==(const RpId& a, std::string_view b) noexcept { return a.text_ == b; }

  private:
    std::string text_;
};

// The relying-party id of the user pool's passkeys, which also names the origin https://<id>: a lower-case
// DNS name of at most 128 bytes, labels of 1 to 63 letters, digits and '-', starting and ending with a letter
// or digit. The strictest of the two rules it replaces ([passkey] rp_id's pattern, and the labels checked in
// the options the pool sends).
bool valid_passkey_rp_id(std::string_view text) noexcept;

}  // namespace pp
