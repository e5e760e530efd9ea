// The PAM entry points. The module only relays: the helper decides every step and the outcome.
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>

#include <exception>
#include <string>

#include "channel.hpp"
#include "conversation.hpp"
#include "helper_connection.hpp"
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

int authenticate(pam_handle_t* pamh, int flags, const Options& opt) {
    const bool silent = (flags & PAM_SILENT) != 0;
    Conversation conv(pamh);

    const char* user = nullptr;
    const int ur = pam_get_user(pamh, &user, nullptr);
    if (ur != PAM_SUCCESS) return ur;
    if (user == nullptr || *user == '\0') return PAM_USER_UNKNOWN;
    const std::string pam_user = user;

    auto unavailable = [&](const std::string& why) {
        pam_syslog(pamh, LOG_ERR, "helper unavailable: %s", why.c_str());
        if (!silent) conv.error(kUnavailableText);
        return PAM_AUTHINFO_UNAVAIL;
    };

    try {
        auto helper = client::HelperConnection::open(opt.socket_path, opt.helper_timeout);
        wire::Message begin(wire::Type::Begin);
        begin.add(wire::Tag::User, pam_user)
            .add(wire::Tag::Service, item(pamh, PAM_SERVICE))
            .add(wire::Tag::Rhost, item(pamh, PAM_RHOST))
            .add(wire::Tag::Tty, item(pamh, PAM_TTY))
            .add(wire::Tag::Ruser, item(pamh, PAM_RUSER));
        if (opt.unknown_user)
            begin.add(wire::Tag::UnknownUser, static_cast<std::uint32_t>(*opt.unknown_user));
        const client::Verdict v = client::relay(helper, begin, conv);
        if (!silent && !v.text.empty()) {
            if (v.outcome == wire::Outcome::Success)
                conv.info(v.text);
            else
                conv.error(v.text);
        }
        if (v.outcome == wire::Outcome::Success && v.user != pam_user) {
            pam_syslog(pamh, LOG_CRIT, "helper reported success for another user; refused");
            return PAM_AUTH_ERR;
        }
        if (opt.debug) pam_syslog(pamh, LOG_DEBUG, "helper outcome %s", wire::outcome_name(v.outcome));
        return pam_code_for(v.outcome);
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
            pam_syslog(pamh, LOG_ERR, "bad module arguments: %s", error.c_str());
            return PAM_SERVICE_ERR;
        }
        return pp::module::authenticate(pamh, flags, *opt);
    } catch (const std::exception& e) {
        pam_syslog(pamh, LOG_ERR, "internal error: %s", e.what());
    } catch (...) {
        pam_syslog(pamh, LOG_ERR, "internal error");
    }
    return PAM_SERVICE_ERR;
}

// Nothing to establish: the module proves identity, it holds no credentials for the session.
__attribute__((visibility("default"))) PAM_EXTERN int pam_sm_setcred(pam_handle_t*, int, int, const char**) {
    return PAM_SUCCESS;
}

}  // extern "C"
