// The locally enrolled security-key credentials: one root-owned file per local account.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "counter_journal.hpp"
#include "credential.hpp"

namespace pp::helper {

class CounterJournal;

// How many credential files load() has parsed (and not taken from a kept parse), in this process.
std::uint64_t credential_files_parsed() noexcept;

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
    // The file's parse is kept while the file is unchanged, as holders() keeps its listing
    // (credential_store.cpp, KeptParse); what is there is checked as a read checks it every time, and the
    // counters are read from the journal every time.
    [[nodiscard]] Loaded load(const std::string& user) const;
    // For a decoy that copies `user`'s shape (how many credentials, their lengths, relying parties and PIN
    // needs; login/security_key_method.cpp): load() as a login read it within the last kShapeLookedAtWithin,
    // without looking at the file again, else load(). A real login's load() looks at its one file (and the
    // directory); the decoy's looks at its own name's, which is not there, and would look at the copied
    // holder's too: two more system calls at every try, which timed a name that holds nothing (session 21).
    // Nothing is trusted on its strength: made-up ids are asked of its shape, and no key holds them.
    static constexpr std::chrono::seconds kShapeLookedAtWithin{1};
    [[nodiscard]] Loaded load_shape(const std::string& user,
                                    std::chrono::steady_clock::duration within = kShapeLookedAtWithin) const;

    // Throws CredentialError on invalid fields, on a credential id already enrolled (for any user), or when
    // the user already has kMaxCredentialsPerUser credentials.
    void add(const StoredCredential& c);
    // False when the user has no such credential.
    bool remove(const std::string& user, std::string_view cred_id);
    bool rename(const std::string& user, std::string_view cred_id, const std::string& nickname);
    // The next counters of the credentials a login asks the key for, made durable while the person touches
    // the key (CounterJournal::reserve): given back when the object goes, unless record_use used them.
    class UseReservation {
      public:
        UseReservation(UseReservation&& other) noexcept;
        UseReservation& operator=(UseReservation&&) = delete;
        UseReservation(const UseReservation&) = delete;
        ~UseReservation();
        [[nodiscard]] std::size_t size() const noexcept { return reserved_.size(); }

      private:
        friend class CredentialStore;
        UseReservation(std::string dir, std::vector<CounterJournal::Reserved> reserved, bool made_up = false)
            : dir_(std::move(dir)), reserved_(std::move(reserved)), made_up_(made_up) {}
        std::string dir_;
        std::vector<CounterJournal::Reserved> reserved_;
        bool made_up_ = false;  // reserve_made_up's: only the cost
    };
    // Throws FileError (the store or the journal cannot be trusted) and CredentialError (an invalid user).
    // `asked`: the credentials the key is asked for, as load() read them (their counters are the floors).
    [[nodiscard]] UseReservation reserve_use(const std::string& user,
                                             const std::vector<StoredCredential>& asked) const;
    // For a key asked for a credential made up here (the decoy, unknown_user.cpp): the cost of a real
    // user's reservation and of its giving back, with nothing reserved (CounterJournal::rewrite_unchanged),
    // so that the key's answer is awaited and ended as a real user's is.
    [[nodiscard]] UseReservation reserve_made_up() const;

    // Records a verified login in the store's counter journal (one in-place write and fdatasync; see
    // counter_journal.hpp), durably before it returns: flushed here, or, when `reserved` holds the counter,
    // already. Throws CredentialError when the credential is gone, or when its counter is counting and
    // `counter` is no longer above the stored one (another login with the same key recorded a later use in
    // the meantime, or the key was cloned): the caller must then fail the login. The reservation of the
    // credential used leaves `reserved` (there is nothing of it to give back).
    void record_use(const std::string& user, std::string_view cred_id, std::uint32_t counter,
                    std::int64_t now, UseReservation* reserved = nullptr);

    // The accounts that have a credential file, sorted.
    [[nodiscard]] std::vector<std::string> users() const;
    // users() for the decoy (login/unknown_user.cpp), which needs it at every walk: a listing is kept while
    // the directory is unchanged (its device, inode, size, mtime and ctime as they were), and only a listing
    // taken at least a second after the directory's last change (credential_store.cpp, FileIdentity). Kept
    // listings are shared: the same object while the directory is unchanged. A listing made stale by a
    // clock stepped back only misshapes decoy walks; no login reads it.
    [[nodiscard]] std::shared_ptr<const std::vector<std::string>> holders() const;
    // holders() as a login found it within `within`, without looking at the directory again; else holders().
    // For a real key holder's login, which computes its name's decoy walk as a decoy does (Login::decoy_twin)
    // but has already looked at the directory once for its own file, as the decoy has for the listing.
    [[nodiscard]] std::shared_ptr<const std::vector<std::string>> holders_seen_within(
        std::chrono::steady_clock::duration within = kShapeLookedAtWithin) const;

    [[nodiscard]] const std::string& dir() const noexcept { return dir_; }

  private:
    [[nodiscard]] Loaded parsed(const std::string& user) const;
    // `out`'s counters raised to the journal's (what load() adds to a parse).
    [[nodiscard]] Loaded with_counters(const std::string& user, Loaded out) const;
    [[nodiscard]] CounterJournal journal() const;
    std::string dir_;
};

// What load() makes of a user's file once it is read, without touching the file system: `source` names
// the file in problems. Public so the record parser can be fuzzed on its own.
CredentialStore::Loaded parse_credential_records(std::string_view text, const std::string& user,
                                                 const std::string& source);

}  // namespace pp::helper
