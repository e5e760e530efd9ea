// The CTAP2 side of one virtual key: authenticatorGetInfo, MakeCredential, GetAssertion and ClientPIN (PIN
// protocol one). It turns one request (command byte + CBOR) into an answer (status byte + CBOR); the CTAPHID
// layer decides when an answer that waits for a touch is delivered.
#pragma once

#include <cbor.h>

#include <functional>
#include <mutex>
#include <optional>

#include "bytes.hpp"
#include "crypto.hpp"
#include "knobs.hpp"

namespace vfido {

struct Outcome {
    Bytes reply;  // the answer when no touch is needed
    // Set when the answer waits for the user's touch; runs only if the touch happens (so a denied or
    // cancelled request neither signs nor counts).
    std::function<Bytes()> after_touch;
};

class Authenticator {
  public:
    Authenticator(unsigned index, const KeyKnobs& knobs) : index_(index), knobs_(knobs) {}
    Authenticator(const Authenticator&) = delete;
    Authenticator& operator=(const Authenticator&) = delete;

    Outcome handle(ByteView request);

  private:
    struct PinToken {
        Bytes token;
        std::uint8_t permissions = 0;
        std::string rp_id;  // empty: not bound to one
    };

    Bytes get_info() const;
    Outcome make_credential(const cbor_item_t* params);
    Outcome get_assertion(const cbor_item_t* params);
    Bytes client_pin(const cbor_item_t* params);
    // Called with mutex_ held.
    Bytes get_pin_token(const cbor_item_t* params, std::uint8_t permissions, std::string rp_id);
    bool has_pin() const { return !knobs_.pin.empty(); }
    // The PIN's retry counter (with mutex_ held): in the state directory's file when there is one, changed
    // under its lock. spend_pin_retry returns what is left after one is spent (never below 0).
    std::string retries_name() const;
    unsigned pin_retries() const;
    unsigned spend_pin_retry();
    void refill_pin_retries();
    // Checks pinAuth/pinProtocol of a MakeCredential or GetAssertion; throws the CTAP error when it is wrong.
    void check_pin_auth(ByteView client_data_hash, const cbor_item_t* pin_auth, const cbor_item_t* protocol,
                        std::uint8_t permission, const std::string& rp_id);

    unsigned index_;
    const KeyKnobs& knobs_;

    // PIN state is this process's, like a key that was just plugged in: tests that exhaust retries cannot
    // leak a blocked key into the next test program.
    std::mutex mutex_;
    unsigned pin_retries_ = 8;
    unsigned consecutive_mismatches_ = 0;
    std::optional<crypto::EcdhKey> key_agreement_;
    std::optional<PinToken> pin_token_;
};

// The process-wide authenticator of virtual key `index` (every open handle of that key talks to the same
// one).
Authenticator& authenticator(unsigned index);

}  // namespace vfido
