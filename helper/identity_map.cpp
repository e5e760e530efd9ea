#include "identity_map.hpp"

#include <sys/stat.h>

#include <atomic>
#include <sstream>
#include <stdexcept>

#include "account_policy.hpp"
#include "trusted_file.hpp"

namespace pp::helper {

std::uint64_t IdentityMap::next_generation() noexcept {
    static std::atomic<std::uint64_t> last{0};
    return ++last;
}

IdentityMap IdentityMap::parse(const std::string& text, const std::string& source_name) {
    IdentityMap m;
    std::istringstream in(text);
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        const auto where = source_name + ":" + std::to_string(lineno) + ": ";
        if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        // The user is the first word; the identifier is the rest of the line, so a phone number may be
        // written with the spaces people put in it (+1 555 555 0123). Nothing else may hold a space.
        constexpr const char* kBlank = " \t\r";
        const auto user_start = line.find_first_not_of(kBlank);
        if (user_start == std::string::npos) continue;
        const auto user_end = line.find_first_of(kBlank, user_start);
        const std::string user = line.substr(user_start, user_end - user_start);
        const auto ident_start =
            user_end == std::string::npos ? user_end : line.find_first_not_of(kBlank, user_end);
        if (ident_start == std::string::npos)
            throw std::runtime_error(where + "expected 'local-user identifier'");
        const std::string ident = line.substr(ident_start, line.find_last_not_of(kBlank) + 1 - ident_start);
        if (!valid_local_user(user))
            throw std::runtime_error(where + "invalid local user name '" + user + "'");
        std::optional<Identifier> id;
        if (ident.starts_with("username:")) {
            const auto name = ident.substr(9);
            if (valid_pool_username(name)) id = Identifier{IdentifierKind::Username, name};
        } else {
            id = parse_identifier(ident, false);
        }
        if (!id)
            throw std::runtime_error(where + "'" + ident +
                                     "' is not an email address, a +E.164 phone number or username:NAME");
        m.entries_[user].push_back(std::move(*id));
    }
    return m;
}

IdentityMap IdentityMap::load(const std::string& path) {
    // Group- or other-writable is refused there, as for every file the helper trusts (fail closed).
    IdentityMap m = parse(read_trusted_file(path, 4 * 1024 * 1024), path);
    // Readable by all is allowed (nothing in it is a secret) but it tells every local user who is enrolled
    // and at which address, which the decoy otherwise keeps from remote logins. A warning: the file just read
    // passed the ownership checks, and a mode changed in between only changes this warning.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0)
        m.warnings_.push_back(path +
                              " is readable by every local user: it shows who is enrolled and their email "
                              "addresses and phone numbers; chmod o-r it.");
    for (const auto& [user, ids] : m.entries_) {
        try {
            if (!local_account_uid(user))
                m.warnings_.push_back(path + ": '" + user +
                                      "' is not a local account here; its line is never used.");
        } catch (const AccountLookupError&) {
            // The directory did not answer: whether the account exists is not known, and a login for it
            // fails on its own; the map itself is fine.
        }
    }
    return m;
}

const std::vector<Identifier>& IdentityMap::lookup(const std::string& local_user) const {
    static const std::vector<Identifier> none;
    const auto it = entries_.find(local_user);
    return it == entries_.end() ? none : it->second;
}

std::vector<std::string> IdentityMap::users() const {
    std::vector<std::string> out;
    for (const auto& [user, ids] : entries_) out.push_back(user);
    return out;
}

}  // namespace pp::helper
