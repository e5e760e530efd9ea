// Limits on how often codes are sent and how often a user may fail, shared by every login the helper
// serves (that is why they live in the helper and not in each sshd process), kept across restarts in a
// LimitStore.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "limit_store.hpp"

namespace pp::helper {

struct LimitPolicy {
    int sends_per_identifier = 5;  // codes sent to one destination or pool identity per window
    int sends_per_rhost = 20;      // codes requested from one remote host per window
    std::chrono::seconds send_window{900};
    int sends_per_hour = 200;  // codes sent from this machine per hour, whoever asks (denial of wallet)
    // Of sends_per_hour, what remote logins may take: a quarter, rounded up, is kept for local ones, so even
    // a ceiling of 1 to 3 keeps the console a code (review 30c).
    int remote_sends_per_hour() const { return sends_per_hour - (sends_per_hour + 3) / 4; }
    // Remote logins of one source network (an IPv4 /24, an IPv6 /64) that may ask the user pool something
    // before anything of theirs is counted (the question before the menu) per minute.
    int pool_asks_per_network = 30;
    // The networks of one IPv6 /48 (one site: what a tunnel broker hands anyone, 65 536 /64s) may ask
    // kSiteNetworks times as much together (review 31a).
    static constexpr int kSiteNetworks = 4;
    // All remote logins together, per minute: the pool's quota is the account's, shared by every machine and
    // app of it (Cognito's default for its sign-in requests: 120 a second), and sources are not scarce.
    int pool_asks_per_minute = 600;
    int failures_before_backoff = 5;  // failed logins of one user (remote and local apart) before waits
    std::chrono::seconds backoff_max{3600};
    std::int64_t state_max_bytes = 16 * 1024 * 1024;
};

// What one code send is counted on.
struct SendKeys {
    std::vector<std::string> destinations;  // canonical forms (canonical_key), deduplicated by take_send
    std::string rhost;                      // empty for a local login
    bool unknown = false;                   // a walk of a user without identity: counted in the walks' store
    bool remote = false;                    // spends the remote logins' share of the machine's ceiling
};

// Why a send is refused; `wait` seconds until it would be allowed.
struct SendVerdict {
    std::int64_t wait = 0;
    bool machine = false;  // the machine's ceiling, not the person's or the host's limit
};

// What sends_per_rhost counts a remote host's codes on: an IPv6 address's /64 (one subscriber's network,
// through whose addresses one client can rotate at will), otherwise the host as it came (an IPv4 address,
// which many people may share behind one NAT, or a host name).
std::string send_source(std::string_view rhost);

class RateLimits {
  public:
    // `state_file` empty: kept in memory only. A store that cannot be opened (untrusted, damaged, not ours)
    // is not replaced: every call that needs it throws LimitStoreError, and the login is refused. The same
    // holds for the walks' store beside it (walks_path).
    RateLimits(std::string state_file, std::int64_t max_bytes);

    // Where the counts of users without an identity are kept for `state_file`: a store of their own, so that
    // made-up names can neither fill the file of real counts nor be told from real ones after a restart.
    static std::string walks_path(const std::string& state_file) { return state_file + ".walks"; }
    static constexpr std::int64_t kWalksBytes = 8 * 1024 * 1024;

    SendVerdict take_send(const SendKeys& keys, const LimitPolicy& p, std::int64_t now);

    // Backoff. A login checks its user's wait when it starts (check_try, which reserves nothing), and
    // reserves its try when it is armed (reserve_try): at the first step that can cost a guess, a code sent,
    // a key asked, a code typed (Login::arm_try). Reservations in flight count against the allowance, so
    // parallel logins share it and never get more tries than it allows; a login that has spent nothing (one
    // left at the offer of a code) holds none, and so holds back nobody (issue #10). `remote` and `run_by`
    // pick the budget. `run_by`: for a local login, the local user who runs it for `user` (local_runner.hpp)
    // when that is someone else; empty, or `user`, for the user's own logins (the console, their own sudo).
    // At most kMaxRunBy bytes (longer: LimitStoreError, the login is refused). Ignored for a remote login.
    struct TryWait {
        std::int64_t seconds = 0;  // 0: the login may go on (after reserve_try, with its try reserved)
        bool in_flight = false;    // the wait is for other logins' tries still in flight, not for failures
    };
    TryWait check_try(const std::string& user, bool remote, const LimitPolicy& p, std::int64_t now,
                      const std::string& run_by = {});
    // As check_try, and when there is no wait the try is reserved, under the same lock: settle it exactly
    // once, with the same user, remote and run_by.
    TryWait reserve_try(const std::string& user, bool remote, const LimitPolicy& p, std::int64_t now,
                        const std::string& run_by = {});
    enum class TryEnd { Success, Failure, Untried };
    // `unknown`: the user has no identity; the failure is counted in the walks' store. `reserved`: false for
    // a proof outside a login (self-enrolment), which counts without having reserved.
    void settle_try(const std::string& user, bool remote, TryEnd end, bool unknown, bool reserved,
                    const LimitPolicy& p, std::int64_t now, const std::string& run_by = {});
    static constexpr std::size_t kMaxRunBy = 64;
    // The logins other local users run for one user have, all together, this many times a budget's
    // allowance before they also back off as one (rate_limits.cpp, budgets_of).
    static constexpr int kOthersTogether = 4;

    // A remote login's request to the user pool that nothing else counts (no send goes with it: the question
    // which methods a person has, before the menu; a passkey's ask after a remembered menu, where
    // remote_methods lists passkey): at most pool_asks_per_network a minute from one source network
    // (`network`: admission.hpp, source_network), kSiteNetworks times that from one site (`site`:
    // source_site; "" for none) and pool_asks_per_minute from all remote logins together, whoever the login
    // is for. All are checked before any is taken. Returns {0} with the request counted, or the seconds until
    // one may be made and whether the machine's allowance (not the network's) is what is spent. In memory:
    // buckets refilled over the minute; they tell nothing of who is enrolled, as every name's login of a
    // shape asks at the same point, the decoy's too (unknown_user.cpp).
    struct AskWait {
        std::int64_t seconds = 0;
        bool machine = false;
    };
    AskWait take_pool_ask(const std::string& network, const std::string& site, const LimitPolicy& p,
                          std::int64_t now);
    static constexpr std::size_t kMaxAskNetworks = 65536;

    // The factor memory (factor_memory.hpp) lives in the same stores as the counts, under the same lock: a
    // pool identity's in the file; an unknown user's walk remembers none.
    // Throw LimitStoreError as the counts do; the callers take that as nothing remembered.
    std::optional<FactorRow> recall_factors(const std::string& key, std::int64_t now);
    void remember_factors(const std::string& key, const FactorRow& row, std::int64_t expires);
    void forget_factors(const std::string& key);

  private:
    // One budget a try is counted on: its key in the stores, the failures it allows before its waits, and
    // whether a success ends its count.
    struct Budget {
        std::string key;
        int allowance = 0;
        bool cleared_by_success = true;
    };
    static std::vector<Budget> budgets_of(const std::string& user, bool remote, const std::string& run_by,
                                          const LimitPolicy& p);
    TryWait wait_of(const Budget& b, const LimitPolicy& p, std::int64_t now);  // with m_ held
    // The longest wait of the budgets (with m_ held): for tries in flight only when none waits for failures.
    TryWait wait_of(const std::vector<Budget>& budgets, const LimitPolicy& p, std::int64_t now);
    LimitStore& store();  // throws LimitStoreError when the store could not be opened
    void maybe_sweep(std::int64_t now);
    void note_machine(const std::vector<int>& counts, bool remote, const LimitPolicy& p, std::int64_t now);
    void with_room(const std::function<void()>& write, std::int64_t now);

    std::mutex m_;
    std::string state_file_;
    std::unique_ptr<LimitStore> store_;  // null when it could not be opened
    std::string store_error_;
    // Unknown users' walks: limited like real ones, in a store of their own beside the file
    // (walks_path), which sheds its oldest rows when full instead of refusing. Null when it could not be
    // opened, as store_ is (then every login that needs the limits is refused).
    std::unique_ptr<LimitStore> walks_;
    LimitStore& walks();
    std::int64_t last_sweep_ = 0;
    std::int64_t near_noted_ = 0, reached_noted_ = 0;  // when the machine ceiling was last audited
    std::int64_t remote_noted_ = 0;                    // when the remote logins' share was last audited
    std::map<std::string, int> reserved_;              // armed tries in flight per budget key
    // Budget keys known to have no failure row, alive or expired, in either store (the file's and the
    // walks'): read so by wait_of, or deleted by a success. A key leaves before a failure is written
    // under it. This process is the only one that writes failures (check-config only reads), so a login of a
    // key in here reads no failures and a success deletes none: its one transaction in the file is its
    // send's. Bounded: when full it starts again empty (a key not in here is read, as before).
    std::unordered_set<std::string> no_failures_;
    // take_pool_ask's buckets: the requests a network may still make, as of `at`.
    struct AskBucket {
        double left = 0;
        std::int64_t at = 0;
    };
    std::mutex asks_m_;
    std::unordered_map<std::string, AskBucket> asks_;  // per network ("net …") and per site ("site …")
    std::optional<AskBucket> machine_asks_;
    static constexpr std::size_t kMaxNoFailureKeys = 4096;
    void note_no_failures(const std::string& key);
};

}  // namespace pp::helper
