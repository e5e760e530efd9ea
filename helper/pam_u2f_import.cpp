#include "pam_u2f_import.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <span>
#include <utility>

#include "base64.hpp"
#include "identifiers.hpp"
#include "key_verification.hpp"
#include "rp_id.hpp"

namespace pp::helper {
namespace {

constexpr std::string_view kNickname = "imported from pam-u2f";

std::optional<std::string> hex_decode(std::string_view text) {
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (text.size() % 2 != 0) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int hi = nibble(text[i]);
        const int lo = nibble(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> out;
    for (std::size_t start = 0;;) {
        const auto at = text.find(separator, start);
        out.push_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        if (at == std::string_view::npos) return out;
        start = at + 1;
    }
}

// One "KeyHandle,PublicKey[,CoseType[,Options]]" entry, a credential for `rp`; on failure `why` says what is
// wrong.
std::optional<StoredCredential> parse_entry(std::string_view entry, const RpId& rp, std::string& why) {
    const auto fields = split(entry, ',');
    if (fields.size() < 2 || fields.size() > 4) {
        why = "expected KeyHandle,PublicKey,CoseType,Options";
        return std::nullopt;
    }
    for (const auto field : fields.size() == 4 ? std::span(fields).first(3) : std::span(fields))
        if (field.empty()) {
            why = "empty field";
            return std::nullopt;
        }
    if (fields[0] == "*") {
        // pamu2fcfg -r: the key handle stays on the key and pam-u2f finds it by asking the key for all of
        // the origin's credentials. This helper names the credential it asks for, so it needs the id.
        why = "resident credential without its key handle; enrol the key again";
        return std::nullopt;
    }
    const bool old_format = fields.size() == 2;
    StoredCredential c(rp);
    if (!old_format) {
        if (equals_ignoring_case(fields[2], "es256")) {
            c.alg = KeyAlgorithm::Es256;
        } else if (equals_ignoring_case(fields[2], "eddsa")) {
            c.alg = KeyAlgorithm::EdDsa;
        } else {
            why = equals_ignoring_case(fields[2], "rs256") ? "RS256 keys are not supported"
                                                           : "unknown key type";
            return std::nullopt;
        }
    }
    auto cred_id =
        base64_decode_lenient(fields[0], old_format ? Base64Alphabet::Url : Base64Alphabet::Standard);
    if (!cred_id || cred_id->empty() || cred_id->size() > kMaxCredentialIdBytes) {
        why = "key handle is not base64 of 1.." + std::to_string(kMaxCredentialIdBytes) + " bytes";
        return std::nullopt;
    }
    auto key =
        old_format ? hex_decode(fields[1]) : base64_decode_lenient(fields[1], Base64Alphabet::Standard);
    if (!key) {
        why = old_format ? "public key is not hex" : "public key is not base64";
        return std::nullopt;
    }
    // The old format holds the U2F registration's point, 0x04||x||y; libfido2 (and so the new format and
    // this store) keeps x||y, though es256_pk_from_ptr reads the prefixed form too.
    if (c.alg == KeyAlgorithm::Es256 && key->size() == 65 && key->front() == '\x04') key->erase(0, 1);
    if (key->size() != public_key_size(c.alg) || !valid_public_key(c.alg, *key)) {
        why = c.alg == KeyAlgorithm::Es256 ? "public key is not a P-256 point"
                                           : "public key is not an Ed25519 key";
        return std::nullopt;
    }
    const std::string_view options = fields.size() == 4 ? fields[3] : std::string_view{};
    c.cred_id = std::move(*cred_id);
    c.public_key = std::move(*key);
    // pam-u2f demanded the PIN (or another verification) for this credential: so does every login here.
    c.uv = options.find("+verification") != std::string_view::npos ||
           options.find("+pin") != std::string_view::npos;
    c.uv_required = c.uv;
    return c;
}

struct UserLine {
    std::string user;
    std::size_t line = 0;
    std::vector<StoredCredential> credentials;
};

}  // namespace

std::vector<StoredCredential> parse_pam_u2f_authfile(std::string_view text, const std::string& rp_id,
                                                     std::int64_t now, std::vector<std::string>& problems) {
    if (!RpId::valid(rp_id)) throw CredentialError("invalid relying-party id");
    const RpId rp(rp_id);
    std::vector<UserLine> users;
    const auto lines = split(text, '\n');
    for (std::size_t index = 0; index < lines.size(); ++index) {
        const std::size_t lineno = index + 1;
        std::string_view line = lines[index];
        if (line.ends_with('\r')) line.remove_suffix(1);
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos || line[first] == '#') continue;
        const auto where = std::to_string(lineno) + ": ";

        const auto fields = split(line, ':');
        if (fields[0].empty()) {
            problems.push_back(where + "no user name before the first ':'");
            continue;
        }
        if (!valid_local_user(fields[0])) {
            problems.push_back(where + "invalid user name");
            continue;
        }
        UserLine parsed{std::string(fields[0]), lineno, {}};
        std::size_t position = 0;
        for (std::size_t k = 1; k < fields.size(); ++k) {
            // pam-u2f splits with strtok, which skips empty fields; so does this.
            if (fields[k].empty()) continue;
            ++position;
            const auto entry_where = where + "entry " + std::to_string(position) + ": ";
            if (position > kPamU2fMaxDevices) {
                problems.push_back(entry_where + "not imported: pam-u2f reads at most " +
                                   std::to_string(kPamU2fMaxDevices) + " credentials per user");
                continue;
            }
            std::string why;
            auto c = parse_entry(fields[k], rp, why);
            if (!c) {
                problems.push_back(entry_where + why);
                continue;
            }
            c->user = parsed.user;
            c->nickname = std::string(kNickname);
            c->created = now;
            parsed.credentials.push_back(std::move(*c));
        }
        if (position == 0) problems.push_back(where + "no credentials for " + parsed.user);

        auto earlier = std::find_if(users.begin(), users.end(),
                                    [&](const UserLine& u) { return u.user == parsed.user; });
        if (earlier == users.end()) {
            users.push_back(std::move(parsed));
        } else {
            problems.push_back(where + "replaces line " + std::to_string(earlier->line) + " for " +
                               parsed.user + " (pam-u2f reads only a user's last line)");
            *earlier = std::move(parsed);
        }
    }

    std::vector<StoredCredential> out;
    std::set<std::string> seen;
    for (auto& u : users) {
        for (auto& c : u.credentials) {
            if (!seen.insert(c.cred_id).second) {
                problems.push_back(std::to_string(u.line) + ": duplicate key handle for " + u.user +
                                   " not imported");
                continue;
            }
            out.push_back(std::move(c));
        }
    }
    return out;
}

}  // namespace pp::helper
