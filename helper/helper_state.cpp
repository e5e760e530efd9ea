#include "helper_state.hpp"

#include "audit.hpp"

#include "login_log.hpp"

#include <syslog.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "config.hpp"
#include "crypto.hpp"
#include "hex.hpp"
#include "recovery_codes.hpp"

namespace pp::helper {
namespace {

std::string when(std::time_t t) {
    if (t == 0) return "never";
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

// The file's SHA-256 in hex, as an administrator would compute it with sha256sum; "unreadable" when it
// cannot be read (the load then says why).
std::string file_sha256(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "unreadable";
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return hex_encode(sha256_bytes(bytes));
}

// The lines of the configuration's description that are limits (config.cpp describe_config), so that the
// status shows them exactly as check-config does.
std::vector<std::string> limit_lines(const Config& c) {
    std::vector<std::string> out;
    std::istringstream in(describe_config(c));
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("max_tries:") || line.starts_with("logins at once:") ||
            line.starts_with("limits:"))
            out.push_back(line);
    return out;
}

}  // namespace

void PoolContact::record(bool answered, const std::string& why) noexcept {
    try {
        std::lock_guard lock(mutex_);
        if (answered) {
            seen_.last_answer = std::time(nullptr);
            ++seen_.answers;
        } else {
            seen_.last_failure = std::time(nullptr);
            // Shown by `status` on root's terminal; the text may come from the network (the pool's error
            // message, or a worker taken over): printable characters only, bounded.
            seen_.last_failure_reason = loggable(why, 300);
            ++seen_.failures;
        }
    } catch (...) {
        // Only the reason's copy can fail; the status then shows the previous one.
    }
}

PoolContact::Seen PoolContact::seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
}

HelperState::HelperState(std::string config_path) : config_path_(std::move(config_path)) {}

std::string HelperState::load(const char* trigger) {
    std::lock_guard serial(load_mutex_);
    const std::string sha256 = file_sha256(config_path_);
    std::string error;
    std::shared_ptr<const Runtime> loaded;
    try {
        // Each loaded configuration's client reports to the same record, through a handle that keeps it.
        auto rt = Runtime::load(config_path_, [pool = pool_](bool answered, const std::string& why) {
            pool->record(answered, why);
        });
        loaded = rt;
        runtime_.store(std::move(rt));
    } catch (const std::exception& e) {
        error = e.what();
        if (error.empty()) error = "unknown error";
    }
    const std::time_t now = std::time(nullptr);
    {
        std::lock_guard lock(mutex_);
        if (error.empty()) {
            config_error_.clear();
            config_sha256_ = sha256;
            config_loaded_ = now;
        } else if (trigger == nullptr) {
            config_error_ = error;
        }
        if (trigger != nullptr) {
            last_reload_ = now;
            last_reload_trigger_ = trigger;
            last_reload_error_ = error;
        }
    }
    // Once per load: lines for accounts that do not exist here, a map every local user can read. Written
    // before the line that says the load is done, so that line is the last of the load's lines.
    if (loaded)
        for (const auto& w : loaded->identities.warnings())
            syslog(LOG_WARNING, "identity map: %s", w.c_str());
    if (trigger == nullptr && error.empty())
        syslog(LOG_INFO, "configuration loaded from %s (sha256 %s)", config_path_.c_str(), sha256.c_str());
    else if (trigger == nullptr)
        syslog(LOG_ERR, "configuration refused: %s", error.c_str());
    else if (error.empty())
        syslog(LOG_INFO, "configuration reloaded from %s (sha256 %s, %s)", config_path_.c_str(),
               sha256.c_str(), trigger);
    else
        syslog(LOG_ERR, "new configuration refused, keeping the one in force (%s): %s", trigger,
               error.c_str());
    // The level of the file in force: a reload that is refused keeps the old one.
    if (loaded) set_debug_logging(loaded->config.debug_log);
    return error;
}

std::string HelperState::config_error() const {
    std::lock_guard lock(mutex_);
    return config_error_;
}

std::string HelperState::config_sha256() const {
    std::lock_guard lock(mutex_);
    return runtime() ? config_sha256_ : std::string();
}

void HelperState::count(wire::Outcome outcome) noexcept {
    const auto i = static_cast<std::size_t>(outcome);
    if (i < kOutcomes) ++outcomes_[i];
}

void HelperState::count_refused_at_accept() noexcept {
    ++refused_at_accept_;
}

void HelperState::record_login(const AuditRecord& r, bool test_login) noexcept {
    try {
        std::string text = "login=" + r.login_id + " user=" + loggable(r.user, 64) +
                           " service=" + loggable(r.service, 128) + " rhost=" + loggable(r.rhost, 255) +
                           " method=" + loggable(r.method, 32) + " outcome=" + wire::outcome_name(r.outcome) +
                           (test_login ? " (test-login)" : "");
        std::lock_guard lock(mutex_);
        last_login_ = std::time(nullptr);
        last_login_text_ = std::move(text);
    } catch (...) {
        // Only the text's allocation can fail; the status then shows the login before.
    }
}

std::vector<std::string> HelperState::status(bool started_by_this_request) const {
    std::vector<std::string> out;
    out.push_back(
        "helper: running, pid " + std::to_string(::getpid()) + ", since " + when(started_) +
        (started_by_this_request ? " (started by this request: it was idle, socket-activated)" : ""));
    out.push_back("configuration file: " + config_path_);
    const auto rt = runtime();
    {
        std::lock_guard lock(mutex_);
        if (rt) {
            out.push_back("configuration in force: sha256 " + config_sha256_ + ", loaded " +
                          when(config_loaded_));
        } else {
            out.push_back("configuration in force: none, every login is refused (PAM_SERVICE_ERR): " +
                          config_error_);
        }
        if (last_reload_ == 0)
            out.push_back("last reload: none since start");
        else
            out.push_back("last reload: " + when(last_reload_) + " (" + last_reload_trigger_ + "), " +
                          (last_reload_error_.empty()
                               ? std::string("loaded")
                               : "refused, the previous configuration stays: " + last_reload_error_));
    }
    std::uint64_t total = 0;
    std::string by_outcome;
    for (std::size_t i = 0; i < kOutcomes; ++i) {
        const std::uint64_t n = outcomes_[i].load();
        total += n;
        if (n == 0) continue;
        if (!by_outcome.empty()) by_outcome += ", ";
        by_outcome +=
            std::string(wire::outcome_name(static_cast<wire::Outcome>(i))) + " " + std::to_string(n);
    }
    out.push_back("logins since start: " + std::to_string(total) +
                  (by_outcome.empty() ? std::string() : " (" + by_outcome + ")") +
                  "; refused at accept (too many at once): " + std::to_string(refused_at_accept_.load()));
    {
        std::lock_guard lock(mutex_);
        out.push_back(last_login_ == 0 ? std::string("last login: none since start")
                                       : "last login: " + when(last_login_) + " " + last_login_text_);
    }
    const PoolContact::Seen pool = pool_->seen();
    out.push_back("user pool last answered: " + when(pool.last_answer) + " (" + std::to_string(pool.answers) +
                  " answer(s) since start)");
    out.push_back("user pool last failed: " + when(pool.last_failure) +
                  (pool.last_failure == 0 ? std::string() : ": " + pool.last_failure_reason) + " (" +
                  std::to_string(pool.failures) + " failure(s) since start)");
    if (rt)
        for (auto& line : limit_lines(rt->config)) out.push_back(std::move(line));
    else
        out.push_back("limits: none in force (no configuration)");
    if (rt) out.push_back(recovery_status_line(rt->config.recovery.store_dir));
    return out;
}

}  // namespace pp::helper
