#include "authenticator.hpp"

#include <array>
#include <chrono>
#include <deque>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "cbor_item.hpp"
#include "credential_id.hpp"
#include "ctap_status.hpp"
#include "event_log.hpp"
#include "sign_counter.hpp"

namespace vfido {
namespace {

struct CtapError {
    std::uint8_t code;
};

namespace command {
inline constexpr std::uint8_t make_credential = 0x01;
inline constexpr std::uint8_t get_assertion = 0x02;
inline constexpr std::uint8_t get_info = 0x04;
inline constexpr std::uint8_t client_pin = 0x06;
inline constexpr std::uint8_t get_next_assertion = 0x08;
}  // namespace command

// Identifies the model, like any authenticator's AAGUID; spelled so that a dump shows what it is.
constexpr std::array<std::uint8_t, 16> aaguid = {'p', 'p', '-', 'v', 'f', 'i', 'd', 'o',
                                                 '-', 't', 'e', 's', 't', '-', '0', '1'};
constexpr std::uint8_t flag_user_present = 0x01;
constexpr std::uint8_t flag_user_verified = 0x04;
constexpr std::uint8_t flag_attested_credential = 0x40;
constexpr std::uint8_t permission_make_credential = 0x01;
constexpr std::uint8_t permission_get_assertion = 0x02;
constexpr int cose_es256 = -7;
constexpr int cose_eddsa = -8;
constexpr int cose_ecdh_es_hkdf_256 = -25;
constexpr std::size_t client_data_hash_size = 32;
constexpr std::size_t pin_auth_size = 16;
constexpr unsigned pin_retries_max = 8;
constexpr unsigned mismatches_before_power_cycle = 3;
constexpr std::uint64_t max_message_size = 1200;

Bytes answer(const cbor::Item& body) {
    Bytes out{status::ok};
    append(out, cbor::encode(body));
    return out;
}

Outcome now(Bytes reply) {
    return Outcome{std::move(reply), {}};
}

Outcome after_touch(std::function<Bytes()> respond) {
    return Outcome{{}, std::move(respond)};
}

const cbor_item_t* required(const cbor_item_t* item) {
    if (item == nullptr) throw CtapError{status::missing_parameter};
    return item;
}

Bytes required_bytes(const cbor_item_t* item) {
    auto value = cbor::as_bytes(required(item));
    if (!value) throw CtapError{status::cbor_unexpected_type};
    return std::move(*value);
}

std::string required_text(const cbor_item_t* item) {
    auto value = cbor::as_text(required(item));
    if (!value) throw CtapError{status::cbor_unexpected_type};
    return std::move(*value);
}

std::int64_t required_int(const cbor_item_t* item) {
    const auto value = cbor::as_int(required(item));
    if (!value) throw CtapError{status::cbor_unexpected_type};
    return *value;
}

const cbor_item_t* required_map(const cbor_item_t* item) {
    if (!cbor::is_definite_map(required(item))) throw CtapError{status::cbor_unexpected_type};
    return item;
}

Bytes required_client_data_hash(const cbor_item_t* item) {
    Bytes hash = required_bytes(item);
    if (hash.size() != client_data_hash_size) throw CtapError{status::invalid_length};
    return hash;
}

std::optional<bool> option(const cbor_item_t* options, std::string_view name) {
    if (options == nullptr) return std::nullopt;
    if (!cbor::is_definite_map(options)) throw CtapError{status::cbor_unexpected_type};
    const cbor_item_t* value = cbor::find(options, name);
    if (value == nullptr) return std::nullopt;
    const auto flag = cbor::as_bool(value);
    if (!flag) throw CtapError{status::cbor_unexpected_type};
    return flag;
}

int cose_algorithm(crypto::Algorithm algorithm) {
    return algorithm == crypto::Algorithm::es256 ? cose_es256 : cose_eddsa;
}

cbor::Item cose_public_key(const crypto::SigningKey& key) {
    const Bytes raw = key.public_raw();
    if (key.algorithm() == crypto::Algorithm::eddsa)
        return cbor::Map()
            .add(1, cbor::uint(1))  // kty OKP
            .add(3, cbor::integer(cose_eddsa))
            .add(-1, cbor::uint(6))  // crv Ed25519
            .add(-2, cbor::bytes(raw))
            .build();
    const ByteView xy(raw);
    return cbor::Map()
        .add(1, cbor::uint(2))  // kty EC2
        .add(3, cbor::integer(cose_es256))
        .add(-1, cbor::uint(1))  // crv P-256
        .add(-2, cbor::bytes(xy.first(32)))
        .add(-3, cbor::bytes(xy.last(32)))
        .build();
}

// The first entry of pubKeyCredParams that this key can do, as the platform's preference order asks.
std::optional<crypto::Algorithm> pick_algorithm(const cbor_item_t* parameters) {
    const auto entries = cbor::as_array(parameters);
    if (!entries) throw CtapError{status::cbor_unexpected_type};
    for (const cbor_item_t* entry : *entries) {
        const auto type = cbor::as_text(cbor::find(required_map(entry), "type"));
        const auto algorithm = cbor::as_int(cbor::find(entry, "alg"));
        if (!type || !algorithm) throw CtapError{status::cbor_unexpected_type};
        if (*type != "public-key") continue;
        if (*algorithm == cose_es256) return crypto::Algorithm::es256;
        if (*algorithm == cose_eddsa) return crypto::Algorithm::eddsa;
    }
    return std::nullopt;
}

// The ids of an allowList or excludeList (PublicKeyCredentialDescriptors); absent means empty.
std::vector<Bytes> credential_ids(const cbor_item_t* list) {
    if (list == nullptr) return {};
    const auto entries = cbor::as_array(list);
    if (!entries) throw CtapError{status::cbor_unexpected_type};
    std::vector<Bytes> ids;
    for (const cbor_item_t* entry : *entries) {
        const auto type = cbor::as_text(cbor::find(required_map(entry), "type"));
        auto id = cbor::as_bytes(cbor::find(entry, "id"));
        if (!type || !id) throw CtapError{status::cbor_unexpected_type};
        if (*type == "public-key") ids.push_back(std::move(*id));
    }
    return ids;
}

// What a getAssertion showed the key, for VFIDO_LOG: "allowList rp=<id> up=<0|1> uv=<0|1> n=<count>" (up=0:
// a probe without a touch) and each id as <length>:<its first 4 bytes in hex>, so a test can compare two
// logins' asks as a key (or whoever listens on the bus) sees them.
std::string allow_list_event(const std::string& rp_id, bool up, bool uv, const std::vector<Bytes>& ids) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "allowList rp=" + rp_id + " up=" + (up ? "1" : "0") + " uv=" + (uv ? "1" : "0") +
                      " n=" + std::to_string(ids.size());
    for (const Bytes& id : ids) {
        out += " " + std::to_string(id.size()) + ":";
        for (std::size_t i = 0; i < id.size() && i < 4; ++i) {
            out.push_back(hex[id[i] >> 4]);
            out.push_back(hex[id[i] & 0xf]);
        }
    }
    return out;
}

SignCounters& counters() {
    static SignCounters instance(knobs().state_dir);
    return instance;
}

Bytes registration(unsigned index, crypto::Algorithm algorithm, const Bytes& rp_id_hash, const Bytes& user_id,
                   const Bytes& client_data_hash, bool verified) {
    const crypto::SigningKey key = crypto::SigningKey::generate(algorithm);
    const Bytes id = wrap_credential(index, {algorithm, rp_id_hash, key.private_raw(), user_id});

    Bytes auth_data = rp_id_hash;
    auth_data.push_back(flag_user_present | flag_attested_credential | (verified ? flag_user_verified : 0));
    append_be32(auth_data, 0);  // a fresh credential has not signed anything yet
    append(auth_data, aaguid);
    append_be16(auth_data, static_cast<std::uint16_t>(id.size()));
    append(auth_data, id);
    append(auth_data, cbor::encode(cose_public_key(key)));

    // Packed self attestation: the new credential signs its own registration, which verifiers really check.
    Bytes signed_data = auth_data;
    append(signed_data, client_data_hash);
    cbor::Item statement = cbor::Map()
                               .add("alg", cbor::integer(cose_algorithm(algorithm)))
                               .add("sig", cbor::bytes(key.sign(signed_data)))
                               .build();
    return answer(cbor::Map()
                      .add(1, cbor::text("packed"))
                      .add(2, cbor::bytes(auth_data))
                      .add(3, std::move(statement))
                      .build());
}

Bytes assertion(const KeyKnobs& knobs, const Bytes& id, const CredentialSecret& secret,
                const Bytes& client_data_hash, bool present, bool verified) {
    // Status OK and then a lone CBOR "break" byte, which no decoder accepts as the start of an item.
    if (knobs.garbage) return {status::ok, 0xff, 0x00, 0x42};
    const auto key = crypto::SigningKey::from_private(secret.algorithm, secret.private_key);
    if (!key) throw std::runtime_error("credential with an invalid private key");

    Bytes auth_data = knobs.wrong_rpid ? crypto::sha256(as_bytes("wrong-rpid.invalid")) : secret.rp_id_hash;
    auth_data.push_back((present ? flag_user_present : 0) | (verified ? flag_user_verified : 0));
    append_be32(auth_data, counters().next(id, knobs.counter));

    Bytes signed_data = auth_data;
    append(signed_data, client_data_hash);
    cbor::Map response;
    response.add(1, cbor::Map().add("id", cbor::bytes(id)).add("type", cbor::text("public-key")).build())
        .add(2, cbor::bytes(auth_data))
        .add(3, cbor::bytes(key->sign(signed_data)));
    if (!secret.user_id.empty()) response.add(4, cbor::Map().add("id", cbor::bytes(secret.user_id)).build());
    return answer(response.build());
}

// The private key a rogue device signs with whatever credential it claims: its own, made once per process.
const Bytes& rogue_key() {
    static const Bytes key = crypto::SigningKey::generate(crypto::Algorithm::es256).private_raw();
    return key;
}

// CTAP 2.0 lets a platform send an empty pinAuth to mean "wait for a touch, then say whether a PIN is set";
// libfido2's fido_dev_get_touch_begin() does this so that the user can pick one of several keys.
std::optional<Outcome> touch_probe(const cbor_item_t* pin_auth, bool pin_set, bool instant) {
    if (pin_auth == nullptr) return std::nullopt;
    const auto value = cbor::as_bytes(pin_auth);
    if (!value) throw CtapError{status::cbor_unexpected_type};
    if (!value->empty()) return std::nullopt;
    const std::uint8_t code = pin_set ? status::pin_invalid : status::pin_not_set;
    if (instant) return now(Bytes{code});
    return after_touch([code] { return Bytes{code}; });
}

}  // namespace

Outcome Authenticator::handle(ByteView request) {
    Outcome outcome;
    try {
        if (request.empty()) return now({status::invalid_length});
        const std::uint8_t cmd = request[0];
        if (cmd == command::get_info) return now(get_info());
        if (cmd == command::get_next_assertion)
            return now({status::not_allowed});  // we never offer a next one
        if (cmd != command::make_credential && cmd != command::get_assertion && cmd != command::client_pin)
            return now({status::invalid_command});
        const cbor::Item params = cbor::decode(request.subspan(1));
        if (params == nullptr) return now({status::invalid_cbor});
        if (!cbor::is_definite_map(params.get())) return now({status::cbor_unexpected_type});
        if (cmd == command::client_pin) return now(client_pin(params.get()));
        outcome =
            cmd == command::make_credential ? make_credential(params.get()) : get_assertion(params.get());
    } catch (const CtapError& error) {
        return now({error.code});
    } catch (const std::exception&) {
        return now({status::other});
    }
    if (outcome.after_touch) {
        outcome.after_touch = [respond = std::move(outcome.after_touch)]() -> Bytes {
            try {
                return respond();
            } catch (const CtapError& error) {
                return {error.code};
            } catch (const std::exception&) {
                return {status::other};
            }
        };
    }
    return outcome;
}

Bytes Authenticator::get_info() const {
    const bool ctap21 = knobs_.ctap == CtapVersion::v2_1;
    std::vector<cbor::Item> versions;
    versions.push_back(cbor::text("FIDO_2_0"));
    if (ctap21) versions.push_back(cbor::text("FIDO_2_1"));

    cbor::Map options;
    // Stateless credentials cannot be discoverable, so rk is false and rk requests are refused.
    options.add("rk", cbor::boolean(false))
        .add("up", cbor::boolean(true))
        .add("plat", cbor::boolean(false))
        .add("clientPin", cbor::boolean(has_pin()));
    // With pinUvAuthToken libfido2 asks for tokens with permissions (ClientPIN subcommand 9), as current keys
    // do.
    if (ctap21) options.add("pinUvAuthToken", cbor::boolean(true));

    auto algorithm = [](int cose) {
        return cbor::Map().add("alg", cbor::integer(cose)).add("type", cbor::text("public-key")).build();
    };
    return answer(cbor::Map()
                      .add(1, cbor::array(std::move(versions)))
                      .add(3, cbor::bytes(aaguid))
                      .add(4, options.build())
                      .add(5, cbor::uint(max_message_size))
                      .add(6, cbor::array_of(cbor::uint(1)))
                      .add(9, cbor::array_of(cbor::text("usb")))
                      .add(10, cbor::array_of(algorithm(cose_es256), algorithm(cose_eddsa)))
                      .build());
}

Outcome Authenticator::make_credential(const cbor_item_t* params) {
    const cbor_item_t* pin_auth = cbor::find(params, 8);
    if (auto probe = touch_probe(pin_auth, has_pin(), knobs_.instant_touch_probe)) return std::move(*probe);

    const Bytes client_data_hash = required_client_data_hash(cbor::find(params, 1));
    const std::string rp_id = required_text(cbor::find(required_map(cbor::find(params, 2)), "id"));
    const Bytes user_id = required_bytes(cbor::find(required_map(cbor::find(params, 3)), "id"));
    if (user_id.size() > max_user_id_size) throw CtapError{status::invalid_length};
    const auto algorithm = pick_algorithm(required(cbor::find(params, 4)));
    if (!algorithm) throw CtapError{status::unsupported_algorithm};

    const cbor_item_t* options = cbor::find(params, 7);
    if (option(options, "rk") == true) throw CtapError{status::unsupported_option};
    if (option(options, "up") == false) throw CtapError{status::invalid_option};
    bool verified = false;
    if (pin_auth != nullptr) {
        check_pin_auth(client_data_hash, pin_auth, cbor::find(params, 9), permission_make_credential, rp_id);
        verified = true;
    } else if (option(options, "uv") == true) {
        // No built-in UV here: with a PIN set, the platform must bring the PIN.
        throw CtapError{has_pin() ? status::pin_required : status::unsupported_option};
    } else if (has_pin()) {
        throw CtapError{status::pin_required};
    }

    const Bytes rp_id_hash = crypto::sha256(as_bytes(rp_id));
    for (const Bytes& id : credential_ids(cbor::find(params, 5))) {
        const auto secret = unwrap_credential(index_, id);
        // The spec makes the key wait for a touch before saying so, or a page could probe for credentials.
        if (secret && crypto::equal(secret->rp_id_hash, rp_id_hash))
            return after_touch([] { return Bytes{status::credential_excluded}; });
    }
    return after_touch(
        [index = index_, algorithm = *algorithm, rp_id_hash, user_id, client_data_hash, verified] {
            return registration(index, algorithm, rp_id_hash, user_id, client_data_hash, verified);
        });
}

Outcome Authenticator::get_assertion(const cbor_item_t* params) {
    const cbor_item_t* pin_auth = cbor::find(params, 6);
    if (auto probe = touch_probe(pin_auth, has_pin(), knobs_.instant_touch_probe)) return std::move(*probe);

    const std::string rp_id = required_text(cbor::find(params, 1));
    const Bytes client_data_hash = required_client_data_hash(cbor::find(params, 2));
    const cbor_item_t* options = cbor::find(params, 5);
    if (option(options, "rk").has_value()) throw CtapError{status::invalid_option};
    const bool present = option(options, "up").value_or(true);
    bool verified = false;
    if (pin_auth != nullptr) {
        check_pin_auth(client_data_hash, pin_auth, cbor::find(params, 7), permission_get_assertion, rp_id);
        verified = true;
    } else if (option(options, "uv") == true) {
        throw CtapError{has_pin() ? status::pin_required : status::unsupported_option};
    }

    // Without an allowList a stateless key has nothing to offer: there are no discoverable credentials.
    const Bytes rp_id_hash = crypto::sha256(as_bytes(rp_id));
    std::optional<std::pair<Bytes, CredentialSecret>> found;
    std::vector<Bytes> allowed = credential_ids(cbor::find(params, 3));
    log_event(index_, allow_list_event(rp_id, present, option(options, "uv") == true || pin_auth != nullptr,
                                       allowed));
    if (!present && knobs_.refuse_silent_probe) throw CtapError{status::invalid_option};
    for (Bytes& id : allowed) {
        auto secret = unwrap_credential(index_, id);
        if (secret && crypto::equal(secret->rp_id_hash, rp_id_hash)) {
            found.emplace(std::move(id), std::move(*secret));
            break;
        }
    }
    if (knobs_.rogue != RogueMode::off && !allowed.empty()) {
        Bytes id = allowed.front();
        if (knobs_.rogue == RogueMode::unlisted) id.back() ^= 0x01;
        found.emplace(std::move(id), CredentialSecret{crypto::Algorithm::es256, rp_id_hash, rogue_key(), {}});
    }
    auto respond = [&knobs = knobs_, found = std::move(found), client_data_hash, present,
                    verified]() -> Bytes {
        if (!found) return {status::no_credentials};
        return assertion(knobs, found->first, found->second, client_data_hash, present, verified);
    };
    // "No credentials" also waits for the touch (CTAP 2.0 getAssertion step 7: consent before disclosure), so
    // only an up=false probe learns at once whether a key holds a credential.
    if (!present) return now(respond());
    return after_touch(std::move(respond));
}

void Authenticator::check_pin_auth(ByteView client_data_hash, const cbor_item_t* pin_auth,
                                   const cbor_item_t* protocol, std::uint8_t permission,
                                   const std::string& rp_id) {
    if (required_int(protocol) != 1) throw CtapError{status::pin_auth_invalid};
    const Bytes param = required_bytes(pin_auth);
    const std::lock_guard lock(mutex_);
    if (!pin_token_) throw CtapError{status::pin_auth_invalid};
    Bytes expected = crypto::hmac_sha256(pin_token_->token, client_data_hash);
    expected.resize(pin_auth_size);
    if (!crypto::equal(expected, param) || (pin_token_->permissions & permission) == 0 ||
        (!pin_token_->rp_id.empty() && pin_token_->rp_id != rp_id))
        throw CtapError{status::pin_auth_invalid};
}

// A real key's retry counter outlives the plug, so with a state directory this one is kept in a file; the
// count of mismatches in a row is not (pulling the key out resets it, as a power cycle does).
std::string Authenticator::retries_name() const {
    return "key" + std::to_string(index_) + ".pin-retries";
}

unsigned Authenticator::pin_retries() const {
    const std::string& dir = knobs().state_dir;
    return dir.empty() ? pin_retries_
                       : read_state_number(dir + "/" + retries_name()).value_or(pin_retries_max);
}

unsigned Authenticator::spend_pin_retry() {
    const std::string& dir = knobs().state_dir;
    const auto spend = [](std::optional<std::uint32_t> left) {
        const std::uint32_t n = left.value_or(pin_retries_max);
        return n == 0 ? 0 : n - 1;
    };
    if (dir.empty()) return pin_retries_ = spend(pin_retries_);
    return change_state_number(dir, retries_name(), spend);
}

void Authenticator::refill_pin_retries() {
    const std::string& dir = knobs().state_dir;
    pin_retries_ = pin_retries_max;
    if (!dir.empty()) change_state_number(dir, retries_name(), [](auto) { return pin_retries_max; });
}

Bytes Authenticator::client_pin(const cbor_item_t* params) {
    const std::int64_t protocol = required_int(cbor::find(params, 1));
    const std::int64_t subcommand = required_int(cbor::find(params, 2));
    if (protocol != 1) throw CtapError{status::invalid_parameter};
    const std::lock_guard lock(mutex_);
    switch (subcommand) {
        case 1:  // getRetries
            return answer(cbor::Map().add(3, cbor::uint(pin_retries())).build());
        case 2: {  // getKeyAgreement
            if (!key_agreement_) key_agreement_ = crypto::EcdhKey::generate();
            cbor::Item key = cbor::Map()
                                 .add(1, cbor::uint(2))
                                 .add(3, cbor::integer(cose_ecdh_es_hkdf_256))
                                 .add(-1, cbor::uint(1))
                                 .add(-2, cbor::bytes(key_agreement_->public_x()))
                                 .add(-3, cbor::bytes(key_agreement_->public_y()))
                                 .build();
            return answer(cbor::Map().add(1, std::move(key)).build());
        }
        case 5:  // getPINToken: CTAP 2.1 gives such tokens the mc and ga permissions
            return get_pin_token(params, permission_make_credential | permission_get_assertion, {});
        case 9: {  // getPinUvAuthTokenUsingPinWithPermissions
            if (knobs_.ctap != CtapVersion::v2_1) throw CtapError{status::invalid_subcommand};
            const std::int64_t permissions = required_int(cbor::find(params, 9));
            if (permissions <= 0 || permissions > 0xff) throw CtapError{status::invalid_parameter};
            if ((permissions & ~(permission_make_credential | permission_get_assertion)) != 0)
                throw CtapError{status::unauthorized_permission};
            std::string rp_id;
            if (const cbor_item_t* rp = cbor::find(params, 10)) rp_id = required_text(rp);
            return get_pin_token(params, static_cast<std::uint8_t>(permissions), std::move(rp_id));
        }
        default:  // setPIN and changePIN too: the PIN comes from VFIDO_PIN
            throw CtapError{status::invalid_subcommand};
    }
}

Bytes Authenticator::get_pin_token(const cbor_item_t* params, std::uint8_t permissions, std::string rp_id) {
    if (!has_pin()) throw CtapError{status::pin_not_set};
    const cbor_item_t* platform_key = required_map(cbor::find(params, 3));
    const Bytes x = required_bytes(cbor::find(platform_key, -2));
    const Bytes y = required_bytes(cbor::find(platform_key, -3));
    const Bytes pin_hash_enc = required_bytes(cbor::find(params, 6));
    // From here on the key holds what it needs to test guesses offline: a short PIN is as good as sent.
    log_event(index_, "pinHashEnc");
    if (knobs_.pin_check_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(knobs_.pin_check_ms));
    if (pin_retries() == 0) throw CtapError{status::pin_blocked};
    if (consecutive_mismatches_ >= mismatches_before_power_cycle) throw CtapError{status::pin_auth_blocked};

    if (!key_agreement_) key_agreement_ = crypto::EcdhKey::generate();
    const auto shared_x = key_agreement_->shared_x(x, y);
    if (!shared_x) throw CtapError{status::invalid_parameter};
    const Bytes shared_secret = crypto::sha256(*shared_x);
    const auto pin_hash = crypto::aes256_cbc_zero_iv(shared_secret, pin_hash_enc, false);
    if (!pin_hash || pin_hash->size() != 16) throw CtapError{status::invalid_parameter};

    // The spec spends a retry before comparing, so pulling the plug mid-check cannot give free guesses.
    const unsigned retries = spend_pin_retry();
    Bytes expected = crypto::sha256(as_bytes(knobs_.pin));
    expected.resize(16);
    if (knobs_.rogue == RogueMode::off && !crypto::equal(*pin_hash, expected)) {
        key_agreement_ = crypto::EcdhKey::generate();
        ++consecutive_mismatches_;
        if (retries == 0) throw CtapError{status::pin_blocked};
        if (consecutive_mismatches_ >= mismatches_before_power_cycle)
            throw CtapError{status::pin_auth_blocked};
        throw CtapError{status::pin_invalid};
    }
    refill_pin_retries();
    consecutive_mismatches_ = 0;
    pin_token_ = PinToken{crypto::random_bytes(32), permissions, std::move(rp_id)};
    const auto token_enc = crypto::aes256_cbc_zero_iv(shared_secret, pin_token_->token, true);
    if (!token_enc) throw std::runtime_error("pin token encryption");
    return answer(cbor::Map().add(2, cbor::bytes(*token_enc)).build());
}

Authenticator& authenticator(unsigned index) {
    // A deque never moves its elements, and the authenticators hold a mutex and live as long as the process.
    static std::deque<Authenticator> all = [] {
        std::deque<Authenticator> keys;
        for (unsigned i = 0; i < knobs().keys; ++i) keys.emplace_back(i, knobs().per_key[i]);
        return keys;
    }();
    return all.at(index);
}

}  // namespace vfido
