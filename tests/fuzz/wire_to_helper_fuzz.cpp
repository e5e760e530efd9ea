// Messages from the module (or the command line) to the helper (protocol/wire.cpp): decoded, then decoded
// into the typed message the helper reads for each type (protocol/messages.cpp, as helper/session.cpp and
// helper/connection.cpp do), and what they carry handed to the same checks: key assertions and new
// credentials to helper/key_verification.cpp, imported authfiles to helper/pam_u2f_import.cpp.
#include <ctime>
#include <string>
#include <vector>

#include "credential_store.hpp"
#include "fuzz_keys.hpp"
#include "fuzz_support.hpp"
#include "identifiers.hpp"
#include "key_verification.hpp"
#include "messages.hpp"
#include "pam_u2f_import.hpp"
#include "wire.hpp"

using namespace pp::wire;
using namespace pp::helper;
namespace protocol = pp::protocol;

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
        case Type::Begin: {
            const auto b = pp::fuzz::decoded_stably<protocol::Begin>(m);
            (void)valid_local_user(b.user);
            // A real uid the helper looks up is a uid: 0 travels as no field, (uid_t)-1 is none.
            PP_FUZZ_CHECK(b.real_uid != 0xffffffffu);
            PP_FUZZ_CHECK((b.real_uid != 0) == m.get(Tag::RealUid).has_value());
            break;
        }
        case Type::Answer: {
            const auto a = pp::fuzz::decoded_stably<protocol::Answer>(m);
            (void)parse_identifier(a.text.view(), true);
            break;
        }
        case Type::Cancel:
            (void)pp::fuzz::decoded_stably<protocol::Cancel>(m);
            break;
        case Type::Assertion: {
            const auto a = pp::fuzz::decoded_stably<protocol::Assertion>(m);
            if (a.status != DeviceStatus::Ok) break;
            const AssertionInput input{a.cred_id, a.auth_data, a.signature};
            for (const bool uv : {false, true}) {
                const auto r = verify_assertion(
                    {std::string(pp::fuzz::kRpId), pp::fuzz::client_data_hash(), uv}, input, enrolled());
                PP_FUZZ_CHECK(r.index < enrolled().size());
                (void)verdict_text(r.verdict);
            }
            break;
        }
        case Type::Credential: {
            const auto c = pp::fuzz::decoded_stably<protocol::Credential>(m);
            if (c.status != DeviceStatus::Ok) break;
            const AttestationInput input{c.fmt,
                                         c.auth_data,
                                         c.signature,
                                         c.x5c,
                                         c.cred_id,
                                         c.public_key,
                                         static_cast<int>(c.algorithm)};
            try {
                (void)verify_new_credential(
                    {std::string(pp::fuzz::kRpId), pp::fuzz::client_data_hash(), false}, input);
            } catch (const CredentialError&) {
            }
            break;
        }
        case Type::Manage: {
            const auto r = pp::fuzz::decoded_stably<protocol::Manage>(m);
            (void)valid_local_user(r.user);
            (void)valid_nickname(r.text.value_or(""));
            if (r.op == protocol::Manage::Op::Import && pp::RpId::valid(r.rp_id)) {
                std::vector<std::string> problems;
                (void)parse_pam_u2f_authfile(r.import_data, r.rp_id, 1'800'000'000, problems);
            }
            break;
        }
        case Type::Control:
            (void)pp::fuzz::decoded_stably<protocol::Control>(m);
            break;
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
