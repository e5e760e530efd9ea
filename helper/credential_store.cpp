#include "credential_store.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "base64.hpp"
#include "counter_journal.hpp"
#include "hex.hpp"
#include "identifiers.hpp"
#include "key_verification.hpp"
#include "rp_id.hpp"
#include "store_lock.hpp"
#include "text.hpp"
#include "trusted_file.hpp"

namespace pp::helper {
namespace {

// v1: the fields below without uv_required. v2 adds it before the nickname, and is written only for a
// credential that requires user verification: a v1 reader skips such a record (it cannot enforce the
// requirement) instead of letting it in with a touch alone.
constexpr std::string_view kRecordVersion = "v1";
constexpr std::size_t kRecordFields = 10;
constexpr std::string_view kRecordVersionUv = "v2";
constexpr std::size_t kRecordFieldsUv = 11;
// Generous for kMaxCredentialsPerUser records of the largest size, small enough to read on every login.
constexpr std::size_t kMaxFileBytes = 512 * 1024;
// The signature counters and times of last use, updated in place on every login (counter_journal.hpp). The
// counter in a credential's record is the one it was enrolled or imported with, or the last one stored before
// the journal existed: the journal's entry, when there is one, only ever raises it.
constexpr std::string_view kJournalName = "~counters";

[[noreturn]] void file_fail(const std::string& path, const std::string& what) {
    throw FileError(path + ": " + what);
}

// write_file_atomically leaves "<name>.tmp.<digits>" behind only if the helper dies mid-write; such a file
// is not an account's.
bool is_temporary_name(std::string_view name) {
    const auto at = name.rfind(".tmp.");
    if (at == std::string_view::npos) return false;
    const auto digits = name.substr(at + 5);
    return !digits.empty() &&
           std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The user name becomes a file name in the store directory.
bool valid_store_user(std::string_view user) {
    return valid_local_user(user) && user != "." && user != ".." && !is_temporary_name(user);
}

void require_user(std::string_view user) {
    if (!valid_store_user(user)) throw CredentialError("invalid user name");
}

// Nicknames are validated to be printable, so in practice only '\' is escaped; escaping every control byte
// as well means no value, however it got here, can split a record or a line.
std::string escape_nickname(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (text::is_control(c)) {
            out += "\\x" + hex_encode(std::string_view(&c, 1));
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::optional<std::string> unescape_nickname(std::string_view text) {
    const auto hex_value = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out.push_back(text[i]);
        } else if (i + 1 < text.size() && text[i + 1] == '\\') {
            out.push_back('\\');
            ++i;
        } else if (i + 3 < text.size() && text[i + 1] == 'x' && hex_value(text[i + 2]) >= 0 &&
                   hex_value(text[i + 3]) >= 0) {
            out.push_back(static_cast<char>(hex_value(text[i + 2]) * 16 + hex_value(text[i + 3])));
            i += 3;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

template <typename Int>
std::optional<Int> parse_decimal(std::string_view text) {
    // from_chars takes a leading '-' for signed types; a record never holds a negative time or counter.
    if (text.empty() || text.front() == '-' || (text.size() > 1 && text.front() == '0')) return std::nullopt;
    Int value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Why a credential may not be stored, or nullopt when it may. Shared by add() and load(), so nothing is
// written that would later be read back as corrupt. The relying-party id needs no check here: an RpId is
// valid by construction, and parse_record refuses a record whose id is not.
std::optional<std::string> record_problem(const StoredCredential& c) {
    if (c.cred_id.empty() || c.cred_id.size() > kMaxCredentialIdBytes) return "credential id length";
    if (c.public_key.size() != public_key_size(c.alg)) return "public key length does not fit the algorithm";
    if (!valid_nickname(c.nickname)) return "invalid nickname";
    if (c.created < 0 || c.last_used < 0) return "negative timestamp";
    return std::nullopt;
}

std::string format_record(const StoredCredential& c) {
    std::vector<std::string> fields{base64url_encode(c.cred_id),    std::to_string(cose_number(c.alg)),
                                    base64url_encode(c.public_key), c.rp_id.str(),
                                    std::to_string(c.created),      std::to_string(c.last_used),
                                    std::to_string(c.counter),      std::string(c.uv ? "1" : "0")};
    if (c.uv_required) fields.emplace_back("1");
    fields.push_back(escape_nickname(c.nickname));
    std::string line(c.uv_required ? kRecordVersionUv : kRecordVersion);
    for (const auto& field : fields) {
        line.push_back('\t');
        line += field;
    }
    return line;
}

// Parses one record; on failure `why` says what is wrong.
std::optional<StoredCredential> parse_record(std::string_view line, const std::string& user,
                                             std::string& why) {
    std::vector<std::string_view> fields;
    for (std::size_t start = 0;;) {
        const auto tab = line.find('\t', start);
        fields.push_back(
            line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
        if (tab == std::string_view::npos) break;
        start = tab + 1;
    }
    const bool v2 = fields.front() == kRecordVersionUv;
    if (fields.front() != kRecordVersion && !v2) {
        why = "not a " + std::string(kRecordVersion) + " or " + std::string(kRecordVersionUv) + " record";
        return std::nullopt;
    }
    const std::size_t expected = v2 ? kRecordFieldsUv : kRecordFields;
    if (fields.size() != expected) {
        why = "expected " + std::to_string(expected) + " tab-separated fields, found " +
              std::to_string(fields.size());
        return std::nullopt;
    }
    // v2 carries uv_required before the nickname; past it, both versions read alike.
    bool uv_required = false;
    if (v2) {
        if (fields[9] != "0" && fields[9] != "1") {
            why = "bad user-verification requirement";
            return std::nullopt;
        }
        uv_required = fields[9] == "1";
        fields.erase(fields.begin() + 9);
    }
    auto cred_id = base64url_decode(fields[1]);
    // A plain flag rather than an optional: GCC's -O2 flow analysis misreads the optional as uninitialised.
    const bool alg_known = fields[2] == "-7" || fields[2] == "-8";
    const KeyAlgorithm alg_value = fields[2] == "-8" ? KeyAlgorithm::EdDsa : KeyAlgorithm::Es256;
    auto public_key = base64url_decode(fields[3]);
    const auto created = parse_decimal<std::int64_t>(fields[5]);
    const auto last_used = parse_decimal<std::int64_t>(fields[6]);
    const auto counter = parse_decimal<std::uint32_t>(fields[7]);
    auto nickname = unescape_nickname(fields[9]);
    if (!cred_id)
        why = "credential id is not base64url";
    else if (!alg_known)
        why = "unknown algorithm";
    else if (!public_key)
        why = "public key is not base64url";
    else if (!created || !last_used)
        why = "bad timestamp";
    else if (!counter)
        why = "bad counter";
    else if (fields[8] != "0" && fields[8] != "1")
        why = "bad user-verification flag";
    else if (!nickname)
        why = "bad escape in nickname";
    else if (!RpId::valid(fields[4]))
        why = "invalid relying-party id";
    if (!why.empty()) return std::nullopt;
    StoredCredential c{RpId(fields[4])};
    c.user = user;
    c.cred_id = std::move(*cred_id);
    c.alg = alg_value;
    c.public_key = std::move(*public_key);
    c.created = *created;
    c.last_used = *last_used;
    c.counter = *counter;
    c.uv = fields[8] == "1";
    c.uv_required = uv_required;
    c.nickname = std::move(*nickname);
    if (auto problem = record_problem(c)) {
        why = std::move(*problem);
        return std::nullopt;
    }
    return c;
}

// A user's file as read. Lines that do not parse are kept verbatim, so a rewrite for one change does not
// also destroy records that an admin may want to repair (or that a newer version wrote).
struct UserFile {
    struct Line {
        std::optional<StoredCredential> credential;
        std::string raw;
    };
    std::vector<Line> lines;
    std::vector<std::string> problems;

    StoredCredential* find(std::string_view cred_id) {
        for (auto& line : lines)
            if (line.credential && line.credential->cred_id == cred_id) return &*line.credential;
        return nullptr;
    }
    [[nodiscard]] std::size_t credential_count() const {
        return static_cast<std::size_t>(std::count_if(
            lines.begin(), lines.end(), [](const Line& l) { return l.credential.has_value(); }));
    }
};

// The text of a user's file; problems name `source` and the line.
UserFile parse_user_file(std::string_view text, const std::string& user, const std::string& source) {
    UserFile file;
    std::size_t lineno = 0;
    for (std::size_t start = 0; start < text.size();) {
        const auto newline = text.find('\n', start);
        const auto end = newline == std::string_view::npos ? text.size() : newline;
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++lineno;
        if (line.empty()) continue;
        std::string why;
        auto credential = parse_record(line, user, why);
        if (credential && file.find(credential->cred_id) != nullptr) {
            credential.reset();
            why = "duplicate credential id";
        }
        if (!credential) file.problems.push_back(source + ":" + std::to_string(lineno) + ": " + why);
        file.lines.push_back({std::move(credential), std::string(line)});
    }
    return file;
}

UserFile read_user_file(const std::string& path, const std::string& user) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return {};
        file_fail(path, std::strerror(errno));
    }
    // Refuses a symlink, a non-regular file, a file not owned by root or writable by others.
    return parse_user_file(read_trusted_file(path, kMaxFileBytes), user, path);
}

void write_user_file(const std::string& path, const UserFile& file) {
    if (file.lines.empty()) {
        // An account without credentials has no file, so users() lists only accounts that have some.
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) file_fail(path, std::strerror(errno));
        return;
    }
    std::string text;
    for (const auto& line : file.lines) {
        text += line.credential ? format_record(*line.credential) : line.raw;
        text.push_back('\n');
    }
    write_file_atomically(path, text);
}

// What a kept listing or parse is kept by: a file or directory as stat() sees it. Every change to an inode,
// of its contents or its metadata, sets its ctime to the time of the change, and no call can set it to
// anything else (utimensat, cp -p, rsync -t and tar restore an mtime, never a ctime); a replaced file is
// another inode. Sizes and mtimes are compared too.
struct FileIdentity {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec modified{}, changed{};

    static FileIdentity of(const struct stat& st) {
        return {st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
    }
    bool operator==(const FileIdentity& o) const {
        const auto same = [](const timespec& a, const timespec& b) {
            return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
        };
        return dev == o.dev && ino == o.ino && size == o.size && same(modified, o.modified) &&
               same(changed, o.changed);
    }
    // Whether what was read at `at` may be kept for this identity: only when `at` is at least a second after
    // both times. A change lands on the filesystem's timestamp tick, which may be as coarse as a second
    // (ext4's small inodes); two changes within one tick may share their times, so a read within a tick of
    // the last change could miss the next. A time in the future (an mtime set ahead) keeps nothing.
    [[nodiscard]] bool settled_at(const timespec& at) const {
        const auto a_second_after = [&](const timespec& t) {
            std::int64_t seconds = 0;
            if (__builtin_sub_overflow(static_cast<std::int64_t>(at.tv_sec),
                                       static_cast<std::int64_t>(t.tv_sec), &seconds))
                return false;
            return seconds > 1 || (seconds == 1 && at.tv_nsec >= t.tv_nsec);
        };
        return a_second_after(modified) && a_second_after(changed);
    }
};

timespec realtime_now() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return now;
}

std::atomic<std::uint64_t> g_files_parsed{0};

struct DirCloser {
    void operator()(DIR* d) const noexcept { ::closedir(d); }
};

}  // namespace

CredentialStore::CredentialStore(std::string dir) : dir_(std::move(dir)) {
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
    if (dir_.empty() || dir_.front() != '/')
        throw CredentialError("credential directory must be an absolute path");
}

void CredentialStore::ensure_dir() const {
    make_private_directory(dir_);
}

namespace {

CredentialStore::Loaded loaded(UserFile file) {
    CredentialStore::Loaded out;
    for (auto& line : file.lines)
        if (line.credential) out.credentials.push_back(std::move(*line.credential));
    out.problems = std::move(file.problems);
    return out;
}

}  // namespace

CredentialStore::Loaded parse_credential_records(std::string_view text, const std::string& user,
                                                 const std::string& source) {
    return loaded(parse_user_file(text, user, source));
}

CounterJournal CredentialStore::journal() const {
    return CounterJournal(dir_ + "/" + std::string(kJournalName));
}

namespace {

// What was read from a file or directory, kept while it is unchanged (FileIdentity), by path: the parses of
// users' files (load) and the store's listing (holders). Bounded: past kMaxKept paths, all go.
template <class T>
class KeptByIdentity {
  public:
    using Clock = std::chrono::steady_clock;
    // The value kept for what has identity `now` at `path`, or null; a hit counts as looked at `when`.
    std::shared_ptr<const T> find(const std::string& path, const FileIdentity& now, Clock::time_point when) {
        const std::lock_guard lock(m_);
        const auto it = kept_.find(path);
        if (it == kept_.end() || !(it->second.seen == now)) return nullptr;
        it->second.looked_at = when;
        return it->second.value;
    }
    // The value kept for `path` if it was found unchanged (or read) at `since` or later, without looking at
    // the file; null otherwise.
    std::shared_ptr<const T> looked_at_since(const std::string& path, Clock::time_point since) {
        const std::lock_guard lock(m_);
        const auto it = kept_.find(path);
        return it != kept_.end() && it->second.looked_at >= since ? it->second.value : nullptr;
    }
    // `value` was read at `read_at` from what had identity `seen`: kept when that read may be kept
    // (FileIdentity::settled_at) and `unchanged` says nothing landed during it; else the path is forgotten.
    void offer(const std::string& path, const FileIdentity& seen, bool unchanged, const timespec& read_at,
               std::shared_ptr<const T> value) {
        const std::lock_guard lock(m_);
        if (!unchanged || !seen.settled_at(read_at)) {
            kept_.erase(path);
            return;
        }
        if (kept_.size() >= kMaxKept) kept_.clear();
        kept_[path] = Entry{seen, std::move(value), Clock::now()};
    }
    void forget(const std::string& path) {
        const std::lock_guard lock(m_);
        kept_.erase(path);
    }

  private:
    static constexpr std::size_t kMaxKept = 4096;  // the key holders a busy machine signs in
    struct Entry {
        FileIdentity seen;
        std::shared_ptr<const T> value;
        Clock::time_point looked_at;  // when it was last read or found unchanged
    };
    std::mutex m_;
    std::unordered_map<std::string, Entry> kept_;
};

// A user's file as last parsed for a login. Parsing a record checks its public key: the most of a key login's
// reading of the store. A decoy reads the file of the key holder it copies the same way
// (login/security_key_method.cpp).
KeptByIdentity<CredentialStore::Loaded>& kept_parses() {
    static KeptByIdentity<CredentialStore::Loaded> kept;
    return kept;
}

// The store's listing (holders), one per store directory the configurations name.
KeptByIdentity<std::vector<std::string>>& kept_listings() {
    static KeptByIdentity<std::vector<std::string>> kept;
    return kept;
}

}  // namespace

std::uint64_t credential_files_parsed() noexcept {
    return g_files_parsed.load();
}

CredentialStore::Loaded CredentialStore::parsed(const std::string& user) const {
    const std::string path = dir_ + "/" + user;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        const int error = errno;
        if (error != ENOENT) file_fail(path, std::strerror(error));
        kept_parses().forget(path);
        return {};
    }
    const FileIdentity now = FileIdentity::of(st);
    if (const auto kept = kept_parses().find(path, now, std::chrono::steady_clock::now())) {
        // The checks a read makes, made of what is there now.
        try {
            check_trusted_directory(dir_);
            check_trusted_file(path, st, Confidentiality::Public);
        } catch (...) {
            kept_parses().forget(path);
            throw;
        }
        return *kept;
    }
    const timespec read_at = realtime_now();
    auto fresh = std::make_shared<const Loaded>(loaded(read_user_file(path, user)));
    ++g_files_parsed;
    // Kept only when the file read is the one looked at first: no change landed between the two looks.
    struct stat after {};
    const bool unchanged = ::lstat(path.c_str(), &after) == 0 && FileIdentity::of(after) == now;
    kept_parses().offer(path, now, unchanged, read_at, fresh);
    return *fresh;
}

CredentialStore::Loaded CredentialStore::load(const std::string& user) const {
    require_user(user);
    return with_counters(user, parsed(user));
}

CredentialStore::Loaded CredentialStore::load_shape(const std::string& user,
                                                    std::chrono::steady_clock::duration within) const {
    require_user(user);
    const auto since = std::chrono::steady_clock::now() - within;
    if (const auto kept = kept_parses().looked_at_since(dir_ + "/" + user, since))
        return with_counters(user, *kept);
    return load(user);
}

CredentialStore::Loaded CredentialStore::with_counters(const std::string& user, Loaded out) const {
    const CounterJournal counters = journal();
    for (auto& c : out.credentials) {
        if (const auto e = counters.find(user, c.cred_id)) {
            c.counter = std::max(c.counter, e->counter);
            c.last_used = std::max(c.last_used, e->last_used);
        }
    }
    return out;
}

void CredentialStore::add(const StoredCredential& c) {
    require_user(c.user);
    if (auto problem = record_problem(c)) throw CredentialError("cannot store credential: " + *problem);
    if (!valid_public_key(c.alg, c.public_key))
        throw CredentialError("cannot store credential: invalid public key");
    const StoreLock lock(dir_);
    for (const auto& other : users()) {
        if (other == c.user) continue;
        for (const auto& existing : load(other).credentials)
            if (existing.cred_id == c.cred_id) throw CredentialError("this credential is already enrolled");
    }
    const std::string path = dir_ + "/" + c.user;
    UserFile file = read_user_file(path, c.user);
    if (file.find(c.cred_id) != nullptr) throw CredentialError("this credential is already enrolled");
    if (file.credential_count() >= kMaxCredentialsPerUser)
        throw CredentialError("the account already has " + std::to_string(kMaxCredentialsPerUser) +
                              " credentials");
    file.lines.push_back({c, {}});
    write_user_file(path, file);
}

bool CredentialStore::remove(const std::string& user, std::string_view cred_id) {
    require_user(user);
    const StoreLock lock(dir_);
    const std::string path = dir_ + "/" + user;
    UserFile file = read_user_file(path, user);
    const auto it = std::find_if(file.lines.begin(), file.lines.end(), [&](const UserFile::Line& l) {
        return l.credential && l.credential->cred_id == cred_id;
    });
    if (it == file.lines.end()) return false;
    file.lines.erase(it);
    write_user_file(path, file);
    // After the record is gone for good: a crash in between leaves an entry nobody reads, never a credential
    // without its counter.
    journal().forget(user, cred_id);
    return true;
}

bool CredentialStore::rename(const std::string& user, std::string_view cred_id, const std::string& nickname) {
    require_user(user);
    if (!valid_nickname(nickname)) throw CredentialError("invalid nickname");
    const StoreLock lock(dir_);
    const std::string path = dir_ + "/" + user;
    UserFile file = read_user_file(path, user);
    StoredCredential* c = file.find(cred_id);
    if (c == nullptr) return false;
    c->nickname = nickname;
    write_user_file(path, file);
    return true;
}

CredentialStore::UseReservation::UseReservation(UseReservation&& other) noexcept
    : dir_(std::move(other.dir_)),
      reserved_(std::exchange(other.reserved_, {})),
      made_up_(std::exchange(other.made_up_, false)) {}

CredentialStore::UseReservation::~UseReservation() {
    if (made_up_) {
        try {
            const StoreLock lock(dir_);
            CounterJournal(dir_ + "/" + std::string(kJournalName)).rewrite_unchanged(false);
        } catch (...) {
        }
        return;
    }
    if (reserved_.empty()) return;
    const CounterJournal journal(dir_ + "/" + std::string(kJournalName));
    try {
        const StoreLock lock(dir_);
        journal.release(reserved_);
    } catch (...) {
        // Left behind: read by its boot, as one left by a killed helper (counter_journal.hpp).
    }
}

CredentialStore::UseReservation CredentialStore::reserve_use(
    const std::string& user, const std::vector<StoredCredential>& asked) const {
    require_user(user);
    std::vector<std::pair<std::string, std::uint32_t>> floors;
    for (const auto& c : asked) floors.emplace_back(c.cred_id, c.counter);
    const StoreLock lock(dir_);
    return UseReservation(dir_, journal().reserve(user, floors));
}

CredentialStore::UseReservation CredentialStore::reserve_made_up() const {
    const StoreLock lock(dir_);
    journal().rewrite_unchanged(true);
    return UseReservation(dir_, {}, true);
}

void CredentialStore::record_use(const std::string& user, std::string_view cred_id, std::uint32_t counter,
                                 std::int64_t now, UseReservation* reserved) {
    require_user(user);
    if (now < 0) throw CredentialError("negative timestamp");
    const StoreLock lock(dir_);
    // Read under the lock as load() reads (the parse kept while the file is unchanged, with what is there
    // checked now): the login that asked the key has just parsed it.
    const Loaded file = parsed(user);
    const auto c = std::find_if(file.credentials.begin(), file.credentials.end(),
                                [&](const StoredCredential& s) { return s.cred_id == cred_id; });
    if (c == file.credentials.end()) throw CredentialError("the credential is no longer enrolled");
    // Durable before the login is answered: a crash right after cannot let this counter in again. The
    // reservation this write uses or overtakes is taken out of `reserved`: nothing of it is left to give
    // back.
    if (!journal().advance(user, cred_id, c->counter, {counter, now},
                           reserved != nullptr && reserved->dir_ == dir_ ? &reserved->reserved_ : nullptr))
        throw CredentialError("the signature counter did not increase");
}

std::vector<std::string> CredentialStore::users() const {
    std::vector<std::string> out;
    const std::unique_ptr<DIR, DirCloser> d(::opendir(dir_.c_str()));
    if (!d) {
        if (errno == ENOENT) return out;
        file_fail(dir_, std::strerror(errno));
    }
    while (const dirent* e = ::readdir(d.get())) {
        const std::string name = e->d_name;
        // Whatever the entry is, it is listed: loading a symlink or a directory then reports it instead of
        // the listing hiding it.
        if (valid_store_user(name)) out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::shared_ptr<const std::vector<std::string>> CredentialStore::holders_seen_within(
    std::chrono::steady_clock::duration within) const {
    if (auto listing = kept_listings().looked_at_since(dir_, std::chrono::steady_clock::now() - within))
        return listing;
    return holders();
}

std::shared_ptr<const std::vector<std::string>> CredentialStore::holders() const {
    auto& kept = kept_listings();
    struct stat st {};
    if (::stat(dir_.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::make_shared<const std::vector<std::string>>();
        file_fail(dir_, std::strerror(errno));
    }
    const FileIdentity now = FileIdentity::of(st);
    if (auto listing = kept.find(dir_, now, std::chrono::steady_clock::now())) return listing;
    const timespec listed_at = realtime_now();
    auto listing = std::make_shared<const std::vector<std::string>>(users());
    // A change between the stat and the listing leaves a listing newer than `now`, which the next stat
    // replaces; a change after it gets a time past `listed_at`.
    kept.offer(dir_, now, true, listed_at, listing);
    return listing;
}

}  // namespace pp::helper
