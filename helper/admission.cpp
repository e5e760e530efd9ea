#include "admission.hpp"

#include <arpa/inet.h>
#include <syslog.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "audit.hpp"
#include "config.hpp"
#include "text.hpp"

namespace pp::helper {
namespace {

// Past this many sources a flood of new ones (an IPv6 attacker has many /64s) is counted under one name, so
// the log's own memory stays bounded.
constexpr std::size_t kMaxSources = 4096;
constexpr const char* kOtherSources = "other sources";
// The distinct reasons a summary line names; the rest are "and others".
constexpr std::size_t kMaxReasons = 4;

std::string ipv4_net(const unsigned char* a) {
    char buf[INET_ADDRSTRLEN];
    const unsigned char net[4] = {a[0], a[1], a[2], 0};
    ::inet_ntop(AF_INET, net, buf, sizeof buf);
    return std::string(buf) + "/24";
}

// A slot of `key`'s fair share of a pool of `capacity` (fair_share), counted in `held`: false when `key`
// holds its share already.
bool take_share(std::map<std::string, int>& held, const std::string& key, int capacity) {
    const auto it = held.find(key);
    const int mine = it == held.end() ? 0 : it->second;
    const std::size_t holders = held.size() + (mine == 0 ? 1 : 0);
    if (mine >= std::max(1, fair_share(capacity, holders))) return false;
    ++held[key];
    return true;
}

void give_share(std::map<std::string, int>& held, const std::string& key) {
    if (const auto it = held.find(key); it != held.end() && --it->second <= 0) held.erase(it);
}

}  // namespace

AdmissionLimits admission_limits(const Config* c) {
    if (c == nullptr) return {};
    return {c->max_concurrent_logins, c->max_remote_logins, c->max_concurrent_per_caller,
            c->refusal_log_interval};
}

std::string source_network(std::string_view rhost) {
    std::string host(rhost.substr(0, 255));
    // A link-local address may carry its interface ("fe80::1%eth0"): the address alone decides.
    if (const auto pct = host.find('%'); pct != std::string::npos) host.resize(pct);
    unsigned char a[16];
    if (::inet_pton(AF_INET, host.c_str(), a) == 1) return ipv4_net(a);
    if (::inet_pton(AF_INET6, host.c_str(), a) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(a, mapped, sizeof mapped) == 0) return ipv4_net(a + 12);
        std::memset(a + 8, 0, 8);
        char buf[INET6_ADDRSTRLEN];
        ::inet_ntop(AF_INET6, a, buf, sizeof buf);
        return std::string(buf) + "/64";
    }
    // Host names compare as DNS does, without case.
    std::transform(host.begin(), host.end(), host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return "host " + host;
}

std::string source_site(std::string_view rhost) {
    std::string host(rhost.substr(0, 255));
    if (const auto pct = host.find('%'); pct != std::string::npos) host.resize(pct);
    unsigned char a[16];
    if (::inet_pton(AF_INET6, host.c_str(), a) != 1) return {};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a, mapped, sizeof mapped) == 0) return {};
    std::memset(a + 6, 0, 10);
    char buf[INET6_ADDRSTRLEN];
    ::inet_ntop(AF_INET6, a, buf, sizeof buf);
    return std::string(buf) + "/48";
}

int fair_share(int capacity, std::size_t networks) {
    return static_cast<int>(static_cast<std::size_t>(capacity) / (networks + 1));
}

void RefusalLog::refused(const std::string& source, std::string_view why, std::chrono::seconds interval) {
    note(source, why, interval, true);
}

void RefusalLog::repeated(const std::string& source, std::string_view what, std::chrono::seconds interval) {
    note(source + '\n' + "answered", what, interval, false);  // a key no source has: its own count
}

void RefusalLog::note(const std::string& source, std::string_view why, std::chrono::seconds interval,
                      bool refusal) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(m_);
    auto it = entries_.find(source);
    if (it == entries_.end() && entries_.size() >= kMaxSources) it = entries_.find(kOtherSources);
    if (it != entries_.end()) {
        Entry& e = it->second;
        ++e.more;
        if (std::find(e.why.begin(), e.why.end(), why) != e.why.end()) return;
        if (e.why.size() < kMaxReasons)
            e.why.emplace_back(why);
        else
            e.other_reasons = true;
        return;
    }
    const std::string& name = entries_.size() >= kMaxSources ? std::string(kOtherSources) : source;
    const std::string shown = name.substr(0, name.find('\n'));
    entries_.emplace(name, Entry{now, 0, {}, false, interval, refusal, shown});
    if (refusal)
        syslog(LOG_WARNING,
               "refused a request from %s: %s (further refusals from it are counted, one line every %lld s)",
               loggable(shown, 300).c_str(), loggable(why).c_str(), static_cast<long long>(interval.count()));
    else
        syslog(LOG_NOTICE,
               "answered a request from %s: %s (further such requests from it are counted, one line every "
               "%lld s)",
               loggable(shown, 300).c_str(), loggable(why).c_str(), static_cast<long long>(interval.count()));
}

bool RefusalLog::flush(bool all) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(m_);
    for (auto it = entries_.begin(); it != entries_.end();) {
        Entry& e = it->second;
        if (!all && now - e.since < e.interval) {
            ++it;
            continue;
        }
        if (e.more == 0) {
            it = entries_.erase(it);
            continue;
        }
        std::string reasons;
        for (const std::string& r : e.why) reasons += (reasons.empty() ? "" : "; ") + loggable(r);
        if (e.other_reasons) reasons += "; and others";
        syslog(
            e.refusals ? LOG_WARNING : LOG_NOTICE, "%s %llu more requests from %s in the last %lld s: %s",
            e.refusals ? "refused" : "answered", static_cast<unsigned long long>(e.more),
            loggable(e.shown, 300).c_str(),
            static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(now - e.since).count()),
            reasons.c_str());
        // The source stays in the table for one more interval, so a steady flood gives one line an interval
        // and not a "first refusal" line as well.
        e.since = now;
        e.more = 0;
        e.why.clear();
        e.other_reasons = false;
        ++it;
    }
    return !entries_.empty();
}

AdmissionTicket::AdmissionTicket(AdmissionTicket&& o) noexcept
    : owner_(std::exchange(o.owner_, nullptr)), pool_(o.pool_), share_(std::move(o.share_)) {}

AdmissionTicket& AdmissionTicket::operator=(AdmissionTicket&& o) noexcept {
    if (this != &o) {
        if (owner_ != nullptr) owner_->release(pool_, share_);
        owner_ = std::exchange(o.owner_, nullptr);
        pool_ = o.pool_;
        share_ = std::move(o.share_);
    }
    return *this;
}

AdmissionTicket::~AdmissionTicket() {
    if (owner_ != nullptr) owner_->release(pool_, share_);
}

bool Admission::open(uid_t uid, int per_caller, int ceiling) {
    std::lock_guard lock(m_);
    if (open_ >= ceiling) return false;
    if (uid != 0) {
        int& mine = open_per_uid_[uid];
        if (mine >= per_caller) return false;
        ++mine;
    }
    ++open_;
    return true;
}

bool Admission::close(uid_t uid) {
    std::lock_guard lock(m_);
    if (uid != 0) {
        const auto it = open_per_uid_.find(uid);
        if (it != open_per_uid_.end() && --it->second <= 0) open_per_uid_.erase(it);
    }
    --open_;
    if (open_ == 0) idle_.notify_all();
    return open_ == 0;
}

bool Admission::busy() {
    std::lock_guard lock(m_);
    return open_ > 0;
}

bool Admission::wait_idle(std::chrono::seconds limit) {
    std::unique_lock lock(m_);
    return idle_.wait_for(lock, limit, [this] { return open_ == 0; });
}

std::string Admission::local_share(std::string_view rhost, std::string_view runner, std::string_view user) {
    // The runner is the person who runs the login (local_runner.hpp): the account of a setuid program's real
    // uid (su, chsh, polkit-agent-helper-1, whatever PAM_RUSER they set), else PAM_RUSER (sudo names who runs
    // it); chsh, chfn and passwd authenticate that person's own account, the PAM user; so does the console,
    // where the person types the name and there is no runner. "runner X" and "user X without a runner" are
    // therefore one share, the same person: one account gets one share however many of these programs it
    // runs at once, and an unprivileged user's logins (su root, polkit's helper for root included) never
    // count in root's share or another user's.
    if (!runner.empty()) return "user " + std::string(runner);
    // A loopback login the admin counts as local (loopback_is_local) comes through sshd, whose client
    // chooses the PAM user at will: one share for the source, not one per name it tries.
    if (!rhost.empty()) return "network " + source_network(rhost);
    if (!user.empty()) return "user " + std::string(user);
    return {};
}

AdmissionTicket Admission::admit(uid_t uid, bool remote, std::string_view rhost,
                                 const AdmissionLimits& limits, std::string_view runner,
                                 std::string_view user) {
    std::lock_guard lock(m_);
    if (uid != 0) {
        if (unprivileged_ >= limits.local) return {};
        ++unprivileged_;
        return {this, Pool::Unprivileged, {}};
    }
    if (!remote) {
        if (local_ >= limits.local) return {};
        std::string who = local_share(rhost, runner, user);
        if (!who.empty() && !take_share(per_person_, who, limits.local)) return {};
        ++local_;
        return {this, Pool::Local, std::move(who)};
    }
    std::string net = source_network(rhost);
    if (remote_ >= limits.remote || !take_share(per_network_, net, limits.remote)) return {};
    ++remote_;
    return {this, Pool::Remote, std::move(net)};
}

std::string Admission::log_source(uid_t uid, bool remote, std::string_view rhost, std::string_view runner,
                                  std::string_view user) {
    if (uid != 0) return "uid " + std::to_string(uid);
    if (remote) return "network " + source_network(rhost);
    // By the share the login counts in (local_share).
    if (!runner.empty()) return "uid 0 for " + text::loggable(runner, 64);
    if (!rhost.empty()) return "uid 0 from network " + source_network(rhost);
    if (!user.empty()) return "uid 0 for " + text::loggable(user, 64);
    return "uid 0";
}

void Admission::release(Pool pool, const std::string& share) {
    std::lock_guard lock(m_);
    switch (pool) {
        case Pool::Local:
            --local_;
            if (!share.empty()) give_share(per_person_, share);
            break;
        case Pool::Unprivileged:
            --unprivileged_;
            break;
        case Pool::Remote:
            --remote_;
            give_share(per_network_, share);
            break;
    }
}

}  // namespace pp::helper
