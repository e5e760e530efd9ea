#include "limit_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>

#include "trusted_file.hpp"

namespace pp::helper {
namespace {

// Marks the file as ours, so another SQLite database put at the path is refused rather than written into.
constexpr int kApplicationId = 0x70704c31;  // "ppL1"
constexpr int kPageSize = 4096;

enum StatementId {
    kSum,
    kBump,
    kFailGet,
    kFailAdd,
    kFailClear,
    kSweepSends,
    kSweepFailures,
    kCount,
    kShedSends,
    kShedFailures,
    kFactorGet,
    kFactorPut,
    kFactorForget,
    kSweepFactors,
    kTrimFactors,
    kShedFactors,
    kBegin,
    kCommit,
    kRollback,
    kStatements
};

}  // namespace

struct LimitStore::Statement {
    sqlite3_stmt* s = nullptr;
    ~Statement() { sqlite3_finalize(s); }
};

void LimitStore::DbCloser::operator()(sqlite3* db) const {
    sqlite3_close_v2(db);
}

void LimitStore::fail(const std::string& what) {
    throw LimitStoreError("limit store " + (path_.empty() ? std::string("(memory)") : path_) + ": " + what +
                          ": " + sqlite3_errmsg(db_.get()));
}

void LimitStore::exec(const char* sql) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
}

// A send's transaction is the limits' hot path (every code login): its BEGIN and COMMIT are kept prepared
// like its other statements, instead of being parsed again by sqlite3_exec each time.
void LimitStore::run(int which, const char* sql) {
    auto& q = prepared(which, sql);
    const int rc = sqlite3_step(q.s);
    sqlite3_reset(q.s);
    if (rc != SQLITE_DONE) fail(sql);
}

LimitStore::Statement& LimitStore::prepared(int which, const char* sql) {
    auto& st = statements_[static_cast<std::size_t>(which)];
    if (!st) {
        auto fresh = std::make_unique<Statement>();
        if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &fresh->s, nullptr) !=
            SQLITE_OK)
            fail("prepare");
        st = std::move(fresh);
    }
    sqlite3_reset(st->s);
    sqlite3_clear_bindings(st->s);
    return *st;
}

LimitStore::LimitStore(const std::string& path, std::int64_t max_bytes) : path_(path) {
    statements_.resize(kStatements);
    const bool existed = !path.empty() && [&] {
        try {
            return check_trusted_path(path, Confidentiality::Secret) &&
                   (check_trusted_path(path + "-wal", Confidentiality::Secret), true) &&
                   (check_trusted_path(path + "-shm", Confidentiality::Secret), true);
        } catch (const FileError& e) {
            throw LimitStoreError(std::string("limit store: ") + e.what());
        }
    }();
    sqlite3* raw = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
                      SQLITE_OPEN_EXRESCODE | (path.empty() ? SQLITE_OPEN_MEMORY : 0);
    const int rc = sqlite3_open_v2(path.empty() ? ":memory:" : path.c_str(), &raw, flags, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) fail("cannot open");
    // SQLite creates files 0644 less the umask; the counts name people's addresses, so only root reads them.
    // The WAL and shared-memory files take the database file's mode when SQLite creates them.
    if (!existed && !path.empty() && ::chmod(path.c_str(), 0600) != 0)
        throw LimitStoreError("limit store " + path + ": cannot make it mode 0600");
    sqlite3_busy_timeout(db_.get(), 2000);

    // A damaged file is not repaired or replaced: starting empty would reset every user's limits, which is
    // what an attacker able to damage it wants. The helper refuses what needs the store until root moves the
    // file away (check-config names it); see the man page.
    const std::string page_size = "PRAGMA page_size=" + std::to_string(kPageSize);
    exec(page_size.c_str());
    sqlite3_stmt* check = nullptr;
    if (sqlite3_prepare_v2(db_.get(), "PRAGMA quick_check", -1, &check, nullptr) != SQLITE_OK)
        fail("not a limit store (unreadable)");
    const int step = sqlite3_step(check);
    const std::string verdict =
        step == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(check, 0)) : "no answer";
    sqlite3_finalize(check);
    if (verdict != "ok") throw LimitStoreError("limit store " + path_ + ": damaged (" + verdict + ")");

    exec("PRAGMA journal_mode=WAL");
    // NORMAL in WAL mode: a transaction survives a crash of the helper; a power cut may lose the last few,
    // which costs an attacker a handful of sends, against an fsync per event.
    exec("PRAGMA synchronous=NORMAL");
    // The rows a login touches are few and recent: a small page cache (512 KiB, SQLite's default is 2 MiB)
    // keeps the helper's memory near its idle size after a burst (tests/load measures it).
    exec("PRAGMA cache_size=-512");
    exec("PRAGMA secure_delete=ON");
    // The WAL is folded back every 256 pages and cut back to 1 MiB, so the files on disk stay near the cap.
    exec("PRAGMA wal_autocheckpoint=256");
    exec("PRAGMA journal_size_limit=1048576");
    const std::int64_t pages = std::max<std::int64_t>(max_bytes / kPageSize, 16);
    const std::string cap = "PRAGMA max_page_count=" + std::to_string(pages);
    exec(cap.c_str());

    sqlite3_stmt* id = nullptr;
    sqlite3_prepare_v2(db_.get(), "PRAGMA application_id", -1, &id, nullptr);
    const int app = sqlite3_step(id) == SQLITE_ROW ? sqlite3_column_int(id, 0) : -1;
    sqlite3_finalize(id);
    sqlite3_stmt* tables = nullptr;
    sqlite3_prepare_v2(db_.get(), "SELECT count(*) FROM sqlite_schema", -1, &tables, nullptr);
    const int n_tables = sqlite3_step(tables) == SQLITE_ROW ? sqlite3_column_int(tables, 0) : -1;
    sqlite3_finalize(tables);
    if (n_tables > 0 && app != kApplicationId)
        throw LimitStoreError("limit store " + path_ + ": another SQLite database is at this path");
    if (n_tables == 0) {
        exec("BEGIN IMMEDIATE");
        exec("PRAGMA application_id=1886407729");
        exec(
            "CREATE TABLE sends(key TEXT NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, "
            "expires INTEGER NOT NULL, PRIMARY KEY(key, t)) WITHOUT ROWID");
        exec("CREATE INDEX sends_expiry ON sends(expires)");
        exec(
            "CREATE TABLE failures(key TEXT PRIMARY KEY NOT NULL, count INTEGER NOT NULL, "
            "last INTEGER NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID");
        exec("CREATE INDEX failures_expiry ON failures(expires)");
        exec("COMMIT");
    }
    // The factor memory came after the counts: a store made before it gets its table here. The counts do not
    // depend on it, so a store that cannot take the table (full) still serves them; recall and remember then
    // fail, which their callers take as nothing remembered.
    if (sqlite3_exec(
            db_.get(),
            "CREATE TABLE IF NOT EXISTS factors(key TEXT PRIMARY KEY NOT NULL, factors TEXT NOT NULL, "
            "pool_user TEXT NOT NULL, seen INTEGER NOT NULL, expires INTEGER NOT NULL, "
            "passkeys TEXT NOT NULL DEFAULT '') WITHOUT ROWID; "
            "CREATE INDEX IF NOT EXISTS factors_expiry ON factors(expires); "
            "CREATE INDEX IF NOT EXISTS factors_seen ON factors(seen)",
            nullptr, nullptr, nullptr) != SQLITE_OK)
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    // A factor table made before the passkeys' lengths were kept gets their column (every row: none seen).
    // Adding a column with a constant default rewrites no row. Should it fail (a full store), the factor
    // memory's statements fail as the table's absence would make them, and the counts go on.
    sqlite3_stmt* probe = nullptr;
    const bool has_passkeys = sqlite3_prepare_v2(db_.get(), "SELECT passkeys FROM factors LIMIT 0", -1,
                                                 &probe, nullptr) == SQLITE_OK;
    sqlite3_finalize(probe);
    if (!has_passkeys)
        (void)sqlite3_exec(db_.get(), "ALTER TABLE factors ADD COLUMN passkeys TEXT NOT NULL DEFAULT ''",
                           nullptr, nullptr, nullptr);
}

LimitStore::~LimitStore() = default;

std::int64_t LimitStore::take(const std::vector<SendRule>& rules, std::int64_t now, std::vector<int>* counted,
                              bool check_only) {
    run(kBegin, "BEGIN IMMEDIATE");
    try {
        std::int64_t wait = 0;
        std::vector<int> counts;
        for (const auto& r : rules) {
            auto& q =
                prepared(kSum, "SELECT coalesce(sum(n), 0), min(t) FROM sends WHERE key = ?1 AND t > ?2");
            sqlite3_bind_text(q.s, 1, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
            sqlite3_bind_int64(q.s, 2, now - r.window);
            if (sqlite3_step(q.s) != SQLITE_ROW) fail("count sends");
            const int n = sqlite3_column_int(q.s, 0);
            const std::int64_t oldest = sqlite3_column_int64(q.s, 1);
            sqlite3_reset(q.s);
            if (n >= r.limit)
                wait = std::max<std::int64_t>(wait, std::max<std::int64_t>(1, oldest + r.window - now));
            counts.push_back(n);
        }
        if (wait == 0 && !check_only) {
            for (std::size_t i = 0; i < rules.size(); ++i) {
                const auto& r = rules[i];
                const std::int64_t t = now - now % std::max<std::int64_t>(r.bucket, 1);
                auto& q = prepared(kBump,
                                   "INSERT INTO sends(key, t, n, expires) VALUES(?1, ?2, 1, ?3) "
                                   "ON CONFLICT(key, t) DO UPDATE SET n = n + 1");
                sqlite3_bind_text(q.s, 1, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
                sqlite3_bind_int64(q.s, 2, t);
                sqlite3_bind_int64(q.s, 3, t + r.window);
                if (sqlite3_step(q.s) != SQLITE_DONE) fail("count a send");
                sqlite3_reset(q.s);
                ++counts[i];
            }
        }
        run(kCommit, "COMMIT");
        if (counted) *counted = std::move(counts);
        return wait;
    } catch (...) {
        try {
            run(kRollback, "ROLLBACK");
        } catch (const LimitStoreError&) {
            // No transaction left to roll back (SQLite ends some failed ones itself): the first error stands.
        }
        throw;
    }
}

FailureCount LimitStore::failures(const std::string& key, std::int64_t now) {
    // An expired row counts nothing, but is reported (`stored`): RateLimits knows from it whether a success
    // has a row to delete.
    auto& q = prepared(kFailGet, "SELECT count, last, expires FROM failures WHERE key = ?1");
    sqlite3_bind_text(q.s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    FailureCount f;
    const int rc = sqlite3_step(q.s);
    if (rc == SQLITE_ROW) {
        f.stored = true;
        if (sqlite3_column_int64(q.s, 2) > now) {
            f.count = sqlite3_column_int(q.s, 0);
            f.last = sqlite3_column_int64(q.s, 1);
        }
    } else if (rc != SQLITE_DONE) {
        fail("read failures");
    }
    sqlite3_reset(q.s);
    return f;
}

void LimitStore::add_failure(const std::string& key, std::int64_t now, std::int64_t expires) {
    // An expired row restarts at one: the upsert keeps its count only while it is alive.
    auto& q =
        prepared(kFailAdd,
                 "INSERT INTO failures(key, count, last, expires) VALUES(?1, 1, ?2, ?3) "
                 "ON CONFLICT(key) DO UPDATE SET count = CASE WHEN expires > ?2 THEN count + 1 ELSE 1 END, "
                 "last = ?2, expires = ?3");
    sqlite3_bind_text(q.s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_int64(q.s, 2, now);
    sqlite3_bind_int64(q.s, 3, expires);
    if (sqlite3_step(q.s) != SQLITE_DONE) fail("count a failure");
    sqlite3_reset(q.s);
}

void LimitStore::clear_failures(const std::string& key) {
    auto& q = prepared(kFailClear, "DELETE FROM failures WHERE key = ?1");
    sqlite3_bind_text(q.s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    if (sqlite3_step(q.s) != SQLITE_DONE) fail("clear failures");
    sqlite3_reset(q.s);
}

std::optional<FactorRow> LimitStore::recall(const std::string& key, std::int64_t now) {
    auto& q = prepared(
        kFactorGet, "SELECT factors, pool_user, seen, passkeys FROM factors WHERE key = ?1 AND expires > ?2");
    sqlite3_bind_text(q.s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_int64(q.s, 2, now);
    std::optional<FactorRow> row;
    const int rc = sqlite3_step(q.s);
    if (rc == SQLITE_ROW) {
        row.emplace();
        row->factors = reinterpret_cast<const char*>(sqlite3_column_text(q.s, 0));
        row->pool_user = reinterpret_cast<const char*>(sqlite3_column_text(q.s, 1));
        row->seen = sqlite3_column_int64(q.s, 2);
        row->passkeys = reinterpret_cast<const char*>(sqlite3_column_text(q.s, 3));
    } else if (rc != SQLITE_DONE) {
        fail("recall factors");
    }
    sqlite3_reset(q.s);
    return row;
}

void LimitStore::remember(const std::string& key, const FactorRow& row, std::int64_t expires) {
    auto& q =
        prepared(kFactorPut,
                 "INSERT INTO factors(key, factors, pool_user, seen, expires, passkeys) "
                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
                 "ON CONFLICT(key) DO UPDATE SET factors = ?2, pool_user = ?3, seen = ?4, expires = ?5, "
                 "passkeys = CASE WHEN ?6 <> '' THEN ?6 "
                 "WHEN instr(' ' || ?2 || ' ', ' WEB_AUTHN ') > 0 THEN passkeys ELSE '' END");
    sqlite3_bind_text(q.s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_text(q.s, 2, row.factors.data(), static_cast<int>(row.factors.size()), SQLITE_STATIC);
    sqlite3_bind_text(q.s, 3, row.pool_user.data(), static_cast<int>(row.pool_user.size()), SQLITE_STATIC);
    sqlite3_bind_int64(q.s, 4, row.seen);
    sqlite3_bind_int64(q.s, 5, expires);
    sqlite3_bind_text(q.s, 6, row.passkeys.data(), static_cast<int>(row.passkeys.size()), SQLITE_STATIC);
    if (sqlite3_step(q.s) != SQLITE_DONE) fail("remember factors");
    sqlite3_reset(q.s);
}

void LimitStore::forget(const std::string& key) {
    auto& q = prepared(kFactorForget, "DELETE FROM factors WHERE key = ?1");
    sqlite3_bind_text(q.s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    if (sqlite3_step(q.s) != SQLITE_DONE) fail("forget factors");
    sqlite3_reset(q.s);
}

void LimitStore::sweep(std::int64_t now) {
    for (auto [which, sql] : {std::pair{kSweepSends, "DELETE FROM sends WHERE expires <= ?1"},
                              std::pair{kSweepFailures, "DELETE FROM failures WHERE expires <= ?1"}}) {
        auto& q = prepared(which, sql);
        sqlite3_bind_int64(q.s, 1, now);
        if (sqlite3_step(q.s) != SQLITE_DONE) fail("sweep");
        sqlite3_reset(q.s);
    }
    // The counts' sweep must not fail for the hints' sake (a store without the factors table, see the
    // constructor): what is not swept now is swept next time.
    try {
        auto& q = prepared(kSweepFactors, "DELETE FROM factors WHERE expires <= ?1");
        sqlite3_bind_int64(q.s, 1, now);
        const int swept = sqlite3_step(q.s);
        sqlite3_reset(q.s);
        auto& t = prepared(kTrimFactors,
                           "DELETE FROM factors WHERE key IN "
                           "(SELECT key FROM factors ORDER BY seen DESC LIMIT -1 OFFSET ?1)");
        sqlite3_bind_int64(t.s, 1, kMaxFactorRows);
        const int trimmed = sqlite3_step(t.s);
        sqlite3_reset(t.s);
        if (swept != SQLITE_DONE || trimmed != SQLITE_DONE) fail("sweep factors");
    } catch (const LimitStoreError&) {
    }
}

void LimitStore::shed(std::int64_t n) {
    for (auto [which, sql] :
         {std::pair{kShedSends,
                    "DELETE FROM sends WHERE (key, t) IN (SELECT key, t FROM sends ORDER BY t LIMIT ?1)"},
          std::pair{kShedFailures,
                    "DELETE FROM failures WHERE key IN (SELECT key FROM failures ORDER BY last LIMIT ?1)"},
          std::pair{kShedFactors,
                    "DELETE FROM factors WHERE key IN (SELECT key FROM factors ORDER BY seen LIMIT ?1)"}}) {
        auto& q = prepared(which, sql);
        sqlite3_bind_int64(q.s, 1, n);
        if (sqlite3_step(q.s) != SQLITE_DONE) fail("shed");
        sqlite3_reset(q.s);
    }
}

std::int64_t LimitStore::rows() {
    auto& q = prepared(kCount, "SELECT (SELECT count(*) FROM sends) + (SELECT count(*) FROM failures)");
    if (sqlite3_step(q.s) != SQLITE_ROW) fail("count rows");
    const auto n = sqlite3_column_int64(q.s, 0);
    sqlite3_reset(q.s);
    return n;
}

}  // namespace pp::helper
