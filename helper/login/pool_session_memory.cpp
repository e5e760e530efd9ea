#include "login/pool_session_memory.hpp"

#include <syslog.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <sstream>
#include <type_traits>

#include "login/state_files.hpp"
#include "login_log.hpp"
#include "text.hpp"
#include "trusted_file.hpp"

namespace pp::helper {

namespace {

// "-" for nothing seen, else a count that fits the file's bounds (an age of at most a day, at most 1000
// wrong codes): a field out of bounds makes the line unreadable, as a damaged one.
bool read_field(const std::string& word, long long max, std::optional<long long>& out) {
    if (word == "-") return true;
    if (word.empty() || word.size() > 9 ||
        !std::all_of(word.begin(), word.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
        return false;
    const long long v = std::stoll(word);
    if (v > max) return false;
    out = v;
    return true;
}

template <typename T>
std::string field(const std::optional<T>& v) {
    if (!v) return "-";
    if constexpr (std::is_same_v<T, int>)
        return std::to_string(*v);
    else
        return std::to_string(v->count());
}

}  // namespace

std::string PoolSessionMemory::path_for(const std::string& limits_state_file) {
    return beside_limits_state(limits_state_file, "pool_sessions");
}

PoolSessionMemory::PoolSessionMemory(const std::string& limits_state_file)
    : path_(path_for(limits_state_file)) {
    std::string text;
    try {
        if (!check_trusted_path(path_, Confidentiality::Public)) return;  // nothing seen yet
        text = read_trusted_file(path_, 1024);
    } catch (const FileError& e) {
        log_line(LOG_WARNING, "pool sessions not read (the configuration's values are assumed): %s",
                 text::loggable(e.what()).c_str());
        return;
    }
    std::istringstream in(text);
    Pool pool;
    std::string expired, taken, wrong;
    std::optional<long long> e, t, w;
    // The words after the fifth came later, each at most once and in this order: a line without them
    // (written before they were kept) reads as a pool that answers the question with its menu.
    bool refuses = false, skips = false, readable = true;
    if (!(in >> pool.pool_id >> pool.client_id >> expired >> taken >> wrong) ||
        !read_field(expired, 86400000, e) || !read_field(taken, 86400000, t) || !read_field(wrong, 1000, w) ||
        (w && *w < 1))
        readable = false;
    for (std::string word; readable && in >> word;) {
        if (word == "refuses-preference" && !refuses && !skips)
            refuses = true;
        else if (word == "skips-to-one-factor" && !skips)
            skips = true;
        else
            readable = false;
    }
    if (!readable) {
        log_line(LOG_WARNING,
                 "pool sessions: %s is not one line \"<pool_id> <client_id> <expired ms|-> <taken ms|-> "
                 "<wrong codes|-> [refuses-preference] [skips-to-one-factor]\"",
                 path_.c_str());
        return;
    }
    pool_ = std::move(pool);
    if (e) seen_.expired_at = Age(*e);
    if (t) seen_.taken_at = Age(*t);
    if (w) seen_.wrong_codes = static_cast<int>(*w);
    seen_.refuses_preference = refuses;
    seen_.skips_to_one_factor = skips;
}

void PoolSessionMemory::switch_to_locked(const Pool& p) {
    if (same_pool(p)) return;
    pool_ = p;
    seen_ = {};
}

PoolSessionMemory::Age PoolSessionMemory::validity_locked(Age configured) const {
    Age v = configured;
    if (seen_.taken_at && v < *seen_.taken_at) v = *seen_.taken_at;
    // Refused at that age: the made-up session must be over by then too.
    if (seen_.expired_at && v >= *seen_.expired_at) v = *seen_.expired_at - Age(1);
    return std::max(v, Age(0));
}

void PoolSessionMemory::taken(const Pool& pool, Age age, Age configured) {
    std::lock_guard lock(mutex_);
    switch_to_locked(pool);
    if (seen_.taken_at && age <= *seen_.taken_at) return;
    const Age before = validity_locked(configured);
    seen_.taken_at = age;
    if (seen_.expired_at && *seen_.expired_at <= age) seen_.expired_at.reset();  // the newest wins
    if (validity_locked(configured) != before) keep_locked();
}

void PoolSessionMemory::expired(const Pool& pool, Age age, Age configured) {
    std::lock_guard lock(mutex_);
    switch_to_locked(pool);
    if (seen_.expired_at && age >= *seen_.expired_at) return;
    const Age before = validity_locked(configured);
    seen_.expired_at = age;
    if (seen_.taken_at && *seen_.taken_at >= age) seen_.taken_at.reset();  // the newest wins
    if (validity_locked(configured) != before) keep_locked();
}

void PoolSessionMemory::ended_after(const Pool& pool, int wrong_codes) {
    if (wrong_codes < 1 || wrong_codes > 1000) return;
    std::lock_guard lock(mutex_);
    switch_to_locked(pool);
    if (seen_.wrong_codes == wrong_codes) return;
    if (seen_.wrong_codes)
        log_line(LOG_NOTICE, "the user pool now ends a session after %d wrong codes (was %d)", wrong_codes,
                 *seen_.wrong_codes);
    seen_.wrong_codes = wrong_codes;
    keep_locked();
}

void PoolSessionMemory::preference_refused(const Pool& pool, bool refused) {
    std::lock_guard lock(mutex_);
    switch_to_locked(pool);
    if (seen_.refuses_preference == refused) return;
    seen_.refuses_preference = refused;
    keep_locked();
}

bool PoolSessionMemory::refuses_preference(const Pool& pool) const {
    std::lock_guard lock(mutex_);
    return same_pool(pool) && seen_.refuses_preference;
}

void PoolSessionMemory::question_skipped(const Pool& pool, bool skipped) {
    std::lock_guard lock(mutex_);
    switch_to_locked(pool);
    if (seen_.skips_to_one_factor == skipped) return;
    seen_.skips_to_one_factor = skipped;
    keep_locked();
}

bool PoolSessionMemory::skips_to_one_factor(const Pool& pool) const {
    std::lock_guard lock(mutex_);
    return same_pool(pool) && seen_.skips_to_one_factor;
}

PoolSessionMemory::Age PoolSessionMemory::validity(const Pool& pool, Age configured) const {
    std::lock_guard lock(mutex_);
    return same_pool(pool) ? validity_locked(configured) : configured;
}

std::optional<int> PoolSessionMemory::wrong_codes(const Pool& pool) const {
    std::lock_guard lock(mutex_);
    return same_pool(pool) ? seen_.wrong_codes : std::nullopt;
}

PoolSessionMemory::Seen PoolSessionMemory::seen(const Pool& pool) const {
    std::lock_guard lock(mutex_);
    return same_pool(pool) ? seen_ : Seen{};
}

void PoolSessionMemory::keep_locked() {
    // Names without a blank only: a line that could not be read back is not written.
    const auto one_word = [](const std::string& s) {
        return !s.empty() && s.size() <= 255 && text::printable_bounded(s, 255) &&
               s.find(' ') == std::string::npos;
    };
    if (!one_word(pool_.pool_id) || !one_word(pool_.client_id)) return;
    const auto bounded = [](const std::optional<Age>& a) {
        return a && a->count() <= 86400000 ? a : std::nullopt;
    };
    try {
        write_file_atomically(path_, pool_.pool_id + " " + pool_.client_id + " " +
                                         field(bounded(seen_.expired_at)) + " " +
                                         field(bounded(seen_.taken_at)) + " " + field(seen_.wrong_codes) +
                                         (seen_.refuses_preference ? " refuses-preference" : "") +
                                         (seen_.skips_to_one_factor ? " skips-to-one-factor" : "") + "\n");
    } catch (const FileError& e) {
        log_line(LOG_WARNING, "pool sessions not kept (a restart forgets them): %s",
                 text::loggable(e.what()).c_str());
    }
}

PoolSessionMemory& pool_session_memory(const std::string& limits_state_file) {
    static std::mutex m;
    static std::map<std::string, std::unique_ptr<PoolSessionMemory>> memories;
    std::lock_guard lock(m);
    auto& memory = memories[limits_state_file];
    if (!memory) memory = std::make_unique<PoolSessionMemory>(limits_state_file);
    return *memory;
}

bool session_expired_error(const cognito::ServiceError& e) {
    if (e.failure() != cognito::Failure::Rejected || e.name() != "NotAuthorizedException") return false;
    std::string lower = e.message();
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower.find("session") != std::string::npos && lower.find("expired") != std::string::npos;
}

}  // namespace pp::helper
