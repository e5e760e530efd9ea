// The root-owned map from local accounts to the identities in the user pool that may log in as them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "identifiers.hpp"

namespace pp::helper {

class IdentityMap {
  public:
    // Lines of "local-user identifier", '#' comments. The identifier is an email, a +E.164 phone number, or
    // "username:NAME" for a pool user name. It is the rest of the line, so a phone number may hold the
    // spaces, dashes, dots and parentheses parse_phone ignores. A bad line is an error naming the file and
    // line.
    static IdentityMap parse(const std::string& text, const std::string& source_name);
    // Reads the file through the trusted-file checks and notes what the admin should hear about in
    // warnings(): lines for accounts that do not exist here, a file every local user can read.
    static IdentityMap load(const std::string& path);
    [[nodiscard]] const std::vector<std::string>& warnings() const noexcept { return warnings_; }

    [[nodiscard]] const std::vector<Identifier>& lookup(const std::string& local_user) const;
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] std::vector<std::string> users() const;  // the local accounts named, sorted
    // Every local user with an entry and their identifiers, sorted by user (the decoy copies their shapes).
    [[nodiscard]] const std::map<std::string, std::vector<Identifier>>& entries() const noexcept {
        return entries_;
    }

    // Tells one parsed map from another without reading it (copies of one map share it): what the decoy's
    // shapes were computed from is known again by it (decoy.cpp).
    [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

  private:
    static std::uint64_t next_generation() noexcept;

    std::map<std::string, std::vector<Identifier>> entries_;
    std::vector<std::string> warnings_;
    std::uint64_t generation_ = next_generation();
};

}  // namespace pp::helper
