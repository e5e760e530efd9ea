#include "key_verification.hpp"

#include "authenticator_data.hpp"
#include "cbor_reader.hpp"
#include "crypto.hpp"
#include "fido_owners.hpp"
#include "rp_id.hpp"

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <unordered_map>

namespace pp::helper {
namespace {

// authData's layout and flags: webauthn/authenticator_data.hpp.
using webauthn::flag_attested;
using webauthn::flag_extensions;
using webauthn::flag_user_present;
using webauthn::flag_user_verified;
// An ES256 signature is at most 72 bytes of DER, an EdDSA one 64.
constexpr std::size_t kMaxSignatureBytes = 256;
constexpr std::size_t kMaxCertificateBytes = 8192;

using fido::owned;

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

std::string_view view(const unsigned char* p, std::size_t n) {
    return p == nullptr ? std::string_view{} : std::string_view(reinterpret_cast<const char*>(p), n);
}

// A stored key in the form fido_assert_verify takes: the es256_pk_t or eddsa_pk_t, with its COSE number.
class PublicKey {
  public:
    static std::optional<PublicKey> make(KeyAlgorithm alg, std::string_view key) {
        // es256_pk_from_ptr also takes longer input (and a leading 0x04); a stored key has exactly one form.
        if (key.size() != public_key_size(alg)) return std::nullopt;
        PublicKey pk;
        pk.cose_ = cose_number(alg);
        if (alg == KeyAlgorithm::Es256) {
            pk.es256_ = owned(es256_pk_new());
            if (es256_pk_from_ptr(pk.es256_.get(), key.data(), key.size()) != FIDO_OK) return std::nullopt;
        } else {
            pk.eddsa_ = owned(eddsa_pk_new());
            if (eddsa_pk_from_ptr(pk.eddsa_.get(), key.data(), key.size()) != FIDO_OK) return std::nullopt;
        }
        return pk;
    }
    [[nodiscard]] int cose() const noexcept { return cose_; }
    [[nodiscard]] const void* ptr() const noexcept {
        return es256_ ? static_cast<const void*>(es256_.get()) : static_cast<const void*>(eddsa_.get());
    }

  private:
    PublicKey() = default;
    int cose_ = 0;
    fido::Es256Key es256_;
    fido::EddsaKey eddsa_;
};

// ES256 keys of enrolled credentials in OpenSSL's form, kept for the helper's lifetime. libfido2's
// fido_assert_verify takes the key's coordinates and builds an EC key (and with it the P-256 group) on every
// call: ~20 of a verification's ~90 µs, on the path between the key's answer and the Result. A key is public
// and never changes for a credential id, so it is built once per distinct key; the cache is bounded (emptied
// when full) and shared by the login threads (OpenSSL keys may be used by several threads for verification).
class Es256Keys {
  public:
    // The key, or nullptr when the coordinates are not a point on P-256.
    std::shared_ptr<EVP_PKEY> get(std::string_view xy) {
        {
            const std::lock_guard lock(mutex_);
            if (const auto it = keys_.find(std::string(xy)); it != keys_.end()) return it->second;
        }
        auto key = build(xy);
        if (!key) return nullptr;
        const std::lock_guard lock(mutex_);
        if (keys_.size() >= kMaxKeys) keys_.clear();
        return keys_.emplace(std::string(xy), std::move(key)).first->second;
    }

  private:
    static constexpr std::size_t kMaxKeys = 256;

    static std::shared_ptr<EVP_PKEY> build(std::string_view xy) {
        // The uncompressed point 0x04 || x || y; OpenSSL refuses a point that is not on the curve.
        std::array<unsigned char, 65> point{0x04};
        if (xy.size() != point.size() - 1) return nullptr;
        std::copy(xy.begin(), xy.end(), point.begin() + 1);
        char group[] = "prime256v1";
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
            OSSL_PARAM_construct_end()};
        const std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
            EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr), EVP_PKEY_CTX_free);
        EVP_PKEY* key = nullptr;
        if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
            EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) != 1 ||
            key == nullptr) {
            EVP_PKEY_free(key);
            return nullptr;
        }
        return {key, EVP_PKEY_free};
    }

    std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<EVP_PKEY>> keys_;
};

Es256Keys& es256_keys() {
    static Es256Keys keys;
    return keys;
}

enum class Signature { Valid, Invalid, Unusable };

// The ES256 signature over SHA-256(authData || clientDataHash), as fido_assert_verify checks it for COSE
// ES256 (the DER signature through EVP_PKEY_verify), with the stored key from the cache.
Signature verify_es256(std::string_view xy, std::string_view raw_auth_data, std::string_view cdh,
                       std::string_view signature) {
    const auto key = es256_keys().get(xy);
    if (!key) return Signature::Unusable;
    std::array<unsigned char, 32> digest{};
    unsigned int n = 0;
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!md || EVP_DigestInit_ex(md.get(), sha256_md(), nullptr) != 1 ||
        EVP_DigestUpdate(md.get(), raw_auth_data.data(), raw_auth_data.size()) != 1 ||
        EVP_DigestUpdate(md.get(), cdh.data(), cdh.size()) != 1 ||
        EVP_DigestFinal_ex(md.get(), digest.data(), &n) != 1 || n != digest.size())
        return Signature::Unusable;
    const std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new(key.get(), nullptr), EVP_PKEY_CTX_free);
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) return Signature::Unusable;
    return EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                           signature.size(), digest.data(), digest.size()) == 1
               ? Signature::Valid
               : Signature::Invalid;
}

struct AuthData {
    std::string_view rp_id_hash;
    std::uint8_t flags = 0;
    std::uint32_t counter = 0;
    std::size_t size = 0;  // of the raw authData inside the CBOR byte string
    std::string_view raw;  // the raw authData
};

// The raw authData inside its CBOR byte string header (cbor_reader.hpp).
std::optional<std::string_view> cbor_byte_string(std::string_view cbor) {
    const auto bstr = webauthn::cbor::read_byte_string(cbor, webauthn::cbor::LengthForm::Any);
    if (bstr.problem != nullptr) return std::nullopt;
    return bstr.content;
}

// CTAP2 canonical CBOR: definite lengths only. COSE keys and extension maps nest two or three levels.
constexpr int kMaxCborDepth = 8;

// What follows the CBOR item at the start of `data`; nullopt when the item is malformed, has an indefinite
// length, nests deeper than kMaxCborDepth, or declares more bytes or items than `data` holds.
std::optional<std::string_view> skip_cbor_item(std::string_view data, int depth = 0) {
    if (data.empty() || depth > kMaxCborDepth) return std::nullopt;
    const auto initial = static_cast<unsigned char>(data[0]);
    const unsigned major = initial >> 5;
    const unsigned info = initial & 0x1F;
    data.remove_prefix(1);
    std::uint64_t argument = info;
    if (info >= 24 && info <= 27) {
        const std::size_t width = std::size_t{1} << (info - 24);
        if (data.size() < width) return std::nullopt;
        argument = 0;
        for (std::size_t i = 0; i < width; ++i)
            argument = (argument << 8) | static_cast<unsigned char>(data[i]);
        data.remove_prefix(width);
    } else if (info > 27) {
        return std::nullopt;
    }
    switch (major) {
        case 2:  // byte string
        case 3:  // text string
            if (argument > data.size()) return std::nullopt;
            return data.substr(argument);
        case 4:    // array
        case 5: {  // map: every item takes at least one byte
            const std::uint64_t per_entry = major == 5 ? 2 : 1;
            if (argument > data.size() / per_entry) return std::nullopt;
            for (std::uint64_t i = 0; i < argument * per_entry; ++i) {
                const auto rest = skip_cbor_item(data, depth + 1);
                if (!rest) return std::nullopt;
                data = *rest;
            }
            return data;
        }
        case 6:  // a tag and the item it tags
            return skip_cbor_item(data, depth + 1);
        default:  // integers, simple values, floats
            return data;
    }
}

// What follows the fixed fields (the COSE key of an attested credential, extensions) is read by libfido2
// through libcbor, which allocates the declared size of an array or map before reading its items: a few
// bytes claiming 2^60 items make it ask for exabytes. Found by fuzzing (tests/fuzz/corpus/attestation).
// Such data is refused here, before libfido2 sees it.
bool cbor_tail_fits(const std::string_view raw, const std::uint8_t flags) {
    std::string_view tail = raw.substr(webauthn::min_authenticator_data_bytes);
    if ((flags & flag_attested) != 0) {
        // aaguid (16 bytes), the credential id's length (2) and the id, then the COSE key.
        if (tail.size() < 18) return false;
        const std::size_t id_length = static_cast<std::size_t>(static_cast<unsigned char>(tail[16])) << 8 |
                                      static_cast<unsigned char>(tail[17]);
        if (tail.size() - 18 < id_length) return false;
        tail.remove_prefix(18 + id_length);
    }
    while (!tail.empty()) {
        const auto rest = skip_cbor_item(tail);
        if (!rest) return false;
        tail = *rest;
    }
    return true;
}

std::optional<AuthData> parse_auth_data(std::string_view cbor) {
    if (cbor.size() > webauthn::max_authenticator_data_bytes) return std::nullopt;
    const auto raw = cbor_byte_string(cbor);
    if (!raw || raw->size() < webauthn::min_authenticator_data_bytes) return std::nullopt;
    AuthData out;
    out.rp_id_hash = raw->substr(0, webauthn::flags_offset);
    out.flags = static_cast<std::uint8_t>((*raw)[webauthn::flags_offset]);
    for (std::size_t i = webauthn::sign_count_offset; i < webauthn::min_authenticator_data_bytes; ++i)
        out.counter = (out.counter << 8) | static_cast<unsigned char>((*raw)[i]);
    out.size = raw->size();
    out.raw = *raw;
    if (!cbor_tail_fits(*raw, out.flags)) return std::nullopt;
    return out;
}

bool rp_id_hash_matches(const AuthData& auth, const std::string& rp_id) {
    const Sha256Digest expected = sha256(rp_id);
    return CRYPTO_memcmp(expected.data(), auth.rp_id_hash.data(), expected.size()) == 0;
}

[[noreturn]] void refuse(const std::string& why) {
    throw CredentialError(why);
}

std::string_view algorithm_name(KeyAlgorithm alg) {
    return alg == KeyAlgorithm::Es256 ? "ES256" : "EdDSA";
}

// The attestation statement's signature, checked by libfido2 (which also repeats the rpIdHash and flag
// checks done before, and refuses extensions in authData that were not asked for).
void verify_attestation_signature(const AttestationPolicy& policy, const AttestationInput& input,
                                  fido_cred_t* cred) {
    if (input.signature.empty() || input.signature.size() > kMaxSignatureBytes)
        refuse("the attestation signature is missing or too long");
    if (input.x5c.size() > kMaxCertificateBytes) refuse("the attestation certificate is too long");
    if (fido_cred_set_clientdata_hash(cred, bytes(policy.client_data_hash), policy.client_data_hash.size()) !=
            FIDO_OK ||
        fido_cred_set_rp(cred, policy.rp_id.c_str(), nullptr) != FIDO_OK ||
        fido_cred_set_fmt(cred, input.fmt.c_str()) != FIDO_OK ||
        fido_cred_set_sig(cred, bytes(input.signature), input.signature.size()) != FIDO_OK ||
        fido_cred_set_uv(cred, policy.require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK ||
        (!input.x5c.empty() && fido_cred_set_x509(cred, bytes(input.x5c), input.x5c.size()) != FIDO_OK))
        refuse("the attestation statement cannot be read");
    // Without a certificate only self attestation is possible: the credential key signed its own creation.
    // With one, libfido2 checks the signature with the certificate's key as ES256 (the statement's own alg
    // is not relayed); the certificate itself is not chained to any vendor root.
    const int r = input.x5c.empty() ? fido_cred_verify_self(cred) : fido_cred_verify(cred);
    if (r == FIDO_ERR_INVALID_SIG) refuse("the attestation signature does not verify");
    if (r != FIDO_OK) refuse(std::string("the attestation could not be checked: ") + fido_strerr(r));
}

// libfido2's check of the signature (and of extensions in authData, none of which is asked for): Ok,
// BadSignature or Malformed.
AssertionVerdict verify_with_libfido2(const AssertionPolicy& policy, const AssertionInput& input,
                                      const StoredCredential& found) {
    const auto key = PublicKey::make(found.alg, found.public_key);
    if (!key) return AssertionVerdict::Malformed;
    const auto assertion = owned(fido_assert_new());
    if (fido_assert_set_count(assertion.get(), 1) != FIDO_OK ||
        fido_assert_set_clientdata_hash(assertion.get(), bytes(policy.client_data_hash),
                                        policy.client_data_hash.size()) != FIDO_OK ||
        fido_assert_set_rp(assertion.get(), policy.rp_id.c_str()) != FIDO_OK ||
        fido_assert_set_authdata(assertion.get(), 0, bytes(input.auth_data), input.auth_data.size()) !=
            FIDO_OK ||
        fido_assert_set_sig(assertion.get(), 0, bytes(input.signature), input.signature.size()) != FIDO_OK ||
        fido_assert_set_up(assertion.get(), FIDO_OPT_TRUE) != FIDO_OK ||
        fido_assert_set_uv(assertion.get(), policy.require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK)
        return AssertionVerdict::Malformed;
    const int r = fido_assert_verify(assertion.get(), 0, key->cose(), key->ptr());
    if (r == FIDO_ERR_INVALID_SIG) return AssertionVerdict::BadSignature;
    // Anything else left (an extension in authData that was not asked for) is not a well-formed answer.
    return r == FIDO_OK ? AssertionVerdict::Ok : AssertionVerdict::Malformed;
}

}  // namespace

bool valid_public_key(KeyAlgorithm alg, std::string_view key) {
    return PublicKey::make(alg, key).has_value();
}

AssertionResult verify_assertion(const AssertionPolicy& policy, const AssertionInput& input,
                                 const std::vector<StoredCredential>& candidates) {
    AssertionResult result{AssertionVerdict::UnknownCredential};
    const auto found = std::find_if(candidates.begin(), candidates.end(), [&](const StoredCredential& c) {
        return c.rp_id == policy.rp_id && c.cred_id == input.cred_id;
    });
    if (found == candidates.end()) return result;
    result.index = static_cast<std::size_t>(found - candidates.begin());

    result.verdict = AssertionVerdict::Malformed;
    const auto auth = parse_auth_data(input.auth_data);
    if (!auth || policy.client_data_hash.size() != kClientDataHashBytes || input.signature.empty() ||
        input.signature.size() > kMaxSignatureBytes)
        return result;
    // An assertion carries no attested credential; without extensions nothing may follow the fixed fields.
    if ((auth->flags & flag_attested) != 0 ||
        ((auth->flags & flag_extensions) == 0 && auth->size != webauthn::min_authenticator_data_bytes))
        return result;

    // These are repeated by fido_assert_verify, but it answers all of them with one error code; checking
    // them first gives the audit log the specific reason.
    if (!rp_id_hash_matches(*auth, policy.rp_id)) {
        result.verdict = AssertionVerdict::WrongRelyingParty;
        return result;
    }
    if ((auth->flags & flag_user_present) == 0) {
        result.verdict = AssertionVerdict::NoUserPresence;
        return result;
    }
    if (policy.require_uv && (auth->flags & flag_user_verified) == 0) {
        result.verdict = AssertionVerdict::NoUserVerification;
        return result;
    }

    if (found->alg == KeyAlgorithm::Es256 && (auth->flags & flag_extensions) == 0) {
        // The common case (the fixed fields alone: every check fido_assert_verify makes on them is made
        // above) with the kept key; extensions and EdDSA keys go through libfido2 below.
        const Signature s =
            verify_es256(found->public_key, auth->raw, policy.client_data_hash, input.signature);
        if (s == Signature::Unusable) return result;
        if (s == Signature::Invalid) {
            result.verdict = AssertionVerdict::BadSignature;
            return result;
        }
    } else if (const auto r = verify_with_libfido2(policy, input, *found); r != AssertionVerdict::Ok) {
        result.verdict = r;
        return result;
    }

    // A key that counts must count up: a repeat or a step back means a replay or a cloned key. A key that
    // never counts (always 0) is allowed, as WebAuthn allows it.
    if ((found->counter > 0 || auth->counter > 0) && auth->counter <= found->counter) {
        result.verdict = AssertionVerdict::CounterRegressed;
        return result;
    }
    result.verdict = AssertionVerdict::Ok;
    result.counter = auth->counter;
    result.uv = (auth->flags & flag_user_verified) != 0;
    return result;
}

std::string_view verdict_text(AssertionVerdict v) {
    switch (v) {
        case AssertionVerdict::Ok:
            return "ok";
        case AssertionVerdict::UnknownCredential:
            return "unknown credential";
        case AssertionVerdict::Malformed:
            return "malformed assertion";
        case AssertionVerdict::WrongRelyingParty:
            return "wrong relying party";
        case AssertionVerdict::NoUserPresence:
            return "no user presence";
        case AssertionVerdict::NoUserVerification:
            return "no user verification";
        case AssertionVerdict::BadSignature:
            return "bad signature";
        case AssertionVerdict::CounterRegressed:
            return "signature counter did not increase";
    }
    return "unknown verdict";
}

StoredCredential verify_new_credential(const AttestationPolicy& policy, const AttestationInput& input) {
    const auto alg = algorithm_from_cose(input.cose_alg);
    if (!alg)
        refuse("the key made a credential with COSE algorithm " + std::to_string(input.cose_alg) +
               "; only ES256 (-7) and EdDSA (-8) are accepted");
    if (policy.client_data_hash.size() != kClientDataHashBytes)
        refuse("the client data hash must be 32 bytes");
    if (!RpId::valid(policy.rp_id)) refuse("invalid relying-party id");
    const bool packed = input.fmt == "packed";
    const bool u2f = input.fmt == "fido-u2f";
    if (!packed && !u2f && input.fmt != "none") refuse("unsupported attestation format");
    if (u2f && (*alg != KeyAlgorithm::Es256 || input.x5c.empty()))
        refuse("a fido-u2f attestation needs an ES256 credential and a certificate");

    const auto auth = parse_auth_data(input.auth_data);
    if (!auth) refuse("the authenticator data is not a CBOR byte string holding at least the fixed fields");
    if (!rp_id_hash_matches(*auth, policy.rp_id)) refuse("the credential was made for another relying party");
    if ((auth->flags & flag_user_present) == 0) refuse("the key did not report user presence");
    if (policy.require_uv && (auth->flags & flag_user_verified) == 0)
        refuse("the key did not verify the user (PIN or biometric)");
    if ((auth->flags & flag_attested) == 0) refuse("the authenticator data holds no attested credential");
    if ((auth->flags & flag_extensions) != 0) refuse("the key returned extensions that were not asked for");
    if (input.cred_id.empty() || input.cred_id.size() > kMaxCredentialIdBytes) refuse("credential id length");

    const auto cred = owned(fido_cred_new());
    // The type must be set first: libfido2 then refuses a COSE key of any other algorithm in authData.
    if (fido_cred_set_type(cred.get(), input.cose_alg) != FIDO_OK ||
        fido_cred_set_authdata(cred.get(), bytes(input.auth_data), input.auth_data.size()) != FIDO_OK)
        refuse("the attested credential data does not parse or does not hold an " +
               std::string(algorithm_name(*alg)) + " key");
    // fido_cred_set_id would overwrite the id parsed from authData, so the ids are compared here instead.
    const auto attested_id = view(fido_cred_id_ptr(cred.get()), fido_cred_id_len(cred.get()));
    const auto attested_key = view(fido_cred_pubkey_ptr(cred.get()), fido_cred_pubkey_len(cred.get()));
    if (attested_id != input.cred_id) refuse("the credential id does not match the authenticator data");
    if (attested_key != input.public_key) refuse("the public key does not match the authenticator data");
    if (!valid_public_key(*alg, input.public_key))
        refuse("the public key is not a valid " + std::string(algorithm_name(*alg)) + " key");

    if (input.fmt == "none") {
        // Nothing to check: the first login with the credential proves the key holds it.
        if (!input.signature.empty() || !input.x5c.empty())
            refuse("a \"none\" attestation carries no signature or certificate");
    } else {
        verify_attestation_signature(policy, input, cred.get());
    }

    StoredCredential out{RpId(policy.rp_id)};
    out.cred_id = input.cred_id;
    out.alg = *alg;
    out.public_key = input.public_key;
    out.uv = (auth->flags & flag_user_verified) != 0;
    out.counter = auth->counter;
    return out;
}

}  // namespace pp::helper
