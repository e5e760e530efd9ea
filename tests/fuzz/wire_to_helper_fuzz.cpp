// Messages from the module (or the command line) to the helper (protocol/wire.cpp): decoded, then read with
// the getters the helper uses for each type (helper/session.cpp, login.cpp, management.cpp), and what they
// carry handed to the same checks: key assertions and new credentials to helper/key_verification.cpp,
// imported authfiles to helper/pam_u2f_import.cpp.
#include <ctime>
#include <string>
#include <vector>

#include "credential_store.hpp"
#include "fuzz_keys.hpp"
#include "fuzz_support.hpp"
#include "identifiers.hpp"
#include "key_verification.hpp"
#include "pam_u2f_import.hpp"
#include "wire.hpp"

using namespace pp::wire;
using namespace pp::helper;

namespace {

const std::vector<StoredCredential>& enrolled() {
    static const std::vector<StoredCredential> credentials = [] {
        std::vector<StoredCredential> out;
        for (const auto alg : {KeyAlgorithm::Es256, KeyAlgorithm::EdDsa}) {
            StoredCredential c{pp::RpId(std::string(pp::fuzz::kRpId))};
            c.user = "alice";
            c.cred_id = alg == KeyAlgorithm::Es256 ? "fuzz-credential-es256" : "fuzz-credential-eddsa";
            c.alg = alg;
            c.public_key = pp::fuzz::raw_public_key(alg);
            c.nickname = "fuzz key";
            out.push_back(std::move(c));
        }
        return out;
    }();
    return credentials;
}

void read_as_helper(const Message& m) {
    switch (m.type()) {
        case Type::Begin:
            for (const Tag t : {Tag::User, Tag::Service, Tag::Rhost, Tag::Tty, Tag::Ruser})
                (void)std::string(m.get_or(t, ""));
            (void)valid_local_user(m.get_or(Tag::User, ""));
            (void)m.get(Tag::TestLogin);
            break;
        case Type::Answer:
            (void)pp::Secret(m.get_or(Tag::Text, ""));
            (void)parse_identifier(m.get_or(Tag::Text, ""), true);
            break;
        case Type::Cancel:
            (void)static_cast<Outcome>(
                m.get_u32(Tag::Outcome).value_or(static_cast<std::uint32_t>(Outcome::ConvErr)));
            break;
        case Type::Assertion: {
            const auto status = static_cast<DeviceStatus>(
                m.get_u32(Tag::DeviceStatus).value_or(static_cast<std::uint32_t>(DeviceStatus::Error)));
            if (status != DeviceStatus::Ok) break;
            const AssertionInput input{std::string(m.get_or(Tag::CredId, "")),
                                       std::string(m.get_or(Tag::AuthData, "")),
                                       std::string(m.get_or(Tag::Signature, ""))};
            for (const bool uv : {false, true}) {
                const auto r = verify_assertion(
                    {std::string(pp::fuzz::kRpId), pp::fuzz::client_data_hash(), uv}, input, enrolled());
                PP_FUZZ_CHECK(r.index < enrolled().size());
                (void)verdict_text(r.verdict);
            }
            break;
        }
        case Type::Credential: {
            const auto status = static_cast<DeviceStatus>(
                m.get_u32(Tag::DeviceStatus).value_or(static_cast<std::uint32_t>(DeviceStatus::Error)));
            if (status != DeviceStatus::Ok) break;
            const AttestationInput input{
                std::string(m.get_or(Tag::Fmt, "")),
                std::string(m.get_or(Tag::AuthData, "")),
                std::string(m.get_or(Tag::Signature, "")),
                std::string(m.get_or(Tag::X5c, "")),
                std::string(m.get_or(Tag::CredId, "")),
                std::string(m.get_or(Tag::PublicKey, "")),
                static_cast<int>(static_cast<std::int32_t>(m.get_u32(Tag::Algorithm).value_or(0)))};
            try {
                (void)verify_new_credential(
                    {std::string(pp::fuzz::kRpId), pp::fuzz::client_data_hash(), false}, input);
            } catch (const CredentialError&) {
            }
            break;
        }
        case Type::Manage: {
            const std::string op(m.get_or(Tag::Op, ""));
            (void)valid_local_user(m.get_or(Tag::User, ""));
            (void)valid_nickname(m.get_or(Tag::Text, ""));
            (void)std::string(m.get_or(Tag::CredId, ""));
            const std::string rp(m.get_or(Tag::RpId, ""));
            if (op == "import" && pp::RpId::valid(rp)) {
                std::vector<std::string> problems;
                (void)parse_pam_u2f_authfile(m.get_or(Tag::ImportData, ""), rp, 1'800'000'000, problems);
            }
            break;
        }
        default:
            // The helper refuses any other type as a protocol error.
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes = pp::fuzz::text(data, size);
    try {
        const Message m = Message::decode(bytes);
        // The encoding has one spelling per message: what decodes re-encodes to the same bytes.
        PP_FUZZ_CHECK(m.encode().view() == bytes);
        read_as_helper(m);
    } catch (const ProtocolError&) {
    }
    return 0;
}
