// The person at the other end, for unit tests of the flow: a Connection whose answers are scripted and which
// records everything the flow showed (each question, each key request). When the script runs out the
// conversation fails (ConnectionEnded, ConvErr, the reason naming what was asked), so a flow that asks more
// than a test expected ends visibly instead of hanging. It serves as a Connection itself, and as the person
// behind the real WireConnection (flow_harness.cpp).
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "connection.hpp"

namespace pp::helper::test {

// One thing the flow showed the person.
struct Shown {
    enum class Kind { Question, Assertion, Credential, Listing, Link } kind;
    std::string text;   // the question, the text shown while the key waits, or a link's text
    bool echo = false;  // a question: echoed
    AssertionRequest assertion;
    CredentialRequest credential;
};

class FakeConnection final : public Connection {
  public:
    // The person's next answer to a question ("" is Enter alone).
    FakeConnection& answer(std::string text) { return answer_after({}, std::move(text)); }
    // The same, given once `meanwhile` has run: what happens elsewhere while this login waits at the question
    // (another login's step).
    FakeConnection& answer_after(std::function<void()> meanwhile, std::string text) {
        answers_.emplace_back(std::move(text));
        meanwhile_.push_back(std::move(meanwhile));
        return *this;
    }
    // The key's next answer to an assertion request.
    FakeConnection& key_answers(Assertion a) {
        assertions_.push_back([a = std::move(a)](const AssertionRequest&) { return a; });
        return *this;
    }
    // The key's next answer, made from the request (a key that signs what it is asked).
    FakeConnection& key_answers(std::function<Assertion(const AssertionRequest&)> key) {
        assertions_.push_back(std::move(key));
        return *this;
    }
    FakeConnection& key_status(wire::DeviceStatus s) {
        Assertion a;
        a.status = s;
        return key_answers(std::move(a));
    }
    // The person cancels at the next question (the client's Cancel).
    FakeConnection& cancel() {
        answers_.emplace_back(Cancel{});
        meanwhile_.emplace_back();
        return *this;
    }

    const std::vector<Shown>& shown() const { return shown_; }
    // The links shown, in order (each is in shown() too, with its text).
    const std::vector<protocol::Link>& links() const { return links_; }
    // The questions alone, in order.
    std::vector<std::string> questions() const;
    std::size_t answers_left() const { return answers_.size(); }
    std::size_t key_answers_left() const { return assertions_.size(); }
    bool clock_started() const { return clock_started_; }

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
    struct Cancel {};
    std::deque<std::variant<std::string, Cancel>> answers_;
    std::deque<std::function<void()>> meanwhile_;  // one per answer: run before it is given (or empty)
    std::deque<std::function<Assertion(const AssertionRequest&)>> assertions_;
    std::vector<Shown> shown_;
    std::vector<protocol::Link> links_;
    bool clock_started_ = false;
    Deadline deadline_{};
};

}  // namespace pp::helper::test
