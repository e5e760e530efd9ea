#include "connection.hpp"

#include "channel.hpp"
#include "login_log.hpp"
#include "messages.hpp"
#include "pool_warm_up.hpp"

namespace pp::helper {
namespace {

using wire::Outcome;

// The debug trace names what travels, never what it carries (an answer is a code or an identifier).
const char* message_name(wire::Type t) {
    switch (t) {
        case wire::Type::Prompt:
            return "prompt";
        case wire::Type::KeyRequest:
            return "key request";
        case wire::Type::CredentialRequest:
            return "credential request";
        case wire::Type::Answer:
            return "answer";
        case wire::Type::Assertion:
            return "assertion";
        case wire::Type::Credential:
            return "credential";
        case wire::Type::Cancel:
            return "cancel";
        default:
            return "other message";
    }
}

wire::DeviceStatus device_status(const wire::Message& reply) {
    return static_cast<wire::DeviceStatus>(
        reply.get_u32(wire::Tag::DeviceStatus)
            .value_or(static_cast<std::uint32_t>(wire::DeviceStatus::Error)));
}

// What every request to the key carries: the relying party, what the key signs, whether it must verify the
// person (its PIN, asked through PAM), how long it waits for a touch, and what the person is shown meanwhile.
wire::Message key_request(wire::Type type, std::string_view rp_id, std::string_view client_data_hash, bool uv,
                          std::uint32_t timeout_ms, std::string_view text) {
    wire::Message req(type);
    req.add(wire::Tag::RpId, rp_id)
        .add(wire::Tag::ClientDataHash, client_data_hash)
        .add(wire::Tag::UserVerification, uv ? 2u : 0u)
        .add(wire::Tag::TimeoutMs, timeout_ms)
        .add(wire::Tag::Text, text)
        .add(wire::Tag::PinPrompt, kPinPrompt);
    if (type == wire::Type::KeyRequest) req.add(wire::Tag::UserPresence, 1u);
    return req;
}

}  // namespace

WireConnection::WireConnection(int fd, std::shared_ptr<const Runtime> runtime)
    : fd_(fd), runtime_(std::move(runtime)) {}

void WireConnection::start_clock(std::chrono::milliseconds limit) {
    deadline_ = std::chrono::steady_clock::now() + limit;
}

std::chrono::milliseconds WireConnection::time_left() const {
    const auto left = cognito::time_left(deadline_);
    if (left.count() == 0) throw ConnectionEnded({Outcome::AuthErr, kTimedOut, "login timeout"});
    return left;
}

void WireConnection::send(const wire::Message& m) {
    if (m.type() == wire::Type::Prompt)
        debug_line("to the module: prompt (%s)", m.get_u32(wire::Tag::Style).value_or(0) ==
                                                         static_cast<std::uint32_t>(wire::PromptStyle::EchoOn)
                                                     ? "echo on"
                                                     : "echo off");
    else
        debug_line("to the module: %s", message_name(m.type()));
    wire::send_message(fd_, m);
    // An answer is out: the pool's side of a cold start may begin now, off the first prompt's path.
    pool_warm_up().answered(runtime_);
}

wire::Message WireConnection::receive() {
    try {
        wire::Message m = wire::receive_message(fd_, time_left());
        debug_line("from the module: %s", message_name(m.type()));
        return m;
    } catch (const wire::ChannelError& e) {
        if (e.kind() == wire::ChannelError::Kind::Timeout)
            throw ConnectionEnded({Outcome::AuthErr, kTimedOut, "no answer before the login timeout"});
        throw;
    }
}

void WireConnection::cancelled(const wire::Message& m) {
    const auto why = static_cast<Outcome>(
        m.get_u32(wire::Tag::Outcome).value_or(static_cast<std::uint32_t>(Outcome::ConvErr)));
    if (why == Outcome::Abort) throw ConnectionEnded({Outcome::Abort, "", "the person cancelled"});
    throw ConnectionEnded({Outcome::ConvErr, "", "the conversation failed"});
}

Secret WireConnection::ask(const std::string& text, bool echo) {
    wire::Message p(wire::Type::Prompt);
    p.add(wire::Tag::Style,
          static_cast<std::uint32_t>(echo ? wire::PromptStyle::EchoOn : wire::PromptStyle::EchoOff))
        .add(wire::Tag::Text, text);
    send(p);
    wire::Message reply = receive();
    if (reply.type() == wire::Type::Cancel) cancelled(reply);
    if (reply.type() != wire::Type::Answer)
        throw ConnectionEnded({Outcome::AuthinfoUnavail, kSignInFailed, "protocol: expected an answer"});
    return Secret(reply.get_or(wire::Tag::Text, ""));
}

wire::Message WireConnection::exchange(const wire::Message& request, wire::Type expected) {
    send(request);
    wire::Message reply = receive();
    if (reply.type() == wire::Type::Cancel) cancelled(reply);
    if (reply.type() != expected)
        throw ConnectionEnded({Outcome::AuthinfoUnavail, kSignInFailed,
                               expected == wire::Type::Credential ? "protocol: expected a credential"
                                                                  : "protocol: expected an assertion"});
    return reply;
}

Assertion WireConnection::get_assertion(const AssertionRequest& r) {
    wire::Message req = key_request(wire::Type::KeyRequest, r.rp_id, r.client_data_hash, r.user_verification,
                                    r.timeout_ms, r.text);
    for (const auto& id : r.cred_ids) req.add(wire::Tag::CredId, id);
    const wire::Message reply = exchange(req, wire::Type::Assertion);
    return {device_status(reply), std::string(reply.get_or(wire::Tag::CredId, "")),
            std::string(reply.get_or(wire::Tag::AuthData, "")),
            std::string(reply.get_or(wire::Tag::Signature, "")),
            std::string(reply.get_or(wire::Tag::UserHandle, ""))};
}

Credential WireConnection::make_credential(const CredentialRequest& r) {
    wire::Message req = key_request(wire::Type::CredentialRequest, r.rp_id, r.client_data_hash,
                                    r.user_verification, r.timeout_ms, r.text);
    req.add(wire::Tag::UserId, r.user_id)
        .add(wire::Tag::User, r.user_name)
        .add(wire::Tag::Algorithm, static_cast<std::uint32_t>(r.algorithm));
    for (const auto& id : r.exclude_ids) req.add(wire::Tag::CredId, id);
    const wire::Message reply = exchange(req, wire::Type::Credential);
    return {device_status(reply),
            std::string(reply.get_or(wire::Tag::Fmt, "")),
            std::string(reply.get_or(wire::Tag::AuthData, "")),
            std::string(reply.get_or(wire::Tag::Signature, "")),
            std::string(reply.get_or(wire::Tag::X5c, "")),
            std::string(reply.get_or(wire::Tag::CredId, "")),
            std::string(reply.get_or(wire::Tag::PublicKey, "")),
            static_cast<std::int32_t>(reply.get_u32(wire::Tag::Algorithm).value_or(0))};
}

void WireConnection::send_listing(const std::vector<std::string>& records) {
    wire::Message listing(wire::Type::Listing);
    for (const auto& r : records) listing.add(wire::Tag::Record, r);
    send(listing);
}

}  // namespace pp::helper
