// The shapes of what identifies a person to the user pool, and how they are shown masked.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pp::helper {

enum class IdentifierKind { Email, Phone, Username };

struct Identifier {
    IdentifierKind kind;
    std::string value;  // emails lower-cased, phones in E.164
};

// Accepts an email address, an E.164 phone number (spaces, dashes, dots and parentheses removed) or a pool
// user name. Anything longer, shorter or with characters outside the expected set is refused: these strings
// end up in HTTPS requests and in the audit log.
std::optional<Identifier> parse_identifier(std::string_view text, bool allow_username);
std::optional<Identifier> parse_email(std::string_view text);
std::optional<Identifier> parse_phone(std::string_view text);
bool valid_pool_username(std::string_view text);

// What a send limit counts on: the same for every spelling the user pool takes as the same person:
// "email:" and the address lower-cased, "phone:" and the E.164 number, "user:" and the pool user name
// lower-cased (pool user names compare case-insensitively; a user name that is an email address is the
// pool's email alias and counts as that address).
std::string canonical_key(const Identifier& id);

// "a***@e***" and "+*******4567", the way the user pool masks destinations.
std::string mask(const Identifier& id);
std::string_view kind_name(IdentifierKind k);
// Whether any of `ids` is of kind `k`.
bool has_kind(const std::vector<Identifier>& ids, IdentifierKind k);

// A local account name as PAM hands it over; the same rule bounds every user name the helper accepts.
bool valid_local_user(std::string_view name);

}  // namespace pp::helper
