// Credential ids as people type them: a long id (66 characters of base64url for a typical key) is shown by
// its shortest unique prefix and taken back by any unique prefix, as git takes commit ids.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pp::helper {

// Fewer characters would make a typo likely to land on another of the person's credentials.
inline constexpr std::size_t kMinIdPrefix = 8;

// For each id, the shortest prefix of at least kMinIdPrefix characters that no other id in `ids` starts with
// (the whole id when it is that short, or when another id begins with all of it).
std::vector<std::string> short_ids(const std::vector<std::string>& ids);

struct IdMatch {
    enum class Kind { Unique, Ambiguous, None, TooShort };
    Kind kind = Kind::None;
    std::string id;                       // Unique: the whole id
    std::vector<std::string> candidates;  // Ambiguous: the short forms of the ids it starts
};

// Which of `ids` the typed text names: an id typed whole always names it; otherwise a prefix of at least
// kMinIdPrefix characters that exactly one id starts with.
IdMatch match_id(std::string_view typed, const std::vector<std::string>& ids);

// The refusal for a typed id that is not Unique, for the person: says which credentials it could mean.
std::string id_match_problem(const IdMatch& m, std::string_view typed, std::string_view what);

}  // namespace pp::helper
