#include "login_log.hpp"

#include <syslog.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace pp::helper {
namespace {

std::atomic<bool> debug_from_config{false};
std::atomic<bool> debug_forced{false};
thread_local std::string current_login;

void write(int priority, const char* format, va_list args) {
    char text[1024];
    std::vsnprintf(text, sizeof text, format, args);
    if (current_login.empty())
        syslog(priority, "%s", text);
    else
        syslog(priority, "login=%s %s", current_login.c_str(), text);
}

}  // namespace

void set_debug_logging(bool from_config) {
    debug_from_config.store(from_config, std::memory_order_relaxed);
}

void force_debug_logging() {
    debug_forced.store(true, std::memory_order_relaxed);
}

bool debug_logging() noexcept {
    return debug_forced.load(std::memory_order_relaxed) || debug_from_config.load(std::memory_order_relaxed);
}

LoginLogScope::LoginLogScope(const std::string& login_id) : previous_(current_login) {
    current_login = login_id;
}

LoginLogScope::~LoginLogScope() {
    current_login.swap(previous_);
}

void log_line(int priority, const char* format, ...) {
    va_list args;
    va_start(args, format);
    write(priority, format, args);
    va_end(args);
}

void debug_line(const char* format, ...) {
    if (!debug_logging()) return;
    va_list args;
    va_start(args, format);
    write(LOG_DEBUG, format, args);
    va_end(args);
}

}  // namespace pp::helper
