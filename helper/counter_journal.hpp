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
//
// A reservation takes the flush off the path between the key's answer and the Result. While the person
// touches the key, the login writes and flushes, for each credential it asked for, a copy marked reserved
// holding the next counter (the stored one plus one) and the boot it was written in. Read in the same boot, a
// reserved copy stands for the counter before it: the login that wrote it is still waiting for the key, or
// ended without using it (a login let in with it writes its entry over it before the Result, and nothing
// written in a boot is lost before that boot ends, short of the disk failing a write: the next flush of the
// journal then reports it, and that login fails closed). Read after a reboot (a crash), it stands for the
// reserved counter itself: the login may have been let in with it and its entry lost. So a login whose key
// answers with exactly the reserved counter has been durable since before the answer, and its entry is
// written in place without a flush. Any other counter (a key whose counter also moved elsewhere) is written
// and flushed before the Result, as without a reservation. A reservation the login did not use is given back
// (written in place, without a flush) when it ends; the one its answer used leaves the login's list when its
// entry is written over it, so a login that used all it reserved ends without reading the journal again.
//
// The price of a crash in the middle of a key login whose key never answered: the key's next answer is the
// reserved counter, refused once as not above the stored one (the answer after it is above). And the time of
// last use is no longer flushed on every login: a crash may forget the last one.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

    // One credential's reservation, as reserve() wrote and flushed it.
    struct Reserved {
        std::array<unsigned char, 32> key{};  // the entry's key (account and credential id)
        std::uint64_t seq = 0;                // the sequence number of the reserved copy
        std::uint32_t counter = 0;            // the counter reserved: the one the key is expected to send
    };

    // Reserves the next counter of each credential (id, and the counter in its record as the floor) that
    // already has an entry: written for all, then one fdatasync, before returning. Skipped (not in the
    // result) for a credential without an entry yet, one whose key does not count (stored counter 0), one
    // at the counter's end, and one whose newest copy is a reservation already (another login's, or one left
    // behind); and all of them when the running boot's id cannot be read. The returned reservations are
    // this login's until release() or advance() uses them. The caller holds the store's lock.
    [[nodiscard]] std::vector<Reserved> reserve(
        std::string_view user, const std::vector<std::pair<std::string, std::uint32_t>>& credentials) const;

    // Gives back the reservations advance() did not use: each that is still its credential's newest copy is
    // replaced by the counter before it (in place, no flush). The caller holds the store's lock.
    void release(const std::vector<Reserved>& reserved) const;

    // A verified login's counter: stored durably (fdatasync) before returning true when it is above both
    // `floor` (the counter in the credential's record) and the journal's own, or when the key does not count
    // (all three zero). Otherwise nothing is written and the answer is false: a clone, or another login with
    // the same key that got there first. The time of last use never goes back. One read of the file, one
    // write. When the entry is one of `mine` (this login's reservations) and the counter is the one reserved,
    // it was durable before the key answered: the write is not flushed. A write takes the credential's
    // reservation out of `mine` (used, or overtaken: either way no longer its newest copy, which release()
    // would leave), so that a login whose answer used all it reserved has nothing to release. The caller
    // holds the store's lock.
    [[nodiscard]] bool advance(std::string_view user, std::string_view cred_id, std::uint32_t floor,
                               const Entry& entry, std::vector<Reserved>* mine = nullptr) const;

    // What reserve() and release() cost, changing nothing: one copy of the first entry is written again as
    // it is (the older copy of its pair), flushed when `durable`. For a key ask that has nothing to reserve
    // but must take as long as one that has (the decoy's made-up credential). Nothing when the journal holds
    // no entry. The caller holds the store's lock.
    void rewrite_unchanged(bool durable) const;

    // For the tests: called with the journal's descriptor just before each fdatasync (what it flushes is
    // then the file's content). Null in the helper.
    using FlushObserver = void (*)(int fd);
    static void observe_flushes_for_tests(FlushObserver observer) noexcept;

    // Marks the credential's pair free for reuse (the credential was removed). The caller holds the lock.
    void forget(std::string_view user, std::string_view cred_id) const;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

  private:
    void give_back(int fd, const std::vector<Reserved>& reserved) const;
    std::string path_;
};

}  // namespace pp::helper
