#include "login/fresh_sign_in.hpp"

#include <iterator>

#include "text.hpp"

namespace pp::helper {

UsedSignIns::Use UsedSignIns::use(const std::string& id, std::int64_t until, std::int64_t now) {
    std::lock_guard lock(mutex_);
    if (const auto it = until_.find(id); it != until_.end()) {
        if (it->second >= now) return Use::Again;
        until_.erase(it);  // its token has expired: it can prove nothing any more, and is forgotten
    }
    if (until_.size() >= capacity_) {
        for (auto it = until_.begin(); it != until_.end();)
            it = it->second < now ? until_.erase(it) : std::next(it);
        if (until_.size() >= capacity_) return Use::Full;
    }
    until_.emplace(id, until);
    return Use::First;
}

std::size_t UsedSignIns::size() const {
    std::lock_guard lock(mutex_);
    return until_.size();
}

UsedSignIns& used_sign_ins() {
    static UsedSignIns used;
    return used;
}

std::optional<std::string> refuse_unless_fresh_and_unused(const cognito::IdClaims& claims, std::int64_t began,
                                                          std::int64_t now, std::int64_t skew,
                                                          UsedSignIns& used) {
    if (began <= 0) return "the login's start is not known";
    if (!claims.auth_time) return "the token says not when the person signed in (no auth_time)";
    if (*claims.auth_time < began - skew)
        return "the sign-in is older than this login (auth_time " + std::to_string(*claims.auth_time) +
               ", the login began at " + std::to_string(began) + ")";
    const auto origin = claims.strings.find("origin_jti");
    const auto jti = claims.strings.find("jti");
    const auto& id = origin != claims.strings.end() ? origin : jti;
    if (id == claims.strings.end() || id->second.empty()) return std::nullopt;
    const std::string name = id == origin ? "origin_jti" : "jti";
    // Valid until exp, and the skew after it (cognito::check_id_claims); remembered as long.
    switch (used.use(name + ":" + id->second, claims.exp + skew, now)) {
        case UsedSignIns::Use::First:
            return std::nullopt;
        case UsedSignIns::Use::Again:
            return "its sign-in (" + name + " " + text::loggable(id->second, 64) + ") proved a login already";
        case UsedSignIns::Use::Full:
            break;
    }
    return "too many sign-ins remembered to tell whether this one proved a login already";
}

}  // namespace pp::helper
