// The locally enrolled security-key credentials: one root-owned file per local account.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pp::helper {

enum class KeyAlgorithm { Es256, EdDsa };  // COSE -7 and -8

int cose_number(KeyAlgorithm a);
std::optional<KeyAlgorithm> algorithm_from_cose(int cose);
// Size of the public key as libfido2's fido_cred_pubkey_ptr gives it: x||y for ES256, the point for EdDSA.
std::size_t public_key_size(KeyAlgorithm a);

// Bounds on what a record may hold. WebAuthn caps credential ids at 1023 bytes; the per-user cap keeps a
// user's file, and the list of ids sent to the module, small.
inline constexpr std::size_t kMaxCredentialIdBytes = 1023;
inline constexpr std::size_t kMaxNicknameBytes = 64;
inline constexpr std::size_t kMaxRpIdBytes = 255;
inline constexpr std::size_t kMaxCredentialsPerUser = 64;

struct StoredCredential {
    std::string user;
    std::string cred_id;  // raw bytes
    KeyAlgorithm alg = KeyAlgorithm::Es256;
    std::string public_key;  // raw bytes exactly as fido_cred_pubkey_ptr gives them (ES256: x||y; EdDSA: 32)
    std::string rp_id;       // the relying-party id this credential was made for
    std::string nickname;    // printable UTF-8, 1..64 bytes
    std::int64_t created = 0, last_used = 0;  // unix seconds; 0 = never used
    std::uint32_t counter = 0;
    bool uv = false;  // the key verified the user (PIN/biometric) at enrolment
    // Every login with this credential must verify the user (PIN), whatever [security_key]
    // user_verification says: imported with pam-u2f's +pin or +verification, or enrolled while required.
    bool uv_required = false;
};

class CredentialError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A nickname is shown in listings, prompts and audit lines: valid UTF-8 of 1..64 bytes without control
// characters, line or paragraph separators, or bidirectional overrides that could make it read as another.
bool valid_nickname(std::string_view text);
// A relying-party id as the helper uses them ("pam://host", a domain): 1..255 bytes of printable ASCII
// without spaces.
bool valid_rp_id(std::string_view text);

class CounterJournal;

class CredentialStore {
  public:
    // `dir` is absolute, e.g. /var/lib/pam_passwordless/credentials. It must be owned by root and not
    // writable by group or others; ensure_dir() creates it (mode 0700) when it is missing.
    explicit CredentialStore(std::string dir);

    // Creates the directory (and missing parents) with mode 0700; throws FileError when what is there is not
    // a root-owned directory closed to group and others.
    void ensure_dir() const;

    struct Loaded {
        std::vector<StoredCredential> credentials;
        std::vector<std::string> problems;
    };
    // A missing file is an empty list. An unsafe file (not root-owned, writable by others, a symlink, not a
    // regular file) throws FileError. A corrupt record does not hide the others: it is skipped and reported
    // in `problems` as "<file>:<line>: <why>". An invalid user name throws CredentialError.
    [[nodiscard]] Loaded load(const std::string& user) const;

    // Throws CredentialError on invalid fields, on a credential id already enrolled (for any user), or when
    // the user already has kMaxCredentialsPerUser credentials.
    void add(const StoredCredential& c);
    // False when the user has no such credential.
    bool remove(const std::string& user, std::string_view cred_id);
    bool rename(const std::string& user, std::string_view cred_id, const std::string& nickname);
    // Records a verified login in the store's counter journal (one in-place write and fdatasync; see
    // counter_journal.hpp), durably before it returns. Throws CredentialError when the credential is gone, or
    // when its counter is counting and `counter` is no longer above the stored one (another login with the
    // same key recorded a later use in the meantime, or the key was cloned): the caller must then fail the
    // login.
    void record_use(const std::string& user, std::string_view cred_id, std::uint32_t counter,
                    std::int64_t now);

    // The accounts that have a credential file, sorted.
    [[nodiscard]] std::vector<std::string> users() const;

    [[nodiscard]] const std::string& dir() const noexcept { return dir_; }

  private:
    [[nodiscard]] CounterJournal journal() const;
    std::string dir_;
};

// What load() makes of a user's file once it is read, without touching the file system: `source` names
// the file in problems. Public so the record parser can be fuzzed on its own.
CredentialStore::Loaded parse_credential_records(std::string_view text, const std::string& user,
                                                 const std::string& source);

}  // namespace pp::helper
