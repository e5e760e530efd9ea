#include "login/passkey_uv_memory.hpp"

#include <syslog.h>

#include <map>
#include <memory>
#include <sstream>

#include "config.hpp"
#include "login/state_files.hpp"
#include "login_log.hpp"
#include "text.hpp"
#include "trusted_file.hpp"

namespace pp::helper {

std::string PasskeyUvMemory::path_for(const std::string& limits_state_file) {
    return beside_limits_state(limits_state_file, "pool_passkey_uv");
}

PasskeyUvMemory::PasskeyUvMemory(const std::string& limits_state_file) : path_(path_for(limits_state_file)) {
    std::string text;
    try {
        if (!check_trusted_path(path_, Confidentiality::Public)) return;  // nothing seen yet
        text = read_trusted_file(path_, 1024);
    } catch (const FileError& e) {
        log_line(LOG_WARNING, "pool passkey UV not read (the pool's default is assumed): %s",
                 text::loggable(e.what()).c_str());
        return;
    }
    std::istringstream in(text);
    Row row;
    std::string uv, extra;
    if (!(in >> row.pool_id >> row.rp_id >> uv) || (in >> extra) ||
        (uv != uv_setting_name(true) && uv != uv_setting_name(false))) {
        log_line(LOG_WARNING, "pool passkey UV: %s is not one line \"<pool_id> <rp_id> required|preferred\"",
                 path_.c_str());
        return;
    }
    row.uv = uv == uv_setting_name(true);
    row_ = std::move(row);
}

std::optional<bool> PasskeyUvMemory::asks_uv(const std::string& pool_id, const std::string& rp_id) const {
    std::lock_guard lock(mutex_);
    if (!row_ || row_->pool_id != pool_id || row_->rp_id != rp_id) return std::nullopt;
    return row_->uv;
}

bool PasskeyUvMemory::saw(const std::string& pool_id, const std::string& rp_id, bool uv) {
    std::lock_guard lock(mutex_);
    if (row_ && row_->pool_id == pool_id && row_->rp_id == rp_id && row_->uv == uv) return false;
    row_ = Row{pool_id, rp_id, uv};
    // Names without a blank only: a line that could not be read back is not written.
    const auto one_word = [](const std::string& s) {
        return !s.empty() && s.size() <= 255 && text::printable_bounded(s, 255) &&
               s.find(' ') == std::string::npos;
    };
    if (!one_word(pool_id) || !one_word(rp_id)) return true;
    try {
        write_file_atomically(path_, pool_id + " " + rp_id + " " + uv_setting_name(uv) + "\n");
    } catch (const FileError& e) {
        log_line(LOG_WARNING, "pool passkey UV not kept (a restart forgets it): %s",
                 text::loggable(e.what()).c_str());
    }
    return true;
}

PasskeyUvMemory& passkey_uv_memory(const std::string& limits_state_file) {
    static std::mutex m;
    static std::map<std::string, std::unique_ptr<PasskeyUvMemory>> memories;
    std::lock_guard lock(m);
    auto& memory = memories[limits_state_file];
    if (!memory) memory = std::make_unique<PasskeyUvMemory>(limits_state_file);
    return *memory;
}

}  // namespace pp::helper
