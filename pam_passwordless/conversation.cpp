#include "conversation.hpp"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>

namespace pp::module {

int Conversation::send_one(int style, const std::string& text, Secret* answer) {
    const pam_conv* conv = nullptr;
    if (pam_get_item(pamh_, PAM_CONV, reinterpret_cast<const void**>(&conv)) != PAM_SUCCESS ||
        conv == nullptr || conv->conv == nullptr)
        return PAM_CONV_ERR;
    pam_message msg{style, text.c_str()};
    const pam_message* msgs[1] = {&msg};
    pam_response* resp = nullptr;
    const int r = conv->conv(1, msgs, &resp, conv->appdata_ptr);
    // The application allocated the reply with malloc; it is ours to wipe and free.
    if (resp != nullptr) {
        if (resp[0].resp != nullptr) {
            if (answer != nullptr && r == PAM_SUCCESS) *answer = Secret(std::string_view(resp[0].resp));
            wipe(resp[0].resp, std::strlen(resp[0].resp));
            std::free(resp[0].resp);
        }
        std::free(resp);
    } else if (r == PAM_SUCCESS && answer != nullptr) {
        return PAM_CONV_ERR;
    }
    return r;
}

Conversation::Reply Conversation::ask(const std::string& text, bool echo) {
    Secret answer;
    const int r = send_one(echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, text, &answer);
    if (r == PAM_CONV_AGAIN || r == PAM_ABORT) return {Status::Cancelled, {}};
    if (r != PAM_SUCCESS) return {Status::Failed, {}};
    return {Status::Ok, std::move(answer)};
}

void Conversation::error(const std::string& text) {
    send_one(PAM_ERROR_MSG, text, nullptr);
}

void Conversation::info(const std::string& text) {
    send_one(PAM_TEXT_INFO, text, nullptr);
}

}  // namespace pp::module
