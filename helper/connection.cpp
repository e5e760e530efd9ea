#include "connection.hpp"

#include "channel.hpp"
#include "login_log.hpp"
#include "person_texts.hpp"
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
        case wire::Type::Link:
            return "link";
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

}  // namespace

WireConnection::WireConnection(int fd, std::shared_ptr<const Runtime> runtime)
    : fd_(fd), runtime_(std::move(runtime)) {}

void WireConnection::start_clock(std::chrono::milliseconds limit) {
    deadline_ = std::chrono::steady_clock::now() + limit;
}

std::chrono::milliseconds WireConnection::time_left() const {
    const auto left = pp::time_left(deadline_);
    if (left.count() == 0) throw ConnectionEnded({Outcome::AuthErr, kTimedOut, "login timeout"});
    return left;
}

void WireConnection::send(const wire::Message& m) {
    // A prompt's line, with its echo, is ask()'s.
    if (m.type() != wire::Type::Prompt) debug_line("to the module: %s", message_name(m.type()));
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

template <class X>
X WireConnection::decoded(const wire::Message& m) {
    try {
        return X::decode(m);
    } catch (const protocol::MalformedMessage& e) {
        throw ConnectionEnded({Outcome::AuthinfoUnavail, kSignInFailed, "protocol: malformed " + e.detail()});
    }
}

void WireConnection::cancelled(const wire::Message& m) {
    const auto why = decoded<protocol::Cancel>(m).outcome;
    if (why == Outcome::Abort) throw ConnectionEnded({Outcome::Abort, "", "the person cancelled"});
    throw ConnectionEnded({Outcome::ConvErr, "", "the conversation failed"});
}

Secret WireConnection::ask(const std::string& text, bool echo) {
    debug_line("to the module: prompt (%s)", echo ? "echo on" : "echo off");
    send(protocol::Prompt{echo ? wire::PromptStyle::EchoOn : wire::PromptStyle::EchoOff, text}.encode());
    wire::Message reply = receive();
    if (reply.type() == wire::Type::Cancel) cancelled(reply);
    if (reply.type() != wire::Type::Answer)
        throw ConnectionEnded({Outcome::AuthinfoUnavail, kSignInFailed, "protocol: expected an answer"});
    return std::move(decoded<protocol::Answer>(reply).text);
}

wire::Message WireConnection::exchange(const wire::Message& request, wire::Type expected,
                                       const std::function<void()>& while_asked) {
    send(request);
    if (while_asked) while_asked();
    wire::Message reply = receive();
    if (reply.type() == wire::Type::Cancel) cancelled(reply);
    if (reply.type() != expected)
        throw ConnectionEnded({Outcome::AuthinfoUnavail, kSignInFailed,
                               expected == wire::Type::Credential ? "protocol: expected a credential"
                                                                  : "protocol: expected an assertion"});
    return reply;
}

Assertion WireConnection::get_assertion(const AssertionRequest& r, const std::function<void()>& while_asked) {
    return decoded<Assertion>(exchange(r.encode(), wire::Type::Assertion, while_asked));
}

Credential WireConnection::make_credential(const CredentialRequest& r) {
    return decoded<Credential>(exchange(r.encode(), wire::Type::Credential));
}

void WireConnection::show_link(const std::string& text, const std::string& url, bool qr) {
    send(protocol::Link{text, url, qr}.encode());
}

void WireConnection::send_listing(const std::vector<std::string>& records) {
    send(protocol::Listing{records}.encode());
}

}  // namespace pp::helper
