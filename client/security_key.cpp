#include "security_key.hpp"

#include "fido_owners.hpp"

#include <fido.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace pp::client {
namespace {

constexpr std::size_t kMaxDevices = 16;

struct DevInfoList {
    fido_dev_info_t* list = nullptr;
    std::size_t n = 0;
    explicit DevInfoList(std::size_t cap) : list(fido_dev_info_new(cap)), n(cap) {}
    ~DevInfoList() {
        if (list != nullptr) fido_dev_info_free(&list, n);
    }
    DevInfoList(const DevInfoList&) = delete;
    DevInfoList& operator=(const DevInfoList&) = delete;
};

using fido::Assert;
using fido::Cred;
using fido::Dev;
using fido::EddsaKey;
using fido::Es256Key;

// A reply that carries only what happened at the key.
template <class Reply>
Reply status_only(wire::DeviceStatus s) {
    Reply r;
    r.status = s;
    return r;
}
protocol::Assertion status_message(wire::DeviceStatus s) {
    return status_only<protocol::Assertion>(s);
}

wire::DeviceStatus status_for(int r) {
    switch (r) {
        case FIDO_ERR_NO_CREDENTIALS:
            return wire::DeviceStatus::NoDevice;
        case FIDO_ERR_OPERATION_DENIED:
            return wire::DeviceStatus::Denied;
        case FIDO_ERR_RX:
        case FIDO_ERR_KEEPALIVE_CANCEL:
        case FIDO_ERR_ACTION_TIMEOUT:
        case FIDO_ERR_USER_ACTION_TIMEOUT:
        case FIDO_ERR_USER_ACTION_PENDING:
            return wire::DeviceStatus::Timeout;
        case FIDO_ERR_PIN_REQUIRED:
        case FIDO_ERR_UV_INVALID:
        case FIDO_ERR_UNSUPPORTED_OPTION:
            return wire::DeviceStatus::PinRequired;
        case FIDO_ERR_PIN_INVALID:
            return wire::DeviceStatus::PinInvalid;
        case FIDO_ERR_PIN_BLOCKED:
        case FIDO_ERR_PIN_AUTH_BLOCKED:
        case FIDO_ERR_UV_BLOCKED:
            return wire::DeviceStatus::PinBlocked;
        default:
            return wire::DeviceStatus::Error;
    }
}

// The request for one key: allowed credentials, relying party and client data hash, as the helper set them.
Assert make_assertion(const protocol::AssertionRequest& req, bool up) {
    Assert a(fido_assert_new());
    if (!a) return a;
    const std::string& rp = req.rp_id;
    const std::string& cdh = req.client_data_hash;
    if (fido_assert_set_rp(a.get(), rp.c_str()) != FIDO_OK ||
        fido_assert_set_clientdata_hash(a.get(), reinterpret_cast<const unsigned char*>(cdh.data()),
                                        cdh.size()) != FIDO_OK ||
        fido_assert_set_up(a.get(), up ? FIDO_OPT_TRUE : FIDO_OPT_FALSE) != FIDO_OK)
        return nullptr;
    for (const auto& id : req.cred_ids)
        if (fido_assert_allow_cred(a.get(), reinterpret_cast<const unsigned char*>(id.data()), id.size()) !=
            FIDO_OK)
            return nullptr;
    return a;
}

std::string_view bytes(const unsigned char* p, std::size_t n) {
    return p == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(p), n);
}

const unsigned char* uchars(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

protocol::Cancel cancelled(Asker::Status status) {
    return {status == Asker::Status::Cancelled ? wire::Outcome::Abort : wire::Outcome::ConvErr};
}

using Clock = std::chrono::steady_clock;

// authenticatorData's flags: the user was present (touched the key).
constexpr int kUserPresent = 0x01;

// Whether the first signature of `a` verifies under `key` (libfido2 also checks the rpIdHash against the
// request's rp_id, and the user-present flag, which the request asked for). FIDO_OK when it does.
int verify_under(const fido_assert_t* a, const protocol::CredentialKey& key) {
    const auto* raw = uchars(key.public_key);
    if (key.algorithm == protocol::CredentialKey::kEs256) {
        const Es256Key pk(es256_pk_new());
        if (!pk) return FIDO_ERR_INTERNAL;
        if (const int r = es256_pk_from_ptr(pk.get(), raw, key.public_key.size()); r != FIDO_OK) return r;
        return fido_assert_verify(a, 0, COSE_ES256, pk.get());
    }
    if (key.algorithm == protocol::CredentialKey::kEdDsa) {
        const EddsaKey pk(eddsa_pk_new());
        if (!pk) return FIDO_ERR_INTERNAL;
        if (const int r = eddsa_pk_from_ptr(pk.get(), raw, key.public_key.size()); r != FIDO_OK) return r;
        return fido_assert_verify(a, 0, COSE_EDDSA, pk.get());
    }
    return FIDO_ERR_UNSUPPORTED_ALGORITHM;
}

// What libfido2 returns when a wait ended without an answer from the key: its own timeout, or our cancel.
bool ended_unanswered(int r) {
    return r == FIDO_ERR_RX || r == FIDO_ERR_KEEPALIVE_CANCEL || r == FIDO_ERR_ACTION_TIMEOUT ||
           r == FIDO_ERR_USER_ACTION_TIMEOUT || r == FIDO_ERR_USER_ACTION_PENDING;
}

// A key that answered for good: a signature, or a refusal that ends the login (denied, wrong PIN, broken
// answer). Neither the end of the wait nor "this key cannot verify the person" (a key without PIN or built-in
// verification, when verification is required) is one: another key may still answer.
bool answered_for_good(int r) {
    return !ended_unanswered(r) && r != FIDO_ERR_PIN_REQUIRED;
}

// One plugged-in key during one assertion. The dev handle belongs to the calling thread, which closes it only
// after the key's worker has ended; the fields below the handle are written by the worker under the wait's
// mutex.
struct KeySlot {
    Dev dev;
    bool has_pin = false;
    bool has_uv = false;
    bool done = false;
    bool said_no = false;  // the touch-less probe said this key holds none of the credentials
    int result = FIDO_ERR_INTERNAL;
    Assert assertion;
};

// All plugged-in keys are asked at once, each by a thread of its own, against one deadline: a key that never
// answers costs the wait of one touch_timeout however many keys there are, and cannot keep a good key beside
// it from answering. The first key that answers for good (a signature, a refusal, a wrong PIN) ends the wait
// of the others, which are cancelled.
//
// A request may hold several asks (the user's credentials under several relying parties, or some that need
// the PIN beside some that do not: AssertionRequest::asks). They share the one deadline and the one prompt:
// each key is asked touch-free, ask after ask, whether it holds one of their credentials, and then asked for
// a touch in the first ask it holds one of (so one touch, as for one ask). A key that cannot say without a
// touch is asked for one in each ask it did not deny, in order, until the deadline.
class KeyWait {
  public:
    KeyWait(const std::vector<protocol::AssertionRequest>& asks, Clock::time_point deadline,
            const Secret& pin)
        : asks_(asks), deadline_(deadline), pin_(pin) {}

    // Runs every slot's worker and returns when one answered for good or all have ended.
    void run(std::vector<KeySlot>& slots) {
        // With one key there is nobody to race and nothing to cancel: its own calls are bounded by the
        // deadline, so it is asked from this thread, without a thread to start and join on every login.
        if (slots.size() == 1) {
            // Nor anything to choose between: with one ask the key is asked for the assertion at once,
            // without the touch-less probe (one round trip to the key fewer; pam-u2f's "nodetect"). A key
            // that holds none of the credentials answers that question with NO_CREDENTIALS too (a CTAP 2.1
            // key after a touch), which ends as the probe's "no" does. With the PIN the first question is the
            // touch that must come before it (touched_before_the_pin), asked without the PIN: a key that
            // holds none of the credentials answers it so, and never sees the PIN. With several asks the
            // probe stays: asked for a touch ask after ask, a key would cost a touch for each ask it lacks.
            probe_ = asks_.size() > 1;
            return work(slots.front());
        }
        {
            std::vector<std::jthread> workers;
            workers.reserve(slots.size());
            for (auto& slot : slots) workers.emplace_back([this, &slot] { work(slot); });
            std::unique_lock lock(mutex_);
            // The workers bound their own waits by the deadline; the margin only guards against a libfido2
            // call that overruns its timeout.
            changed_.wait_until(lock, deadline_ + std::chrono::milliseconds(500),
                                [&] { return decided(slots) || all_done(slots); });
            stop_ = true;
            // A cancel sent while a worker sits between two calls is lost; it is sent again until all ended.
            while (!all_done(slots)) {
                for (auto& slot : slots)
                    if (!slot.done) fido_dev_cancel(slot.dev.get());
                changed_.wait_for(lock, std::chrono::milliseconds(100), [&] { return all_done(slots); });
            }
        }  // joined
    }

  private:
    // A libfido2 call on the slot's key, unless the wait is over: then FIDO_ERR_KEEPALIVE_CANCEL.
    template <class Call>
    int call(KeySlot& slot, Call&& f) {
        int ms = 0;
        {
            const std::lock_guard lock(mutex_);
            ms = static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count());
            if (stop_ || ms <= 0) return FIDO_ERR_KEEPALIVE_CANCEL;
        }
        fido_dev_set_timeout(slot.dev.get(), ms);
        const int r = f();
        // Leave no key blinking for a touch nobody waits for any more.
        if (r != FIDO_OK && r != FIDO_ERR_NO_CREDENTIALS) fido_dev_cancel(slot.dev.get());
        return r;
    }

    // The asks the key is to be asked for a touch in, in order, or the probe's answer that ended the wait.
    // Without a touch, each ask is asked whether the key holds one of its credentials, so that only a key
    // that can answer waits for a touch, and only in an ask it holds. The asks it said it holds come first
    // (the first of them is the one touched); any other answer to the probe, a key that could not say
    // included, still gets the real question after those.
    std::variant<std::vector<std::size_t>, int> probed(KeySlot& slot) {
        std::vector<std::size_t> holds, unsure;
        for (std::size_t i = 0; i < asks_.size(); ++i) {
            Assert probe = make_assertion(asks_[i], false);
            const int r =
                probe ? call(slot, [&] { return fido_dev_get_assert(slot.dev.get(), probe.get(), nullptr); })
                      : FIDO_ERR_INTERNAL;
            if (r == FIDO_ERR_KEEPALIVE_CANCEL) return r;
            if (r == FIDO_OK)
                holds.push_back(i);
            else if (r != FIDO_ERR_NO_CREDENTIALS)
                unsure.push_back(i);
        }
        holds.insert(holds.end(), unsure.begin(), unsure.end());
        return holds;
    }

    void work(KeySlot& slot) noexcept {
        int r = FIDO_ERR_NO_CREDENTIALS;
        Assert result;
        std::vector<std::size_t> order{0};
        if (probe_) {
            auto p = probed(slot);
            if (const int* ended = std::get_if<int>(&p))
                r = *ended, order.clear();
            else
                order = std::move(std::get<std::vector<std::size_t>>(p));
        }
        // One touch, in the first ask the key holds; the next only when the key denied this one after all
        // (it could not say without a touch), within the same deadline.
        for (const std::size_t i : order) {
            r = assert_with_touch(slot, asks_[i], result);
            if (r != FIDO_ERR_NO_CREDENTIALS) break;
        }
        const std::lock_guard lock(mutex_);
        slot.result = r;
        slot.said_no = r == FIDO_ERR_NO_CREDENTIALS;
        slot.assertion = std::move(result);
        slot.done = true;
        changed_.notify_all();
    }

    int assert_with_touch(KeySlot& slot, const protocol::AssertionRequest& req, Assert& out) {
        Assert a = make_assertion(req, req.user_presence);
        if (!a) return FIDO_ERR_INTERNAL;
        const bool uv_required = req.user_verification;
        const bool use_pin = uv_required && slot.has_pin;
        if (uv_required) {
            if (use_pin && pin_.size() == 0) return FIDO_ERR_PIN_REQUIRED;
            if (!use_pin && !slot.has_uv) return FIDO_ERR_PIN_REQUIRED;
            if (fido_assert_set_uv(a.get(), FIDO_OPT_TRUE) != FIDO_OK) return FIDO_ERR_INTERNAL;
        }
        if (use_pin)
            if (const int r = touched_before_the_pin(slot, req); r != FIDO_OK) return r;
        const int r = call(slot, [&] {
            return fido_dev_get_assert(slot.dev.get(), a.get(), use_pin ? pin_.c_str() : nullptr);
        });
        if (r == FIDO_OK) out = std::move(a);
        return r;
    }

    // A key checks a PIN without a touch (CTAP's PIN token asks for none) and counts each wrong one against
    // its retries: eight, then it blocks for good; three in a row, until it is plugged in again. So anyone
    // who can start a login for the key's owner (su, sudo -u) could block the key without ever holding it.
    // The PIN goes to a key only after that key was touched in this login: a signature asked without the PIN,
    // whose answer must say the key saw a touch (the user-present flag, what every key is certified on; a
    // touch probe's "touched" is only the key's word, and some firmware answered it untouched). Every login
    // needs the touch, not only one after a wrong PIN: logins started side by side would each read a full
    // retry counter before any sent its PIN.
    //
    // The flag alone is the device's word: a rogue USB device claims any credential and sets it, and the PIN
    // protocol then hands it the PIN's hash (under a secret it negotiated), from which a short PIN is found
    // offline. So the touch must be signed for one of the allowed credentials and, where the helper sent that
    // credential's public key, verify under it; a device that fails this is a key error (fail closed: the
    // login ends) and never gets the PIN. A user pool's passkeys come without keys (only the pool holds
    // them): for those the flag is still all there is.
    int touched_before_the_pin(KeySlot& slot, const protocol::AssertionRequest& req) {
        Assert touch = make_assertion(req, true);
        if (!touch) return FIDO_ERR_INTERNAL;
        const int r = call(slot, [&] { return fido_dev_get_assert(slot.dev.get(), touch.get(), nullptr); });
        if (r != FIDO_OK) return r;
        if (fido_assert_count(touch.get()) != 1 || (fido_assert_flags(touch.get(), 0) & kUserPresent) == 0)
            return FIDO_ERR_INVALID_ARGUMENT;
        const std::string_view id =
            bytes(fido_assert_id_ptr(touch.get(), 0), fido_assert_id_len(touch.get(), 0));
        const auto allowed = std::find(req.cred_ids.begin(), req.cred_ids.end(), id);
        if (allowed == req.cred_ids.end()) return FIDO_ERR_INVALID_CREDENTIAL;
        if (req.cred_keys.empty()) return FIDO_OK;
        const auto& key = req.cred_keys[static_cast<std::size_t>(allowed - req.cred_ids.begin())];
        return key.known() ? verify_under(touch.get(), key) : FIDO_OK;
    }

    // Some key answered for good: a signature, or a failure that was not just the end of the wait.
    static bool decided(const std::vector<KeySlot>& slots) {
        return std::any_of(slots.begin(), slots.end(), [](const KeySlot& s) {
            return s.done && !s.said_no && answered_for_good(s.result);
        });
    }
    static bool all_done(const std::vector<KeySlot>& slots) {
        return std::all_of(slots.begin(), slots.end(), [](const KeySlot& s) { return s.done; });
    }

    const std::vector<protocol::AssertionRequest>& asks_;
    const Clock::time_point deadline_;
    const Secret& pin_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool stop_ = false;
    bool probe_ = true;  // ask each key without a touch first whether it holds a credential, per ask
};

// Opens every listed key at once (opening asks for no touch: CTAPHID_INIT and authenticatorGetInfo), each
// bounded by the deadline. Keys that do not open are left out.
std::vector<KeySlot> open_keys(const DevInfoList& infos, std::size_t found, Clock::time_point deadline) {
    std::vector<KeySlot> slots(std::min(found, kMaxDevices));
    auto open = [&](std::size_t i) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        Dev dev(fido_dev_new_with_info(fido_dev_info_ptr(infos.list, i)));
        if (!dev || ms.count() <= 0) return;
        fido_dev_set_timeout(dev.get(), static_cast<int>(ms.count()));
        if (fido_dev_open_with_info(dev.get()) != FIDO_OK) return;
        slots[i].has_pin = fido_dev_has_pin(dev.get());
        slots[i].has_uv = fido_dev_has_uv(dev.get());
        slots[i].dev = std::move(dev);
    };
    if (slots.size() == 1) {
        open(0);  // nothing to wait for beside it: no thread
    } else {
        std::vector<std::jthread> openers;
        for (std::size_t i = 0; i < slots.size(); ++i) openers.emplace_back(open, i);
    }  // joined
    std::erase_if(slots, [](const KeySlot& s) { return !s.dev; });
    return slots;
}

}  // namespace

AssertionReply get_assertion(const protocol::AssertionRequest& req, Asker& conv) {
    if (req.client_data_hash.size() != 32 || req.rp_id.empty() || req.cred_ids.empty() ||
        (!req.cred_keys.empty() && req.cred_keys.size() != req.cred_ids.size()) ||
        (!req.cred_groups.empty() && req.cred_groups.size() != req.cred_ids.size()))
        return status_message(wire::DeviceStatus::Error);
    const std::vector<protocol::AssertionRequest> asks = req.asks();
    for (const auto& ask : asks)
        if (ask.rp_id.empty() || ask.cred_ids.empty()) return status_message(wire::DeviceStatus::Error);
    const auto uv = [](const protocol::AssertionRequest& a) { return a.user_verification; };
    // Whether some ask, or every ask, needs the person verified (the PIN, or the key's own verification).
    const bool uv_somewhere = std::any_of(asks.begin(), asks.end(), uv);
    const bool uv_everywhere = std::all_of(asks.begin(), asks.end(), uv);
    const auto timeout = std::chrono::milliseconds(req.timeout_ms);

    fido_init(0);
    DevInfoList infos(kMaxDevices);
    if (infos.list == nullptr) return status_message(wire::DeviceStatus::Error);
    std::size_t found = 0;
    if (fido_dev_info_manifest(infos.list, kMaxDevices, &found) != FIDO_OK || found == 0)
        return status_message(wire::DeviceStatus::NoDevice);
    std::vector<KeySlot> slots = open_keys(infos, found, Clock::now() + timeout);
    if (slots.empty()) return status_message(wire::DeviceStatus::NoDevice);

    // The PIN is asked before the touch prompt, once, when an ask may need it; it goes only to a key touched
    // in an ask that needs it (KeyWait). Where only some asks need it, a key of another ask needs none, so no
    // PIN given is no reason to stop.
    Secret pin;
    if (uv_somewhere) {
        const auto any = [&](bool KeySlot::*has) {
            return std::any_of(slots.begin(), slots.end(), [&](const KeySlot& s) { return s.*has; });
        };
        if (any(&KeySlot::has_pin)) {
            auto reply = conv.ask(req.pin_prompt, false);
            if (reply.status != Asker::Status::Ok) return cancelled(reply.status);
            if (reply.text.empty() && uv_everywhere) return status_message(wire::DeviceStatus::PinRequired);
            pin = std::move(reply.text);
        } else if (!any(&KeySlot::has_uv) && uv_everywhere) {
            return status_message(wire::DeviceStatus::PinRequired);
        }
    }

    // Before any key is asked anything that may wait: only the key knows whether it waits for a touch, even
    // for the touch-less probe. Shown even under PAM_SILENT (sudo always passes it): the person has to act,
    // or the login just hangs. Once for all the request's asks.
    conv.info(req.text);
    // One deadline for the whole wait, whatever the number of keys and of asks, counted from the prompt (not
    // from the PIN the person typed before it): the person was told touch_timeout.
    KeyWait(asks, Clock::now() + timeout, pin).run(slots);
    pin.clear();

    const KeySlot* answered = nullptr;  // the key that answered for good, if one did
    bool cannot_verify = false;         // a key that may hold a credential cannot verify the person
    bool unanswered = false;            // a key that may hold a credential did not answer in time
    for (const auto& s : slots) {
        if (s.said_no) continue;
        if (answered_for_good(s.result)) {
            if (answered == nullptr || s.result == FIDO_OK) answered = &s;
        } else if (s.result == FIDO_ERR_PIN_REQUIRED) {
            cannot_verify = true;
        } else {
            unanswered = true;
        }
    }
    if (answered == nullptr)
        return status_message(cannot_verify ? wire::DeviceStatus::PinRequired
                              : unanswered  ? wire::DeviceStatus::Timeout
                                            : wire::DeviceStatus::NoDevice);
    if (answered->result != FIDO_OK) return status_message(status_for(answered->result));
    fido_assert_t* a = answered->assertion.get();
    if (a == nullptr || fido_assert_count(a) != 1) return status_message(wire::DeviceStatus::Error);

    return protocol::Assertion{
        wire::DeviceStatus::Ok, std::string(bytes(fido_assert_id_ptr(a, 0), fido_assert_id_len(a, 0))),
        std::string(bytes(fido_assert_authdata_ptr(a, 0), fido_assert_authdata_len(a, 0))),
        std::string(bytes(fido_assert_sig_ptr(a, 0), fido_assert_sig_len(a, 0))),
        std::string(bytes(fido_assert_user_id_ptr(a, 0), fido_assert_user_id_len(a, 0)))};
}

namespace {

// Before the PIN goes to the key that is to make a credential: a touch. A key checks a PIN without one and
// counts each wrong PIN against its retries (see the assertion's gate above), and enrolment picks the first
// key listed, which may be another person's. No credential exists yet to sign a proof of the touch, so this
// is the key's answer to CTAP's touch request (fido_dev_get_touch_begin), polled until the deadline.
int touched(fido_dev_t* dev, Clock::time_point deadline) {
    if (const int r = fido_dev_get_touch_begin(dev); r != FIDO_OK) return r;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            fido_dev_cancel(dev);
            return FIDO_ERR_USER_ACTION_TIMEOUT;
        }
        int touch = 0;
        const int r = fido_dev_get_touch_status(dev, &touch, static_cast<int>(std::min<long>(left, 200)));
        if (r != FIDO_OK) {
            fido_dev_cancel(dev);
            return r;
        }
        if (touch != 0) return FIDO_OK;
    }
}

}  // namespace

CredentialReply make_credential(const protocol::CredentialRequest& req, Asker& asker) {
    const auto failed = [](wire::DeviceStatus s) { return status_only<protocol::Credential>(s); };
    const std::string& cdh = req.client_data_hash;
    const std::string& rp = req.rp_id;
    const std::string& user_id = req.user_id;
    const std::string& user = req.user_name;
    const int alg = req.algorithm;
    if (cdh.size() != 32 || rp.empty() || user_id.empty() || user.empty())
        return failed(wire::DeviceStatus::Error);
    const bool uv_required = req.user_verification;
    const int timeout_ms = static_cast<int>(req.timeout_ms);

    fido_init(0);
    DevInfoList infos(kMaxDevices);
    if (infos.list == nullptr) return failed(wire::DeviceStatus::Error);
    std::size_t found = 0;
    if (fido_dev_info_manifest(infos.list, kMaxDevices, &found) != FIDO_OK || found == 0)
        return failed(wire::DeviceStatus::NoDevice);
    Dev dev(fido_dev_new_with_info(fido_dev_info_ptr(infos.list, 0)));
    if (!dev || fido_dev_open_with_info(dev.get()) != FIDO_OK) return failed(wire::DeviceStatus::Error);
    fido_dev_set_timeout(dev.get(), timeout_ms);

    Cred c(fido_cred_new());
    if (!c || fido_cred_set_type(c.get(), alg) != FIDO_OK ||
        fido_cred_set_clientdata_hash(c.get(), uchars(cdh), cdh.size()) != FIDO_OK ||
        fido_cred_set_rp(c.get(), rp.c_str(), nullptr) != FIDO_OK ||
        fido_cred_set_user(c.get(), uchars(user_id), user_id.size(), user.c_str(), user.c_str(), nullptr) !=
            FIDO_OK ||
        fido_cred_set_rk(c.get(), FIDO_OPT_OMIT) != FIDO_OK)
        return failed(wire::DeviceStatus::Error);
    for (const auto& id : req.exclude_ids)
        if (fido_cred_exclude(c.get(), uchars(id), id.size()) != FIDO_OK)
            return failed(wire::DeviceStatus::Error);

    // A key with a PIN needs it to make a credential; ask for it only then.
    Secret pin;
    if (fido_dev_has_pin(dev.get())) {
        auto reply = asker.ask(req.pin_prompt, false);
        if (reply.status != Asker::Status::Ok) return cancelled(reply.status);
        pin = std::move(reply.text);
    } else if (uv_required && !fido_dev_has_uv(dev.get())) {
        return failed(wire::DeviceStatus::PinRequired);
    }
    if (uv_required && pin.empty() && fido_cred_set_uv(c.get(), FIDO_OPT_TRUE) != FIDO_OK)
        return failed(wire::DeviceStatus::Error);

    asker.info(req.text);
    if (!pin.empty()) {
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        if (const int t = touched(dev.get(), deadline); t != FIDO_OK) {
            pin.clear();
            return failed(status_for(t));
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        fido_dev_set_timeout(dev.get(), static_cast<int>(std::max<long>(left.count(), 1)));
    }
    const int r = fido_dev_make_cred(dev.get(), c.get(), pin.empty() ? nullptr : pin.c_str());
    pin.clear();
    if (r != FIDO_OK) {
        fido_dev_cancel(dev.get());
        return failed(r == FIDO_ERR_CREDENTIAL_EXCLUDED ? wire::DeviceStatus::Denied : status_for(r));
    }
    return protocol::Credential{
        wire::DeviceStatus::Ok,
        fido_cred_fmt(c.get()) ? fido_cred_fmt(c.get()) : "",
        std::string(bytes(fido_cred_authdata_ptr(c.get()), fido_cred_authdata_len(c.get()))),
        std::string(bytes(fido_cred_sig_ptr(c.get()), fido_cred_sig_len(c.get()))),
        std::string(bytes(fido_cred_x5c_ptr(c.get()), fido_cred_x5c_len(c.get()))),
        std::string(bytes(fido_cred_id_ptr(c.get()), fido_cred_id_len(c.get()))),
        std::string(bytes(fido_cred_pubkey_ptr(c.get()), fido_cred_pubkey_len(c.get()))),
        static_cast<std::int32_t>(fido_cred_type(c.get()))};
}

}  // namespace pp::client
