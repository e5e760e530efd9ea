// The messages between pam_passwordless.so and the helper.
//
// One message per SOCK_SEQPACKET datagram, so the kernel keeps the boundaries and a short read can't split
// one. Layout: version (1 byte), type (1 byte), then fields: tag (1 byte), length (2 bytes, big-endian),
// value. Every size is bounded so either side can refuse a hostile peer before allocating for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "secret.hpp"

namespace pp::wire {

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kMaxMessage = 32 * 1024;
inline constexpr std::size_t kMaxFields = 64;

enum class Type : std::uint8_t {
    // module -> helper
    Begin = 1,      // user, service, rhost, tty, ruser, unknown_user (optional: the stack's choice),
                    // test_login (optional: root's `pam-passwordless test-login`, see Trace),
                    // real_uid (optional: the real uid of the process the module runs in, when not 0)
    Answer = 2,     // text: what the person typed
    Assertion = 3,  // device_status, and on success cred_id, auth_data, signature, user_handle
    Cancel = 4,     // outcome: why the module gave up (conversation failed or the person aborted)
    Manage =
        5,  // op, user, text, cred_id, rp_id, import_data: a credential-management request (command line)
    Credential =
        6,  // device_status, and on success fmt, auth_data, signature, x5c, cred_id, public_key, algorithm
    // Administration by root (pam-passwordless-helper status / reload), numbered apart from the login
    // messages. op "status": answered with Status; op "reload": answered with Result (success, or service_err
    // and the reason the new file was refused). Any other caller gets a Result refusing it.
    Control = 40,  // op
    // helper -> module
    Prompt = 16,      // style, text
    KeyRequest = 17,  // rp_id, client_data_hash, cred_id (repeated), user_presence, user_verification,
                      // timeout_ms, text, pin_prompt, cred_keys (optional: the credentials' public keys)
    Result = 18,      // outcome, user, text
    CredentialRequest =
        19,        // rp_id, client_data_hash, user_id, user, cred_id (repeated: exclude), algorithm,
                   // user_verification, timeout_ms, text, pin_prompt
    Listing = 20,  // record (repeated): one enrolled credential, "field=value" pairs separated by tabs
    // Only to a Begin with test_login from root: one step of the login as the helper saw it, for the admin
    // ("policy: …", "the user pool sent a code to …"); never a code, session or token. The Result of such a
    // login carries audit_line too. A client that did not ask refuses a Trace as a protocol error.
    Trace = 21,  // text
    // The first message of every login the helper serves (after Begin is admitted): the id that the
    // audit line and every helper line about this login carry, so the module's lines can carry it too.
    Started = 22,  // login_id
    // A link for the person to open on another device (browser sign-in): shown, with its QR code when qr
    // is 1, as one informational message; a Prompt follows. The decoder refuses a url that is not a bounded
    // https URL and a text that is not bounded, printable UTF-8 (protocol/messages.hpp).
    Link = 23,    // text, url, qr
    Status = 41,  // record (repeated): one "name: value" line of the helper's state, in display order
};

enum class Tag : std::uint8_t {
    User = 1,
    Service = 2,
    Rhost = 3,
    Tty = 4,
    Ruser = 5,
    Text = 6,
    Style = 7,
    Outcome = 8,
    RpId = 9,
    ClientDataHash = 10,
    CredId = 11,
    UserPresence = 12,
    UserVerification = 13,
    TimeoutMs = 14,
    PinPrompt = 15,
    DeviceStatus = 16,
    AuthData = 17,
    Signature = 18,
    UserHandle = 19,
    Op = 20,
    ImportData = 21,
    Fmt = 22,
    X5c = 23,
    PublicKey = 24,
    Algorithm = 25,  // COSE algorithm number as a u32 two's complement (-7 ES256, -8 EdDSA)
    UserId = 26,
    Record = 27,
    UnknownUser = 28,  // UnknownUser as a u32
    TestLogin = 29,    // u32 1: the Begin of `pam-passwordless test-login` (root only)
    AuditLine = 30,    // in the Result of a test login: the audit line the helper logged for it
    LoginId = 31,      // 16 lowercase hex digits
    Url = 32,          // a Link's https URL
    Qr = 33,           // a Link's u32: 1 draw the QR code, 0 not
    // A KeyRequest's public keys, one entry per cred_id in their order, in one field (a user's 64 credentials
    // in one field each would pass kMaxFields): per entry the COSE algorithm (u32 two's complement, 0 for a
    // key not known), the key's length (u16) and the key (see protocol::CredentialKey).
    CredKeys = 34,
    // A Begin's u32: the real uid of the process the PAM module runs in (getuid()), sent only when it is not
    // 0 (protocol::Begin::real_uid).
    RealUid = 35,
    // A KeyRequest's further asks (protocol::AssertionRequest::more_groups), in one field: per ask its
    // user_verification (one byte, 0 or 1), its relying party's length (u16) and the relying party.
    KeyGroups = 36,
    // A KeyRequest's ask of each cred_id, one byte per cred_id in their order (0: the request's own rp_id and
    // user_verification; i: more_groups[i - 1]); absent when there is only the one ask.
    CredGroups = 37,
};
inline constexpr Tag kLastTag = Tag::CredGroups;

// A login id as the helper makes it; the module logs nothing else it is told in that place.
bool valid_login_id(std::string_view id) noexcept;

// What a PAM stack wants for a user without an identity or key (the module argument unknown_user=); without
// the field the helper's own setting holds.
enum class UnknownUser : std::uint8_t { Fail = 1, Ignore = 2 };

enum class PromptStyle : std::uint8_t { EchoOff = 1, EchoOn = 2 };

// What the helper decided; the module maps it to a PAM code (pam_passwordless/result_mapping.cpp).
enum class Outcome : std::uint8_t {
    Success = 0,
    AuthErr = 1,
    MaxTries = 2,
    UserUnknown = 3,
    Ignore = 4,
    AuthinfoUnavail = 5,
    CredInsufficient = 6,
    ServiceErr = 7,
    ConvErr = 8,
    Abort = 9,
};
const char* outcome_name(Outcome o) noexcept;

// What happened at the key, as the module saw it.
enum class DeviceStatus : std::uint8_t {
    Ok = 0,
    NoDevice = 1,     // no key connected, or none holds an allowed credential
    Denied = 2,       // the person refused the touch
    Timeout = 3,      // no touch in time; the key was cancelled
    PinRequired = 4,  // user verification needed and no PIN given
    PinInvalid = 5,
    PinBlocked = 6,
    Error = 7,  // the key answered garbage or failed
};

class ProtocolError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Message {
  public:
    explicit Message(Type t) : type_(t) {}

    [[nodiscard]] Type type() const noexcept { return type_; }

    Message& add(Tag tag, std::string_view value);
    Message& add(Tag tag, std::uint32_t value);
    // Field values are wiped when the message goes away: answers and PINs travel in them.
    [[nodiscard]] std::optional<std::string_view> get(Tag tag) const;
    [[nodiscard]] std::string_view get_or(Tag tag, std::string_view fallback) const;
    [[nodiscard]] std::optional<std::uint32_t> get_u32(Tag tag) const;
    [[nodiscard]] std::vector<std::string_view> all(Tag tag) const;

    // Encoded bytes; the buffer is a Secret because it may hold an answer.
    [[nodiscard]] Secret encode() const;
    // Refuses anything malformed: unknown version, truncated field, over-long message, too many fields.
    static Message decode(std::string_view bytes);

  private:
    Type type_;
    std::vector<std::pair<Tag, Secret>> fields_;
};

}  // namespace pp::wire
