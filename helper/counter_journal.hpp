// The signature counters of the enrolled security-key credentials, kept apart from the credential files so
// that a login updates them in place: one pwrite of a fixed-size record and one fdatasync, instead of a new
// credential file, its fsync, a rename and an fsync of the directory.
//
// The file is a sequence of 128-byte pairs, one pair per credential, each holding two 64-byte copies
// ("slots") of the credential's entry: a key (SHA-256 of the account and the credential id, so the file names
// nobody), a sequence number, the counter, the time of last use and a checksum. An update writes the slot
// that does not hold the newest entry; a write torn by a crash damages only that slot, and the other still
// holds the previous, acknowledged value. A new entry is written to both slots, one after the other, so every
// acknowledged entry has a good copy whatever a later crash tears. A pair none of whose copies is good, other
// than the leftovers of a first write that never completed, is damage: reading the file then throws
// CounterJournalDamaged, and the caller must refuse the login (nobody can tell whose counter was lost).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "trusted_file.hpp"

namespace pp::helper {

// The journal cannot be trusted: the login must fail closed.
class CounterJournalDamaged : public FileError {
    using FileError::FileError;
};

class CounterJournal {
  public:
    // `path` is absolute; its directory is the credential store's (root-owned, closed to group and others).
    explicit CounterJournal(std::string path);

    struct Entry {
        std::uint32_t counter = 0;
        std::int64_t last_used = 0;
    };

    // The newest entry of the credential, or nullopt when the journal holds none (or does not exist).
    // Throws FileError on an unsafe file (not a regular file owned by root, writable by group or others, a
    // symlink) and CounterJournalDamaged on damage. Safe without the store's lock: a torn read of a slot
    // being written fails its checksum and the other copy is used; writers re-read under the lock.
    [[nodiscard]] std::optional<Entry> find(std::string_view user, std::string_view cred_id) const;

    // A verified login's counter: stored durably (fdatasync) before returning true when it is above both
    // `floor` (the counter in the credential's record) and the journal's own, or when the key does not count
    // (all three zero). Otherwise nothing is written and the answer is false: a clone, or another login with
    // the same key that got there first. The time of last use never goes back. One read of the file, one
    // write. The caller holds the store's lock.
    [[nodiscard]] bool advance(std::string_view user, std::string_view cred_id, std::uint32_t floor,
                               const Entry& entry) const;

    // Marks the credential's pair free for reuse (the credential was removed). The caller holds the lock.
    void forget(std::string_view user, std::string_view cred_id) const;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

  private:
    std::string path_;
};

}  // namespace pp::helper
