// The shape of the walk of a login that cannot succeed (login/unknown_user.cpp): a real user's, so that
// neither its screens, its ending nor its timing tell who is enrolled.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "credential.hpp"
#include "identity_map.hpp"

namespace pp::helper {

struct DecoyWalk {
    std::vector<Method> offered;  // as a real menu lists them; just one: no menu, as for a real user
    std::map<Method, std::string>
        menu_dest;  // what the menu shows beside a method ("" where a real one shows none)
    std::map<Method, std::string> code_dest;  // the masked destination each code prompt names
    bool asks_pool = false;  // a real login of this shape asks the user pool first (InitiateAuth)
    bool direct = false;     // ... and the pool goes straight to the one method (no SELECT_CHALLENGE step)
    // A real login of this shape remembers the pool's factors at its first code sent and then shows its menu
    // before asking the pool (factor_memory.hpp): a mapped identity with a menu step.
    bool remembers = false;
    // ... and it has one factor in the pool, a code (the pool holding a factor for each mapped identifier): a
    // pool that goes straight to a one-factor person's factor past the helper's preference sends its code
    // with the first answer, before the menu (login.cpp, pool_went_ahead; pool_session_memory.hpp).
    bool one_factor = false;
    // The memory key of the copied user's identity (canonical_key of its first mapped identifier, as its real
    // logins key their memory; "" when no mapped identity is copied). Where `remembers`: while that user is
    // remembered, so is the decoy, so that a name probed for the first time is as likely to show its menu
    // first as a real user is (factor_memory.hpp). And a made-up pool passkey ask lists as many ids, of the
    // same lengths, as that user's last passkey login was asked for (login/pool_passkey_method.cpp).
    std::string model;
    // The key holder whose key asks the walk copies ("": the copied user has no key): how many credentials
    // each ask names, their lengths, relying parties and PIN needs (login/security_key_method.cpp). A key
    // plugged in sees a real user's allowList; a made-up one of another count or length, or new at every
    // try, would tell a name that has no credential.
    std::string key_model;
};

// The decoy of `user`. A user the identity map names (or who has security keys) walks their own mapping: the
// methods and masked destinations a real user mapped the same way is shown, so that a mapped identity the
// user pool does not know looks like a pool member mapped alike. Anyone else walks the shape of one real user
// (an identity-map entry or an account with security keys), picked by consistent hashing keyed with `key`
// over the user name, so a name always sees the same walk, each real shape is copied as often as real users
// have it (a menu, a "Security key" entry), and adding a user changes the pick of few names. The masked
// destinations are made up for `user` in the shape of the copied user's (the organisation's email domain, the
// phone plan's length). Without any real user to copy (claim binding, nobody enrolled yet) the walk is what
// such a configuration shows a real user: the enabled pool methods, no destinations in the menu, and the user
// pool's mask shapes in the code prompt.
DecoyWalk shape_decoy(std::string_view key, const std::string& user, const std::vector<Method>& enabled,
                      const IdentityMap& identities, const std::vector<std::string>& key_users,
                      bool claim_binding);

// The accounts that hold security keys, sorted and without repeats (CredentialStore::holders()). Shared, so
// that a walk handed the same listing as the last one knows it without comparing thousands of names.
using KeyHolders = std::shared_ptr<const std::vector<std::string>>;
DecoyWalk shape_decoy_among(std::string_view key, const std::string& user, const std::vector<Method>& enabled,
                            const IdentityMap& identities, const KeyHolders& key_users, bool claim_binding);

// A credential id made up for `user`'s key ask: `length` bytes keyed with the decoy key over the name, the
// relying party, the PIN need and the place in the ask, so that a name is asked for the same ids at every
// try, as a real user's key is asked for the same real ones.
std::string made_up_credential_id(std::string_view key, std::string_view user, std::string_view rp_id,
                                  bool uv, std::size_t index, std::size_t length);

// A public key of `alg` for a made-up credential, in the form a stored one has (credential.hpp): a real
// user's key ask carries its credentials' public keys, so a made-up ask carries keys of the same algorithms
// and sizes, and the module refuses a device that signs for a made-up credential as it refuses one that signs
// for a real credential with a key of its own (client/security_key.cpp), before the PIN. A valid point whose
// private key was thrown away when the helper made it, once per algorithm and process: only the module sees
// it, and no signature ever verifies under it.
const std::string& made_up_public_key(KeyAlgorithm alg);

// How many times the real users' shapes (their keyed points, their initials) were computed for the decoy:
// once per identity map, list of key holders, methods, claim binding and key, however many walks use them.
std::uint64_t decoy_models_built() noexcept;

}  // namespace pp::helper
