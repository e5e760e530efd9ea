#include "fake_connection.hpp"

#include "person_texts.hpp"

namespace pp::helper::test {

namespace {

// What the real connection throws when the person is gone: the test's script ran out.
[[noreturn]] void hung_up(const std::string& what) {
    throw ConnectionEnded(Verdict(wire::Outcome::ConvErr, "", "fake connection: no scripted " + what));
}

}  // namespace

std::vector<std::string> FakeConnection::questions() const {
    std::vector<std::string> out;
    for (const auto& s : shown_)
        if (s.kind == Shown::Kind::Question) out.push_back(s.text);
    return out;
}

Secret FakeConnection::ask(const std::string& text, bool echo) {
    shown_.push_back({Shown::Kind::Question, text, echo, {}, {}});
    if (answers_.empty()) hung_up("answer to: " + text);
    auto next = std::move(answers_.front());
    answers_.pop_front();
    const auto meanwhile = std::move(meanwhile_.front());
    meanwhile_.pop_front();
    if (meanwhile) meanwhile();
    if (std::holds_alternative<Cancel>(next))
        throw ConnectionEnded(Verdict(wire::Outcome::Abort, "", "the person cancelled"));
    return Secret(std::get<std::string>(std::move(next)));
}

Assertion FakeConnection::get_assertion(const AssertionRequest& request,
                                        const std::function<void()>& while_asked) {
    shown_.push_back({Shown::Kind::Assertion, request.text, false, request, {}});
    if (while_asked) while_asked();
    if (assertions_.empty()) hung_up("key answer");
    const auto key = std::move(assertions_.front());
    assertions_.pop_front();
    return key(request);
}

Credential FakeConnection::make_credential(const CredentialRequest& request) {
    shown_.push_back({Shown::Kind::Credential, request.text, false, {}, request});
    hung_up("credential");
}

// As the real connection: a link the client would refuse is refused here (MalformedMessage), not recorded.
void FakeConnection::show_link(const std::string& text, const std::string& url, bool qr) {
    links_.push_back(protocol::Link::decode(protocol::Link{text, url, qr}.encode()));
    shown_.push_back({Shown::Kind::Link, text, false, {}, {}});
}

void FakeConnection::send_listing(const std::vector<std::string>& records) {
    std::string all;
    for (const auto& r : records) all += r + "\n";
    shown_.push_back({Shown::Kind::Listing, all, false, {}, {}});
}

void FakeConnection::start_clock(std::chrono::milliseconds limit) {
    clock_started_ = true;
    deadline_ = std::chrono::steady_clock::now() + limit;
}

// The flow's deadline is real time, as the real connection's: the tests give a login minutes, never
// coming near its end, but an end reached ends the login as the real one does.
std::chrono::milliseconds FakeConnection::time_left() const {
    const auto left = pp::time_left(deadline_);
    if (clock_started_ && left.count() == 0)
        throw ConnectionEnded(Verdict(wire::Outcome::AuthErr, kTimedOut, "login timed out"));
    return left;
}

}  // namespace pp::helper::test
