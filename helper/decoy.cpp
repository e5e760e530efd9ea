#include "decoy.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "secret.hpp"
#include "secret_hash.hpp"

namespace pp::helper {
namespace {

using Mac = std::array<unsigned char, 32>;

// Keyed with the decoy key, so that nobody without it can tell which real shape a name copies. The MAC is
// keyed once per thread and decoy key (a decoy walk takes several; keying each afresh cost a walk some 12 µs
// in the helper, a tell beside a real login, which takes none).
Mac keyed(std::string_view key, std::string_view purpose, std::string_view a, std::string_view b = {}) {
    thread_local std::optional<cognito::KeyedHmac> mac;
    if (!mac || !mac->keyed_with(key)) mac.emplace(key);
    static constexpr std::string_view zero("\0", 1);
    return mac->of({purpose, zero, a, zero, b});
}

std::uint64_t first_u64(const Mac& mac) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | mac[static_cast<std::size_t>(i)];
    return v;
}

// What a real login offers someone with these identifiers and keys, as authenticate() would compute it with
// a pool that has a factor for each mapped identifier. A pool user name alone names no destination: the pool
// may hold either.
DecoyWalk walk_of(const std::vector<Method>& enabled, const std::vector<Identifier>& ids, bool has_key,
                  bool claim_binding) {
    DecoyWalk w;
    const bool any_id = !ids.empty() || claim_binding;
    const bool by_name = has_kind(ids, IdentifierKind::Username) || (ids.empty() && claim_binding);
    // The pool methods authenticate() keeps: for an identity the admin mapped (not by pool user name), codes
    // only where the map names a destination.
    const bool map_limits = !ids.empty() && !has_kind(ids, IdentifierKind::Username);
    std::vector<Method> pool;
    for (auto m : enabled) {
        bool offers = false;
        switch (m) {
            case Method::SecurityKey:
                offers = has_key;
                break;
            case Method::EmailOtp:
                offers = by_name || has_kind(ids, IdentifierKind::Email);
                break;
            case Method::SmsOtp:
                offers = by_name || has_kind(ids, IdentifierKind::Phone);
                break;
            case Method::Passkey:
                offers = any_id;
                break;
            case Method::Browser:  // as the login (login.cpp): to everyone, the link depends on no identity
                offers = true;
                break;
        }
        if (offers) w.offered.push_back(m);
        if (is_pool_method(m) && (!map_limits || !is_otp(m) || offers)) pool.push_back(m);
    }
    w.asks_pool = !pool.empty() && any_id;
    // authenticate() asks for a code at once only for an identity the admin mapped; a claimed one first
    // goes through SELECT_CHALLENGE.
    const bool code_only = !pool.empty() && is_otp(pool.front());
    // With the browser offered beside it, the one pool method is chosen from a menu too (login.cpp).
    const bool browser = std::any_of(w.offered.begin(), w.offered.end(), is_browser);
    w.direct = w.asks_pool && pool.size() == 1 && !has_key && !browser && (!ids.empty() || !code_only);
    w.remembers = w.asks_pool && !w.direct && !ids.empty();
    // One code destination mapped, and no other pool method on the menu (a passkey there is a passkey
    // holder's, whose question the pool answers at WEB_AUTHN).
    const int kinds = int{has_kind(ids, IdentifierKind::Email)} + int{has_kind(ids, IdentifierKind::Phone)};
    const auto pool_offered = std::count_if(w.offered.begin(), w.offered.end(), is_pool_method);
    w.one_factor = w.remembers && !by_name && kinds == 1 && pool_offered == 1 &&
                   std::any_of(w.offered.begin(), w.offered.end(), [](Method m) { return is_otp(m); });
    return w;
}

// A made-up destination in the shape of `model`, the same for `user` every time.
std::string fake_mask(const Identifier& model, const Mac& r, const std::string& initials) {
    if (model.kind == IdentifierKind::Email) {
        const auto at = model.value.find('@');
        return mask(Identifier{IdentifierKind::Email,
                               std::string(1, initials[r[0] % initials.size()]) + model.value.substr(at)});
    }
    std::string phone = model.value.substr(0, model.value.size() - 4);
    for (std::size_t i = 0; i < 4; ++i) phone.push_back(static_cast<char>('0' + r[1 + i] % 10));
    return mask(Identifier{IdentifierKind::Phone, phone});
}

// The destinations of `w`'s code methods: where `ids` names one of the kind, the mask `masked` makes of it,
// in the menu as in the code prompt; elsewhere the pool names it only in the code prompt, in its own mask
// shapes ("a***@e***", "+*******0123").
template <typename MaskOf>
void fill_destinations(DecoyWalk& w, const std::vector<Identifier>& ids, const Mac& r,
                       const std::string& initials, MaskOf masked) {
    for (auto m : w.offered) {
        if (!is_otp(m)) continue;
        const auto kind = m == Method::EmailOtp ? IdentifierKind::Email : IdentifierKind::Phone;
        const auto it =
            std::find_if(ids.begin(), ids.end(), [&](const Identifier& i) { return i.kind == kind; });
        if (it != ids.end()) {
            w.menu_dest[m] = w.code_dest[m] = masked(*it);
        } else {
            const Identifier shape =
                kind == IdentifierKind::Email
                    ? Identifier{kind, std::string("x@") + initials[r[5] % initials.size()] + ".x"}
                    : Identifier{kind, "+10000000000"};
            w.code_dest[m] = fake_mask(shape, r, initials);
        }
    }
}

// What every decoy walk of one configuration reads from the real users: the initials of their addresses and
// the ring of their keyed points. Computing the ring per walk (a keyed hash per real user, as the rendezvous
// hashing before it did) made a decoy's time grow with the number of users, which a real login's does not:
// 1000 users cost each decoy walk some 1000 HMACs (~1 ms). It is built once per identity map, list of key
// holders, methods, claim binding and key, and kept until one of them changes.
struct Models {
    Secret key;  // the decoy key they were computed with (a secret: wiped when the models are replaced)
    std::vector<Method> enabled;
    std::uint64_t map_generation = 0;
    KeyHolders key_users;
    bool claim_binding = false;

    std::string initials;
    std::vector<std::string> candidates;                      // the real users a name may copy
    std::vector<std::pair<std::uint64_t, std::size_t>> ring;  // keyed points, sorted, and whose
};

// Points per real user: their share of names is the sum of their arcs, so more points even the shares out
// (with one point each, one user of ten could copy a fifth of all names).
constexpr int kPointsPerUser = 40;

std::atomic<std::uint64_t> g_models_built{0};

std::shared_ptr<const Models> models_for(std::string_view key, const std::vector<Method>& enabled,
                                         const IdentityMap& identities, const KeyHolders& holders,
                                         bool claim_binding) {
    const std::vector<std::string>& with_keys = *holders;
    static std::mutex m;
    static std::shared_ptr<const Models> kept;
    std::lock_guard lock(m);
    if (kept && kept->key.view() == key && kept->enabled == enabled &&
        kept->map_generation == identities.generation() &&
        (kept->key_users == holders || *kept->key_users == with_keys) && kept->claim_binding == claim_binding)
        return kept;
    auto built = std::make_shared<Models>();
    built->key = Secret(key);
    built->enabled = enabled;
    built->map_generation = identities.generation();
    built->key_users = holders;
    built->claim_binding = claim_binding;
    // The first letters of the real addresses, so the made-up ones follow the same distribution.
    for (const auto& [u, ids] : identities.entries())
        for (const auto& id : ids)
            if (id.kind == IdentifierKind::Email) built->initials.push_back(id.value.front());
    if (built->initials.empty()) built->initials = "abcdefghijklmnopqrstuvwxyz";
    std::vector<std::string> candidates;
    for (const auto& [u, ids] : identities.entries()) candidates.push_back(u);
    candidates.insert(candidates.end(), with_keys.begin(), with_keys.end());
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (const auto& c : candidates) {
        const bool has_key = std::binary_search(with_keys.begin(), with_keys.end(), c);
        if (walk_of(enabled, identities.lookup(c), has_key, claim_binding).offered.empty()) continue;
        built->candidates.push_back(c);
        for (int p = 0; p < kPointsPerUser; ++p)
            built->ring.emplace_back(first_u64(keyed(key, "model", c, std::to_string(p))),
                                     built->candidates.size() - 1);
    }
    std::sort(built->ring.begin(), built->ring.end());
    ++g_models_built;
    kept = built;
    return kept;
}

}  // namespace

std::string made_up_credential_id(std::string_view key, std::string_view user, std::string_view rp_id,
                                  bool uv, std::size_t index, std::size_t length) {
    std::string ask(rp_id);
    ask.push_back('\0');
    ask.append(uv ? "uv" : "up").append(std::to_string(index));
    std::string id;
    id.reserve(length);
    for (std::size_t block = 0; id.size() < length; ++block) {
        const Mac m = keyed(key, "credential", user, ask + '\0' + std::to_string(block));
        id.append(reinterpret_cast<const char*>(m.data()), std::min(m.size(), length - id.size()));
    }
    return id;
}

namespace {

// A fresh key pair's public half, its private half freed at once: a valid point nobody can sign for.
std::string thrown_away_key_pair(KeyAlgorithm alg) {
    using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
    if (alg == KeyAlgorithm::EdDsa) {
        const Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free);
        std::string out(public_key_size(alg), '\0');
        std::size_t length = out.size();
        if (!key ||
            EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(out.data()), &length) !=
                1 ||
            length != out.size())
            throw std::runtime_error("decoy: no Ed25519 key made");
        return out;
    }
    const Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
    std::array<unsigned char, 65> point{};  // 0x04 || x || y
    std::size_t length = 0;
    if (!key ||
        EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(),
                                        &length) != 1 ||
        length != point.size() || point[0] != 0x04)
        throw std::runtime_error("decoy: no P-256 key made");
    return std::string(reinterpret_cast<const char*>(point.data()) + 1, point.size() - 1);
}

}  // namespace

const std::string& made_up_public_key(KeyAlgorithm alg) {
    static const std::string es256 = thrown_away_key_pair(KeyAlgorithm::Es256);
    static const std::string eddsa = thrown_away_key_pair(KeyAlgorithm::EdDsa);
    return alg == KeyAlgorithm::EdDsa ? eddsa : es256;
}

std::uint64_t decoy_models_built() noexcept {
    return g_models_built.load();
}

DecoyWalk shape_decoy(std::string_view key, const std::string& user, const std::vector<Method>& enabled,
                      const IdentityMap& identities, const std::vector<std::string>& key_users,
                      bool claim_binding) {
    auto sorted = std::make_shared<std::vector<std::string>>(key_users);
    std::sort(sorted->begin(), sorted->end());
    sorted->erase(std::unique(sorted->begin(), sorted->end()), sorted->end());
    return shape_decoy_among(key, user, enabled, identities, KeyHolders(std::move(sorted)), claim_binding);
}

DecoyWalk shape_decoy_among(std::string_view key, const std::string& user, const std::vector<Method>& enabled,
                            const IdentityMap& identities, const KeyHolders& key_users, bool claim_binding) {
    static const std::vector<Identifier> none;
    static const KeyHolders no_keys = std::make_shared<const std::vector<std::string>>();
    const Mac r = keyed(key, "mask", user);
    const bool keys_enabled = std::find(enabled.begin(), enabled.end(), Method::SecurityKey) != enabled.end();
    const KeyHolders& holders = keys_enabled && key_users ? key_users : no_keys;
    const std::vector<std::string>& with_keys = *holders;
    const auto models = models_for(key, enabled, identities, holders, claim_binding);
    const std::string& initials = models->initials;

    // A user the map names (or who has keys) walks their own mapping: the methods and masked destinations a
    // real user mapped the same way is shown. Copying anyone else's would tell a name whose identity the
    // pool does not know from a pool member mapped alike. The mapping counts only where the real login reads
    // it, when a pool method is enabled: under a policy of keys alone a mapped user without a key is a user
    // without identity or key, and walks as a key holder whose key is absent, like a name that is nobody.
    const auto& own_ids = identities.lookup(user);
    const bool own_key = std::binary_search(with_keys.begin(), with_keys.end(), user);
    const bool pool_enabled = std::any_of(enabled.begin(), enabled.end(), is_pool_method);
    if ((!own_ids.empty() && pool_enabled) || own_key) {
        DecoyWalk own = walk_of(enabled, own_ids, own_key, claim_binding);
        if (!own_ids.empty()) own.model = canonical_key(own_ids.front());
        if (own_key) own.key_model = user;
        fill_destinations(own, own_ids, r, initials, [](const Identifier& id) { return mask(id); });
        return own;
    }

    // The real user this name copies: the first after the name's keyed point on a ring of the real users'
    // keyed points (consistent hashing), so that one user added or gone moves only the names nearest it.
    const std::vector<Identifier>* model_ids = nullptr;
    DecoyWalk best;
    if (!models->ring.empty()) {
        const std::uint64_t point = first_u64(keyed(key, "model", user));
        auto it = std::lower_bound(models->ring.begin(), models->ring.end(), point,
                                   [](const auto& p, std::uint64_t v) { return p.first < v; });
        if (it == models->ring.end()) it = models->ring.begin();
        const std::string& c = models->candidates[it->second];
        model_ids = &identities.lookup(c);
        const bool has_key = std::binary_search(with_keys.begin(), with_keys.end(), c);
        best = walk_of(enabled, *model_ids, has_key, claim_binding);
        if (has_key) best.key_model = c;
    }
    if (model_ids == nullptr) {
        // Nobody to copy: what this configuration shows a real user without a mapped identity or a key.
        model_ids = &none;
        best = walk_of(enabled, none, false, true);
        if (best.offered.empty()) best.offered = enabled;
    }

    if (!model_ids->empty()) best.model = canonical_key(model_ids->front());
    fill_destinations(best, *model_ids, r, initials,
                      [&](const Identifier& id) { return fake_mask(id, r, initials); });
    return best;
}

}  // namespace pp::helper
