#include "identifiers.hpp"

#include <algorithm>
#include <cctype>

namespace pp::helper {
namespace {

bool is_alnum(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

}  // namespace

std::optional<Identifier> parse_email(std::string_view text) {
    if (text.size() < 3 || text.size() > 254) return std::nullopt;
    const auto at = text.find('@');
    if (at == std::string_view::npos || at == 0 || at != text.rfind('@') || at + 1 >= text.size() || at > 64)
        return std::nullopt;
    const auto local = text.substr(0, at), domain = text.substr(at + 1);
    if (!std::all_of(local.begin(), local.end(), [](char c) {
            return is_alnum(c) || std::string_view("._%+-'").find(c) != std::string_view::npos;
        }))
        return std::nullopt;
    if (!std::all_of(domain.begin(), domain.end(),
                     [](char c) { return is_alnum(c) || c == '.' || c == '-'; }) ||
        domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
        domain.find("..") != std::string_view::npos)
        return std::nullopt;
    std::string v(text);
    std::transform(v.begin(), v.end(), v.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return Identifier{IdentifierKind::Email, std::move(v)};
}

std::optional<Identifier> parse_phone(std::string_view text) {
    if (text.empty() || text.size() > 32 || text.front() != '+') return std::nullopt;
    std::string digits = "+";
    for (char c : text.substr(1)) {
        if (c >= '0' && c <= '9')
            digits.push_back(c);
        else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')')
            return std::nullopt;
    }
    // E.164: a country code that does not start with 0, at most 15 digits in all.
    if (digits.size() < 8 || digits.size() > 16 || digits[1] == '0') return std::nullopt;
    return Identifier{IdentifierKind::Phone, std::move(digits)};
}

bool valid_pool_username(std::string_view text) {
    return !text.empty() && text.size() <= 128 && std::all_of(text.begin(), text.end(), [](char c) {
        return is_alnum(c) || std::string_view("._+=,@-").find(c) != std::string_view::npos;
    });
}

std::optional<Identifier> parse_identifier(std::string_view text, bool allow_username) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    if (text.find('@') != std::string_view::npos) return parse_email(text);
    if (!text.empty() && text.front() == '+') return parse_phone(text);
    if (allow_username && valid_pool_username(text))
        return Identifier{IdentifierKind::Username, std::string(text)};
    return std::nullopt;
}

std::string canonical_key(const Identifier& id) {
    switch (id.kind) {
        case IdentifierKind::Email:
            return "email:" + parse_email(id.value).value_or(id).value;
        case IdentifierKind::Phone:
            return "phone:" + parse_phone(id.value).value_or(id).value;
        case IdentifierKind::Username: {
            if (const auto e = parse_email(id.value)) return "email:" + e->value;
            std::string v = id.value;
            std::transform(v.begin(), v.end(), v.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            return "user:" + v;
        }
    }
    return "user:" + id.value;
}

std::string mask(const Identifier& id) {
    switch (id.kind) {
        case IdentifierKind::Email: {
            const auto at = id.value.find('@');
            return std::string(1, id.value.front()) + "***@" + id.value[at + 1] + "***";
        }
        case IdentifierKind::Phone:
            return "+" + std::string(id.value.size() - 5, '*') + id.value.substr(id.value.size() - 4);
        case IdentifierKind::Username:
            return id.value.substr(0, 1) + "***";
    }
    return "***";
}

std::string_view kind_name(IdentifierKind k) {
    switch (k) {
        case IdentifierKind::Email:
            return "email";
        case IdentifierKind::Phone:
            return "phone";
        case IdentifierKind::Username:
            return "username";
    }
    return "unknown";
}

bool valid_local_user(std::string_view name) {
    return !name.empty() && name.size() <= 64 && name.front() != '-' &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return is_alnum(c) || c == '.' || c == '_' || c == '-' || c == '@' || c == '$';
           });
}

bool has_kind(const std::vector<Identifier>& ids, IdentifierKind k) {
    return std::any_of(ids.begin(), ids.end(), [&](const Identifier& i) { return i.kind == k; });
}

}  // namespace pp::helper
