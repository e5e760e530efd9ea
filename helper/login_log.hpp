// The helper's log lines about a login: each carries "login=<id>", the id the audit line and the module's
// lines carry, so one grep finds everything about one login. The id is the running thread's: a login runs on
// one thread from Begin to Result (helper/server.cpp), so a scope on that thread tags every line written
// below it, the user pool client's included, without passing the id through every call.
#pragma once

#include <string>

namespace pp::helper {

// Debug lines are written only while this is on: `[log] level = debug` (set at every load and reload) or
// `--debug` on the command line (which wins over the file).
void set_debug_logging(bool from_config);
void force_debug_logging();
[[nodiscard]] bool debug_logging() noexcept;

// While alive, lines written on this thread carry `login=<id>`.
class LoginLogScope {
  public:
    explicit LoginLogScope(const std::string& login_id);
    ~LoginLogScope();
    LoginLogScope(const LoginLogScope&) = delete;
    LoginLogScope& operator=(const LoginLogScope&) = delete;

  private:
    std::string previous_;
};

// syslog(3) with "login=<id> " in front when a login is running on this thread. Never pass a code, PIN,
// session, token or secret: these lines go to the journal as they are.
void log_line(int priority, const char* format, ...) __attribute__((format(printf, 2, 3)));
// log_line at LOG_DEBUG, written only when debug_logging() is on.
void debug_line(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace pp::helper
