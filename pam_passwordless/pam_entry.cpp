// The PAM entry points. The module only relays: the helper decides every step and the outcome.
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "channel.hpp"
#include "conversation.hpp"
#include "helper_connection.hpp"
#include "messages.hpp"
#include "module_options.hpp"
#include "relay.hpp"
#include "result_mapping.hpp"
#include "wire.hpp"

namespace pp::module {
namespace {

constexpr const char* kUnavailableText = "Passwordless sign-in is unavailable right now; try again later.";

std::string item(pam_handle_t* pamh, int type) {
    const void* v = nullptr;
    if (pam_get_item(pamh, type, &v) != PAM_SUCCESS || v == nullptr) return {};
    return static_cast<const char*>(v);
}

// Every line starts with "login=<id>", the helper's id for the login (its audit line and its own lines carry
// the same). Lines written before the helper said the id (the connect) wait for it; those of a login the
// helper never started (unreachable, refused at once) go out with "login=-" when the login ends.
class LoginLog {
  public:
    LoginLog(pam_handle_t* pamh, bool debug) : pamh_(pamh), debug_(debug) {}
    ~LoginLog() { flush(); }
    LoginLog(const LoginLog&) = delete;
    LoginLog& operator=(const LoginLog&) = delete;

    void set_id(std::string_view id) {
        if (!id_.empty()) return;
        id_ = id;
        flush();
    }
    void line(int priority, const std::string& text) {
        waiting_.emplace_back(priority, text);
        if (!id_.empty()) flush();
    }
    void debug(const std::string& text) {
        if (debug_) line(LOG_DEBUG, text);
    }
    [[nodiscard]] bool debugging() const { return debug_; }

  private:
    void flush() noexcept {
        for (const auto& [priority, text] : waiting_)
            pam_syslog(pamh_, priority, "login=%s %s", id_.empty() ? "-" : id_.c_str(), text.c_str());
        waiting_.clear();
    }

    pam_handle_t* pamh_;
    bool debug_;
    std::string id_;
    std::vector<std::pair<int, std::string>> waiting_;
};

long long ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
        .count();
}

int authenticate(pam_handle_t* pamh, int flags, const Options& opt) {
    const bool silent = (flags & PAM_SILENT) != 0;
    Conversation conv(pamh);
    LoginLog log(pamh, opt.debug);

    const char* user = nullptr;
    const int ur = pam_get_user(pamh, &user, nullptr);
    if (ur != PAM_SUCCESS) return ur;
    if (user == nullptr || *user == '\0') return PAM_USER_UNKNOWN;
    const std::string pam_user = user;

    auto unavailable = [&](const std::string& why) {
        log.line(LOG_ERR, "helper unavailable: " + why);
        if (!silent) conv.error(kUnavailableText);
        return PAM_AUTHINFO_UNAVAIL;
    };

    try {
        const auto start = std::chrono::steady_clock::now();
        log.debug("connecting to the helper at " + opt.socket_path);
        auto helper = client::HelperConnection::open(opt.socket_path, opt.helper_timeout);
        log.debug("connected in " + std::to_string(ms_since(start)) + " ms");
        // The real uid says who runs a setuid program that runs this stack (su, chsh, polkit-agent-helper-1:
        // whoever started it), which PAM_RUSER, text the program chooses, need not say: polkit's helper puts
        // the user to authenticate there. The person who started the program cannot change it (only the
        // program can, being root), and the helper heeds it only from a root process (SO_PEERCRED).
        const protocol::Begin begin{pam_user,
                                    item(pamh, PAM_SERVICE),
                                    item(pamh, PAM_RHOST),
                                    item(pamh, PAM_TTY),
                                    item(pamh, PAM_RUSER),
                                    opt.unknown_user,
                                    false,
                                    static_cast<std::uint32_t>(::getuid())};
        client::RelayTrace trace;
        if (log.debugging())
            trace = [&](std::string_view id, std::string_view step) {
                if (!id.empty()) log.set_id(id);
                log.debug(std::string(step));
            };
        else
            trace = [&](std::string_view id, std::string_view) {
                if (!id.empty()) log.set_id(id);
            };
        const client::Verdict v = client::relay(helper, begin.encode(), conv, trace);
        if (!silent && !v.text.empty()) {
            if (v.outcome == wire::Outcome::Success)
                conv.info(v.text);
            else
                conv.error(v.text);
        }
        if (v.outcome == wire::Outcome::Success && v.user != pam_user) {
            log.line(LOG_CRIT, "helper reported success for another user; refused");
            return PAM_AUTH_ERR;
        }
        const int code = pam_code_for(v.outcome);
        log.debug(std::string("helper outcome ") + wire::outcome_name(v.outcome) + ", PAM code " +
                  pam_strerror(pamh, code) + ", after " + std::to_string(ms_since(start)) + " ms");
        return code;
    } catch (const client::HelperUnavailable& e) {
        return unavailable(e.what());
    } catch (const wire::ChannelError& e) {
        return unavailable(e.what());
    } catch (const wire::ProtocolError& e) {
        return unavailable(e.what());
    }
}

}  // namespace
}  // namespace pp::module

extern "C" {

__attribute__((visibility("default"))) PAM_EXTERN int pam_sm_authenticate(pam_handle_t* pamh, int flags,
                                                                          int argc, const char** argv) {
    try {
        std::string error;
        const auto opt = pp::module::parse_options(argc, argv, error);
        if (!opt) {
            pam_syslog(pamh, LOG_ERR, "login=- bad module arguments: %s", error.c_str());
            return PAM_SERVICE_ERR;
        }
        return pp::module::authenticate(pamh, flags, *opt);
    } catch (const std::exception& e) {
        pam_syslog(pamh, LOG_ERR, "login=- internal error: %s", e.what());
    } catch (...) {
        pam_syslog(pamh, LOG_ERR, "login=- internal error");
    }
    return PAM_SERVICE_ERR;
}

// Nothing to establish: the module proves identity, it holds no credentials for the session.
__attribute__((visibility("default"))) PAM_EXTERN int pam_sm_setcred(pam_handle_t*, int, int, const char**) {
    return PAM_SUCCESS;
}

}  // extern "C"
