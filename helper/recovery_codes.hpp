// Break-glass recovery codes: one-time codes root hands a person for the day the user pool cannot be reached.
// Only a slow salted hash of each is kept, in a root-only file per user; a code is consumed at most once,
// even by logins racing with it.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "secret.hpp"

namespace pp::helper {

class RecoveryError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What a code is: 16 symbols of Crockford's base32 (80 random bits), printed as XXXX-XXXX-XXXX-XXXX.
inline constexpr std::size_t kRecoveryCodeSymbols = 16;
inline constexpr int kDefaultRecoveryCodes = 10;
inline constexpr int kMaxRecoveryCodes = 100;

// A typed code in canonical form: upper case, without dashes or spaces, I and L read as 1 and O as 0.
// nullopt when it cannot be a code at all.
std::optional<Secret> normalise_recovery_code(std::string_view typed);

class RecoveryStore {
  public:
    explicit RecoveryStore(std::string dir);

    struct Generated {
        std::vector<Secret> codes;  // to print once; never stored
        int replaced = 0;           // unused codes of the set they replace
    };
    // A new set of `count` codes for `user`, replacing the old set as a whole.
    Generated generate(const std::string& user, int count);

    struct Use {
        bool used = false;
        int left = 0;  // codes left after this try
    };
    // Consumes `typed` from `user`'s set when it is one of them. A user without a set, or a typed text that
    // is no code, costs the same hash as a real try, so the time taken does not tell who has a set.
    Use consume(const std::string& user, std::string_view typed);
    // A try that takes no code: the read and the hash consume costs for a wrong code, whatever is typed.
    // For a login that may not use a code (a decoy's break-glass), so its time does not tell.
    void refuse(const std::string& user, std::string_view typed) const;

    // Codes left for `user` (0 without a set).
    int left(const std::string& user) const;
    // Every user with a set (used up or not) and their codes left.
    std::vector<std::pair<std::string, int>> all() const;
    // True once root has made a set for anyone: the break-glass is then part of this machine's plan.
    bool any_set() const;

  private:
    struct Set {
        std::string salt;                 // raw bytes
        std::vector<std::string> hashes;  // raw bytes
    };
    std::optional<Set> read(const std::string& user) const;
    void write(const std::string& user, const Set& set) const;
    void ensure_dir() const;
    std::string dir_;
};

// The status line: who has codes left and how many (never the codes).
std::string recovery_status_line(const std::string& store_dir);

}  // namespace pp::helper
