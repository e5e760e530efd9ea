#include "login/key_ask.hpp"

#include "decoy.hpp"
#include "login/login.hpp"
#include "person_texts.hpp"

namespace pp::helper {

std::uint32_t key_touch_timeout_ms(const Config& config) {
    return static_cast<std::uint32_t>(config.security_key.touch_timeout.count() * 1000);
}

OrEnd<Assertion> ask_key(MethodContext& login, const AssertionRequest& request,
                         const std::function<void()>& while_asked) {
    if (auto end = login.proof_tried()) return std::move(*end);
    return login.person().get_assertion(request, while_asked);
}

// Credential ids no key holds.
std::vector<std::string> made_up_ids(std::string_view decoy_key, const std::string& user,
                                     const std::string& rp_id, bool uv,
                                     const std::vector<std::size_t>& lengths) {
    std::vector<std::string> ids;
    ids.reserve(lengths.size());
    for (std::size_t i = 0; i < lengths.size(); ++i)
        ids.push_back(decoy_key.empty() ? random_bytes(lengths[i])
                                        : made_up_credential_id(decoy_key, user, rp_id, uv, i, lengths[i]));
    return ids;
}

// A connected key answers as it does for a real user whose key is absent.
OrEnd<wire::DeviceStatus> ask_made_up_key(MethodContext& login, const std::string& rp_id, bool uv,
                                          std::vector<std::string> cred_ids,
                                          std::vector<protocol::CredentialKey> cred_keys,
                                          const std::function<void()>& while_asked) {
    AssertionRequest req{rp_id,     random_bytes(32),   uv, key_touch_timeout_ms(login.config()),
                         kTouchKey, std::move(cred_ids)};
    req.cred_keys = std::move(cred_keys);
    return ask_made_up_key(login, req, while_asked);
}

OrEnd<wire::DeviceStatus> ask_made_up_key(MethodContext& login, const AssertionRequest& req,
                                          const std::function<void()>& while_asked) {
    const auto asked = ask_key(login, req, while_asked);
    if (const Verdict* end = ending_of(asked)) return *end;
    const auto status = std::get<Assertion>(asked).status;
    return status == wire::DeviceStatus::Ok ? wire::DeviceStatus::NoDevice : status;
}

}  // namespace pp::helper
