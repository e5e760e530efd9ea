// The messages between the clients (the PAM module, the command line) and the helper, one struct each,
// over the TLV codec of wire.hpp (which fixes the bytes). Every reader decodes a message here once, into its
// type, instead of picking fields out of a wire::Message; every writer builds the struct and encodes it.
//
// decode() refuses, with MalformedMessage, a message of another type, an integer field that is not 4 bytes,
// an enum value this version does not know, and a message without a field it cannot go without. A field
// that may be absent gets the value the readers have always used for it (noted at each field).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "defaults.hpp"
#include "secret.hpp"
#include "wire.hpp"

namespace pp::protocol {

// A message that cannot be what it says it is. A wire::ProtocolError, so a client that refused the helper's
// malformed message fails as for any broken protocol. No field's value is in the texts, only its name.
class MalformedMessage : public wire::ProtocolError {
  public:
    MalformedMessage(wire::Type type, const std::string& fault);
    // The message and the fault ("begin: unknown unknown_user value"), for an audit line.
    [[nodiscard]] const std::string& detail() const noexcept { return detail_; }
    // "malformed " and the detail: what() says the same.
    [[nodiscard]] std::string reason() const { return "malformed " + detail_; }

  private:
    std::string detail_;
};

// The name of a message type in reasons and traces ("begin", "assertion request", …).
const char* type_name(wire::Type t) noexcept;

// module -> helper: the login the PAM stack asks for.
struct Begin {
    std::string user, service, rhost, tty, ruser;
    // The stack's unknown_user= argument; absent, the helper's own setting holds.
    std::optional<wire::UnknownUser> unknown_user;
    // root's `pam-passwordless test-login`. Its Begin carries no tty or ruser: the helper names the tty.
    bool test_login = false;
    // The real uid of the process the module runs in: who runs a setuid program (su, polkit-agent-helper-1),
    // which PAM_RUSER need not name truthfully. 0 (login, sshd, root's own su) travels as no field, so a root
    // process's Begin has the bytes it always had and a helper that knows no real_uid still serves it; absent
    // reads as 0. decode() refuses a field of value 0 (not how 0 is sent), (uid_t)-1 (no uid), a wrong size,
    // and a repeated field; encode() throws for (uid_t)-1.
    std::uint32_t real_uid = 0;

    [[nodiscard]] wire::Message encode() const;
    static Begin decode(const wire::Message& m);
};

// module -> helper: what the person typed at a Prompt (absent text: Enter alone).
struct Answer {
    Secret text;

    [[nodiscard]] wire::Message encode() const;
    static Answer decode(const wire::Message& m);
};

// module -> helper: what the key did with an AssertionRequest; the other fields only with DeviceStatus Ok.
struct Assertion {
    wire::DeviceStatus status = wire::DeviceStatus::Error;  // absent: the key failed
    std::string cred_id, auth_data, signature, user_handle;

    [[nodiscard]] wire::Message encode() const;
    static Assertion decode(const wire::Message& m);
};

// module -> helper: why the module gave up (the conversation failed, or the person cancelled).
struct Cancel {
    wire::Outcome outcome = wire::Outcome::ConvErr;  // absent: the conversation failed

    [[nodiscard]] wire::Message encode() const;
    static Cancel decode(const wire::Message& m);
};

// command line -> helper: a credential-management request.
struct Manage {
    enum class Op : std::uint8_t { Enroll, List, Rename, Remove, Import, PoolRegister, PoolList, PoolDelete };

    Op op = Op::List;
    std::string user;                 // the target account (import: who asks)
    std::optional<std::string> text;  // enroll: the nickname, if one was given; rename: the new name
    std::string cred_id;              // rename, remove, pool-delete: the credential as the person typed it
    std::string rp_id;                // import: the origin pam-u2f used
    std::string import_data;          // import: the pam-u2f authfile

    [[nodiscard]] wire::Message encode() const;
    static Manage decode(const wire::Message& m);
};
// The op's name on the wire and in audit lines ("enroll", "pool-register", …); nullopt for none.
const char* op_name(Manage::Op op) noexcept;
std::optional<Manage::Op> parse_op(std::string_view name) noexcept;

// key module -> helper: the Credential a CredentialRequest made; the other fields only with DeviceStatus Ok.
struct Credential {
    wire::DeviceStatus status = wire::DeviceStatus::Error;  // absent: the key failed
    std::string fmt, auth_data, signature, x5c, cred_id, public_key;
    std::int32_t algorithm = 0;  // COSE algorithm number

    [[nodiscard]] wire::Message encode() const;
    static Credential decode(const wire::Message& m);
};

// root -> helper: administration (pam-passwordless-helper status / reload).
struct Control {
    enum class Op : std::uint8_t { Status, Reload };
    Op op = Op::Status;

    [[nodiscard]] wire::Message encode() const;
    static Control decode(const wire::Message& m);
};

// helper -> module: a question for the person.
struct Prompt {
    wire::PromptStyle style = wire::PromptStyle::EchoOff;  // absent: not echoed
    std::string text;

    [[nodiscard]] wire::Message encode() const;
    static Prompt decode(const wire::Message& m);
};

// An allowed credential's public key, as the helper holds it (public keys are not secret). The module checks
// the key's touch against it before the PIN goes to that key (client/security_key.cpp).
struct CredentialKey {
    static constexpr std::int32_t kUnknown = 0;
    static constexpr std::int32_t kEs256 = -7;  // public_key: x||y on P-256, 64 bytes
    static constexpr std::int32_t kEdDsa = -8;  // public_key: the Ed25519 point, 32 bytes

    std::int32_t algorithm = kUnknown;  // COSE algorithm number; kUnknown: no key known (public_key empty)
    std::string public_key;             // as fido_cred_pubkey_ptr gives it

    [[nodiscard]] bool known() const noexcept { return algorithm != kUnknown; }
    // Whether the algorithm is kUnknown, kEs256 or kEdDsa and the key has that algorithm's length.
    [[nodiscard]] bool well_formed() const noexcept;
    bool operator==(const CredentialKey&) const = default;
};

// One more ask of a KeyRequest: the credentials of another relying party, or those that need the PIN.
struct KeyAskGroup {
    std::string rp_id;
    bool user_verification = false;
    bool operator==(const KeyAskGroup&) const = default;
};

// helper -> module: ask the connected keys for an assertion (wire::Type::KeyRequest). The first six fields
// are the helper's to set; the rest have the values every request carries.
//
// cred_keys is empty (no key known for any credential: a user pool's passkeys, whose keys only the pool
// holds) or holds one CredentialKey per cred_id, in their order. encode() throws and decode() refuses, with
// MalformedMessage, cred_keys of another count or an entry that is not well_formed().
//
// One request may hold several asks (a login's credentials under several relying parties, or some needing
// the PIN and some not): the first is rp_id and user_verification, the others more_groups, and cred_groups
// says which ask each cred_id belongs to. The module asks them all within the one timeout_ms, after the one
// prompt (client/security_key.cpp). encode() throws and decode() refuses cred_groups of another count than
// cred_ids (empty only without more_groups), naming an ask that does not exist, or an ask without a
// credential.
struct AssertionRequest {
    std::string rp_id;
    std::string client_data_hash;    // what the key signs: a challenge, or the SHA-256 of clientDataJSON
    bool user_verification = false;  // the key's PIN, asked through PAM
    std::uint32_t timeout_ms = kTouchTimeoutMs;  // how long the key waits for a touch
    std::string text = kTouchText;               // what the person is shown meanwhile
    std::vector<std::string> cred_ids;           // the credentials allowed
    std::string pin_prompt = kPinPrompt;
    bool user_presence = true;                // a touch; absent: asked
    std::vector<CredentialKey> cred_keys{};   // absent: none known
    std::vector<KeyAskGroup> more_groups{};   // asks past the first; absent: none
    std::vector<std::uint8_t> cred_groups{};  // per cred_id its ask; absent: all the first

    // The request split into its asks, each with its own cred_ids (and cred_keys) and no more_groups, in
    // order: the first ask first.
    [[nodiscard]] std::vector<AssertionRequest> asks() const;

    [[nodiscard]] wire::Message encode() const;
    static AssertionRequest decode(const wire::Message& m);
};

// helper -> module: the verdict. User only on success; the audit line only to root's test login.
struct Result {
    wire::Outcome outcome = wire::Outcome::AuthErr;  // required
    std::string text;                                // for the person
    std::optional<std::string> user;
    std::optional<std::string> audit_line;

    [[nodiscard]] wire::Message encode() const;
    static Result decode(const wire::Message& m);
};

// helper -> command line: make a credential (enrolling a local key, registering a pool passkey).
struct CredentialRequest {
    std::string rp_id;
    std::string client_data_hash;
    bool user_verification = false;
    std::uint32_t timeout_ms = kTouchTimeoutMs;
    std::string text = kTouchText;
    std::string user_id;                   // the WebAuthn user handle
    std::string user_name;                 // the account name the key stores
    std::int32_t algorithm = -7;           // COSE algorithm number asked for; absent: ES256
    std::vector<std::string> exclude_ids;  // credentials the key must not duplicate
    std::string pin_prompt = kPinPrompt;

    [[nodiscard]] wire::Message encode() const;
    static CredentialRequest decode(const wire::Message& m);
};

// helper -> command line: the enrolled credentials, one "field=value" record each, tab-separated.
struct Listing {
    using Record = std::string;
    std::vector<Record> records;

    [[nodiscard]] wire::Message encode() const;
    static Listing decode(const wire::Message& m);
};

// helper -> root's test login: one step of the login as the helper saw it.
struct Trace {
    std::string text;

    [[nodiscard]] wire::Message encode() const;
    static Trace decode(const wire::Message& m);
};

// helper -> client: the login's id, as the helper's lines carry it (16 lowercase hex digits; required).
struct Started {
    std::string login_id;

    [[nodiscard]] wire::Message encode() const;
    static Started decode(const wire::Message& m);
};

// helper -> client: a link for the person to open on another device (the browser sign-in), shown as one
// informational message (the text, a blank line, the URL, and its QR code when qr is set); a Prompt follows.
// encode() and decode() both refuse, with MalformedMessage, a url that is not "https://…" in printable ASCII
// without spaces of at most kMaxLinkUrl bytes, and a text that is empty or not printable UTF-8 of at most
// kMaxLinkText bytes (common/text.hpp): the module shows both as they are.
struct Link {
    static constexpr std::size_t kMaxLinkUrl = 2048;
    static constexpr std::size_t kMaxLinkText = 1024;

    std::string text;
    std::string url;
    bool qr = true;  // absent: drawn

    [[nodiscard]] wire::Message encode() const;
    static Link decode(const wire::Message& m);
};

// helper -> root: the helper's state, one "name: value" line each, in display order.
struct Status {
    std::vector<std::string> records;

    [[nodiscard]] wire::Message encode() const;
    static Status decode(const wire::Message& m);
};

}  // namespace pp::protocol
