// Messages from the helper to the module (protocol/wire.cpp): decoded, then decoded again into the typed
// message the module and the command line read for each type (protocol/messages.cpp, as client/relay.cpp
// does), which either refuses it or yields a message whose own encoding decodes back to the same bytes.
#include <string>

#include "fuzz_support.hpp"
#include "messages.hpp"
#include "wire.hpp"

using namespace pp::wire;
namespace protocol = pp::protocol;

namespace {

void read_as_module(const Message& m) {
    try {
        switch (m.type()) {
            case Type::Prompt:
                (void)pp::fuzz::decoded_stably<protocol::Prompt>(m);
                break;
            case Type::KeyRequest: {
                const auto r = pp::fuzz::decoded_stably<protocol::AssertionRequest>(m);
                PP_FUZZ_CHECK(r.cred_ids.size() == m.all(Tag::CredId).size());
                // No keys, or one well-formed key (or "not known") per credential: what the module indexes.
                PP_FUZZ_CHECK(r.cred_keys.empty() || r.cred_keys.size() == r.cred_ids.size());
                for (const auto& k : r.cred_keys) PP_FUZZ_CHECK(k.well_formed());
                break;
            }
            case Type::CredentialRequest:
                (void)pp::fuzz::decoded_stably<protocol::CredentialRequest>(m);
                break;
            case Type::Listing:
                (void)pp::fuzz::decoded_stably<protocol::Listing>(m);
                break;
            case Type::Trace:
                // Read only by the command line's test-login; the module refuses it.
                (void)pp::fuzz::decoded_stably<protocol::Trace>(m);
                break;
            case Type::Link: {
                // Shown as it is: only a bounded https URL and a printable text get through.
                const auto l = pp::fuzz::decoded_stably<protocol::Link>(m);
                PP_FUZZ_CHECK(l.url.rfind("https://", 0) == 0 && l.url.size() <= protocol::Link::kMaxLinkUrl);
                PP_FUZZ_CHECK(!l.text.empty() && l.text.size() <= protocol::Link::kMaxLinkText);
                break;
            }
            case Type::Started:
                PP_FUZZ_CHECK(valid_login_id(pp::fuzz::decoded_stably<protocol::Started>(m).login_id));
                break;
            case Type::Result: {
                const auto r = pp::fuzz::decoded_stably<protocol::Result>(m);
                PP_FUZZ_CHECK(std::string_view(outcome_name(r.outcome)) != "unknown");
                break;
            }
            case Type::Status:
                (void)pp::fuzz::decoded_stably<protocol::Status>(m);
                break;
            default:
                // The module refuses any other type as a protocol error.
                break;
        }
    } catch (const protocol::MalformedMessage& e) {
        PP_FUZZ_CHECK(e.reason().rfind("malformed ", 0) == 0);
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
