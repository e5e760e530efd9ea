#include "counter_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
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
// Slot layout: magic [0,4) key [4,36) sequence [36,44) counter [44,48) last use [48,56) checksum [56,64),
// integers little-endian; the checksum is the first 8 bytes of SHA-256 over bytes [0,56).
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
    Digest key{};
    std::uint64_t seq = 0;
    CounterJournal::Entry entry;
};

Slot decode(const unsigned char* p) {
    Slot s;
    if (std::all_of(p, p + kSlotBytes, [](unsigned char b) { return b == 0; })) return s;
    const Digest check = sha256(p, kCheckAt);
    if (!std::equal(kMagic.begin(), kMagic.end(), p) ||
        !std::equal(p + kCheckAt, p + kSlotBytes, check.begin())) {
        s.state = Slot::State::Bad;
        return s;
    }
    s.state = Slot::State::Good;
    std::copy(p + kKeyAt, p + kSeqAt, s.key.begin());
    s.seq = get_le<std::uint64_t>(p + kSeqAt);
    s.entry.counter = get_le<std::uint32_t>(p + kCounterAt);
    s.entry.last_used = get_le<std::int64_t>(p + kLastUsedAt);
    return s;
}

SlotBytes encode(const Digest& key, std::uint64_t seq, const CounterJournal::Entry& e) {
    SlotBytes b{};
    std::copy(kMagic.begin(), kMagic.end(), b.begin());
    std::copy(key.begin(), key.end(), b.begin() + kKeyAt);
    put_le(b.data() + kSeqAt, seq);
    put_le(b.data() + kCounterAt, e.counter);
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
        if (newest >= 0)
            kind = slots[newest].key == kFreeKey ? Kind::Free : Kind::Entry;
        else if (slots[1].state == S::Empty)
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

void write_slot(const std::string& path, int fd, std::size_t pair, int slot, const SlotBytes& bytes) {
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
    if (::fdatasync(fd) != 0) fail(path, std::strerror(errno));
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
    return p.slots[p.newest].entry;
}

bool CounterJournal::advance(std::string_view user, std::string_view cred_id, std::uint32_t floor,
                             const Entry& entry) const {
    const UniqueFd fd = open_for_update(path_);
    const Digest key = key_of(user, cred_id);
    const Scan s = scan(path_, read_all(path_, fd.get()), key);
    const Slot* current = s.found ? &s.pairs[*s.found].slots[s.pairs[*s.found].newest] : nullptr;
    const std::uint32_t stored = std::max(floor, current != nullptr ? current->entry.counter : 0);
    if ((stored > 0 || entry.counter > 0) && entry.counter <= stored) return false;
    const Entry next{entry.counter,
                     std::max(entry.last_used, current != nullptr ? current->entry.last_used : 0)};
    if (s.found) {
        const Pair& p = s.pairs[*s.found];
        write_slot(path_, fd.get(), *s.found, p.spare(), encode(key, p.seq() + 1, next));
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
