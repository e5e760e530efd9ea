#include "code_offer.hpp"

#include <algorithm>
#include <cctype>

#include "session.hpp"
#include "text.hpp"

namespace pp::helper {

OfferAnswer read_offer_answer(std::string_view answer) {
    if (text::has_control_characters(answer)) return OfferAnswer::Send;
    while (!answer.empty() && answer.front() == ' ') answer.remove_prefix(1);
    while (!answer.empty() && answer.back() == ' ') answer.remove_suffix(1);
    if (answer.size() > 3) return OfferAnswer::Unclear;
    std::string lower(answer);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.empty() || lower == "y" || lower == "yes") return OfferAnswer::Send;
    if (lower == "n" || lower == "no") return OfferAnswer::Cancel;
    return OfferAnswer::Unclear;
}

// Returns when the person agrees; a refusal, or max_tries answers that are neither, ends the login before
// anything is sent or counted.
MaybeEnd Login::offer(Method method, const std::string& masked, const std::string& prefix) {
    std::string again = prefix;
    for (int i = 0; i < cfg().max_tries; ++i) {
        const Secret answer = conn_.ask(again + code_offer_prompt(method, masked), true);
        note_answer(answer.view());
        switch (read_offer_answer(answer.view())) {
            case OfferAnswer::Send:
                return std::nullopt;
            case OfferAnswer::Cancel:
                return Verdict{wire::Outcome::Abort, kCancelled, "the person declined the code"};
            case OfferAnswer::Unclear:
                again = kOfferAgain;
                break;
        }
    }
    return Verdict{wire::Outcome::AuthErr, kSignInFailed, "no clear answer to the offer of a code"};
}

}  // namespace pp::helper
