// Messages from the helper to the module (protocol/wire.cpp): decoded, then read with the getters the module
// and the command line use for each type (client/relay.cpp, client/security_key.cpp).
#include <string>

#include "fuzz_support.hpp"
#include "wire.hpp"

using namespace pp::wire;

namespace {

void read_as_module(const Message& m) {
    switch (m.type()) {
        case Type::Prompt:
            (void)m.get_u32(Tag::Style).value_or(0);
            (void)m.get_or(Tag::Text, "");
            break;
        case Type::KeyRequest:
            (void)std::string(m.get_or(Tag::RpId, ""));
            (void)m.get_or(Tag::ClientDataHash, "");
            (void)m.all(Tag::CredId);
            (void)m.get_u32(Tag::UserPresence).value_or(1);
            (void)m.get_u32(Tag::UserVerification).value_or(0);
            (void)static_cast<int>(m.get_u32(Tag::TimeoutMs).value_or(30000));
            (void)m.get_or(Tag::PinPrompt, "Security key PIN: ");
            (void)m.get_or(Tag::Text, "Touch your security key.");
            break;
        case Type::CredentialRequest:
            (void)m.get_or(Tag::ClientDataHash, "");
            (void)m.get_or(Tag::RpId, "");
            (void)m.get_or(Tag::UserId, "");
            (void)m.get_or(Tag::User, "");
            (void)static_cast<int>(m.get_u32(Tag::Algorithm).value_or(static_cast<std::uint32_t>(-7)));
            (void)m.get_u32(Tag::UserVerification).value_or(0);
            (void)m.get_u32(Tag::TimeoutMs).value_or(30000);
            (void)m.all(Tag::CredId);
            break;
        case Type::Listing:
            for (const auto record : m.all(Tag::Record)) (void)std::string(record);
            break;
        case Type::Trace:
            // Read only by the command line's test-login; the module refuses it.
            (void)std::string(m.get_or(Tag::Text, ""));
            break;
        case Type::Started:
            (void)valid_login_id(m.get_or(Tag::LoginId, ""));
            break;
        case Type::Result: {
            const auto code = m.get_u32(Tag::Outcome);
            if (!code || *code > static_cast<std::uint32_t>(Outcome::Abort)) break;
            PP_FUZZ_CHECK(std::string_view(outcome_name(static_cast<Outcome>(*code))) != "unknown");
            (void)m.get_or(Tag::User, "");
            (void)m.get_or(Tag::Text, "");
            (void)std::string(m.get_or(Tag::AuditLine, ""));
            break;
        }
        default:
            // The module refuses any other type as a protocol error.
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
        read_as_module(m);
    } catch (const ProtocolError&) {
    }
    return 0;
}
