// The limits' memory: an SQLite database (Debian's libsqlite3, WAL mode) of send counts and failure counts,
// and beside them the factors each pool identity was last offered (factor_memory.hpp).
// Each event is one small transaction on the rows it touches; rows carry their own expiry and are swept when
// it passes; the file never grows past its page cap, and a full store refuses what it cannot record instead
// of dropping what it holds (no growth can reset someone else's limits).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace pp::helper {

// The store cannot be read or written (damaged, full, untrusted): every limit that needs it refuses.
class LimitStoreError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct SendRule {
    std::string key;          // "email:…", "phone:…", "user:…", "host:…", "machine"
    int limit = 0;            // sends allowed per window
    std::int64_t window = 0;  // seconds
    std::int64_t bucket = 1;  // sends within one bucket of seconds share a row (bounds the rows per key)
};

struct FailureCount {
    int count = 0;
    std::int64_t last = 0;
    bool stored = false;  // the key has a row, alive or expired (a count of 0 may still have one)
};

// What the user pool last offered one identity: a hint for the menu, nothing secret.
struct FactorRow {
    std::string factors;    // AvailableChallenges names, space-separated
    std::string pool_user;  // the pool's own name for the identity ("" when it named none)
    std::int64_t seen = 0;  // when the pool said so
    // The passkeys the pool listed for the identity at its last passkey login: their ids' lengths in bytes,
    // in the pool's order, comma-separated ("" when none was seen). A remember without any keeps the row's
    // while the pool still offers passkeys (a code login does not forget them). The decoy's made-up ask
    // copies them (login/pool_passkey_method.cpp).
    std::string passkeys;
};

class LimitStore {
  public:
    // `path` empty: a private in-memory database. Otherwise the file is checked as read_trusted_file checks
    // (root-owned directory and file, no symlink, mode 0600) and created 0600 when absent. `max_bytes` caps
    // the file. Throws LimitStoreError when the file is untrusted, not a limit store, or fails its check.
    LimitStore(const std::string& path, std::int64_t max_bytes);
    ~LimitStore();
    LimitStore(const LimitStore&) = delete;
    LimitStore& operator=(const LimitStore&) = delete;

    // In one transaction: if every rule still has room at `now`, counts one send under each and returns 0;
    // otherwise counts nothing and returns the seconds until the fullest rule has room. `counted` receives
    // each rule's count after the call (in the order of `rules`). `check_only`: counts nothing either way.
    std::int64_t take(const std::vector<SendRule>& rules, std::int64_t now,
                      std::vector<int>* counted = nullptr, bool check_only = false);
    FailureCount failures(const std::string& key, std::int64_t now);
    void add_failure(const std::string& key, std::int64_t now, std::int64_t expires);
    void clear_failures(const std::string& key);
    // The factor memory: one row per identity key, replaced by each remember; recall returns a row only
    // while its expiry has not passed.
    std::optional<FactorRow> recall(const std::string& key, std::int64_t now);
    void remember(const std::string& key, const FactorRow& row, std::int64_t expires);
    void forget(const std::string& key);
    // Deletes every row whose expiry has passed, and the factor rows past the newest kMaxFactorRows (they are
    // hints: losing the oldest costs a request at their next login, where losing a count would cost a limit).
    void sweep(std::int64_t now);
    static constexpr std::int64_t kMaxFactorRows = 16384;
    // Deletes up to `n` rows of each table, the oldest first. Only for a store whose counts may be lost (the
    // in-memory one of unknown users' walks): the file's store never sheds.
    void shed(std::int64_t n);
    // Rows held, for tests and check-config.
    std::int64_t rows();

  private:
    struct Statement;
    void exec(const char* sql);
    void run(int which, const char* sql);  // a prepared statement without parameters or rows
    [[noreturn]] void fail(const std::string& what);
    Statement& prepared(int which, const char* sql);

    struct DbCloser {
        void operator()(sqlite3* db) const;
    };
    std::unique_ptr<sqlite3, DbCloser> db_;
    std::string path_;
    std::vector<std::unique_ptr<Statement>> statements_;
};

}  // namespace pp::helper
