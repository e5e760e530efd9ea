// Writes the seeds that need the project's own encoder or a signature: wire messages, signed ID tokens and
// key sets, security-key assertions and attestations, credential-store records and pam-u2f lines made with
// the fixed keys of fuzz_keys.cpp. Run once and check the output in:
//     fuzz_seed_corpus tests/fuzz/corpus
// Hand-written seeds (configuration files, user-pool answers) live next to them as plain files.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "base64.hpp"
#include "fuzz_keys.hpp"
#include "fuzz_support.hpp"
#include "messages.hpp"
#include "pool_protocol.hpp"
#include "wire.hpp"

namespace fs = std::filesystem;
using pp::helper::KeyAlgorithm;
using pp::wire::Message;
using pp::wire::Tag;
using pp::wire::Type;

namespace {

fs::path g_root;

void write(const std::string& target, const std::string& name, std::string_view bytes) {
    const fs::path dir = g_root / target;
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

std::string sha256(std::string_view data) {
    std::string out(32, '\0');
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &n, EVP_sha256(),
               nullptr);
    return out;
}

// RS256 / ES256 (DER) over SHA-256, or pure Ed25519.
std::string sign(EVP_PKEY* key, std::string_view message) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const EVP_MD* md = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
    std::size_t n = 0;
    if (ctx == nullptr || EVP_DigestSignInit(ctx, nullptr, md, nullptr, key) != 1 ||
        EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1)
        throw std::runtime_error("EVP_DigestSign");
    std::string out(n, '\0');
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
        throw std::runtime_error("EVP_DigestSign");
    EVP_MD_CTX_free(ctx);
    out.resize(n);
    return out;
}

std::string base64(std::string_view bytes) {
    const auto s =
        pp::base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    return std::string(s.view());
}

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const char c : bytes) {
        out.push_back(digits[static_cast<unsigned char>(c) >> 4]);
        out.push_back(digits[static_cast<unsigned char>(c) & 0xF]);
    }
    return out;
}

// --- CBOR, as much as authData needs.
std::string cbor_head(unsigned major, std::uint64_t value) {
    std::string out;
    const auto m = static_cast<char>(major << 5);
    if (value < 24) {
        out.push_back(static_cast<char>(m | static_cast<char>(value)));
    } else if (value < 0x100) {
        out.push_back(static_cast<char>(m | 24));
        out.push_back(static_cast<char>(value));
    } else {
        out.push_back(static_cast<char>(m | 25));
        out.push_back(static_cast<char>(value >> 8));
        out.push_back(static_cast<char>(value & 0xFF));
    }
    return out;
}
std::string cbor_int(int v) {
    return v >= 0 ? cbor_head(0, static_cast<std::uint64_t>(v))
                  : cbor_head(1, static_cast<std::uint64_t>(-1 - v));
}
std::string cbor_bytes(std::string_view raw) {
    return cbor_head(2, raw.size()) + std::string(raw);
}

std::string cose_key(KeyAlgorithm alg) {
    const std::string pk = pp::fuzz::raw_public_key(alg);
    if (alg == KeyAlgorithm::Es256)
        return cbor_head(5, 5) + cbor_int(1) + cbor_int(2) + cbor_int(3) + cbor_int(-7) + cbor_int(-1) +
               cbor_int(1) + cbor_int(-2) + cbor_bytes(pk.substr(0, 32)) + cbor_int(-3) +
               cbor_bytes(pk.substr(32));
    return cbor_head(5, 4) + cbor_int(1) + cbor_int(1) + cbor_int(3) + cbor_int(-8) + cbor_int(-1) +
           cbor_int(6) + cbor_int(-2) + cbor_bytes(pk);
}

std::string raw_auth_data(std::uint8_t flags, std::uint32_t counter, std::string_view rest = {}) {
    std::string out = sha256(pp::fuzz::kRpId);
    out.push_back(static_cast<char>(flags));
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((counter >> shift) & 0xFF));
    return out + std::string(rest);
}

std::string attested(std::string_view cred_id, KeyAlgorithm alg) {
    std::string out(16, '\0');  // aaguid
    out.push_back(static_cast<char>(cred_id.size() >> 8));
    out.push_back(static_cast<char>(cred_id.size() & 0xFF));
    return out + std::string(cred_id) + cose_key(alg);
}

EVP_PKEY* key_for(KeyAlgorithm alg) {
    return alg == KeyAlgorithm::Es256 ? pp::fuzz::p256_key() : pp::fuzz::ed25519_key();
}

std::string cred_id_for(KeyAlgorithm alg) {
    return alg == KeyAlgorithm::Es256 ? "fuzz-credential-es256" : "fuzz-credential-eddsa";
}

// A self-signed certificate for the P-256 key: the attestation certificate of "packed" and "fido-u2f".
std::string certificate() {
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 60L * 60 * 24 * 365 * 30);
    X509_set_pubkey(x, pp::fuzz::p256_key());
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("fuzz attestation"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, pp::fuzz::p256_key(), EVP_sha256()) == 0) throw std::runtime_error("X509_sign");
    unsigned char* der = nullptr;
    const int n = i2d_X509(x, &der);
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    X509_free(x);
    return out;
}

std::string message(const Message& m) {
    return std::string(m.encode().view());
}

// ---------------------------------------------------------------------------------------------------------

struct Assertion {
    std::string auth_data, signature;
};

Assertion assertion(KeyAlgorithm alg, std::uint8_t flags, std::uint32_t counter) {
    const std::string raw = raw_auth_data(flags, counter);
    return {cbor_bytes(raw), sign(key_for(alg), raw + pp::fuzz::client_data_hash())};
}

void assertions() {
    using pp::fuzz::field_bytes;
    for (const auto alg : {KeyAlgorithm::Es256, KeyAlgorithm::EdDsa}) {
        const std::string tag = alg == KeyAlgorithm::Es256 ? "es256" : "eddsa";
        const std::uint8_t alg_bit = alg == KeyAlgorithm::EdDsa ? 2 : 0;
        const auto ok = assertion(alg, 0x05, 7);
        write("assertion", "ok-uv-" + tag,
              std::string(1, static_cast<char>(1 | alg_bit)) + field_bytes(ok.auth_data) + ok.signature);
        const auto up = assertion(alg, 0x01, 0);
        write("assertion", "ok-no-counter-" + tag,
              std::string(1, static_cast<char>(alg_bit)) + field_bytes(up.auth_data) + up.signature);
        const auto regressed = assertion(alg, 0x01, 3);
        write("assertion", "counter-regressed-" + tag,
              std::string(1, static_cast<char>(4 | alg_bit)) + field_bytes(regressed.auth_data) +
                  regressed.signature);
    }
    // Extensions after the fixed fields (a CBOR map: {"credProtect": 1}).
    const std::string raw =
        raw_auth_data(0x81, 9, cbor_head(5, 1) + cbor_head(3, 11) + "credProtect" + cbor_int(1));
    write("assertion", "extensions-es256",
          std::string(1, '\0') + pp::fuzz::field_bytes(cbor_bytes(raw)) +
              sign(pp::fuzz::p256_key(), raw + pp::fuzz::client_data_hash()));
}

struct Attestation {
    std::string fmt, auth_data, signature, x5c, cred_id, public_key;
};

Attestation attestation(KeyAlgorithm alg, const std::string& fmt, std::uint8_t flags) {
    Attestation a;
    a.fmt = fmt;
    a.cred_id = cred_id_for(alg);
    a.public_key = pp::fuzz::raw_public_key(alg);
    const std::string raw = raw_auth_data(flags, 1, attested(a.cred_id, alg));
    a.auth_data = cbor_bytes(raw);
    if (fmt == "packed") {
        a.signature = sign(key_for(alg), raw + pp::fuzz::client_data_hash());
    } else if (fmt == "packed-x5c") {
        a.fmt = "packed";
        a.x5c = certificate();
        a.signature = sign(pp::fuzz::p256_key(), raw + pp::fuzz::client_data_hash());
    } else if (fmt == "fido-u2f") {
        a.x5c = certificate();
        a.signature =
            sign(pp::fuzz::p256_key(), std::string(1, '\0') + sha256(pp::fuzz::kRpId) +
                                           pp::fuzz::client_data_hash() + a.cred_id + '\x04' + a.public_key);
    }
    return a;
}

void attestations() {
    using pp::fuzz::field_bytes;
    const auto emit = [](const std::string& name, std::uint8_t flags, const Attestation& a) {
        write("attestation", name,
              std::string(1, static_cast<char>(flags)) + field_bytes(a.fmt) + field_bytes(a.auth_data) +
                  field_bytes(a.signature) + field_bytes(a.x5c) + field_bytes(a.cred_id) +
                  field_bytes(a.public_key));
    };
    // flags: bits 0-1 fmt (0 none, 1 packed, 2 fido-u2f), bit 2 UV required, bits 3-4 alg (0 ES256, 1 EdDSA).
    emit("none-es256", 0, attestation(KeyAlgorithm::Es256, "none", 0x41));
    emit("none-eddsa", 0 | 8, attestation(KeyAlgorithm::EdDsa, "none", 0x41));
    emit("packed-self-es256", 1, attestation(KeyAlgorithm::Es256, "packed", 0x41));
    emit("packed-self-eddsa-uv", 1 | 4 | 8, attestation(KeyAlgorithm::EdDsa, "packed", 0x45));
    emit("packed-x5c-es256", 1, attestation(KeyAlgorithm::Es256, "packed-x5c", 0x41));
    emit("fido-u2f-es256", 2, attestation(KeyAlgorithm::Es256, "fido-u2f", 0x41));
    emit("fmt-field-tpm", 3, attestation(KeyAlgorithm::Es256, "tpm", 0x41));
}

void tokens() {
    using pp::base64url_encode;
    const auto jwt = [](const std::string& header, const std::string& payload) {
        const std::string signed_part = base64url_encode(header) + "." + base64url_encode(payload);
        return signed_part + "." + base64url_encode(sign(pp::fuzz::rsa_key(), signed_part));
    };
    const std::string header = R"({"kid":")" + std::string(pp::fuzz::kKid) + R"(","alg":"RS256"})";
    const std::string iss = R"("iss":")" + std::string(pp::fuzz::kIssuer) + R"(")";
    const std::string aud = R"("aud":")" + std::string(pp::fuzz::kClientId) + R"(")";
    const std::string times = R"("iat":1799999000,"exp":1800003600,"auth_time":1799999000)";
    const std::vector<std::pair<std::string, std::string>> payloads = {
        {"id-token",
         "{" + iss + "," + aud + R"(,"sub":"3c46320b-c60e-4a21-9d64-5829bfede1c4","token_use":"id",)" +
             times +
             R"(,"cognito:username":"alice","email":"alice@example.com","email_verified":true,)"
             R"("phone_number":"+15555550123","phone_number_verified":"false","custom:unix_user":"alice",)"
             R"("cognito:groups":["admins"],"event_id":"e1","jti":"j1","origin_jti":"o1"})"},
        {"aud-array-nbf",
         "{" + iss + R"(,"aud":["other",")" + std::string(pp::fuzz::kClientId) +
             R"("],"sub":"u-2","token_use":"id","iat":1799999000.5,"exp":1800003600.25,"nbf":1799999000})"},
        {"expired",
         "{" + iss + "," + aud + R"(,"sub":"u-3","token_use":"id","iat":1700000000,"exp":1700003600})"},
        {"access-token", "{" + iss + R"(,"client_id":"fuzzclient123","sub":"u-4","token_use":"access",)" +
                             times + R"(,"scope":"aws.cognito.signin.user.admin","username":"alice"})"},
    };
    for (const auto& [name, payload] : payloads) {
        write("jwt", name, jwt(header, payload));
        write("id_claims", name, payload);
    }
    write("jwt", "unknown-kid", jwt(R"({"kid":"rotated","alg":"RS256"})", payloads[0].second));
    write("jwt", "alg-none",
          base64url_encode(R"({"kid":"fuzz-key-1","alg":"none"})") + "." +
              base64url_encode(payloads[0].second) + ".");
    write("jwt", "crit", jwt(R"({"kid":"fuzz-key-1","alg":"RS256","crit":["exp"]})", payloads[0].second));

    write("jwks", "one-key", pp::fuzz::jwks());
    write("jwks", "mixed",
          R"({"keys":[{"kty":"EC","crv":"P-256","kid":"ec","x":"AAAA","y":"AAAA","alg":"ES256","use":"sig"},)"
          R"({"kty":"RSA","kid":"enc","use":"enc","alg":"RSA-OAEP","n":"AQAB","e":"AQAB"},)"
          R"({"kty":"RSA","kid":"small","alg":"RS256","n":"wHvPLj9UKQ","e":"AQAB"},)" +
              pp::fuzz::jwk() + R"(,"not an object",{"kid":7}]})");
}

void wire_messages() {
    using pp::wire::DeviceStatus;
    using pp::wire::Outcome;
    // Module -> helper.
    write("wire_to_helper", "begin",
          message(Message(Type::Begin)
                      .add(Tag::User, "alice")
                      .add(Tag::Service, "sshd")
                      .add(Tag::Rhost, "192.0.2.7")
                      .add(Tag::Tty, "ssh")
                      .add(Tag::Ruser, "")));
    // A setuid program's Begin (polkit-agent-helper-1 run by nobody): PAM_RUSER the user, and the real uid.
    write(
        "wire_to_helper", "begin-real-uid",
        message(
            pp::protocol::Begin{"alice", "polkit-1", "", "", "alice", std::nullopt, false, 65534}.encode()));
    write("wire_to_helper", "answer", message(Message(Type::Answer).add(Tag::Text, "12345678")));
    write("wire_to_helper", "cancel",
          message(Message(Type::Cancel).add(Tag::Outcome, static_cast<std::uint32_t>(Outcome::Abort))));
    for (const auto alg : {KeyAlgorithm::Es256, KeyAlgorithm::EdDsa}) {
        const auto a = assertion(alg, 0x05, 7);
        write("wire_to_helper", std::string("assertion-") + (alg == KeyAlgorithm::Es256 ? "es256" : "eddsa"),
              message(Message(Type::Assertion)
                          .add(Tag::DeviceStatus, static_cast<std::uint32_t>(DeviceStatus::Ok))
                          .add(Tag::CredId, cred_id_for(alg))
                          .add(Tag::AuthData, a.auth_data)
                          .add(Tag::Signature, a.signature)
                          .add(Tag::UserHandle, "alice")));
    }
    write("wire_to_helper", "assertion-no-device",
          message(Message(Type::Assertion)
                      .add(Tag::DeviceStatus, static_cast<std::uint32_t>(DeviceStatus::NoDevice))));
    const auto packed = attestation(KeyAlgorithm::Es256, "packed", 0x41);
    write("wire_to_helper", "credential-packed",
          message(Message(Type::Credential)
                      .add(Tag::DeviceStatus, static_cast<std::uint32_t>(DeviceStatus::Ok))
                      .add(Tag::Fmt, packed.fmt)
                      .add(Tag::AuthData, packed.auth_data)
                      .add(Tag::Signature, packed.signature)
                      .add(Tag::X5c, "")
                      .add(Tag::CredId, packed.cred_id)
                      .add(Tag::PublicKey, packed.public_key)
                      .add(Tag::Algorithm, static_cast<std::uint32_t>(-7))));
    write("wire_to_helper", "manage-list",
          message(Message(Type::Manage).add(Tag::Op, "list").add(Tag::User, "alice")));
    write("wire_to_helper", "manage-rename",
          message(Message(Type::Manage)
                      .add(Tag::Op, "rename")
                      .add(Tag::User, "alice")
                      .add(Tag::CredId, cred_id_for(KeyAlgorithm::Es256))
                      .add(Tag::Text, "office key")));
    const std::string pk = pp::fuzz::raw_public_key(KeyAlgorithm::Es256);
    write("wire_to_helper", "manage-import",
          message(Message(Type::Manage)
                      .add(Tag::Op, "import")
                      .add(Tag::User, "alice")
                      .add(Tag::RpId, "pam://fuzzhost")
                      .add(Tag::ImportData, "alice:" + base64(cred_id_for(KeyAlgorithm::Es256)) + "," +
                                                base64(pk) + ",es256,+presence\n")));

    // Helper -> module.
    write("wire_to_module", "prompt",
          message(Message(Type::Prompt)
                      .add(Tag::Style, static_cast<std::uint32_t>(pp::wire::PromptStyle::EchoOff))
                      .add(Tag::Text, "Code sent to a***@e***: ")));
    Message key_request(Type::KeyRequest);
    key_request.add(Tag::RpId, pp::fuzz::kRpId)
        .add(Tag::ClientDataHash, pp::fuzz::client_data_hash())
        .add(Tag::UserPresence, 1u)
        .add(Tag::UserVerification, 2u)
        .add(Tag::TimeoutMs, 30000u)
        .add(Tag::Text, "Touch your security key.")
        .add(Tag::PinPrompt, "Security key PIN: ")
        .add(Tag::CredId, cred_id_for(KeyAlgorithm::Es256))
        .add(Tag::CredId, cred_id_for(KeyAlgorithm::EdDsa));
    write("wire_to_module", "key-request", message(key_request));
    // With the credentials' public keys, as a local key login asks (ES256, EdDSA, one not known).
    pp::protocol::AssertionRequest with_keys;
    with_keys.rp_id = pp::fuzz::kRpId;
    with_keys.client_data_hash = pp::fuzz::client_data_hash();
    with_keys.user_verification = true;
    with_keys.cred_ids = {cred_id_for(KeyAlgorithm::Es256), cred_id_for(KeyAlgorithm::EdDsa), "pool"};
    with_keys.cred_keys = {{-7, pp::fuzz::raw_public_key(KeyAlgorithm::Es256)},
                           {-8, pp::fuzz::raw_public_key(KeyAlgorithm::EdDsa)},
                           {}};
    write("wire_to_module", "key-request-keys", message(with_keys.encode()));
    write("wire_to_module", "credential-request",
          message(Message(Type::CredentialRequest)
                      .add(Tag::RpId, pp::fuzz::kRpId)
                      .add(Tag::ClientDataHash, pp::fuzz::client_data_hash())
                      .add(Tag::UserId, "alice")
                      .add(Tag::User, "alice")
                      .add(Tag::CredId, cred_id_for(KeyAlgorithm::Es256))
                      .add(Tag::Algorithm, static_cast<std::uint32_t>(-7))
                      .add(Tag::UserVerification, 0u)
                      .add(Tag::TimeoutMs, 30000u)
                      .add(Tag::Text, "Touch your security key.")
                      .add(Tag::PinPrompt, "Security key PIN: ")));
    write("wire_to_module", "listing",
          message(Message(Type::Listing)
                      .add(Tag::Record,
                           "id=ZnV6eg\tname=office key\talg=es256\tuv=yes\tcreated=1800000000\t"
                           "last_used=0\trp_id=pam://fuzz")
                      .add(Tag::Record,
                           "id=ZnV6eh\tname=spare\talg=eddsa\tuv=no\tcreated=1800000001\t"
                           "last_used=1800000100\trp_id=pam://fuzz")));
    write("wire_to_module", "link",
          message(Message(Type::Link)
                      .add(Tag::Text,
                           "Open this link on your phone or computer and sign in. The page then shows a code "
                           "for alice on host.")
                      .add(Tag::Url, "https://auth.example.com/oauth2/authorize?response_type=code&state=x")
                      .add(Tag::Qr, 1u)));
    write("wire_to_module", "started", message(Message(Type::Started).add(Tag::LoginId, "0123456789abcdef")));
    write("wire_to_module", "result-success",
          message(Message(Type::Result)
                      .add(Tag::Outcome, static_cast<std::uint32_t>(Outcome::Success))
                      .add(Tag::User, "alice")
                      .add(Tag::Text, "Signed in.")));
    write("wire_to_module", "result-maxtries",
          message(Message(Type::Result)
                      .add(Tag::Outcome, static_cast<std::uint32_t>(Outcome::MaxTries))
                      .add(Tag::Text, "Sign-in failed.")));
}

void stored_records() {
    using pp::base64url_encode;
    std::string file;
    for (const auto alg : {KeyAlgorithm::Es256, KeyAlgorithm::EdDsa}) {
        file += "v1\t" + base64url_encode(cred_id_for(alg)) + "\t" +
                (alg == KeyAlgorithm::Es256 ? "-7" : "-8") + "\t" +
                base64url_encode(pp::fuzz::raw_public_key(alg)) + "\tpam://fuzz\t1800000000\t" +
                (alg == KeyAlgorithm::Es256 ? "1800000500\t42\t1\toffice key"
                                            : "0\t0\t0\tback\\\\slash caf\xc3\xa9 \\x41");
        file += "\n";
    }
    write("credential_records", "two-keys", file);
    write("credential_records", "damaged",
          file + "v2\tfrom a newer version\n" + "v1\t*\t-7\tAAAA\tpam://fuzz\t1\t2\t3\t1\tbad id\n\n" +
              file.substr(0, file.find('\n')) + "\n");
}

void pam_u2f_lines() {
    const std::string es_id = cred_id_for(KeyAlgorithm::Es256), ed_id = cred_id_for(KeyAlgorithm::EdDsa);
    const std::string es_pk = pp::fuzz::raw_public_key(KeyAlgorithm::Es256);
    const std::string ed_pk = pp::fuzz::raw_public_key(KeyAlgorithm::EdDsa);
    write("pam_u2f_import", "authfile",
          "# written by pamu2fcfg\nalice:" + base64(es_id) + "," + base64(es_pk) + ",es256,+presence:" +
              base64(ed_id) + "," + base64(ed_pk) + ",eddsa,+presence+verification\n" + "bob:*," +
              base64(es_pk) + ",es256,+presence+pin\r\n\ncarol:" + pp::base64url_encode("old-u2f-handle") +
              "," + hex("\x04" + es_pk) + "\n");
    write("pam_u2f_import", "replaced-line",
          "alice:" + base64(es_id) + "," + base64(es_pk) + ",ES256,\nalice:" + base64(ed_id) + "," +
              base64(ed_pk) + ",EdDSA,+verification\ndave:AAAA,BBBB,rs256,\n");
}

// The network worker's replies (pool_reply: a byte choosing the operation, then the record) and the root
// helper's requests (pool_request: the record).
void pool_messages() {
    using pp::pool::Op;
    using pp::pool::Reply;
    const auto reply = [](const std::string& name, Op op, const Reply& r) {
        write("pool_reply", name,
              std::string(1, static_cast<char>(static_cast<int>(op) - 1)) +
                  std::string(pp::pool::encode_reply(r).view()));
    };
    Reply code;
    code.contacts = {{true, ""}};
    code.debug_lines = {"POST InitiateAuth: 200 in 12 ms"};
    code.step.emplace();
    code.step->challenge = "EMAIL_OTP";
    code.step->session = pp::Secret(std::string_view("AYABeJ-session"));
    code.step->parameters = {{"CODE_DELIVERY_DELIVERY_MEDIUM", "EMAIL"},
                             {"CODE_DELIVERY_DESTINATION", "a***@e***"},
                             {"USERNAME", "alice"}};
    code.step->available = {"EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"};
    reply("initiate-email-otp", Op::InitiateAuth, code);

    Reply passkey = code;
    passkey.step->challenge = "WEB_AUTHN";
    pp::webauthn::RequestOptions options;
    options.challenge = "Y2hhbGxlbmdlLWNoYWxsZW5nZQ";
    options.rp_id = "example.com";
    options.allow_credentials = {"\x01\x02\x03", "credential-2"};
    options.user_verification = "required";
    options.timeout_ms = 60000;
    passkey.step->request_options = options;
    reply("initiate-web-authn", Op::InitiateAuth, passkey);

    Reply signed_in;
    signed_in.contacts = {{true, ""}};
    signed_in.step.emplace();
    signed_in.step->id_token = pp::Secret(std::string_view("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"));
    signed_in.step->access_token = pp::Secret(std::string_view("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"));
    reply("respond-signed-in", Op::Respond, signed_in);

    Reply failed;
    failed.contacts = {{true, ""}};
    failed.error.emplace(pp::cognito::Failure::Rejected, "CodeMismatchException", "Invalid code received",
                         400);
    reply("respond-code-mismatch", Op::Respond, failed);
    Reply unreachable;
    unreachable.contacts = {{false, "connection refused"}};
    unreachable.error.emplace(pp::cognito::Failure::Unreachable, "", "connection refused");
    reply("initiate-unreachable", Op::InitiateAuth, unreachable);

    Reply jwks;
    jwks.document = R"({"keys":[{"kty":"RSA","kid":"k1","alg":"RS256","use":"sig","n":"AQAB","e":"AQAB"}]})";
    reply("jwks", Op::FetchJwks, jwks);

    Reply openid;
    openid.openid = pp::cognito::OpenIdConfiguration{"https://cognito-idp.eu-west-1.amazonaws.com/pool",
                                                     "https://cognito-idp.eu-west-1.amazonaws.com/pool/jwks",
                                                     std::nullopt, std::nullopt};
    reply("openid-configuration", Op::FetchOpenIdConfiguration, openid);

    Reply registration;
    registration.registration.emplace();
    registration.registration->options_json = R"({"challenge":"Y2hhbGxlbmdl"})";
    auto& creation = registration.registration->options;
    creation.challenge = "Y2hhbGxlbmdl";
    creation.rp_id = "example.com";
    creation.rp_name = "Example";
    creation.user_id = "sub-of-alice";
    creation.user_name = "alice";
    creation.algorithms = {-7, -257};
    creation.exclude_credentials = {"old"};
    creation.resident_key = "required";
    creation.user_verification = "preferred";
    reply("start-registration", Op::StartRegistration, registration);

    Reply list;
    pp::cognito::WebAuthnCredential credential;
    credential.credential_id = "credential-1";
    credential.friendly_name = "blue key";
    credential.relying_party_id = "example.com";
    credential.attachment = "cross-platform";
    credential.transports = {"usb", "nfc"};
    credential.created_at = 1700000000.5;
    list.credentials = {credential, credential};
    reply("list-credentials", Op::ListCredentials, list);
    reply("complete-registration", Op::CompleteRegistration, Reply{});
    reply("delete-credential", Op::DeleteCredential, Reply{});

    pp::pool::Request q;
    q.settings.api_url = "https://cognito-idp.eu-west-1.amazonaws.com/";
    q.settings.jwks_url = "https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json";
    q.settings.issuer = "https://cognito-idp.eu-west-1.amazonaws.com/pool";
    q.settings.client_id = "client-id";
    q.time_left_ms = 30000;
    q.op = Op::InitiateAuth;
    q.username = "alice@example.com";
    q.preferred_challenge = "EMAIL_OTP";
    q.context.ip_address = "192.0.2.1";
    q.secret_hash = pp::Secret(std::string_view("c2VjcmV0LWhhc2g="));
    write("pool_request", "initiate", pp::pool::encode_request(q).view());
    q.op = Op::Respond;
    q.challenge = "EMAIL_OTP";
    q.session = pp::Secret(std::string_view("AYABeJ-session"));
    q.answers = {{"EMAIL_OTP_CODE", pp::Secret(std::string_view("12345678"))}};
    write("pool_request", "respond", pp::pool::encode_request(q).view());
    pp::pool::Request fetch;
    fetch.op = Op::FetchJwks;
    fetch.settings = q.settings;
    fetch.settings.ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    fetch.settings.proxy = "http://proxy.example:3128";
    write("pool_request", "fetch-jwks", pp::pool::encode_request(fetch).view());
    pp::pool::Request remove = fetch;
    remove.op = Op::DeleteCredential;
    remove.access_token = pp::Secret(std::string_view("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"));
    remove.credential_id = "credential-1";
    write("pool_request", "delete-credential", pp::pool::encode_request(remove).view());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
        return 2;
    }
    g_root = argv[1];
    assertions();
    attestations();
    tokens();
    wire_messages();
    stored_records();
    pam_u2f_lines();
    pool_messages();
    return 0;
}
