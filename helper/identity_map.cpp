#include "identity_map.hpp"

#include <sstream>
#include <stdexcept>

#include "trusted_file.hpp"

namespace pp::helper {

IdentityMap IdentityMap::parse(const std::string& text, const std::string& source_name) {
    IdentityMap m;
    std::istringstream in(text);
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        const auto where = source_name + ":" + std::to_string(lineno) + ": ";
        if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream fields(line);
        std::string user, ident, extra;
        if (!(fields >> user)) continue;
        if (!(fields >> ident) || (fields >> extra))
            throw std::runtime_error(where + "expected 'local-user identifier'");
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
    return parse(read_trusted_file(path, 4 * 1024 * 1024), path);
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
