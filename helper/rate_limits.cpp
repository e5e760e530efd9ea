#include "rate_limits.hpp"
#include "login_log.hpp"

#include <sys/stat.h>
#include <syslog.h>

#include <cerrno>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "admission.hpp"
#include "audit.hpp"
#include "identifiers.hpp"
#include "trusted_file.hpp"

namespace pp::helper {
namespace {

constexpr std::int64_t kHour = 3600;
// The machine's count is kept per minute: at most 60 rows, whatever the traffic.
constexpr std::int64_t kMachineBucket = 60;

// The user's own budgets: "remote:USER" and "local:USER" (a user name has no ':', valid_local_user). Their
// format is the one earlier versions kept every local failure under, so the counts of a store written before
// logins run by other users had budgets of their own are read as the user's own.
std::string budget_key(const std::string& user, bool remote) {
    return (remote ? "remote:" : "local:") + user;
}

// A user's failures are forgotten a day after the last one (or twice the longest wait, if longer): long
// enough that waiting out the backoff buys an attacker nothing, short enough that the store does not keep
// every name that ever failed.
std::int64_t failure_memory(const LimitPolicy& p) {
    return std::max<std::int64_t>(86400, 2 * p.backoff_max.count());
}

constexpr std::string_view kOldHeader = "# pam_passwordless rate-limit state";

// The text file of earlier versions at the same path is taken over once: its failure counts (into both
// budgets, as it did not tell them apart) and its sends still in a window, under their canonical keys; the
// old file is kept beside as PATH.old. A file in neither format is left alone and refused (see LimitStore).
void take_over_old_state(const std::string& path, std::int64_t max_bytes) {
    std::string text;
    try {
        // Only the head tells the formats apart: the SQLite store (up to state_max_bytes) is not read whole
        // at every start.
        if (path.empty() || !check_trusted_path(path, Confidentiality::Secret) ||
            read_trusted_head(path, kOldHeader.size(), Confidentiality::Secret) != kOldHeader)
            return;
        text = read_trusted_file(path, 16 * 1024 * 1024, Confidentiality::Secret);
    } catch (const FileError&) {
        return;  // LimitStore names the problem
    }
    if (!text.starts_with(kOldHeader)) return;
    if (std::rename(path.c_str(), (path + ".old").c_str()) != 0)
        throw LimitStoreError("limit store " + path + ": cannot move the old state file aside");
    LimitStore store(path, max_bytes);
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    const LimitPolicy defaults;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::istringstream f(line);
        std::string kind, key;
        if (!(f >> kind >> key)) continue;
        if (kind == "fail") {
            int count = 0;
            std::int64_t last = 0;
            if (!(f >> count >> last) || count <= 0 || !valid_local_user(key)) continue;
            for (int i = 0; i < std::min(count, 64); ++i)
                for (bool remote : {true, false})
                    store.add_failure(budget_key(key, remote), last, last + failure_memory(defaults));
        } else if (kind == "send") {
            std::int64_t t = 0;
            if (!(f >> t) || t <= now - defaults.send_window.count()) continue;
            std::string canonical;
            if (key.starts_with("host:"))
                canonical = key;
            else if (const auto id =
                         key.starts_with("id:") ? parse_identifier(key.substr(3), true) : std::nullopt)
                canonical = canonical_key(*id);
            if (!canonical.empty()) store.take({{canonical, 1 << 30, defaults.send_window.count(), 1}}, t);
        }
    }
    log_line(LOG_NOTICE, "limits: took over the counts of the old state file (kept as %s.old)",
             loggable(path, 300).c_str());
}

}  // namespace

RateLimits::RateLimits(std::string state_file, std::int64_t max_bytes) : state_file_(std::move(state_file)) {
    try {
        // Without its directory there is no state to keep or to reset (the package's unit creates it): the
        // counts live in memory, and the log says they will not survive a restart. A file that is there but
        // damaged or untrusted is another matter: it is refused below.
        const auto slash = state_file_.find_last_of('/');
        struct stat dir {};
        if (!state_file_.empty() && slash != std::string::npos &&
            ::stat(state_file_.substr(0, std::max<std::size_t>(slash, 1)).c_str(), &dir) != 0 &&
            errno == ENOENT) {
            log_line(LOG_ERR, "limits: the directory of %s does not exist; counts are kept in memory only",
                     loggable(state_file_, 300).c_str());
            store_ = std::make_unique<LimitStore>("", max_bytes);
            walks_ = std::make_unique<LimitStore>("", kWalksBytes);
            return;
        }
        take_over_old_state(state_file_, max_bytes);
        store_ = std::make_unique<LimitStore>(state_file_, max_bytes);
        // The walks' counts are kept across restarts as real ones are: were they in memory only, a name
        // still held back after a restart (a reboot, an upgrade) would be enrolled, and one let through again
        // nobody (issue #10).
        walks_ = std::make_unique<LimitStore>(state_file_.empty() ? std::string() : walks_path(state_file_),
                                              kWalksBytes);
    } catch (const LimitStoreError& e) {
        store_error_ = e.what();
        log_line(LOG_ERR, "%s; logins that need the limits are refused until it is fixed",
                 loggable(store_error_, 400).c_str());
    }
}

// The store of unknown users' walks is bounded like the file, but when it fills it forgets its oldest
// entries instead of refusing: a refusal only unknown names met would tell them apart from real ones, and
// what is forgotten are counts of names that are nobody.
void RateLimits::with_room(const std::function<void()>& write, std::int64_t now) {
    try {
        write();
    } catch (const LimitStoreError&) {
        walks().sweep(now);
        walks().shed(4096);
        write();
    }
}

LimitStore& RateLimits::store() {
    if (!store_ || !walks_) throw LimitStoreError(store_error_);
    return *store_;
}

LimitStore& RateLimits::walks() {
    if (!store_ || !walks_) throw LimitStoreError(store_error_);
    return *walks_;
}

void RateLimits::maybe_sweep(std::int64_t now) {
    if (now - last_sweep_ < 60) return;
    last_sweep_ = now;
    store().sweep(now);
    walks().sweep(now);
}

// `counts`: the machine's count first, then (for a remote login) the remote logins' share.
void RateLimits::note_machine(const std::vector<int>& counts, bool remote, const LimitPolicy& p,
                              std::int64_t now) {
    const int count = counts.front();
    if (remote && counts.size() > 1 && counts[1] >= p.remote_sends_per_hour() && count < p.sends_per_hour &&
        now - remote_noted_ >= kHour) {
        remote_noted_ = now;
        log_line(
            LOG_AUTHPRIV | LOG_WARNING,
            "limits: codes sent for remote logins in the last hour reached their share of %d of the "
            "ceiling of %d (sends_per_hour); further remote codes are refused until the hour has passed, "
            "the rest is kept for local logins",
            p.remote_sends_per_hour(), p.sends_per_hour);
    }
    const int near = (p.sends_per_hour * 4 + 4) / 5;  // 80%, rounded up
    if (count >= near && count < p.sends_per_hour && now - near_noted_ >= kHour) {
        near_noted_ = now;
        log_line(LOG_AUTHPRIV | LOG_WARNING,
                 "limits: codes sent from this machine in the last hour: %d of the ceiling of %d "
                 "(sends_per_hour); near the ceiling",
                 count, p.sends_per_hour);
    }
    if (count >= p.sends_per_hour && now - reached_noted_ >= kHour) {
        reached_noted_ = now;
        log_line(LOG_AUTHPRIV | LOG_ERR,
                 "limits: ceiling of %d codes per hour from this machine (sends_per_hour) reached; further "
                 "codes are refused until the hour has passed",
                 p.sends_per_hour);
    }
}

std::string send_source(std::string_view rhost) {
    // source_network names an IPv6 network "…::/64"; an IPv4 address and a host name count alone.
    std::string net = source_network(rhost);
    return net.ends_with("::/64") ? net : std::string(rhost);
}

SendVerdict RateLimits::take_send(const SendKeys& keys, const LimitPolicy& p, std::int64_t now) {
    std::lock_guard lock(m_);
    maybe_sweep(now);
    const std::int64_t window = p.send_window.count();
    std::vector<std::string> dests = keys.destinations;
    std::sort(dests.begin(), dests.end());
    dests.erase(std::unique(dests.begin(), dests.end()), dests.end());
    std::vector<SendRule> personal;
    for (const auto& d : dests) personal.push_back({d, p.sends_per_identifier, window, 1});

    // The host's and the machine's limits are checked alike for every walk, real or not, so a limit reached
    // there tells nothing about who exists; only the destinations of an unknown user are kept apart, in the
    // walks' store.
    // Remote logins also meet their share of the machine's ceiling ("machine-remote"): whatever the network
    // asks, the rest is kept for local logins, the console and sudo (issue #10: local logins always win).
    std::vector<SendRule> shared;
    shared.push_back({"machine", p.sends_per_hour, kHour, kMachineBucket});
    if (keys.remote) shared.push_back({"machine-remote", p.remote_sends_per_hour(), kHour, kMachineBucket});
    if (!keys.rhost.empty())
        shared.push_back({"host:" + send_source(keys.rhost), p.sends_per_rhost, window, 1});
    // What a send is refused for: the machine's ceiling or the remote share of it (the first rules), said so.
    const auto ceiling = [&](const std::vector<int>& counts) {
        return counts[0] >= p.sends_per_hour || (keys.remote && counts[1] >= p.remote_sends_per_hour());
    };

    auto& persistent = store();
    // A destination's count is the file's and the walks' together: an unknown user's walk counts in its store
    // what a real login counts in the file, and an address typed in both must meet one budget, or the limit's
    // answer would tell which of them the pool knows. Each store is checked with the limits less what the
    // other holds.
    // (A real login whose destinations the walks' store holds nothing of is checked by its own take below.)
    const auto less = [&](const std::vector<int>& held) {
        std::vector<SendRule> rules = personal;
        for (std::size_t i = 0; i < rules.size(); ++i) rules[i].limit = std::max(0, rules[i].limit - held[i]);
        return rules;
    };
    std::vector<int> in_walks;
    walks().take(personal, now, &in_walks, true);
    std::int64_t mine = 0;
    if (keys.unknown || std::any_of(in_walks.begin(), in_walks.end(), [](int n) { return n > 0; })) {
        std::vector<int> in_file;
        mine = persistent.take(less(in_walks), now, &in_file, true);
        mine = std::max(mine, walks().take(less(in_file), now, nullptr, true));
    }
    if (keys.unknown) {
        // All are checked before any counts, so a refusal counts nothing, as for a real send.
        std::vector<int> counts;
        const auto w = std::max(mine, persistent.take(shared, now, &counts, true));
        if (w > 0) {
            note_machine(counts, keys.remote, p, now);
            return {w, ceiling(counts)};
        }
        with_room([&] { walks().take(personal, now); }, now);
        // The remote host's count, as a real send's; but not the machine's: a walk sends nothing, and a
        // ceiling that walks could fill would let anyone who knows no account at all refuse every code on the
        // machine for the hour, for free (review 30b). A ceiling that real sends filled is met alike by both.
        if (!keys.rhost.empty()) persistent.take({shared.back()}, now);
        return {};
    }
    std::vector<SendRule> all = shared;
    all.insert(all.end(), personal.begin(), personal.end());
    std::vector<int> counts;
    const auto wait = std::max(mine, persistent.take(all, now, &counts, mine > 0));
    note_machine(counts, keys.remote, p, now);
    if (wait > 0) return {wait, ceiling(counts)};
    return {};
}

// Which budgets a try spends. Remote and local logins have budgets of their own, so failures from the
// network never lock out the person at the console. The local budget is one per (user, who runs the login;
// local_runner.hpp: the account of a setuid program's real uid, else PAM_RUSER): the user's own logins (no
// runner, or the user themselves: the console, their own sudo or su) share one; a login another local user
// runs for them (mallory's `su alice`, or `su root`, whose PAM_USER is root; nobody's polkit-agent-helper-1
// alice, though it sets PAM_RUSER to alice) spends a budget of that user's ("alice as run by mallory"). So
// another local user's wrong answers hold back only that user's way in, never the owner's sudo or console
// (issue #10): the owner's budget is spent by nobody else.
//
// Guess multiplication: someone with N local accounts would have N budgets against one user. The codes are
// random and new at each login (the pool's under the send limits per destination, which no budget widens; a
// recovery code has 80 bits) and each budget backs off exponentially, so N budgets buy little; still, as N
// is not bounded, all the logins other users run for one user are also counted together, in a budget with
// kOthersTogether times the allowance that backs off as one. One such user meets their own budget first; many
// together meet the shared one, and then wait as one budget would. That shared budget is never the owner's
// own: the owner is held back only by their own failures. It is not ended by a success either (one other
// user's success says nothing of the others' guesses): it is forgotten a day after its last failure, as any
// count is.
//
// Keys: "local-by:LEN:RUNNER:USER" and "local-others:USER". The runner is an account name, "uid:N", or
// PAM_RUSER, text the calling program chose (printable, at most kMaxRunBy bytes, as the login and
// local_runner check): its length first makes the key unambiguous whatever it holds, and "local-by:" and
// "local-others:" cannot begin a user's own key ("local:USER").
std::vector<RateLimits::Budget> RateLimits::budgets_of(const std::string& user, bool remote,
                                                       const std::string& run_by, const LimitPolicy& p) {
    const int allowance = p.failures_before_backoff;
    if (remote || run_by.empty() || run_by == user) return {{budget_key(user, remote), allowance, true}};
    if (run_by.size() > kMaxRunBy)
        throw LimitStoreError("limits: the user a login is run by is longer than " +
                              std::to_string(kMaxRunBy) + " bytes");
    return {{"local-by:" + std::to_string(run_by.size()) + ":" + run_by + ":" + user, allowance, true},
            {"local-others:" + user, allowance * kOthersTogether, false}};
}

RateLimits::TryWait RateLimits::wait_of(const Budget& b, const LimitPolicy& p, std::int64_t now) {
    FailureCount f;
    if (!no_failures_.contains(b.key)) {
        f = store().failures(b.key, now);
        const FailureCount e = walks().failures(b.key, now);
        if (!f.stored && !e.stored) note_no_failures(b.key);
        if (e.count > f.count) f = e;
    }
    const auto it = reserved_.find(b.key);
    const int in_flight = it == reserved_.end() ? 0 : it->second;
    if (f.count >= b.allowance) {
        // 1 minute after the first failure past the allowance, doubling with each further one, up to the
        // maximum; and one try at a time, so parallel logins cannot each take the try the wait allows.
        const int over = std::min(f.count - b.allowance, 20);
        const std::int64_t backoff = std::min<std::int64_t>(std::int64_t{60} << over, p.backoff_max.count());
        const std::int64_t wait = f.last + backoff - now;
        if (wait > 0) return {wait, false};
        return {in_flight > 0 ? 60 : 0, in_flight > 0};
    }
    // The allowance is taken by tries still in flight: none may be armed until one of them ends.
    return {f.count + in_flight >= b.allowance ? 60 : 0, true};
}

RateLimits::TryWait RateLimits::wait_of(const std::vector<Budget>& budgets, const LimitPolicy& p,
                                        std::int64_t now) {
    store();  // no store: refused, as every call that needs it is
    TryWait longest;
    bool failures = false;
    for (const auto& b : budgets) {
        const TryWait w = wait_of(b, p, now);
        if (w.seconds <= 0) continue;
        longest.seconds = std::max(longest.seconds, w.seconds);
        failures = failures || !w.in_flight;
    }
    // Told as a wait for failures whenever any budget waits for them: that wait is the one that lasts.
    longest.in_flight = longest.seconds > 0 && !failures;
    return longest;
}

RateLimits::TryWait RateLimits::check_try(const std::string& user, bool remote, const LimitPolicy& p,
                                          std::int64_t now, const std::string& run_by) {
    std::lock_guard lock(m_);
    return wait_of(budgets_of(user, remote, run_by, p), p, now);
}

RateLimits::TryWait RateLimits::reserve_try(const std::string& user, bool remote, const LimitPolicy& p,
                                            std::int64_t now, const std::string& run_by) {
    std::lock_guard lock(m_);
    const auto budgets = budgets_of(user, remote, run_by, p);
    // Every budget is read before any is reserved, under the one lock: a try waits if any of them says so,
    // and then reserves nothing.
    const TryWait wait = wait_of(budgets, p, now);
    if (wait.seconds > 0) return wait;
    for (const auto& b : budgets) ++reserved_[b.key];
    return {};
}

void RateLimits::settle_try(const std::string& user, bool remote, TryEnd end, bool unknown, bool reserved,
                            const LimitPolicy& p, std::int64_t now, const std::string& run_by) {
    std::lock_guard lock(m_);
    const auto budgets = budgets_of(user, remote, run_by, p);
    for (const auto& b : budgets)
        if (const auto it = reserved_.find(b.key); reserved && it != reserved_.end() && --it->second <= 0)
            reserved_.erase(it);
    if (end == TryEnd::Success) {
        auto& persistent = store();  // no store: refused, as before (its rows are not known to be none)
        for (const auto& b : budgets)
            if (b.cleared_by_success && !no_failures_.contains(b.key)) {
                persistent.clear_failures(b.key);
                walks().clear_failures(b.key);
                note_no_failures(b.key);
            }
    } else if (end == TryEnd::Failure) {
        // Out first: should a write fail half-way, the next login reads what is there.
        for (const auto& b : budgets) no_failures_.erase(b.key);
        for (const auto& b : budgets) {
            if (unknown)
                with_room([&] { walks().add_failure(b.key, now, now + failure_memory(p)); }, now);
            else
                store().add_failure(b.key, now, now + failure_memory(p));
        }
    }
}

RateLimits::AskWait RateLimits::take_pool_ask(const std::string& network, const std::string& site,
                                              const LimitPolicy& p, std::int64_t now) {
    struct Held {
        AskBucket* bucket;
        double full;
        bool machine;
    };
    const double net_full = p.pool_asks_per_network;
    const double site_full = net_full * LimitPolicy::kSiteNetworks;
    std::lock_guard lock(asks_m_);
    const auto refill = [&](AskBucket& b, double full) {
        b.left =
            std::min(full, b.left + static_cast<double>(std::max<std::int64_t>(now - b.at, 0)) * full / 60);
        b.at = std::max(b.at, now);
    };
    const auto full_of = [&](const std::string& key) {
        return key.starts_with("site ") ? site_full : net_full;
    };
    // Bounded: the buckets that have filled again are forgotten first (they are as new ones); should a flood
    // from as many networks keep them all spent, all are forgotten, but never the machine's, which then
    // bounds what they ask together. Thinned before any bucket below is looked up, so none is erased while
    // held (adding to an unordered_map keeps references to its elements).
    if (asks_.size() + 2 > kMaxAskNetworks) {
        for (auto it = asks_.begin(); it != asks_.end();) {
            refill(it->second, full_of(it->first));
            it = it->second.left >= full_of(it->first) ? asks_.erase(it) : std::next(it);
        }
        if (asks_.size() + 2 > kMaxAskNetworks) asks_.clear();
    }
    const auto bucket = [&](const std::string& key) -> AskBucket& {
        return asks_.try_emplace(key, AskBucket{full_of(key), now}).first->second;
    };
    if (!machine_asks_) machine_asks_ = AskBucket{static_cast<double>(p.pool_asks_per_minute), now};
    std::vector<Held> held{{&*machine_asks_, static_cast<double>(p.pool_asks_per_minute), true}};
    if (!site.empty()) held.push_back({&bucket("site " + site), site_full, false});
    held.push_back({&bucket("net " + network), net_full, false});
    AskWait wait;
    for (auto& h : held) {
        refill(*h.bucket, h.full);
        if (h.bucket->left >= 1.0) continue;
        const auto s = std::max<std::int64_t>(
            1, static_cast<std::int64_t>(std::ceil((1.0 - h.bucket->left) * 60 / h.full)));
        if (s > wait.seconds) wait = {s, h.machine};
    }
    if (wait.seconds > 0) return wait;
    for (auto& h : held) h.bucket->left -= 1.0;
    return {};
}

void RateLimits::note_no_failures(const std::string& key) {
    if (no_failures_.size() >= kMaxNoFailureKeys) no_failures_.clear();
    no_failures_.insert(key);
}

std::optional<FactorRow> RateLimits::recall_factors(const std::string& key, std::int64_t now) {
    std::lock_guard lock(m_);
    return store().recall(key, now);
}

void RateLimits::remember_factors(const std::string& key, const FactorRow& row, std::int64_t expires) {
    std::lock_guard lock(m_);
    store().remember(key, row, expires);
}

void RateLimits::forget_factors(const std::string& key) {
    std::lock_guard lock(m_);
    store().forget(key);
}

}  // namespace pp::helper
