// The helper's half of the conversation with its client (the PAM module or the command line), typed: the
// flow asks the person, asks their key, and reads the clock through this, and never sees the wire codec.
// The real implementation (WireConnection, connection.cpp) is the only place on the login path that throws:
// when the conversation itself ends (the person's cancel, the login timeout, a message out of turn) it
// throws ConnectionEnded with the ending, and a client gone away surfaces as wire::ChannelError.
// Tests of the flow put a fake in its place.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "deadline.hpp"
#include "messages.hpp"
#include "secret.hpp"
#include "verdict.hpp"
#include "wire.hpp"

namespace pp::helper {

struct Runtime;

// The requests to the client's key and its replies are the protocol's own types (protocol/messages.hpp):
// an assertion for a login, a pool passkey or the decoy's probe; a credential for enrolling a local key or
// registering a pool passkey.
using protocol::Assertion;
using protocol::AssertionRequest;
using protocol::Credential;
using protocol::CredentialRequest;

// The conversation ended under the flow: carries the ending (Abort for the person's cancel, ConvErr when the
// conversation failed, AuthErr for the login timeout, AuthinfoUnavail for a message out of turn).
class ConnectionEnded : public std::exception {
  public:
    explicit ConnectionEnded(Verdict v) : verdict_(std::move(v)) {}
    const Verdict& verdict() const { return verdict_; }
    const char* what() const noexcept override { return verdict_.audit_reason().c_str(); }

  private:
    Verdict verdict_;
};

class Connection {
  public:
    virtual ~Connection() = default;

    // A question to the person, echoed or not; the answer as typed (empty: Enter alone).
    virtual Secret ask(const std::string& text, bool echo) = 0;
    // while_asked, when set, runs once the request has gone out and before the answer is awaited (work that
    // may overlap the person's touch).
    virtual Assertion get_assertion(const AssertionRequest& request,
                                    const std::function<void()>& while_asked) = 0;
    virtual Credential make_credential(const CredentialRequest& request) = 0;
    // A link for the person to open on another device, with its QR code when `qr` (the browser sign-in):
    // shown at once, with no answer; the question that follows is ask()'s. The text and the URL must be what
    // protocol::Link accepts (the client shows them as they are); anything else is a MalformedMessage.
    virtual void show_link(const std::string& text, const std::string& url, bool qr) = 0;
    // The records of a management listing (one line each), sent before the Result.
    virtual void send_listing(const std::vector<std::string>& records) = 0;

    // The login's clock: started once the configuration says how long a login may take.
    virtual void start_clock(std::chrono::milliseconds limit) = 0;
    virtual Deadline deadline() const = 0;
    // What is left of it; throws ConnectionEnded ("Sign-in timed out.") when nothing is.
    virtual std::chrono::milliseconds time_left() const = 0;
};

// The connection over the wire codec (protocol/wire.hpp) on the client's socket.
class WireConnection final : public Connection {
  public:
    // fd: owned by the caller. runtime: told when an answer went out (the pool's warm-up); may be null.
    WireConnection(int fd, std::shared_ptr<const Runtime> runtime);

    Secret ask(const std::string& text, bool echo) override;
    Assertion get_assertion(const AssertionRequest& request,
                            const std::function<void()>& while_asked) override;
    Credential make_credential(const CredentialRequest& request) override;
    void show_link(const std::string& text, const std::string& url, bool qr) override;
    void send_listing(const std::vector<std::string>& records) override;
    void start_clock(std::chrono::milliseconds limit) override;
    Deadline deadline() const override { return deadline_; }
    std::chrono::milliseconds time_left() const override;

  private:
    void send(const wire::Message& m);
    wire::Message receive();
    // The reply of type `expected` to a request; a cancel ends the conversation, anything else is out of
    // turn.
    wire::Message exchange(const wire::Message& request, wire::Type expected,
                           const std::function<void()>& while_asked = {});
    [[noreturn]] static void cancelled(const wire::Message& m);
    // Decodes a reply; one that is malformed ends the conversation as a broken protocol.
    template <class X>
    static X decoded(const wire::Message& m);

    const int fd_;
    const std::shared_ptr<const Runtime> runtime_;
    Deadline deadline_{};
};

}  // namespace pp::helper
