// A passkey registered with the user pool, signed by a key connected here.
#include <syslog.h>

#include <algorithm>

#include "audit.hpp"
#include "decoy.hpp"
#include "factor_memory.hpp"
#include "login/binding.hpp"
#include "login/key_ask.hpp"
#include "login/login.hpp"
#include "login/method_object.hpp"
#include "login/passkey_uv_memory.hpp"
#include "login_log.hpp"
#include "login_steps.hpp"
#include "pool_latency.hpp"
#include "user_context.hpp"
#include "webauthn_json.hpp"

namespace pp::helper {

using cognito::Failure;
using cognito::ServiceError;
using wire::Outcome;

namespace {

// A passkey registered with the user pool: the pool's options name the challenge and the allowed
// credentials; a key connected here signs clientDataJSON built as a browser on the relying party would.
Proof pool_passkey_login(MethodContext& login, const Identifier& ident, cognito::Step step,
                         std::string username) {
    if (auto pool_name = announced_user(step.parameters); !pool_name.empty()) username = std::move(pool_name);
    // Read from the pool's JSON by the network worker, never here.
    if (!step.request_options && step.request_options_error.empty())
        return Verdict{Outcome::AuthinfoUnavail, kUnavailable,
                       "user pool: WEB_AUTHN without request options"};
    // Unreadable options are the pool's failure, met as the network worker would have thrown it (login()
    // offers the break-glass for it as for an outage).
    if (!step.request_options)
        throw cognito::ServiceError(cognito::Failure::Malformed, "", step.request_options_error);
    const webauthn::RequestOptions options = std::move(*step.request_options);
    const auto& policy = login.config().passkey;
    if (options.rp_id != policy.rp_id)
        return Verdict{Outcome::ServiceErr, kMisconfigured,
                       "user pool passkey rpId '" + loggable(options.rp_id, 128) +
                           "' is not the configured '" + policy.rp_id + "'"};
    if (options.allow_credentials.empty())
        return Verdict{Outcome::AuthErr, kSignInFailed, "user pool offers no passkey credential"};
    const std::string client_data =
        webauthn::client_data_json(webauthn::webauthn_get, options.challenge, policy.origin);
    const bool uv = options.user_verification == "required";
    // The unknown walk asks its made-up passkey as this one is asked, also after a restart
    // (passkey_uv_memory.hpp). A pool that asks otherwise than the configuration states is said once: until
    // this login, on this machine, the walk asked as the configuration said.
    if (passkey_uv_memory(login.config().limits_state_file).saw(login.config().pool_id, options.rp_id, uv) &&
        uv != policy.pool_requires_uv)
        log_line(LOG_WARNING,
                 "the user pool asks user verification \"%s\" of passkeys, [passkey] user_verification says "
                 "\"%s\": names without an identity are now asked as the pool asks; set it to match",
                 uv_setting_name(uv), uv_setting_name(policy.pool_requires_uv));
    const auto timeout = std::min<std::uint32_t>(options.timeout_ms.value_or(UINT32_MAX),
                                                 key_touch_timeout_ms(login.config()));

    std::vector<std::size_t> lengths;
    for (const auto& id : options.allow_credentials) lengths.push_back(id.size());
    login.saw_pool_passkeys(lengths);
    const auto asked = ask_key(
        login, {options.rp_id, sha256_bytes(client_data), uv, timeout, kTouchKey, options.allow_credentials});
    if (const Verdict* end = ending_of(asked)) return *end;
    const Assertion& reply = std::get<Assertion>(asked);
    if (reply.status != wire::DeviceStatus::Ok) return key_status_finish(reply.status);

    std::string credential;
    try {
        credential = webauthn::authentication_response_json(reply.cred_id, client_data,
                                                            webauthn::authdata_from_cbor(reply.auth_data),
                                                            reply.signature, reply.user_handle);
    } catch (const std::invalid_argument& e) {
        return Verdict{Outcome::AuthErr, kSignInFailed,
                       std::string("the key's assertion is unusable: ") + e.what()};
    }
    std::vector<std::pair<std::string, Secret>> answer;
    answer.emplace_back("CREDENTIAL", Secret(credential));
    auto& client = login.pool();
    cognito::Step next;
    try {
        const Secret session = step.session;
        next = timed(PoolStep::Answer, [&] {
            return client.respond("WEB_AUTHN", session, username, answer, login.person().deadline(),
                                  user_context_for(login.facts().rhost));
        });
    } catch (const ServiceError& e) {
        if (e.failure() == Failure::Rejected && e.name() == "NotAuthorizedException" &&
            e.message().find("session") == std::string::npos)
            return Verdict{Outcome::AuthErr, kPoolRefusedPasskey,
                           "user pool refused the passkey: " + e.message()};
        throw;
    }
    if (!next.id_token)
        return Verdict{Outcome::AuthErr, kSignInFailed,
                       "the user pool asked for a further step ('" + loggable(next.challenge, 40) + "')"};
    if (next.access_token) login.offer_access_token(*next.access_token);
    return verify_and_bind(login, *next.id_token, ident, Method::Passkey);
}

}  // namespace

// A passkey of the user pool.
class PoolPasskeyMethod final : public LoginMethod {
  public:
    std::optional<Proof> prove(MethodContext& login, MethodStart start) const override {
        return pool_passkey_login(login, start.ident.value(), std::move(start.step),
                                  std::move(start.username));
    }

    // The key asked for a credential no key holds; whatever it answers ends the walk as a real key's answer
    // would.
    std::optional<Proof> walk_unknown(MethodContext& login, const UnknownWalk& walk) const override {
        // With the PIN when the pool's options last asked for user verification (its pool-wide WebAuthn
        // setting): a real user's key is then asked with it, so is the made-up credential, or a person with a
        // key could tell a name the pool does not serve by the missing PIN prompt. What the pool asked is
        // kept across restarts (passkey_uv_memory.hpp); until a real login has shown it, the configuration
        // says ([passkey] user_verification).
        const Config& cfg = login.config();
        const bool uv = passkey_uv_memory(cfg.limits_state_file)
                            .asks_uv(cfg.pool_id, cfg.passkey.rp_id)
                            .value_or(cfg.passkey.pool_requires_uv);
        // As many made-up credentials, as long, as the copied user's last passkey login listed (a key that
        // records what it is asked sees a real user's count and lengths); without any remembered, one of the
        // length the commonest keys make. Each the same at every try of this name, as a real user's key is
        // asked for the same real ones.
        constexpr std::size_t commonest = 64;
        const std::vector<std::size_t> lengths =
            walk.pool_passkeys.empty() ? std::vector<std::size_t>{commonest} : walk.pool_passkeys;
        auto ids = made_up_ids(walk.decoy_key, login.facts().user, cfg.passkey.rp_id, uv, lengths);
        // No public keys, as the real ask has none (the pool keeps its passkeys' keys).
        const auto asked = ask_made_up_key(login, cfg.passkey.rp_id, uv, std::move(ids), {});
        // Not armed: the ending a real ask meets, as it is.
        if (const Verdict* end = ending_of(asked)) return Proof(*end);
        return Proof(unknown_ending(key_status_finish(std::get<wire::DeviceStatus>(asked)), walk.reason));
    }
};

template const LoginMethod& method_object<PoolPasskeyMethod>();

}  // namespace pp::helper
