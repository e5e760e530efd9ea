#include "rate_limits.hpp"

#include <syslog.h>

#include <algorithm>
#include <sstream>

#include "audit.hpp"
#include "trusted_file.hpp"

namespace pp::helper {

RateLimits::RateLimits(std::string state_file) : state_file_(std::move(state_file)) {
    load();
}

void RateLimits::prune(std::int64_t now, std::int64_t window) {
    for (auto it = sends_.begin(); it != sends_.end();) {
        auto& q = it->second;
        while (!q.empty() && q.front() <= now - window) q.pop_front();
        it = q.empty() ? sends_.erase(it) : std::next(it);
    }
}

std::int64_t RateLimits::take_send(const std::string& identifier, const std::string& rhost,
                                   const LimitPolicy& p, std::int64_t now) {
    std::lock_guard lock(m_);
    const std::int64_t window = p.send_window.count();
    prune(now, window);
    std::int64_t wait = 0;
    auto check = [&](const std::string& key, int limit) {
        const auto it = sends_.find(key);
        if (it != sends_.end() && static_cast<int>(it->second.size()) >= limit)
            wait = std::max(wait, it->second.front() + window - now);
    };
    const std::string id_key = "id:" + identifier, host_key = "host:" + rhost;
    check(id_key, p.sends_per_identifier);
    if (!rhost.empty()) check(host_key, p.sends_per_rhost);
    if (wait > 0) return wait;
    sends_[id_key].push_back(now);
    if (!rhost.empty()) sends_[host_key].push_back(now);
    save();
    return 0;
}

std::int64_t RateLimits::user_wait(const std::string& user, const LimitPolicy& p, std::int64_t now) {
    std::lock_guard lock(m_);
    const auto it = failures_.find(user);
    if (it == failures_.end() || it->second.count < p.failures_before_backoff) return 0;
    // 1 minute after the first failure past the allowance, doubling with each further one, up to the maximum.
    const int over = std::min(it->second.count - p.failures_before_backoff, 20);
    const std::int64_t backoff = std::min<std::int64_t>(std::int64_t{60} << over, p.backoff_max.count());
    return std::max<std::int64_t>(0, it->second.last + backoff - now);
}

void RateLimits::record_failure(const std::string& user, std::int64_t now) {
    std::lock_guard lock(m_);
    auto& f = failures_[user];
    ++f.count;
    f.last = now;
    save();
}

void RateLimits::record_success(const std::string& user) {
    std::lock_guard lock(m_);
    if (failures_.erase(user) > 0) save();
}

bool RateLimits::enter_rhost(const std::string& rhost, const LimitPolicy& p) {
    if (rhost.empty()) return true;
    std::lock_guard lock(m_);
    int& n = in_flight_[rhost];
    if (n >= p.logins_per_rhost) return false;
    ++n;
    return true;
}

void RateLimits::leave_rhost(const std::string& rhost) {
    if (rhost.empty()) return;
    std::lock_guard lock(m_);
    if (--in_flight_[rhost] <= 0) in_flight_.erase(rhost);
}

// One line per entry: "send KEY TIME" or "fail USER COUNT LAST". Keys hold no spaces: identifiers, host
// names and user names are validated before they get here, and anything else is dropped on load.
void RateLimits::save() {
    if (state_file_.empty()) return;
    std::ostringstream out;
    out << "# pam_passwordless rate-limit state; rewritten by the helper\n";
    for (const auto& [key, times] : sends_)
        for (auto t : times) out << "send " << key << " " << t << "\n";
    for (const auto& [user, f] : failures_) out << "fail " << user << " " << f.count << " " << f.last << "\n";
    try {
        write_file_atomically(state_file_, out.str());
    } catch (const std::exception& e) {
        syslog(LOG_ERR, "rate limits: cannot save state: %s", loggable(e.what()).c_str());
    }
}

void RateLimits::load() {
    if (state_file_.empty()) return;
    std::string text;
    try {
        text = read_trusted_file(state_file_, 16 * 1024 * 1024, Confidentiality::Secret);
    } catch (const FileError& e) {
        if (std::string(e.what()).find("No such file") == std::string::npos)
            syslog(LOG_ERR, "rate limits: state not loaded, starting empty: %s", loggable(e.what()).c_str());
        return;
    }
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string kind, key;
        if (!(f >> kind >> key)) continue;
        if (kind == "send") {
            std::int64_t t = 0;
            if (f >> t) sends_[key].push_back(t);
        } else if (kind == "fail") {
            Failures fl;
            if (f >> fl.count >> fl.last && fl.count > 0) failures_[key] = fl;
        }
    }
    for (auto& [key, times] : sends_) std::sort(times.begin(), times.end());
}

}  // namespace pp::helper
