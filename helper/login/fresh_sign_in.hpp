// A sign-in of the user pool proves one login: the one it was made for. A code's or a pool passkey's ID token
// reaches the helper through the network worker, which a compromised worker holds for every login that passes
// through it, with the refresh token to mint more, all signed by the pool's own keys: pinning the keys
// ([pool] jwks_file) refuses the tokens it signs itself, not these. So, past its signature and its binding, a
// token must also be
//   - fresh: its auth_time (when the person signed in; tokens minted from a refresh token keep it) not before
//     this login began to prove, less the clock difference the verifier tolerates; a token without auth_time
//     is refused as one of unknown age;
//   - unused: its sign-in (origin_jti, shared by every token minted from it, else jti) not one that proved a
//     login before, while that token is still valid. A pool whose app client has token revocation off issues
//     neither claim: then freshness alone holds.
// USER_AUTH sends no nonce, so a worker taken over can still give a login the sign-in of the same person made
// through this helper while that login waited, at the price of the person's own login failing (README.md,
// "Trust boundary"). The browser method binds its tokens to the attempt itself (helper/browser/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "id_claims.hpp"

namespace pp::helper {

// The sign-ins that proved a login, each until its token expires. Shared by every login of the helper.
class UsedSignIns {
  public:
    static constexpr std::size_t kCapacity = 65536;
    explicit UsedSignIns(std::size_t capacity = kCapacity) : capacity_(capacity) {}

    enum class Use { First, Again, Full };
    // Remembers `id` until `until` (Unix seconds): First; Again when it is remembered already. When
    // `capacity` sign-ins are remembered and none has expired, nothing more is remembered (Full): a sign-in
    // that cannot be remembered proves nothing.
    Use use(const std::string& id, std::int64_t until, std::int64_t now);
    [[nodiscard]] std::size_t size() const;

  private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::int64_t> until_;
    std::size_t capacity_;
};

// The helper's one memory.
UsedSignIns& used_sign_ins();

// Why verified claims bound to the account still prove nothing (nullopt: they prove the login, and their
// sign-in is now used). `began`: when the login began to prove, on the verifier's clock (`now`, `skew`).
std::optional<std::string> refuse_unless_fresh_and_unused(const cognito::IdClaims& claims, std::int64_t began,
                                                          std::int64_t now, std::int64_t skew,
                                                          UsedSignIns& used);

}  // namespace pp::helper
