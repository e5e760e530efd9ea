#include "counter_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "crypto.hpp"
#include "unique_fd.hpp"

namespace pp::helper {
namespace {

constexpr std::size_t kSlotBytes = 64;
constexpr std::size_t kPairBytes = 2 * kSlotBytes;
// Pairs of removed credentials are reused, so the file holds at most as many pairs as credentials were ever
// enrolled at once; this bounds what a login reads (and what damage could make it read).
constexpr std::size_t kMaxBytes = 8 * 1024 * 1024;
constexpr std::array<unsigned char, 4> kMagic = {'p', 'p', 'c', '1'};
// A reserved entry (counter_journal.hpp): the same layout. A helper from before reservations reads such a
// copy as torn and keeps to the other copy, the entry before the reservation.
constexpr std::array<unsigned char, 4> kReservedMagic = {'p', 'p', 'r', '1'};
// Slot layout: magic [0,4) key [4,36) sequence [36,44) counter [44,48) last use [48,56) checksum [56,64),
// integers little-endian; the checksum is the first 8 bytes of SHA-256 over bytes [0,56). A reserved copy
// holds, instead of the time of last use (which its pair's other copy keeps), the boot it was written in.
constexpr std::size_t kKeyAt = 4, kSeqAt = 36, kCounterAt = 44, kLastUsedAt = 48, kCheckAt = 56;

using Digest = std::array<unsigned char, 32>;
using SlotBytes = std::array<unsigned char, kSlotBytes>;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw FileError(path + ": " + what);
}

Digest sha256(const void* data, std::size_t size) {
    try {
        return pp::sha256(std::string_view(static_cast<const char*>(data), size));
    } catch (const std::runtime_error&) {
        throw FileError("counter journal: SHA-256 failed");
    }
}

Digest key_of(std::string_view user, std::string_view cred_id) {
    std::string text("pam_passwordless counter v1");
    text.push_back('\0');
    text += user;
    text.push_back('\0');
    text += cred_id;
    return sha256(text.data(), text.size());
}

constexpr Digest kFreeKey{};  // the key of a removed credential's entry: the pair may be reused

template <typename Int>
Int get_le(const unsigned char* p) {
    std::uint64_t v = 0;
    for (std::size_t i = sizeof(Int); i-- > 0;) v = (v << 8) | p[i];
    return static_cast<Int>(v);
}

template <typename Int>
void put_le(unsigned char* p, Int value) {
    auto v = static_cast<std::uint64_t>(value);
    for (std::size_t i = 0; i < sizeof(Int); ++i, v >>= 8) p[i] = static_cast<unsigned char>(v & 0xFF);
}

struct Slot {
    enum class State { Empty, Bad, Good } state = State::Empty;
    bool reserved = false;
    std::uint64_t boot = 0;  // a reserved copy's: the boot it was written in (this_boot())
    Digest key{};
    std::uint64_t seq = 0;
    CounterJournal::Entry entry;
};

std::atomic<CounterJournal::FlushObserver> g_flush_observer{nullptr};

// The running kernel's boot, as the first 16 hex digits of its boot id; 0 when it cannot be read (then no
// reserved copy is taken as this boot's).
std::uint64_t read_boot() {
    const UniqueFd fd(::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) return 0;
    char text[64] = {};
    const ssize_t n = ::read(fd.get(), text, sizeof text - 1);
    if (n <= 0) return 0;
    std::uint64_t v = 0;
    int digits = 0;
    for (ssize_t i = 0; i < n && digits < 16; ++i) {
        const char c = text[i];
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        if (d < 0) continue;  // the dashes
        v = (v << 4) | static_cast<std::uint64_t>(d);
        ++digits;
    }
    return digits == 16 ? v : 0;
}

std::uint64_t this_boot() {
    static const std::uint64_t boot = read_boot();
    return boot;
}

Slot decode(const unsigned char* p) {
    Slot s;
    if (std::all_of(p, p + kSlotBytes, [](unsigned char b) { return b == 0; })) return s;
    const Digest check = sha256(p, kCheckAt);
    const bool entry = std::equal(kMagic.begin(), kMagic.end(), p);
    const bool reserved = std::equal(kReservedMagic.begin(), kReservedMagic.end(), p);
    if ((!entry && !reserved) || !std::equal(p + kCheckAt, p + kSlotBytes, check.begin())) {
        s.state = Slot::State::Bad;
        return s;
    }
    s.state = Slot::State::Good;
    s.reserved = reserved;
    std::copy(p + kKeyAt, p + kSeqAt, s.key.begin());
    s.seq = get_le<std::uint64_t>(p + kSeqAt);
    s.entry.counter = get_le<std::uint32_t>(p + kCounterAt);
    if (reserved)
        s.boot = get_le<std::uint64_t>(p + kLastUsedAt);  // its time of last use is the other copy's (Pair)
    else
        s.entry.last_used = get_le<std::int64_t>(p + kLastUsedAt);
    return s;
}

SlotBytes encode(const Digest& key, std::uint64_t seq, const CounterJournal::Entry& e,
                 bool reserved = false) {
    SlotBytes b{};
    const auto& magic = reserved ? kReservedMagic : kMagic;
    std::copy(magic.begin(), magic.end(), b.begin());
    std::copy(key.begin(), key.end(), b.begin() + kKeyAt);
    put_le(b.data() + kSeqAt, seq);
    put_le(b.data() + kCounterAt, e.counter);
    if (reserved)
        put_le(b.data() + kLastUsedAt, this_boot());
    else
        put_le(b.data() + kLastUsedAt, e.last_used);
    const Digest check = sha256(b.data(), kCheckAt);
    std::copy(check.begin(), check.begin() + (kSlotBytes - kCheckAt), b.begin() + kCheckAt);
    return b;
}

// One credential's two copies, as read.
struct Pair {
    std::array<Slot, 2> slots;
    enum class Kind { Free, Entry, Damaged } kind = Kind::Free;
    int newest = -1;  // the good slot with the higher sequence number, -1 when neither is good

    explicit Pair(const unsigned char* p) : slots{decode(p), decode(p + kSlotBytes)} {
        using S = Slot::State;
        for (int i = 0; i < 2; ++i)
            if (slots[i].state == S::Good && (newest < 0 || slots[i].seq > slots[newest].seq)) newest = i;
        if (newest >= 0) {
            kind = slots[newest].key == kFreeKey ? Kind::Free : Kind::Entry;
            // A reservation is written over the spare copy, so the other one holds the entry before it.
            const Slot& other = slots[1 - newest];
            if (slots[newest].reserved && other.state == S::Good && other.key == slots[newest].key)
                slots[newest].entry.last_used = other.entry.last_used;
        } else if (slots[1].state == S::Empty)
            // Both empty, or a first copy torn by a crash before the entry was ever acknowledged (its second
            // copy is written only after the first is on disk).
            kind = Kind::Free;
        else
            kind = Kind::Damaged;
    }
    [[nodiscard]] std::uint64_t seq() const { return newest < 0 ? 0 : slots[newest].seq; }
    // The slot an update writes: never the one holding the newest acknowledged entry.
    [[nodiscard]] int spare() const { return newest == 0 ? 1 : 0; }
};

// Returns the file's size.
std::size_t check_file(const std::string& path, int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail(path, std::strerror(errno));
    check_trusted_file(path, st, Confidentiality::Public);
    if (static_cast<std::size_t>(st.st_size) > kMaxBytes)
        fail(path, "larger than " + std::to_string(kMaxBytes) + " bytes");
    return static_cast<std::size_t>(st.st_size);
}

// The whole file, padded with zeros to whole pairs (a crash can leave a partial last slot).
std::vector<unsigned char> read_all(const std::string& path, int fd) {
    // Sized by the file, not by the bound: a login reads a few hundred bytes, not megabytes of zeros.
    std::vector<unsigned char> data(check_file(path, fd) + 1);
    std::size_t got = 0;
    for (;;) {
        if (got == data.size()) data.resize(std::min(data.size() * 2, kMaxBytes + 1));
        const ssize_t n = ::pread(fd, data.data() + got, data.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(path, std::strerror(errno));
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
        if (got > kMaxBytes) fail(path, "larger than " + std::to_string(kMaxBytes) + " bytes");
        // A regular file reads short only at its end: no second read to hear so.
        if (got < data.size()) break;
    }
    data.resize(got);
    data.resize((got + kPairBytes - 1) / kPairBytes * kPairBytes, 0);
    return data;
}

struct Scan {
    std::vector<Pair> pairs;
    std::optional<std::size_t> found;  // the pair holding the key
    std::optional<std::size_t> free;   // the first reusable pair
};

Scan scan(const std::string& path, const std::vector<unsigned char>& data, const Digest& key) {
    Scan s;
    for (std::size_t at = 0; at < data.size(); at += kPairBytes) {
        Pair p(data.data() + at);
        if (p.kind == Pair::Kind::Damaged)
            throw CounterJournalDamaged(
                path + ": damaged: neither copy of the record at byte " + std::to_string(at) +
                " passes its checksum, so a signature counter may be lost; security-key "
                "logins are refused until an administrator restores the file");
        const std::size_t i = s.pairs.size();
        if (p.kind == Pair::Kind::Entry && p.slots[p.newest].key == key) {
            // Only one pair ever holds a key; should two, the higher counter is the safe one.
            if (!s.found || p.slots[p.newest].entry.counter >
                                s.pairs[*s.found].slots[s.pairs[*s.found].newest].entry.counter)
                s.found = i;
        }
        if (p.kind == Pair::Kind::Free && !s.free) s.free = i;
        s.pairs.push_back(p);
    }
    return s;
}

// The counter an entry stands for. A reserved copy written in this boot stands for the counter before it: a
// login holds it, or one that ended without using it (had it been used, its entry would have been written
// over it before the Result, and in this boot nothing written is lost). One from another boot stands for its
// own counter: a crash may have lost the entry of a login let in with it (counter_journal.hpp).
std::uint32_t counter_of(const Slot& s) {
    if (s.reserved && s.entry.counter > 0 && s.boot != 0 && s.boot == this_boot()) return s.entry.counter - 1;
    return s.entry.counter;
}

void flush(const std::string& path, int fd) {
    if (const auto observer = g_flush_observer.load()) observer(fd);
    if (::fdatasync(fd) != 0) fail(path, std::strerror(errno));
}

// `durable`: flushed before returning; otherwise left to the kernel (a write whose content was already
// durable in another form: counter_journal.hpp).
void write_slot(const std::string& path, int fd, std::size_t pair, int slot, const SlotBytes& bytes,
                bool durable = true) {
    const auto offset = static_cast<off_t>(pair * kPairBytes + static_cast<std::size_t>(slot) * kSlotBytes);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n =
            ::pwrite(fd, bytes.data() + done, bytes.size() - done, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(path, std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
    // Data only: the record overwrites bytes in place (or extends the file, whose size fdatasync also
    // writes), so no timestamps or directory entries need to reach the disk first.
    if (durable) flush(path, fd);
}

std::string parent_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Opened for an update; created (and its directory entry made durable) on the first one. The file exists at
// every login but the first, so it is opened first without O_CREAT (one open per login, not two).
UniqueFd open_for_update(const std::string& path) {
    constexpr int kFlags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    UniqueFd fd(::open(path.c_str(), kFlags));
    if (!fd && errno == ENOENT) {
        fd = UniqueFd(::open(path.c_str(), kFlags | O_CREAT | O_EXCL, 0600));
        if (fd) {
            const std::string dir = parent_of(path);
            UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!dfd || ::fsync(dfd.get()) != 0) fail(dir, std::strerror(errno));
        } else if (errno == EEXIST) {
            // Another process created it in between.
            fd = UniqueFd(::open(path.c_str(), kFlags));
        }
    }
    if (!fd) fail(path, errno == ELOOP ? "is a symlink" : std::strerror(errno));
    return fd;
}

}  // namespace

CounterJournal::CounterJournal(std::string path) : path_(std::move(path)) {
    if (path_.empty() || path_.front() != '/') fail(path_, "not an absolute path");
}

std::optional<CounterJournal::Entry> CounterJournal::find(std::string_view user,
                                                          std::string_view cred_id) const {
    // O_NONBLOCK: opening a FIFO planted in place of the file must not wait for a writer.
    UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        fail(path_, errno == ELOOP ? "is a symlink" : std::strerror(errno));
    }
    const Scan s = scan(path_, read_all(path_, fd.get()), key_of(user, cred_id));
    if (!s.found) return std::nullopt;
    const Pair& p = s.pairs[*s.found];
    const Slot& newest = p.slots[p.newest];
    return Entry{counter_of(newest), newest.entry.last_used};
}

bool CounterJournal::advance(std::string_view user, std::string_view cred_id, std::uint32_t floor,
                             const Entry& entry, std::vector<Reserved>* mine) const {
    const UniqueFd fd = open_for_update(path_);
    const Digest key = key_of(user, cred_id);
    const Scan s = scan(path_, read_all(path_, fd.get()), key);
    const Slot* current = s.found ? &s.pairs[*s.found].slots[s.pairs[*s.found].newest] : nullptr;
    const std::uint32_t stored = std::max(floor, current != nullptr ? counter_of(*current) : 0);
    if ((stored > 0 || entry.counter > 0) && entry.counter <= stored) return false;
    const Entry next{entry.counter,
                     std::max(entry.last_used, current != nullptr ? current->entry.last_used : 0)};
    if (s.found) {
        const Pair& p = s.pairs[*s.found];
        // This login's own reservation, still the newest copy and still its, of exactly this counter: the
        // counter has been durable since before the key answered (a crash now reads the reserved copy as
        // its own counter). Anything else is flushed before the Result.
        const bool reserved_here =
            mine != nullptr && current->reserved && current->entry.counter == entry.counter &&
            std::any_of(mine->begin(), mine->end(),
                        [&](const Reserved& r) { return r.key == key && r.seq == current->seq; });
        write_slot(path_, fd.get(), *s.found, p.spare(), encode(key, p.seq() + 1, next), !reserved_here);
        if (mine != nullptr)
            mine->erase(
                std::remove_if(mine->begin(), mine->end(), [&](const Reserved& r) { return r.key == key; }),
                mine->end());
        return true;
    }
    // A new entry: both copies, the second only once the first is on disk.
    const std::size_t at = s.free.value_or(s.pairs.size());
    if ((at + 1) * kPairBytes > kMaxBytes) fail(path_, "full: no room for another credential's counter");
    const std::uint64_t seq = at < s.pairs.size() ? s.pairs[at].seq() : 0;
    const int first = at < s.pairs.size() ? s.pairs[at].spare() : 0;
    write_slot(path_, fd.get(), at, first, encode(key, seq + 1, next));
    write_slot(path_, fd.get(), at, 1 - first, encode(key, seq + 2, next));
    return true;
}

std::vector<CounterJournal::Reserved> CounterJournal::reserve(
    std::string_view user, const std::vector<std::pair<std::string, std::uint32_t>>& credentials) const {
    std::vector<Reserved> out;
    // Without the boot's id a reserved copy could not be read as this boot's: no reservations then.
    if (this_boot() == 0) return out;
    // Only an existing journal has entries to reserve: a credential's first login writes its pair as before.
    UniqueFd fd(::open(path_.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return out;
        fail(path_, errno == ELOOP ? "is a symlink" : std::strerror(errno));
    }
    const std::vector<unsigned char> data = read_all(path_, fd.get());
    for (const auto& [cred_id, floor] : credentials) {
        const Digest key = key_of(user, cred_id);
        const Scan s = scan(path_, data, key);
        if (!s.found) continue;
        const Pair& p = s.pairs[*s.found];
        const Slot& current = p.slots[p.newest];
        // Another login's, still running (it keeps it), or one left by a login that ended without giving it
        // back: this login stores its counter as without a reservation, which writes an entry over it.
        if (current.reserved) continue;
        const std::uint32_t stored = std::max(floor, current.entry.counter);
        if (stored == 0 || stored == std::numeric_limits<std::uint32_t>::max()) continue;
        const Reserved r{key, p.seq() + 1, stored + 1};
        write_slot(path_, fd.get(), *s.found, p.spare(),
                   encode(key, r.seq, Entry{r.counter, current.entry.last_used}, true), false);
        out.push_back(r);
    }
    if (out.empty()) return out;
    // One flush for all of them, and only then are they the login's.
    try {
        flush(path_, fd.get());
    } catch (const FileError&) {
        // Not durable, so not usable; and not left for every reader to take at the reserved counter.
        give_back(fd.get(), out);
        throw;
    }
    return out;
}

// Each reservation that is still its credential's newest copy is replaced by the counter before it. Not
// flushed: a crash before it reaches the disk leaves the reserved copy, read as its own counter.
void CounterJournal::give_back(int fd, const std::vector<Reserved>& reserved) const {
    const std::vector<unsigned char> data = read_all(path_, fd);
    for (const auto& r : reserved) {
        const Scan s = scan(path_, data, r.key);
        if (!s.found) continue;
        const Pair& p = s.pairs[*s.found];
        const Slot& current = p.slots[p.newest];
        if (!current.reserved || current.seq != r.seq) continue;
        write_slot(path_, fd, *s.found, p.spare(),
                   encode(r.key, p.seq() + 1, Entry{r.counter - 1, current.entry.last_used}), false);
    }
}

void CounterJournal::release(const std::vector<Reserved>& reserved) const {
    if (reserved.empty()) return;
    UniqueFd fd(::open(path_.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) fail(path_, errno == ELOOP ? "is a symlink" : std::strerror(errno));
    // One used or overtaken is no longer its credential's newest copy: give_back leaves it.
    give_back(fd.get(), reserved);
}

void CounterJournal::rewrite_unchanged(bool durable) const {
    UniqueFd fd(::open(path_.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return;
        fail(path_, errno == ELOOP ? "is a symlink" : std::strerror(errno));
    }
    const std::vector<unsigned char> data = read_all(path_, fd.get());
    const Scan s = scan(path_, data, kFreeKey);  // read as a reservation reads it (and damage refused alike)
    for (std::size_t i = 0; i < s.pairs.size(); ++i) {
        if (s.pairs[i].kind != Pair::Kind::Entry) continue;
        const int spare = s.pairs[i].spare();
        SlotBytes same{};
        std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(i * kPairBytes + spare * kSlotBytes),
                    kSlotBytes, same.begin());
        write_slot(path_, fd.get(), i, spare, same, durable);
        return;
    }
}

void CounterJournal::observe_flushes_for_tests(FlushObserver observer) noexcept {
    g_flush_observer.store(observer);
}

void CounterJournal::forget(std::string_view user, std::string_view cred_id) const {
    UniqueFd fd(::open(path_.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return;
        fail(path_, errno == ELOOP ? "is a symlink" : std::strerror(errno));
    }
    const Scan s = scan(path_, read_all(path_, fd.get()), key_of(user, cred_id));
    if (!s.found) return;
    // A torn write leaves the old entry: a pair nobody reuses, never a damaged one.
    const Pair& p = s.pairs[*s.found];
    write_slot(path_, fd.get(), *s.found, p.spare(), encode(kFreeKey, p.seq() + 1, Entry{}));
}

}  // namespace pp::helper
