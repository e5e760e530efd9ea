#include "recovery_codes.hpp"

#include <dirent.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <sstream>

#include "crypto.hpp"
#include "hex.hpp"
#include "identifiers.hpp"
#include "store_lock.hpp"
#include "trusted_file.hpp"

namespace pp::helper {
namespace {

// Crockford's base32: no I, L, O or U, so what a person copies from paper reads back one way.
constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::string_view kHeader =
    "# pam_passwordless recovery codes: scrypt hashes only, N=16384 r=8 p=1\n";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr std::size_t kMaxFileBytes = 64 * 1024;

// Why scrypt with these parameters: a code has 80 random bits, beyond any online guessing (each wrong code is
// a failed login in the backoff budget), but a copy of this file (a backup) could be attacked offline. scrypt
// at N=2^14, r=8 costs 16 MiB and some tens of milliseconds per guess, so the 2^79 guesses an offline attack
// needs on average are out of reach even for hardware built for fast hashes; the salt, one per set, makes
// every set a search of its own. One hash per try (the set shares a salt) keeps a try's cost the same whether
// the user has one code or a hundred, and bounded for the local logins that may run at once.
constexpr std::uint64_t kScryptN = 16384;
constexpr std::uint32_t kScryptR = 8;
constexpr std::uint32_t kScryptP = 1;

struct KdfFree {
    void operator()(EVP_KDF* p) const noexcept { EVP_KDF_free(p); }
    void operator()(EVP_KDF_CTX* p) const noexcept { EVP_KDF_CTX_free(p); }
};

std::string kdf(std::string_view code, std::string_view salt) {
    const std::unique_ptr<EVP_KDF, KdfFree> alg(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr));
    if (!alg) throw RecoveryError("recovery codes: OpenSSL has no scrypt");
    const std::unique_ptr<EVP_KDF_CTX, KdfFree> ctx(EVP_KDF_CTX_new(alg.get()));
    if (!ctx) throw RecoveryError("recovery codes: no scrypt context");
    std::uint64_t n = kScryptN;
    std::uint32_t r = kScryptR, p = kScryptP;
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(code.data()),
                                          code.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_end()};
    std::string out(kHashBytes, '\0');
    if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params) != 1)
        throw RecoveryError("recovery codes: scrypt failed");
    return out;
}

std::string random_string(std::size_t n) {
    try {
        return random_bytes(n);
    } catch (const std::runtime_error&) {
        throw RecoveryError("recovery codes: no randomness");
    }
}

std::optional<std::string> unhex(std::string_view text, std::size_t bytes) {
    if (text.size() != 2 * bytes) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi << 4 | lo));
    }
    return out;
}

// 80 random bits as 16 symbols, grouped by four for reading aloud and copying.
Secret new_code() {
    Secret raw(random_string(10));
    Secret out;
    out.reserve(kRecoveryCodeSymbols + 3);
    unsigned bits = 0, have = 0;
    std::size_t symbols = 0;
    for (const unsigned char c : raw.view()) {
        bits = (bits << 8 | c) & 0xffffu;
        have += 8;
        while (have >= 5) {
            have -= 5;
            if (symbols > 0 && symbols % 4 == 0) out.append("-");
            out.append(kAlphabet.substr((bits >> have) & 31u, 1));
            ++symbols;
        }
    }
    return out;
}

// Files are named by user; the lock file and the atomic writer's temporary files are not users.
bool names_a_user(std::string_view name) {
    return valid_local_user(name) && name != "." && name != ".." &&
           name.find(".tmp.") == std::string_view::npos;
}

void require_user(const std::string& user) {
    if (!names_a_user(user)) throw RecoveryError("recovery codes: '" + user + "' is not a user name");
}

// StoreLock's FileError in the store's own error type.
StoreLock lock_store(const std::string& dir) {
    try {
        return StoreLock(dir);
    } catch (const FileError& e) {
        throw RecoveryError(e.what());
    }
}

}  // namespace

std::optional<Secret> normalise_recovery_code(std::string_view typed) {
    Secret out;
    out.reserve(kRecoveryCodeSymbols);
    for (const char raw : typed) {
        if (raw == '-' || raw == ' ') continue;
        char c = static_cast<char>(raw >= 'a' && raw <= 'z' ? raw - 'a' + 'A' : raw);
        if (c == 'I' || c == 'L') c = '1';
        if (c == 'O') c = '0';
        if (kAlphabet.find(c) == std::string_view::npos || out.size() >= kRecoveryCodeSymbols)
            return std::nullopt;
        out.append(std::string_view(&c, 1));
    }
    if (out.size() != kRecoveryCodeSymbols) return std::nullopt;
    return out;
}

RecoveryStore::RecoveryStore(std::string dir) : dir_(std::move(dir)) {
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
    if (dir_.empty() || dir_.front() != '/')
        throw RecoveryError("recovery codes: store_dir must be an absolute path");
}

void RecoveryStore::ensure_dir() const {
    try {
        make_private_directory(dir_);
    } catch (const FileError& e) {
        throw RecoveryError(e.what());
    }
}

std::optional<RecoveryStore::Set> RecoveryStore::read(const std::string& user) const {
    const std::string path = dir_ + "/" + user;
    std::string text;
    try {
        if (!check_trusted_path(path, Confidentiality::Secret)) return std::nullopt;
        text = read_trusted_file(path, kMaxFileBytes, Confidentiality::Secret);
    } catch (const FileError& e) {
        // A directory that does not exist yet holds no set; anything else untrusted is refused.
        struct stat st {};
        if (::stat(dir_.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
        throw RecoveryError(e.what());
    }
    Set set;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    auto damaged = [&](const std::string& why) {
        return RecoveryError(path + ":" + std::to_string(number) + ": " + why + " (file damaged)");
    };
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line.front() == '#') continue;
        if (line.starts_with("salt ") && set.salt.empty()) {
            const auto salt = unhex(std::string_view(line).substr(5), kSaltBytes);
            if (!salt) throw damaged("bad salt");
            set.salt = *salt;
        } else if (line.starts_with("hash ")) {
            const auto h = unhex(std::string_view(line).substr(5), kHashBytes);
            if (!h) throw damaged("bad hash");
            set.hashes.push_back(*h);
        } else {
            throw damaged("unexpected line");
        }
    }
    if (set.salt.empty()) throw RecoveryError(path + ": no salt (file damaged)");
    return set;
}

void RecoveryStore::write(const std::string& user, const Set& set) const {
    std::string text(kHeader);
    text += "salt " + hex_encode(set.salt) + "\n";
    for (const auto& h : set.hashes) text += "hash " + hex_encode(h) + "\n";
    try {
        write_file_atomically(dir_ + "/" + user, text);
    } catch (const FileError& e) {
        throw RecoveryError(e.what());
    }
}

RecoveryStore::Generated RecoveryStore::generate(const std::string& user, int count) {
    require_user(user);
    if (count < 1 || count > kMaxRecoveryCodes)
        throw RecoveryError("recovery codes: the count must be from 1 to " +
                            std::to_string(kMaxRecoveryCodes));
    ensure_dir();
    Generated g;
    Set set{random_string(kSaltBytes), {}};
    while (static_cast<int>(g.codes.size()) < count) {
        Secret code = new_code();
        const bool repeated = std::any_of(g.codes.begin(), g.codes.end(),
                                          [&](const Secret& c) { return c.view() == code.view(); });
        if (repeated) continue;
        const auto canonical = normalise_recovery_code(code.view());
        set.hashes.push_back(kdf(canonical->view(), set.salt));
        g.codes.push_back(std::move(code));
    }
    const StoreLock lock = lock_store(dir_);
    if (const auto old = read(user)) g.replaced = static_cast<int>(old->hashes.size());
    write(user, set);
    return g;
}

namespace {

// A salt for users without a set, drawn once per process: their try costs one scrypt as a real one does.
const std::string& no_set_salt() {
    static const std::string salt = random_string(kSaltBytes);
    return salt;
}

}  // namespace

void RecoveryStore::refuse(const std::string& user, std::string_view typed) const {
    require_user(user);
    const auto before = read(user);
    const auto canonical = normalise_recovery_code(typed);
    static_cast<void>(
        kdf(canonical ? canonical->view() : std::string_view("-"), before ? before->salt : no_set_salt()));
}

RecoveryStore::Use RecoveryStore::consume(const std::string& user, std::string_view typed) {
    require_user(user);
    const auto before = read(user);
    const auto canonical = normalise_recovery_code(typed);
    const std::string salt = before ? before->salt : no_set_salt();
    // The slow hash runs before the lock, so racing logins wait for each other only for the file's rewrite.
    const std::string hash = kdf(canonical ? canonical->view() : std::string_view("-"), salt);
    if (!before || !canonical) return {false, before ? static_cast<int>(before->hashes.size()) : 0};
    // A wrong code is told apart without the lock: it costs what a user without a set costs (one read, one
    // hash), and wrong tries do not queue behind each other.
    const auto matches = [&](const Set& set) {
        auto found = set.hashes.end();
        for (auto it = set.hashes.begin(); it != set.hashes.end(); ++it)
            if (CRYPTO_memcmp(it->data(), hash.data(), kHashBytes) == 0) found = it;
        return found;
    };
    if (matches(*before) == before->hashes.end()) return {false, static_cast<int>(before->hashes.size())};

    const StoreLock lock = lock_store(dir_);
    auto now = read(user);
    // Gone, replaced by a new set, or used by a racing login since it was read: not a code in force now.
    if (!now || now->salt != salt) return {false, now ? static_cast<int>(now->hashes.size()) : 0};
    const auto match = matches(*now);
    if (match == now->hashes.end()) return {false, static_cast<int>(now->hashes.size())};
    now->hashes.erase(match);
    // On disk before the login succeeds: a crash right after cannot give the code back.
    write(user, *now);
    return {true, static_cast<int>(now->hashes.size())};
}

int RecoveryStore::left(const std::string& user) const {
    require_user(user);
    const auto set = read(user);
    return set ? static_cast<int>(set->hashes.size()) : 0;
}

std::vector<std::pair<std::string, int>> RecoveryStore::all() const {
    std::vector<std::pair<std::string, int>> out;
    const std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir_.c_str()), ::closedir);
    if (!d) {
        if (errno == ENOENT) return out;
        throw RecoveryError(dir_ + ": " + std::strerror(errno));
    }
    while (const dirent* e = ::readdir(d.get())) {
        const std::string name = e->d_name;
        if (name == "." || name == ".." || name == kStoreLockName || !names_a_user(name)) continue;
        const auto set = read(name);
        if (set) out.emplace_back(name, static_cast<int>(set->hashes.size()));
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool RecoveryStore::any_set() const {
    const std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir_.c_str()), ::closedir);
    if (!d) return false;
    while (const dirent* e = ::readdir(d.get())) {
        const std::string name = e->d_name;
        if (name != "." && name != ".." && name != kStoreLockName && names_a_user(name)) return true;
    }
    return false;
}

std::string recovery_status_line(const std::string& store_dir) {
    try {
        const auto all = RecoveryStore(store_dir).all();
        if (all.empty()) return "recovery codes: none made (no break-glass on this machine)";
        std::string line = "recovery codes left:";
        for (const auto& [user, n] : all) line += " " + user + " " + std::to_string(n) + ",";
        line.pop_back();
        return line;
    } catch (const std::exception& e) {
        return std::string("recovery codes: store unreadable: ") + e.what();
    }
}

}  // namespace pp::helper
