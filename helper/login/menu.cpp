// The menu of methods: what it lists, the answer read, and a local key tried in the chosen place.
#include <algorithm>

#include "audit.hpp"
#include "login/method.hpp"
#include "login_steps.hpp"
#include "session.hpp"

namespace pp::helper {

using wire::Outcome;

// The menu of `offered` (none for one method) with a local key tried in its place: the pool method chosen,
// the person verified by a key, or the login's ending. A key that holds no enrolled credential leaves the
// others.
Login::Choice Login::choose_method(std::vector<Method>& offered, std::string& prefix,
                                   const std::function<std::string(Method)>& destination,
                                   const std::function<std::optional<Proof>()>& try_key) {
    for (;;) {
        Method chosen = offered.front();
        if (offered.size() > 1) {
            std::vector<std::string> dests;
            for (auto m : offered) dests.push_back(destination(m));
            auto answer = menu(offered, dests, prefix);
            if (const Verdict* end = ending_of(answer)) return *end;
            chosen = std::get<Method>(answer);
        }
        method_ = std::string(method_name(chosen));
        if (chosen != Method::SecurityKey) return chosen;
        if (auto proof = try_key()) {
            if (const Verdict* end = ending_of(*proof)) return *end;
            return std::get<Verified>(std::move(*proof));
        }
        std::erase(offered, Method::SecurityKey);
        if (offered.empty()) return key_status_finish(wire::DeviceStatus::NoDevice);
        prefix = kNoKeyAgain;
    }
}

Login::Choice Login::choose_method(std::vector<Method>& offered, std::string& prefix) {
    return choose_method(
        offered, prefix, [this](Method m) { return destination_for(m); },
        [this] { return login_method(Method::SecurityKey).prove(*this, {}); });
}

std::string Login::destination_for(Method m) const {
    if (!is_otp(m)) return {};
    const auto want = m == Method::EmailOtp ? IdentifierKind::Email : IdentifierKind::Phone;
    for (const auto& id : known_)
        if (id.kind == want) return mask(id);
    if (typed_ && typed_->kind == want) return mask(*typed_);
    return {};
}

OrEnd<Method> Login::menu(const std::vector<Method>& offered, const std::vector<std::string>& dests,
                          const std::string& prefix) {
    std::string text = prefix + kChooseHeader;
    for (std::size_t i = 0; i < offered.size(); ++i)
        text += "  " + std::to_string(i + 1) + ") " + menu_label(offered[i], dests[i]) + "\n";
    text += "Choice [1-" + std::to_string(offered.size()) + "]: ";
    std::string again;
    for (int i = 0; i < cfg().max_tries; ++i) {
        const Secret answer = conn_.ask(again + text, true);
        if (answer.empty()) return Verdict{Outcome::Abort, kCancelled, "no method chosen"};
        const auto v = answer.view();
        note_answer(v);
        if (has_control_characters(v)) return offered.front();
        if (v.size() <= 2 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            const std::size_t n = std::stoul(std::string(v));
            if (n >= 1 && n <= offered.size()) return offered[n - 1];
        }
        again = kChooseAgain;
    }
    return Verdict{Outcome::AuthErr, kSignInFailed, "no valid method chosen"};
}

}  // namespace pp::helper
