// The first step of a login that would send a code without a choice (one code method is the only way in):
// the person is asked before anything is sent. Session::offer (code_offer.cpp) asks it.
//
// Why a question with echo: sshd's password authentication runs PAM with a conversation that answers every
// prompt without echo with the password and refuses every prompt with echo (OpenSSH auth-pam.c,
// sshpam_passwd_conv). So every login that could send a code starts with a prompt with echo (this offer,
// the method menu, or the identifier question): through sshd's password path that login ends in
// PAM_CONV_ERR before anything is sent or counted, and the password module next in the stack decides. A
// terminal, sudo and sshd's keyboard-interactive show it as an ordinary question.
#pragma once

#include <string>
#include <string_view>

#include "config.hpp"
#include "person_texts.hpp"

namespace pp::helper {

enum class OfferAnswer { Send, Cancel, Unclear };

// Enter, y or yes sends; n or no cancels. sshd's stand-in answer for a name that is no local account (control
// characters) reads as Enter, so such a login walks on exactly as a real one does.
OfferAnswer read_offer_answer(std::string_view answer);
}  // namespace pp::helper
