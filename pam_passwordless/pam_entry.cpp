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
#include "result_mapping.hpp"
#include "security_key.hpp"
#include "wire.hpp"

namespace pp::module {
namespace {

// A login has a handful of steps; a helper that keeps talking past this is broken or hostile.
constexpr int kMaxSteps = 64;
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
        auto helper = HelperConnection::open(opt.socket_path, opt.helper_timeout);
        wire::Message begin(wire::Type::Begin);
        begin.add(wire::Tag::User, pam_user)
            .add(wire::Tag::Service, item(pamh, PAM_SERVICE))
            .add(wire::Tag::Rhost, item(pamh, PAM_RHOST))
            .add(wire::Tag::Tty, item(pamh, PAM_TTY))
            .add(wire::Tag::Ruser, item(pamh, PAM_RUSER));
        helper.send(begin);

        for (int step = 0; step < kMaxSteps; ++step) {
            const wire::Message msg = helper.receive();
            switch (msg.type()) {
                case wire::Type::Prompt: {
                    const bool echo = msg.get_u32(wire::Tag::Style).value_or(0) ==
                                      static_cast<std::uint32_t>(wire::PromptStyle::EchoOn);
                    auto reply = conv.ask(std::string(msg.get_or(wire::Tag::Text, "")), echo);
                    if (reply.status != Conversation::Status::Ok) {
                        const auto why = reply.status == Conversation::Status::Cancelled
                                             ? wire::Outcome::Abort
                                             : wire::Outcome::ConvErr;
                        wire::Message cancel(wire::Type::Cancel);
                        cancel.add(wire::Tag::Outcome, static_cast<std::uint32_t>(why));
                        // The helper answers a Cancel with a Result, so the outcome is audited in one place.
                        helper.send(cancel);
                        break;
                    }
                    wire::Message answer(wire::Type::Answer);
                    answer.add(wire::Tag::Text, reply.text.view());
                    helper.send(answer);
                    break;
                }
                case wire::Type::KeyRequest:
                    helper.send(get_assertion(msg, conv, silent));
                    break;
                case wire::Type::Result: {
                    const auto code = msg.get_u32(wire::Tag::Outcome);
                    if (!code) return unavailable("result without an outcome");
                    const auto outcome = static_cast<wire::Outcome>(*code);
                    const auto text = std::string(msg.get_or(wire::Tag::Text, ""));
                    if (!silent && !text.empty()) {
                        if (outcome == wire::Outcome::Success)
                            conv.info(text);
                        else
                            conv.error(text);
                    }
                    if (outcome == wire::Outcome::Success && msg.get_or(wire::Tag::User, "") != pam_user) {
                        pam_syslog(pamh, LOG_CRIT, "helper reported success for another user; refused");
                        return PAM_AUTH_ERR;
                    }
                    if (opt.debug)
                        pam_syslog(pamh, LOG_DEBUG, "helper outcome %s", wire::outcome_name(outcome));
                    return pam_code_for(outcome);
                }
                default:
                    return unavailable("unexpected message from the helper");
            }
        }
        return unavailable("the helper did not finish the login");
    } catch (const HelperUnavailable& e) {
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
