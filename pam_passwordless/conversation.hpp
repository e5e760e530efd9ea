// Talking to the person through the application's PAM conversation function.
#pragma once

#include <security/pam_modules.h>

#include <string>

#include "asker.hpp"
#include "secret.hpp"

namespace pp::module {

class Conversation : public client::Asker {
  public:
    explicit Conversation(pam_handle_t* pamh) : pamh_(pamh) {}

    // A real prompt: sshd delivers informational messages only together with one, so anything the person
    // must read before acting belongs in the prompt text itself.
    Reply ask(const std::string& text, bool echo) override;
    void error(const std::string& text) override;
    void info(const std::string& text) override;

  private:
    int send_one(int style, const std::string& text, Secret* answer);
    pam_handle_t* pamh_;
};

}  // namespace pp::module
