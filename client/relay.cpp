#include "relay.hpp"

#include "channel.hpp"
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
                // Only the first, and only in the helper's form: the id goes into log lines as it is.
                const auto id = msg.get_or(wire::Tag::LoginId, "");
                if (!v.login_id.empty() || !wire::valid_login_id(id))
                    throw wire::ProtocolError("malformed login id from the helper");
                v.login_id = std::string(id);
                note("login started");
                break;
            }
            case wire::Type::Prompt: {
                const bool echo = msg.get_u32(wire::Tag::Style).value_or(0) ==
                                  static_cast<std::uint32_t>(wire::PromptStyle::EchoOn);
                note(echo ? "prompt (echo on) relayed" : "prompt (echo off) relayed");
                auto reply = asker.ask(std::string(msg.get_or(wire::Tag::Text, "")), echo);
                if (reply.status != Asker::Status::Ok) {
                    note(reply.status == Asker::Status::Cancelled ? "cancel sent: the person cancelled"
                                                                  : "cancel sent: the conversation failed");
                    wire::Message cancel(wire::Type::Cancel);
                    cancel.add(wire::Tag::Outcome,
                               static_cast<std::uint32_t>(reply.status == Asker::Status::Cancelled
                                                              ? wire::Outcome::Abort
                                                              : wire::Outcome::ConvErr));
                    // The helper answers a Cancel with a Result, so the outcome is audited in one place.
                    send_reply(helper, cancel);
                    break;
                }
                wire::Message answer(wire::Type::Answer);
                answer.add(wire::Tag::Text, reply.text.view());
                send_reply(helper, answer);
                note("answer sent");
                break;
            }
            case wire::Type::KeyRequest:
                note("key request relayed");
                send_reply(helper, get_assertion(msg, asker));
                note("assertion sent");
                break;
            case wire::Type::CredentialRequest:
                note("credential request relayed");
                send_reply(helper, make_credential(msg, asker));
                note("credential sent");
                break;
            case wire::Type::Listing:
                for (const auto r : msg.all(wire::Tag::Record)) v.records.emplace_back(r);
                break;
            case wire::Type::Trace:
                if (!tracer) throw wire::ProtocolError("a test login's step sent to a login");
                tracer(msg.get_or(wire::Tag::Text, ""));
                break;
            case wire::Type::Result: {
                const auto code = msg.get_u32(wire::Tag::Outcome);
                if (!code || *code > static_cast<std::uint32_t>(wire::Outcome::Abort))
                    throw wire::ProtocolError("result without a known outcome");
                v.outcome = static_cast<wire::Outcome>(*code);
                v.user = std::string(msg.get_or(wire::Tag::User, ""));
                v.text = std::string(msg.get_or(wire::Tag::Text, ""));
                v.audit_line = std::string(msg.get_or(wire::Tag::AuditLine, ""));
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
