// What the user pool offered an identity at its last login, remembered so that the next login shows the
// method menu before any request and sends InitiateAuth with the chosen factor as PREFERRED_CHALLENGE: a
// code login costs two requests (InitiateAuth sends the code, then the code) instead of three (InitiateAuth,
// the menu's answer, the code). Issue #11 (e).
//
// - Only a hint for the menu; the pool still decides. A factor gone since is answered with SELECT_CHALLENGE
//   (spec §2.4) or refused: the memory is forgotten, the login goes on as one with nothing remembered, and
//   the person reads "<method> is no longer available for this account." before the pool's own menu.
// - Nothing secret: which factors, the pool's own name for the person (for the send limit's keys), when, and
//   the lengths of the passkey ids the pool listed at the last passkey login (for the decoys that copy the
//   person, login/pool_passkey_method.cpp: a key that records its asks sees a real user's count and lengths).
// - Per pool identity: the canonical form of the mapped identifier the pool is asked about, whatever local
//   name was typed; for identities of the identity map only (a claimed or typed one is asked about first, so
//   a name that is nobody is counted only in the walks' store). Written at the end of a login that let the
//   person in, with what the pool offered in it (when it sent the code, or before the passkey's proof); never
//   by a login that fails or sends nothing. Trusted for [login] remember_factors (0: off).
// - Kept beside the limits (limit_store.hpp), in the file.
// - The decoy (login/unknown_user.cpp) must not show by its timing that a name has no memory: a real user who
//   logged in lately sees the menu at once, where a login that asks the pool first waits a round trip for
//   it. So a decoy walks menu-first while the real user it copies is remembered: a name probed for the first
//   time is as likely to be fast as a real one.
// - Why only a successful login writes it (session 16). Until then a login remembered once the pool had sent
//   its code, failed or not, and the decoy remembered its own made-up sends. Someone probing names then made
//   every real user they probed (each probe sends a code) remembered, and with them every decoy copying
//   one, while a real name not yet probed stayed as its own logins left it: over one pass through a list of
//   names, the decoys turned fast more often than the real users (bench/decoy_timing.py, one login per name:
//   31 of 50 names without an account showed the menu at once against 10 of 50 real users, Kolmogorov-Smirnov
//   p = 0.0002). Now nothing a failed login does changes any login's timing: a real user's and a decoy's
//   menu depend alike on real users' own successful logins. The price: after a failed login (a mistyped
//   code), the person's next login asks the pool first again.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "identifiers.hpp"

namespace pp::helper {

// The choice made at a remembered menu: the pool method to ask for, and the pool's name for the person as
// last announced ("" when unknown), which the send limit counts on as the pool's later answer would.
struct RememberedChoice {
    Method method;
    std::string pool_user;
};

// The pool methods named in AvailableChallenges (others, such as PASSWORD, are not the helper's).
std::vector<Method> factors_from(const std::vector<std::string>& available);
// As kept in the store: the challenge names, space-separated; decoding skips names it does not know.
std::string encode_factors(const std::vector<Method>& factors);
std::vector<Method> decode_factors(std::string_view text);

// The menu shown before the pool is asked: the enabled methods, in their configured order, that the pool
// offered last time and the identity map names a destination kind for (an email for email codes, a phone for
// text messages; a pool user name may hold either, a passkey needs any identity), and local keys for a user
// who has some. The decoy's shape (decoy.cpp) makes the same assumption of the identity map.
std::vector<Method> remembered_menu(const std::vector<Method>& enabled, const std::vector<Method>& remembered,
                                    const std::vector<Identifier>& mapped, bool has_keys);

// The lengths of the passkey ids a pool's ask listed, as kept in the store (FactorRow::passkeys): decimal,
// comma-separated, in the pool's order. Decoding refuses the whole text (returns none) unless it is at most
// kMaxPasskeysKept lengths of 1-1023 bytes (WebAuthn's bound on a credential id).
constexpr std::size_t kMaxPasskeysKept = 64;
std::string encode_passkey_lengths(const std::vector<std::size_t>& lengths);
std::vector<std::size_t> decode_passkey_lengths(std::string_view text);

// The pool's name for the person as a challenge announced it (USERNAME), or "".
std::string announced_user(const std::map<std::string, std::string>& parameters);

}  // namespace pp::helper
