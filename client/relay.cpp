#include "relay.hpp"

#include <variant>

#include "channel.hpp"
#include "messages.hpp"
#include "qr_text.hpp"
#include "security_key.hpp"

namespace pp::client {
namespace {

// A login has a handful of steps; a helper that keeps talking past this is broken or hostile.
constexpr int kMaxSteps = 64;

// Sends a reply to the helper. The helper may have ended the login meanwhile (its whole-login timeout ran
// out while the person was typing) and closed the connection; its verdict then already waits in the socket,
// and that verdict, not "helper unavailable", is what the person must hear.
void send_reply(HelperConnection& helper, const wire::Message& m) {
    try {
        helper.send(m);
    } catch (const wire::ChannelError& e) {
        if (e.kind() != wire::ChannelError::Kind::Closed) throw;
    }
}

template <class... Replies>
void send_reply(HelperConnection& helper, const std::variant<Replies...>& reply) {
    std::visit([&](const auto& r) { send_reply(helper, r.encode()); }, reply);
}

}  // namespace

Verdict relay(HelperConnection& helper, const wire::Message& request, Asker& asker, const RelayTrace& trace,
              const Tracer& tracer) {
    // A helper at capacity answers with a Result and closes; the request may then be refused, but the Result
    // waits in the socket and says why ("too many sign-ins"), which "unavailable" would not.
    send_reply(helper, request);
    Verdict v;
    const auto note = [&](std::string_view step) {
        if (trace) trace(v.login_id, step);
    };
    for (int step = 0; step < kMaxSteps; ++step) {
        const wire::Message msg = helper.receive();
        switch (msg.type()) {
            case wire::Type::Started: {
                // Only the first; the decoder takes the id only in the helper's form (it goes into log
                // lines).
                if (!v.login_id.empty()) throw wire::ProtocolError("malformed login id from the helper");
                v.login_id = protocol::Started::decode(msg).login_id;
                note("login started");
                break;
            }
            case wire::Type::Prompt: {
                const auto prompt = protocol::Prompt::decode(msg);
                const bool echo = prompt.style == wire::PromptStyle::EchoOn;
                note(echo ? "prompt (echo on) relayed" : "prompt (echo off) relayed");
                auto reply = asker.ask(prompt.text, echo);
                if (reply.status != Asker::Status::Ok) {
                    note(reply.status == Asker::Status::Cancelled ? "cancel sent: the person cancelled"
                                                                  : "cancel sent: the conversation failed");
                    // The helper answers a Cancel with a Result, so the outcome is audited in one place.
                    send_reply(helper, protocol::Cancel{reply.status == Asker::Status::Cancelled
                                                            ? wire::Outcome::Abort
                                                            : wire::Outcome::ConvErr}
                                           .encode());
                    break;
                }
                send_reply(helper, protocol::Answer{std::move(reply.text)}.encode());
                note("answer sent");
                break;
            }
            case wire::Type::Link: {
                // The decoder refuses a link that is not a bounded https URL with a printable text: the
                // person sees both as they are.
                const auto link = protocol::Link::decode(msg);
                note(link.qr ? "link shown with its QR code" : "link shown");
                asker.info(link_screen(link));
                break;
            }
            case wire::Type::KeyRequest:
                note("key request relayed");
                send_reply(helper, get_assertion(protocol::AssertionRequest::decode(msg), asker));
                note("assertion sent");
                break;
            case wire::Type::CredentialRequest:
                note("credential request relayed");
                send_reply(helper, make_credential(protocol::CredentialRequest::decode(msg), asker));
                note("credential sent");
                break;
            case wire::Type::Listing:
                for (auto& r : protocol::Listing::decode(msg).records) v.records.push_back(std::move(r));
                break;
            case wire::Type::Trace:
                if (!tracer) throw wire::ProtocolError("a test login's step sent to a login");
                tracer(protocol::Trace::decode(msg).text);
                break;
            case wire::Type::Result: {
                auto result = protocol::Result::decode(msg);
                v.outcome = result.outcome;
                v.user = result.user.value_or("");
                v.text = std::move(result.text);
                v.audit_line = result.audit_line.value_or("");
                note("result received");
                return v;
            }
            default:
                throw wire::ProtocolError("unexpected message from the helper");
        }
    }
    throw wire::ProtocolError("the helper did not finish");
}

}  // namespace pp::client
