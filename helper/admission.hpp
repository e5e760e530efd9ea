// Which logins the helper takes on when many arrive at once, and the quiet log of those it refuses.
//
// Three pools, none of which can take another's capacity:
//   local         root callers without a remote host (sudo, su, chsh, login at the console, the command line
//                 as root): max_concurrent_logins at once, shared fairly (fair_share below) by the person
//                 each login is for (local_share): an unprivileged user parking su, sudo, chsh or chfn
//                 prompts cannot fill it for root's sudo or the console. Only root's own management
//                 requests, which name no one, are capped by the pool alone.
//   remote        root callers with a remote host (sshd): max_remote_logins at once, shared fairly by source
//                 network (fair_share below), so no network crowds out another.
//   unprivileged  callers other than root (screen lockers, the command line): max_concurrent_per_caller
//                 connections per uid, counted from the moment they connect, and max_concurrent_logins in
//                 all.
// A login parked at a prompt holds a slot of its pool, a descriptor and a small thread, nothing scarce: the
// pools are sized in thousands.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace pp::helper {

struct AdmissionLimits {
    int local = 64;                         // [login] max_concurrent_logins
    int remote = 4096;                      // [login] max_remote_logins
    int per_caller = 16;                    // [login] max_concurrent_per_caller (non-root callers only)
    std::chrono::seconds log_interval{60};  // [login] refusal_log_interval
};

struct Config;
// The limits in force; the defaults when the configuration could not be loaded (`c` null).
AdmissionLimits admission_limits(const Config* c);

// The network a remote host counts against: an IPv4 /24 ("192.0.2.0/24"), an IPv6 /64 ("2001:db8:1:2::/64"),
// an IPv4-mapped IPv6 address as its IPv4 /24, and anything else (a host name, lower-cased) as a network of
// its own.
std::string source_network(std::string_view rhost);

// The site a remote host's network belongs to, where one holder commonly has many networks for nothing: an
// IPv6 /48 ("2001:db8:1::/48"), the usual end-site assignment. "" for an IPv4 host (its /24 is the scarce
// thing) and for a host name.
std::string source_site(std::string_view rhost);

// The most logins one network may hold when `networks` networks (itself included) hold remote logins and
// the remote pool holds `capacity`: capacity / (networks + 1). The "+ 1" keeps a share free for a network
// not yet seen, so a newcomer always finds room while fewer than capacity - 1 networks are in.
int fair_share(int capacity, std::size_t networks);

// One line per source (a uid, a network) per interval instead of one per refusal: the first refusal is
// logged at once, the rest are counted and logged as one line, with their distinct reasons, when the
// interval has passed (flush). Requests that end before any login began (closed before their first message,
// malformed) are counted here too, as refusals.
class RefusalLog {
  public:
    void refused(const std::string& source, std::string_view why, std::chrono::seconds interval);
    // The same for a request that was answered but that any local user may repeat at will and that changes
    // nothing (a listing of one's own keys): counted per source apart from its refusals, and worded as done.
    void repeated(const std::string& source, std::string_view what, std::chrono::seconds interval);
    // Logs the counts whose interval has passed (all of them when `all`); true while counts remain.
    bool flush(bool all = false);

  private:
    struct Entry {
        std::chrono::steady_clock::time_point since;
        std::uint64_t more = 0;        // refusals after the one logged at `since`
        std::vector<std::string> why;  // their distinct reasons, the first few (kMaxReasons)
        bool other_reasons = false;    // and reasons past those
        std::chrono::seconds interval{};
        bool refusals = true;  // false: repeated(), worded as requests answered
        std::string shown;  // the source as the lines name it (the table's key marks what repeated() counts)
    };
    void note(const std::string& source, std::string_view why, std::chrono::seconds interval, bool refusal);
    std::mutex m_;
    std::map<std::string, Entry> entries_;
};

enum class Pool { Local, Remote, Unprivileged };

class Admission;

// A slot in a pool, given back when destroyed.
class AdmissionTicket {
  public:
    AdmissionTicket() = default;
    AdmissionTicket(AdmissionTicket&& o) noexcept;
    AdmissionTicket& operator=(AdmissionTicket&& o) noexcept;
    AdmissionTicket(const AdmissionTicket&) = delete;
    AdmissionTicket& operator=(const AdmissionTicket&) = delete;
    ~AdmissionTicket();
    [[nodiscard]] bool admitted() const { return owner_ != nullptr; }

  private:
    friend class Admission;
    AdmissionTicket(Admission* owner, Pool pool, std::string share)
        : owner_(owner), pool_(pool), share_(std::move(share)) {}
    Admission* owner_ = nullptr;
    Pool pool_ = Pool::Local;
    std::string share_;  // the network or the person (local_share) whose fair share it counts in
};

class Admission {
  public:
    // When a connection is accepted, before anything is read: false when a non-root caller already has
    // per_caller connections open, or the helper holds `ceiling` connections.
    bool open(uid_t uid, int per_caller, int ceiling);
    // When the connection ends; true when it was the last one open.
    bool close(uid_t uid);
    bool wait_idle(std::chrono::seconds limit);
    bool busy();  // a connection is open

    // Once the first message is read: a slot in the pool of this caller and host. `remote`, `rhost` and
    // `user` (the PAM user) come from the Begin message, `runner` (who runs the login: local_runner.hpp)
    // from it too (all empty for a management request). Not admitted: the pool (or, for a remote login, the
    // network's fair share; for a local one, the share of the person it is for, local_share) is full.
    AdmissionTicket admit(uid_t uid, bool remote, std::string_view rhost, const AdmissionLimits& limits,
                          std::string_view runner = {}, std::string_view user = {});
    // Whose fair share of the local pool a root caller's local login counts in: "user X" for the person it
    // is for (X = its runner, else the PAM user), "network N" for a loopback login the admin counts as local;
    // empty (the pool alone) only for a request that names no one.
    static std::string local_share(std::string_view rhost, std::string_view runner, std::string_view user);
    // Where a refusal of this caller and host is counted in the log.
    static std::string log_source(uid_t uid, bool remote, std::string_view rhost,
                                  std::string_view runner = {}, std::string_view user = {});

    RefusalLog& refusals() { return refusals_; }

  private:
    friend class AdmissionTicket;
    void release(Pool pool, const std::string& share);

    std::mutex m_;
    std::condition_variable idle_;
    int open_ = 0;
    std::map<uid_t, int> open_per_uid_;  // non-root callers only
    int local_ = 0, remote_ = 0, unprivileged_ = 0;
    std::map<std::string, int> per_network_;
    std::map<std::string, int> per_person_;  // local logins by local_share
    RefusalLog refusals_;
};

}  // namespace pp::helper
