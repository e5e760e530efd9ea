// The one key ask of a login, shared by the local security key (security_key_method.cpp) and the user pool's
// passkey (pool_passkey_method.cpp), in both their modes: each ask is a proof tried for the limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "login/method_context.hpp"
#include "wire.hpp"

namespace pp::helper {

// How long a security key waits for a touch, from the configuration.
std::uint32_t key_touch_timeout_ms(const Config& config);

// Asks the person's key (a local key or a passkey of the user pool): counted as a proof tried, which arms the
// login first (MethodContext::proof_tried); its ending, the key not asked, when the login may not try.
// while_asked: run once the request is on its way, before the answer is awaited.
OrEnd<Assertion> ask_key(MethodContext& login, const AssertionRequest& request,
                         const std::function<void()>& while_asked = {});

// The made-up credential ids of an unknown walk's ask, one of each length in `lengths`: keyed by
// `decoy_key` over `user`, `rp_id`, `uv` and the place (made_up_credential_id), so the same at every try of a
// name; made afresh when there is no decoy key.
std::vector<std::string> made_up_ids(std::string_view decoy_key, const std::string& user,
                                     const std::string& rp_id, bool uv,
                                     const std::vector<std::size_t>& lengths);

// A key asked for credentials made up here, which no key holds (the unknown walk): a connected key answers
// as it does for a real user whose key is absent. uv: asked with the PIN, as the real ask would be.
// cred_keys: made-up public keys where the real ask carries real ones (protocol::AssertionRequest), else
// empty. while_asked: as ask_key's. Armed as the real ask is, with the same ending when it may not try.
OrEnd<wire::DeviceStatus> ask_made_up_key(MethodContext& login, const std::string& rp_id, bool uv,
                                          std::vector<std::string> cred_ids,
                                          std::vector<protocol::CredentialKey> cred_keys,
                                          const std::function<void()>& while_asked = {});
// The same for a request already made up whole (its asks, ids and keys): a local key's decoy, whose made-up
// request holds as many asks as the key holder's (security_key_method.cpp).
OrEnd<wire::DeviceStatus> ask_made_up_key(MethodContext& login, const AssertionRequest& made_up,
                                          const std::function<void()>& while_asked = {});

}  // namespace pp::helper
