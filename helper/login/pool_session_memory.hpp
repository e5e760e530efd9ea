// What the user pool's sign-in sessions allow, as real logins found it: how long a session lasts (the app
// client's AuthSessionValidity, 3 to 15 minutes on Cognito) and how many wrong codes one takes before the
// pool ends it (its own attempt limit, not documented for the live service). The unknown walk asks the pool
// nothing, so without this it would have a session that never expires and takes max_tries wrong codes: a
// client that waits past the pool's session, or types more wrong codes than the pool takes, would see an
// enrolled name end ("The sign-in session has expired", or "too many wrong codes" early) and a name that is
// not enrolled walk on. The decoy's made-up session ends as the pool's does (login/unknown_user.cpp,
// otp_method.cpp).
//
// Validity, in the helper's terms (from the pool's answer that made the session to the answer sent on it): a
// real answer the pool took on a session of age b says it lasts at least b; one it refused as expired at age
// a says less than a. The decoy's validity is [pool] session_validity brought into that interval: the stated
// value while the pool has not contradicted it, the pool's bound where it has. When a new finding contradicts
// the other bound (the pool's setting was changed), the newest wins and the other is forgotten.
// Wrong codes: the count after which the pool last ended a real session; before any, [pool] code_attempts
// (unset: the decoy takes max_tries, as it always did).
//
// Kept in one small root-owned file beside the limits' state (`pool_sessions` in the directory of
// limits_state_file, mode 0600, written atomically) so a restart does not reopen the difference; written only
// when what the decoy follows changes, not per login. One line: "<pool_id> <client_id> <shortest expired ms
// or -> <longest taken ms or -> <wrong codes or -> [refuses-preference] [skips-to-one-factor]". A line for
// another pool or app client (the configuration changed), or a file that cannot be read, counts as nothing
// seen.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "service_error.hpp"

namespace pp::helper {

class PoolSessionMemory {
  public:
    using Age = std::chrono::milliseconds;
    // The pool and app client a finding is about (AuthSessionValidity is set on the app client).
    struct Pool {
        std::string pool_id, client_id;
    };
    struct Seen {
        std::optional<Age> expired_at;  // the youngest session the pool refused as expired
        std::optional<Age> taken_at;    // the oldest session the pool took an answer on
        std::optional<int> wrong_codes;
        // The pool answered the last question before the menu (a preference the person may not be able to
        // use) with an error rather than its menu: a real menu then holds no session until the choice.
        bool refuses_preference = false;
        // The pool answered the last such question of a person with one factor with that factor (its code
        // sent) rather than its menu (spec, open question 6): a real menu shown beside it (the browser)
        // then holds a session, and a code sent and counted, before the choice.
        bool skips_to_one_factor = false;
    };

    // Reads the row kept beside `limits_state_file`, once.
    explicit PoolSessionMemory(const std::string& limits_state_file);

    // A real answer on a session of `age`: taken (the session was alive), or refused as expired. `configured`
    // is [pool] session_validity: the file is rewritten only when the decoy's validity changes with it.
    void taken(const Pool& pool, Age age, Age configured);
    void expired(const Pool& pool, Age age, Age configured);
    // The pool ended a real session after `wrong_codes` wrong codes.
    void ended_after(const Pool& pool, int wrong_codes);
    // The pool answered a real login's question before the menu with an error (`refused`) or with its menu.
    void preference_refused(const Pool& pool, bool refused);
    [[nodiscard]] bool refuses_preference(const Pool& pool) const;
    // The pool answered a one-factor person's question before the menu with that factor (`skipped`) or with
    // its menu.
    void question_skipped(const Pool& pool, bool skipped);
    [[nodiscard]] bool skips_to_one_factor(const Pool& pool) const;

    // How long the decoy's made-up session lasts, and after how many wrong codes it ends (nullopt: not
    // known).
    [[nodiscard]] Age validity(const Pool& pool, Age configured) const;
    [[nodiscard]] std::optional<int> wrong_codes(const Pool& pool) const;
    [[nodiscard]] Seen seen(const Pool& pool) const;

    static std::string path_for(const std::string& limits_state_file);

  private:
    [[nodiscard]] Age validity_locked(Age configured) const;
    void keep_locked();
    const std::string path_;
    mutable std::mutex mutex_;
    Pool pool_;
    Seen seen_;
    // Findings about another pool or app client than the configuration's now: forgotten at the first new one.
    [[nodiscard]] bool same_pool(const Pool& p) const {
        return p.pool_id == pool_.pool_id && p.client_id == pool_.client_id;
    }
    void switch_to_locked(const Pool& p);
};

// The helper's memory for `limits_state_file`: one per file in the process, read at its first use.
PoolSessionMemory& pool_session_memory(const std::string& limits_state_file);

// The pool's refusal of an answer because its session is older than AuthSessionValidity.
bool session_expired_error(const cognito::ServiceError& e);

}  // namespace pp::helper
