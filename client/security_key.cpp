#include "security_key.hpp"

#include <fido.h>

#include <memory>
#include <string>
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

struct DevDeleter {
    void operator()(fido_dev_t* d) const noexcept {
        fido_dev_close(d);
        fido_dev_free(&d);
    }
};
using Dev = std::unique_ptr<fido_dev_t, DevDeleter>;

struct AssertDeleter {
    void operator()(fido_assert_t* a) const noexcept { fido_assert_free(&a); }
};
using Assert = std::unique_ptr<fido_assert_t, AssertDeleter>;

wire::Message status_message(wire::DeviceStatus s, wire::Type type = wire::Type::Assertion) {
    wire::Message m(type);
    m.add(wire::Tag::DeviceStatus, static_cast<std::uint32_t>(s));
    return m;
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
Assert make_assertion(const wire::Message& req, bool up) {
    Assert a(fido_assert_new());
    if (!a) return a;
    const auto rp = std::string(req.get_or(wire::Tag::RpId, ""));
    const auto cdh = req.get_or(wire::Tag::ClientDataHash, "");
    if (fido_assert_set_rp(a.get(), rp.c_str()) != FIDO_OK ||
        fido_assert_set_clientdata_hash(a.get(), reinterpret_cast<const unsigned char*>(cdh.data()),
                                        cdh.size()) != FIDO_OK ||
        fido_assert_set_up(a.get(), up ? FIDO_OPT_TRUE : FIDO_OPT_FALSE) != FIDO_OK)
        return nullptr;
    for (const auto id : req.all(wire::Tag::CredId))
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

struct CredDeleter {
    void operator()(fido_cred_t* c) const noexcept { fido_cred_free(&c); }
};
using Cred = std::unique_ptr<fido_cred_t, CredDeleter>;

wire::Message cancelled(Asker::Status status) {
    wire::Message cancel(wire::Type::Cancel);
    cancel.add(wire::Tag::Outcome,
               static_cast<std::uint32_t>(status == Asker::Status::Cancelled ? wire::Outcome::Abort
                                                                             : wire::Outcome::ConvErr));
    return cancel;
}

}  // namespace

wire::Message get_assertion(const wire::Message& req, Asker& conv) {
    const auto cdh = req.get_or(wire::Tag::ClientDataHash, "");
    if (cdh.size() != 32 || req.get_or(wire::Tag::RpId, "").empty() || req.all(wire::Tag::CredId).empty())
        return status_message(wire::DeviceStatus::Error);
    const bool uv_required = req.get_u32(wire::Tag::UserVerification).value_or(0) == 2;
    const int timeout_ms = static_cast<int>(req.get_u32(wire::Tag::TimeoutMs).value_or(30000));

    fido_init(0);
    DevInfoList infos(kMaxDevices);
    if (infos.list == nullptr) return status_message(wire::DeviceStatus::Error);
    std::size_t found = 0;
    if (fido_dev_info_manifest(infos.list, kMaxDevices, &found) != FIDO_OK || found == 0)
        return status_message(wire::DeviceStatus::NoDevice);

    // Ask every key, without a touch, whether it holds one of the allowed credentials, so the person is asked
    // to touch only a key that can answer.
    std::vector<Dev> candidates;
    for (std::size_t i = 0; i < found && i < kMaxDevices; ++i) {
        const fido_dev_info_t* di = fido_dev_info_ptr(infos.list, i);
        Dev dev(fido_dev_new_with_info(di));
        if (!dev || fido_dev_open_with_info(dev.get()) != FIDO_OK) continue;
        fido_dev_set_timeout(dev.get(), timeout_ms);
        Assert probe = make_assertion(req, false);
        if (!probe) return status_message(wire::DeviceStatus::Error);
        const int r = fido_dev_get_assert(dev.get(), probe.get(), nullptr);
        if (r == FIDO_ERR_NO_CREDENTIALS) continue;
        candidates.push_back(std::move(dev));
    }
    if (candidates.empty()) return status_message(wire::DeviceStatus::NoDevice);

    fido_dev_t* dev = candidates.front().get();
    Assert a = make_assertion(req, req.get_u32(wire::Tag::UserPresence).value_or(1) != 0);
    if (!a) return status_message(wire::DeviceStatus::Error);

    Secret pin;
    if (uv_required) {
        if (fido_dev_has_pin(dev)) {
            auto reply = conv.ask(std::string(req.get_or(wire::Tag::PinPrompt, "Security key PIN: ")), false);
            if (reply.status != Asker::Status::Ok) return cancelled(reply.status);
            if (reply.text.empty()) return status_message(wire::DeviceStatus::PinRequired);
            pin = std::move(reply.text);
        } else if (!fido_dev_has_uv(dev)) {
            return status_message(wire::DeviceStatus::PinRequired);
        }
        if (fido_assert_set_uv(a.get(), FIDO_OPT_TRUE) != FIDO_OK)
            return status_message(wire::DeviceStatus::Error);
    }

    // Shown even under PAM_SILENT (sudo always passes it): the person has to act, or the login just hangs.
    conv.info(std::string(req.get_or(wire::Tag::Text, "Touch your security key.")));
    const int r = fido_dev_get_assert(dev, a.get(), pin.empty() ? nullptr : pin.c_str());
    pin.clear();
    if (r != FIDO_OK) {
        // Leave no key blinking for a touch nobody waits for any more.
        fido_dev_cancel(dev);
        return status_message(status_for(r));
    }
    if (fido_assert_count(a.get()) != 1) return status_message(wire::DeviceStatus::Error);

    wire::Message m(wire::Type::Assertion);
    m.add(wire::Tag::DeviceStatus, static_cast<std::uint32_t>(wire::DeviceStatus::Ok))
        .add(wire::Tag::CredId, bytes(fido_assert_id_ptr(a.get(), 0), fido_assert_id_len(a.get(), 0)))
        .add(wire::Tag::AuthData,
             bytes(fido_assert_authdata_ptr(a.get(), 0), fido_assert_authdata_len(a.get(), 0)))
        .add(wire::Tag::Signature, bytes(fido_assert_sig_ptr(a.get(), 0), fido_assert_sig_len(a.get(), 0)))
        .add(wire::Tag::UserHandle,
             bytes(fido_assert_user_id_ptr(a.get(), 0), fido_assert_user_id_len(a.get(), 0)));
    return m;
}

wire::Message make_credential(const wire::Message& req, Asker& asker) {
    constexpr auto kType = wire::Type::Credential;
    const auto cdh = req.get_or(wire::Tag::ClientDataHash, "");
    const auto rp = std::string(req.get_or(wire::Tag::RpId, ""));
    const auto user_id = req.get_or(wire::Tag::UserId, "");
    const auto user = std::string(req.get_or(wire::Tag::User, ""));
    const auto alg =
        static_cast<int>(req.get_u32(wire::Tag::Algorithm).value_or(static_cast<std::uint32_t>(COSE_ES256)));
    if (cdh.size() != 32 || rp.empty() || user_id.empty() || user.empty())
        return status_message(wire::DeviceStatus::Error, kType);
    const bool uv_required = req.get_u32(wire::Tag::UserVerification).value_or(0) == 2;
    const int timeout_ms = static_cast<int>(req.get_u32(wire::Tag::TimeoutMs).value_or(30000));

    fido_init(0);
    DevInfoList infos(kMaxDevices);
    if (infos.list == nullptr) return status_message(wire::DeviceStatus::Error, kType);
    std::size_t found = 0;
    if (fido_dev_info_manifest(infos.list, kMaxDevices, &found) != FIDO_OK || found == 0)
        return status_message(wire::DeviceStatus::NoDevice, kType);
    Dev dev(fido_dev_new_with_info(fido_dev_info_ptr(infos.list, 0)));
    if (!dev || fido_dev_open_with_info(dev.get()) != FIDO_OK)
        return status_message(wire::DeviceStatus::Error, kType);
    fido_dev_set_timeout(dev.get(), timeout_ms);

    Cred c(fido_cred_new());
    if (!c || fido_cred_set_type(c.get(), alg) != FIDO_OK ||
        fido_cred_set_clientdata_hash(c.get(), uchars(cdh), cdh.size()) != FIDO_OK ||
        fido_cred_set_rp(c.get(), rp.c_str(), nullptr) != FIDO_OK ||
        fido_cred_set_user(c.get(), uchars(user_id), user_id.size(), user.c_str(), user.c_str(), nullptr) !=
            FIDO_OK ||
        fido_cred_set_rk(c.get(), FIDO_OPT_OMIT) != FIDO_OK)
        return status_message(wire::DeviceStatus::Error, kType);
    for (const auto id : req.all(wire::Tag::CredId))
        if (fido_cred_exclude(c.get(), uchars(id), id.size()) != FIDO_OK)
            return status_message(wire::DeviceStatus::Error, kType);

    // A key with a PIN needs it to make a credential; ask for it only then.
    Secret pin;
    if (fido_dev_has_pin(dev.get())) {
        auto reply = asker.ask(std::string(req.get_or(wire::Tag::PinPrompt, "Security key PIN: ")), false);
        if (reply.status != Asker::Status::Ok) return cancelled(reply.status);
        pin = std::move(reply.text);
    } else if (uv_required && !fido_dev_has_uv(dev.get())) {
        return status_message(wire::DeviceStatus::PinRequired, kType);
    }
    if (uv_required && pin.empty() && fido_cred_set_uv(c.get(), FIDO_OPT_TRUE) != FIDO_OK)
        return status_message(wire::DeviceStatus::Error, kType);

    asker.info(std::string(req.get_or(wire::Tag::Text, "Touch your security key.")));
    const int r = fido_dev_make_cred(dev.get(), c.get(), pin.empty() ? nullptr : pin.c_str());
    pin.clear();
    if (r != FIDO_OK) {
        fido_dev_cancel(dev.get());
        return status_message(r == FIDO_ERR_CREDENTIAL_EXCLUDED ? wire::DeviceStatus::Denied : status_for(r),
                              kType);
    }
    wire::Message m(kType);
    m.add(wire::Tag::DeviceStatus, static_cast<std::uint32_t>(wire::DeviceStatus::Ok))
        .add(wire::Tag::Fmt, fido_cred_fmt(c.get()) ? fido_cred_fmt(c.get()) : "")
        .add(wire::Tag::AuthData, bytes(fido_cred_authdata_ptr(c.get()), fido_cred_authdata_len(c.get())))
        .add(wire::Tag::Signature, bytes(fido_cred_sig_ptr(c.get()), fido_cred_sig_len(c.get())))
        .add(wire::Tag::X5c, bytes(fido_cred_x5c_ptr(c.get()), fido_cred_x5c_len(c.get())))
        .add(wire::Tag::CredId, bytes(fido_cred_id_ptr(c.get()), fido_cred_id_len(c.get())))
        .add(wire::Tag::PublicKey, bytes(fido_cred_pubkey_ptr(c.get()), fido_cred_pubkey_len(c.get())))
        .add(wire::Tag::Algorithm, static_cast<std::uint32_t>(fido_cred_type(c.get())));
    return m;
}

}  // namespace pp::client
